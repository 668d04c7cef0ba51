// SIP over UDP (RFC 3261 §18): one dgram socket per listen spec, used both to receive and to send,
// so requests and responses leave from the address peers reach us on (symmetric, RFC 3581 §4).
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../../lib/log.js';
import type { Listener } from './connection.js';
import type { Endpoint, ListenSpec } from './types.js';

export interface UdpListener extends Listener {
  readonly family: 4 | 6;
  /** Resolves once the datagram is handed to the OS. */
  send(buf: Buffer, address: string, port: number): Promise<void>;
}

/** Each datagram is passed as received (no copy) with its source endpoint. */
export type DatagramHandler = (buf: Buffer, source: Endpoint, listener: UdpListener) => void;

export function listenUdp(spec: ListenSpec, onDatagram: DatagramHandler, logger: Logger): Promise<UdpListener> {
  const family = spec.address.includes(':') ? 6 : 4;
  // IPv6-only, so that "0.0.0.0" and "::" on the same port can both be configured.
  const socket: Socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
  return new Promise((resolve, reject) => {
    const onBindError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onBindError);
    socket.bind({ address: spec.address, port: spec.port, exclusive: true }, () => {
      socket.off('error', onBindError);
      const port = socket.address().port;
      const id = `udp@${family === 6 ? `[${spec.address}]` : spec.address}:${port}`;
      const log = logger.child({ listener: id });
      // Errors such as ICMP port unreachable (ECONNREFUSED) must never escape.
      socket.on('error', (err) => log.debug({ err: err.message }, 'udp socket error'));
      let closed = false;
      const listener: UdpListener = {
        id,
        transport: 'udp',
        family,
        local: { transport: 'udp', address: spec.address, port },
        send: (buf, address, p) =>
          new Promise<void>((res, rej) => {
            if (closed) {
              rej(new Error(`${id} is closed`));
              return;
            }
            socket.send(buf, p, address, (err) => (err ? rej(err) : res()));
          }),
        close: () =>
          new Promise<void>((res) => {
            if (closed) return res();
            closed = true;
            socket.close(() => res());
          }),
      };
      socket.on('message', (buf, rinfo) => {
        try {
          onDatagram(buf, { transport: 'udp', address: rinfo.address, port: rinfo.port }, listener);
        } catch (err) {
          log.error({ err }, 'datagram handler threw');
        }
      });
      resolve(listener);
    });
  });
}
