// The shape every connection-oriented flow (TCP, TLS, WebSocket) presents to the layer, and the
// callbacks a flow makes into it. Concrete classes: StreamConnection (stream.ts), WsConnection (ws.ts).
import type { TransportName } from '../message/index.js';
import { isIP } from 'node:net';
import type { Endpoint } from './types.js';

/** What a connection reports upward. Implemented by the TransportLayer; must not throw. */
export interface ConnectionSink {
  /** One complete SIP message (a view into the received bytes). */
  onMessage(conn: Connection, data: Buffer): void;
  /** Framing failed: answer `status` when `head` yields a request, then the connection is closed. */
  onFramingError(conn: Connection, status: 400 | 413, reason: string, head: Buffer | undefined): void;
  /** A CRLF keep-alive arrived (already answered where the RFC asks for a pong). */
  onKeepAlive(conn: Connection): void;
  onClose(conn: Connection, idle: boolean): void;
}

let nextId = 0;
export function newConnectionId(transport: TransportName): string {
  return `${transport}-${++nextId}`;
}

export interface Connection {
  readonly id: string;
  readonly transport: TransportName;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  /** True when the peer opened it. */
  readonly inbound: boolean;
  readonly closed: boolean;
  /** Resolves once the bytes are handed to the socket; rejects if the connection is gone. */
  write(buf: Buffer): Promise<void>;
  /** Graceful close after pending writes; idempotent. */
  close(): void;
  /** Immediate teardown; idempotent. */
  destroy(): void;
}

export function connectionKey(transport: TransportName, address: string, port: number): string {
  return `${transport}|${address.toLowerCase()}|${port}`;
}

/** A bound listening socket/server of one transport. */
export interface Listener {
  /** Stable id; for UDP it doubles as the connectionId of datagrams received on it. */
  readonly id: string;
  readonly transport: TransportName;
  /** The bound address (as configured, e.g. "0.0.0.0") and port (ephemeral filled in). */
  readonly local: Endpoint;
  close(): Promise<void>;
}

/** Address family of an IP literal (4 or 6), 0 for a host name. */
export function familyOf(address: string): 0 | 4 | 6 {
  return isIP(address) as 0 | 4 | 6;
}
