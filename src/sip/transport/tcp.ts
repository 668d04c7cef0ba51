// SIP over TCP (RFC 3261 §18): a listening server whose accepted sockets become StreamConnections,
// and outbound connects for requests to a peer we have no connection to (§18.1.1).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Listener } from './connection.js';
import type { Endpoint, ListenSpec } from './types.js';

/** Binds a TCP server; each accepted socket is handed to `onSocket`. */
export async function listenTcp(spec: ListenSpec, onSocket: (s: Socket) => void): Promise<Listener> {
  const server = createServer({ noDelay: true }, onSocket);
  return bindServer(server, spec);
}

/** Shared by TCP and TLS (a tls.Server is a net.Server). IPv6 listeners are IPv6-only so that
 *  "0.0.0.0" and "::" on the same port can coexist and each family has its own local endpoint. */
export function bindServer(server: Server, spec: ListenSpec): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: spec.address, port: spec.port, ipv6Only: spec.address.includes(':') }, () => {
      server.off('error', onError);
      // Errors after bind (e.g. EMFILE on accept) must not crash the process.
      server.on('error', () => undefined);
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : spec.port;
      const local: Endpoint = { transport: spec.transport, address: spec.address, port };
      resolve({
        id: `${spec.transport}@${spec.address.includes(':') ? `[${spec.address}]` : spec.address}:${port}`,
        transport: spec.transport,
        local,
        close: () => new Promise<void>((res) => server.close(() => res())),
      });
    });
  });
}

/** Opens a TCP connection; rejects on error or after `timeoutMs`. */
export function connectTcp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, noDelay: true });
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`TCP connect to ${address}:${port} timed out`)), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      // Keeps a late error harmless until the StreamConnection attaches its own listener.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}
