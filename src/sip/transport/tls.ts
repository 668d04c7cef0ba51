// SIP over TLS (RFC 3261 §18, §26.2.1): like TCP with node:tls; certificate and key come from the
// listen spec (PEM paths). Outbound connections verify the peer against the system roots plus any
// configured CA, and its identity against the next hop's name (SNI) or IP address.
import { readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import { createServer, connect, rootCertificates, type TLSSocket } from 'node:tls';
import { ConfigError } from '../../lib/errors.js';
import type { Listener } from './connection.js';
import { bindServer } from './tcp.js';
import type { ListenSpec } from './types.js';

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(path, 0, 0, `cannot read TLS ${what}: ${(err as Error).message}`);
  }
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export function loadTlsMaterial(spec: ListenSpec): TlsMaterial {
  if (!spec.tls) throw new ConfigError('<listen>', 0, 0, `${spec.transport} listener on ${spec.address}:${spec.port} needs tls.cert and tls.key`);
  return {
    cert: readPem(spec.tls.cert, 'certificate'),
    key: readPem(spec.tls.key, 'key'),
    ca: spec.tls.ca ? readPem(spec.tls.ca, 'CA') : undefined,
  };
}

/** Binds a TLS server; each socket is handed to `onSocket` once the handshake completed. */
export async function listenTls(spec: ListenSpec, onSocket: (s: Socket) => void): Promise<Listener> {
  const m = loadTlsMaterial(spec);
  const server = createServer({ cert: m.cert, key: m.key, ca: m.ca }, (s: TLSSocket) => onSocket(s));
  // A failed handshake is the peer's problem; keep it out of the error path.
  server.on('tlsClientError', () => undefined);
  return bindServer(server, spec);
}

/** Opens a TLS connection; rejects on a handshake / verification failure or after `timeoutMs`. */
export function connectTls(address: string, port: number, timeoutMs: number, ca: Buffer[], servername?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: address,
      port,
      ca: ca.length ? [...rootCertificates, ...ca.map((b) => b.toString())] : undefined,
      // SNI must not be an IP literal (RFC 6066 §3). Identity is checked against the name when the
      // next hop was given by name, else against the IP (the certificate needs an IP SAN).
      servername: servername && !isIP(servername) ? servername : undefined,
    });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`TLS connect to ${address}:${port} timed out`)), timeoutMs);
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}
