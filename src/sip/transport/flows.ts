// The table of open connection-oriented flows (TCP, TLS, WS): by id (for responses, §18.2.2) and
// by peer transport+address+port (for reuse, §18.1.1), with in-flight connects shared so that two
// requests to one peer open one connection. Keeps the connection counters in TransportStats.
import type { TransportName } from '../message/index.js';
import { NotFoundError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { connectionKey, type Connection } from './connection.js';
import type { TransportStats } from './types.js';

export class FlowTable {
  readonly #byId = new Map<string, Connection>();
  /** Peer key -> connection. Inbound flows are keyed by the peer's source address/port, so requests
   *  to a client registered over TCP/WS (behind NAT) reuse its connection (RFC 5626 flows). */
  readonly #byPeer = new Map<string, Connection>();
  readonly #connecting = new Map<string, Promise<Connection>>();
  readonly #stats: TransportStats;
  readonly #log: Logger;

  constructor(stats: TransportStats, log: Logger) {
    this.#stats = stats;
    this.#log = log;
  }

  /** The connection with this id, if it is still open. */
  get(id: string): Connection | undefined {
    const c = this.#byId.get(id);
    return c && !c.closed ? c : undefined;
  }

  /** An open flow to the peer, if any. */
  toPeer(transport: TransportName, address: string, port: number): Connection | undefined {
    const c = this.#byPeer.get(connectionKey(transport, address, port));
    return c && !c.closed ? c : undefined;
  }

  /** An open flow to the peer, or the result of `open` (one in flight per peer). WS/WSS flows can
   *  only be opened by the peer (RFC 7118), so for them a missing flow is a NotFoundError. */
  obtain(transport: TransportName, address: string, port: number, open: () => Promise<Connection>): Promise<Connection> {
    const existing = this.toPeer(transport, address, port);
    if (existing) return Promise.resolve(existing);
    if (transport === 'ws' || transport === 'wss') {
      return Promise.reject(
        new NotFoundError(`no open ${transport} connection to ${address}:${port}: WebSocket peers must connect to us (RFC 7118)`),
      );
    }
    const key = connectionKey(transport, address, port);
    let pending = this.#connecting.get(key);
    if (!pending) {
      pending = open()
        .then((conn) => {
          // Also under the name we dialled, in case the socket reports the address differently.
          if (!conn.closed) this.#byPeer.set(key, conn);
          return conn;
        })
        .finally(() => this.#connecting.delete(key));
      this.#connecting.set(key, pending);
    }
    return pending;
  }

  add(conn: Connection): void {
    this.#byId.set(conn.id, conn);
    this.#byPeer.set(connectionKey(conn.transport, conn.remote.address, conn.remote.port), conn);
    this.#stats.connectionsOpen++;
    if (conn.inbound) this.#stats.connectionsAccepted++;
    else this.#stats.connectionsOpened++;
    this.#log.debug({ conn: conn.id, remote: conn.remote, inbound: conn.inbound }, 'connection open');
  }

  remove(conn: Connection, idle: boolean): void {
    if (!this.#byId.delete(conn.id)) return;
    for (const [k, c] of this.#byPeer) if (c === conn) this.#byPeer.delete(k);
    this.#stats.connectionsOpen--;
    if (idle) this.#stats.connectionsIdleClosed++;
    this.#log.debug({ conn: conn.id, idle }, 'connection closed');
  }

  destroyAll(): void {
    for (const c of this.#byId.values()) c.destroy();
  }
}
