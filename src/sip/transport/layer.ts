// TransportLayer (RFC 3261 §18): owns every listener and connection, turns received bytes into
// parsed messages (answering or dropping what cannot be parsed), stamps received/rport on requests,
// and sends requests (reusing or opening flows) and responses (per §18.2.2 / RFC 3581).
import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import type { Socket } from 'node:net';
import {
  createResponseToMalformed,
  newBranch,
  parseMessage,
  serializeMessage,
  SipParseError,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type TransportName,
} from '../message/index.js';
import { ConfigError, InvalidStateError, NotFoundError } from '../../lib/errors.js';
import { moduleLogger, type Logger } from '../../lib/log.js';
import { familyOf, type Connection, type ConnectionSink, type Listener } from './connection.js';
import { FlowTable } from './flows.js';
import { advertisedAddress } from './local.js';
import { StreamConnection } from './stream.js';
import { connectTcp, listenTcp } from './tcp.js';
import { connectTls, listenTls, loadTlsMaterial } from './tls.js';
import { listenUdp, type UdpListener } from './udp.js';
import { applyReceived, bareHost, hostForVia, reliableResponseTarget, replaceTopVia, unreliableResponseTarget } from './via.js';
import { isCrlfOnly, listenWs } from './ws.js';
import {
  newStats,
  type Destination,
  type Endpoint,
  type Inbound,
  type ListenSpec,
  type TransportLayerEvents,
  type TransportLayerOptions,
  type TransportStats,
} from './types.js';

export const DEFAULT_MAX_UDP_BYTES = 65535;
export const DEFAULT_MAX_STREAM_BYTES = 65536;
export const DEFAULT_IDLE_TIMEOUT_MS = 600_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface TransportLayer {
  on<E extends keyof TransportLayerEvents>(event: E, listener: TransportLayerEvents[E]): this;
  once<E extends keyof TransportLayerEvents>(event: E, listener: TransportLayerEvents[E]): this;
  off<E extends keyof TransportLayerEvents>(event: E, listener: TransportLayerEvents[E]): this;
  emit<E extends keyof TransportLayerEvents>(event: E, ...args: Parameters<TransportLayerEvents[E]>): boolean;
}

export class TransportLayer extends EventEmitter {
  /** Plain counters for the metrics exporter; never reset. */
  readonly stats: TransportStats = newStats();
  readonly #maxUdpBytes: number;
  readonly #maxStreamBytes: number;
  readonly #idleTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #log: Logger;
  readonly #listeners: Listener[] = [];
  readonly #udp: UdpListener[] = [];
  /** Advertised (Via/Contact) address per listener id, computed once. */
  readonly #advertised = new Map<string, string>();
  readonly #flows: FlowTable;
  readonly #tlsCa: Buffer[] = [];
  #closed = false;
  readonly #sink: ConnectionSink;

  constructor(opts: TransportLayerOptions = {}) {
    super();
    this.#maxUdpBytes = opts.maxUdpBytes ?? DEFAULT_MAX_UDP_BYTES;
    this.#maxStreamBytes = opts.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES;
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#log = opts.logger ?? moduleLogger('transport');
    this.#flows = new FlowTable(this.stats, this.#log);
    this.#sink = {
      onMessage: (conn, data) => this.#ingest(data, conn.remote, conn.local, conn.id),
      onFramingError: (conn, status, reason, head) => this.#onFramingError(conn, status, reason, head),
      onKeepAlive: () => {
        this.stats.keepAlives++;
      },
      onClose: (conn, idle) => this.#flows.remove(conn, idle),
    };
  }

  /** Binds every spec; resolves with the bound endpoints (ephemeral ports filled in), in order. */
  async listen(specs: ListenSpec[]): Promise<Endpoint[]> {
    if (this.#closed) throw new InvalidStateError('transport layer is closed');
    const bound: Endpoint[] = [];
    for (const spec of specs) {
      const l = await this.#listenOne(spec);
      this.#listeners.push(l);
      this.#advertised.set(l.id, advertisedAddress(l.local.address, familyOf(l.local.address) === 6 ? 6 : 4));
      this.#log.info({ listener: l.id }, 'listening');
      bound.push({ ...l.local });
    }
    return bound;
  }

  async #listenOne(spec: ListenSpec): Promise<Listener> {
    const adopt = (transport: TransportName) => (s: Socket) => this.#adoptSocket(s, transport);
    switch (spec.transport) {
      case 'udp': {
        const l = await listenUdp(spec, (buf, source, listener) => this.#onDatagram(buf, source, listener), this.#log);
        this.#udp.push(l);
        return l;
      }
      case 'tcp':
        return listenTcp(spec, adopt('tcp'));
      case 'tls': {
        const ca = loadTlsMaterial(spec).ca;
        if (ca) this.#tlsCa.push(ca);
        return listenTls(spec, adopt('tls'));
      }
      case 'ws':
      case 'wss':
        return listenWs(spec, {
          maxMessageBytes: this.#maxStreamBytes,
          idleTimeoutMs: this.#idleTimeoutMs,
          sink: this.#sink,
          onConnection: (c) => (this.#closed ? c.destroy() : this.#flows.add(c)),
          onReject: (reason) => {
            this.stats.wsRejected++;
            this.#log.debug({ reason }, 'websocket upgrade refused');
          },
          logger: this.#log,
        });
      default:
        throw new ConfigError('<listen>', 0, 0, `unknown transport "${String(spec.transport)}"`);
    }
  }

  /** Whether `connectionId` names a connection-oriented flow that is still open. */
  isOpen(connectionId: string): boolean {
    return this.#flows.get(connectionId) !== undefined;
  }

  listening(): Endpoint[] {
    return this.#listeners.map((l) => ({ ...l.local }));
  }

  /** The sent-by (host, port) for Via / Contact on `transport`: the first listener of that transport
   *  (and family, when given). IPv6 addresses come without brackets. Throws NotFoundError if none. */
  localEndpoint(transport: TransportName, family?: 4 | 6): Endpoint {
    const l = this.#listeners.find((x) => x.transport === transport && (family === undefined || listenerFamily(x) === family));
    if (!l) throw new NotFoundError(`not listening on ${transport}${family ? ` over IPv${family}` : ''}`);
    return { transport, address: this.#advertised.get(l.id) ?? l.local.address, port: l.local.port };
  }

  /** A top Via value for a request to `dest`: our local endpoint for that transport (same address
   *  family as `dest` when we listen on it), the given or a fresh branch, and rport (RFC 3581 §3). */
  viaFor(dest: Endpoint, branch: string = newBranch()): string {
    const fam = familyOf(dest.address) === 6 ? 6 : 4;
    const le = this.localEndpoint(dest.transport, this.#hasFamily(dest.transport, fam) ? fam : undefined);
    return `SIP/2.0/${dest.transport.toUpperCase()} ${hostForVia(le.address)}:${le.port};branch=${branch};rport`;
  }

  // ---- receiving -------------------------------------------------------------------------------

  #onDatagram(buf: Buffer, source: Endpoint, listener: UdpListener): void {
    // RFC 5626 §3.5.1 style CRLFCRLF keep-alive over UDP: not a message, not an error.
    if (isCrlfOnly(buf)) {
      this.stats.keepAlives++;
      return;
    }
    if (buf.length > this.#maxUdpBytes) {
      this.stats.received++;
      this.stats.tooLarge++;
      let m: SipMessage | undefined;
      try {
        m = parseMessage(buf);
      } catch (err) {
        m = err instanceof SipParseError ? err.partial : undefined;
      }
      if (!this.#answer(m, 413, 'Request Entity Too Large', source, listener.id)) {
        this.#drop(source, `datagram of ${buf.length} bytes over the ${this.#maxUdpBytes}-byte limit`);
      }
      return;
    }
    this.#ingest(buf, source, listener.local, listener.id);
  }

  /** One framed message (datagram, stream message, WS message), handed to the parser as is. */
  #ingest(raw: Buffer, source: Endpoint, local: Endpoint, connectionId: string): void {
    this.stats.received++;
    let message: SipMessage;
    try {
      message = parseMessage(raw);
    } catch (err) {
      this.stats.parseErrors++;
      if (err instanceof SipParseError) {
        // §21.4.1 style: enough head to answer -> the peer learns why; otherwise silence.
        if (this.#answer(err.partial, err.status, err.reason, source, connectionId)) return;
        this.#drop(source, `${err.status} ${err.reason}`);
      } else {
        this.#log.error({ err }, 'parser threw a non-SipParseError');
        this.#drop(source, 'parser failure');
      }
      return;
    }
    if (message.kind === 'request') {
      try {
        applyReceived(message, source);
      } catch {
        this.stats.parseErrors++;
        this.#drop(source, 'request without a readable Via');
        return;
      }
    }
    const inbound: Inbound = { message, raw, source, local, connectionId, receivedAt: Date.now() };
    try {
      this.emit('message', inbound);
    } catch (err) {
      // A listener's exception must not unwind into the socket handler.
      this.#log.error({ err }, "'message' listener threw");
    }
  }

  #onFramingError(conn: Connection, status: 400 | 413, reason: string, head: Buffer | undefined): void {
    if (status === 413) this.stats.tooLarge++;
    else this.stats.parseErrors++;
    let m: SipMessage | undefined;
    if (head) {
      try {
        m = parseMessage(head);
      } catch (err) {
        m = err instanceof SipParseError ? err.partial : undefined;
      }
    }
    // RFC 3261 §18.3: framing is lost; answer if we can, then close the connection.
    if (m && m.kind === 'request' && m.method !== 'ACK') {
      // The framer's 413 detail reads like 513's phrase; peers expect the §21.4.11 one.
      const res = this.#buildAnswer(m, status, status === 413 ? 'Request Entity Too Large' : reason, conn.remote);
      if (res) {
        this.stats.rejected++;
        this.#write(conn, serializeMessage(res)).then(
          () => conn.close(),
          () => conn.destroy(),
        );
        return;
      }
    }
    this.#drop(conn.remote, `${status} ${reason}`);
    conn.close();
  }

  /** Answers a broken or oversized request statelessly; false when it cannot be answered. */
  #answer(m: SipMessage | undefined, status: number, reason: string, source: Endpoint, connectionId: string): boolean {
    if (!m || m.kind !== 'request' || m.method === 'ACK') return false;
    const res = this.#buildAnswer(m, status, reason, source);
    if (!res) return false;
    this.stats.rejected++;
    this.sendResponse(res, { connectionId, source }).catch((err: unknown) =>
      this.#log.debug({ err: (err as Error).message, status }, 'could not send stateless answer'),
    );
    return true;
  }

  #buildAnswer(req: SipRequest, status: number, reason: string, source: Endpoint): SipResponse | undefined {
    try {
      applyReceived(req, source);
      // RFC 3261 §8.2.6.2, made well-formed: one of each single-value header, From/To repaired.
      return createResponseToMalformed(req, status, reason);
    } catch {
      return undefined; // no readable Via (or From/To/Call-ID/CSeq): nothing to address a response with
    }
  }

  #drop(source: Endpoint, reason: string): void {
    this.stats.dropped++;
    this.#log.debug({ source, reason }, 'dropped');
    try {
      this.emit('dropped', { source, reason });
    } catch (err) {
      this.#log.error({ err }, "'dropped' listener threw");
    }
  }

  // ---- connections -----------------------------------------------------------------------------

  #stream(socket: Socket, transport: TransportName, inbound: boolean): StreamConnection {
    return new StreamConnection(socket, {
      transport,
      inbound,
      maxMessageBytes: this.#maxStreamBytes,
      idleTimeoutMs: this.#idleTimeoutMs,
      sink: this.#sink,
      logger: this.#log,
    });
  }

  #adoptSocket(socket: Socket, transport: TransportName): void {
    const conn = this.#stream(socket, transport, true);
    if (this.#closed) conn.destroy();
    else this.#flows.add(conn);
  }

  /** An open flow to the peer, or a new TCP/TLS connection (§18.1.1). */
  #flowTo(transport: TransportName, address: string, port: number, servername?: string): Promise<Connection> {
    return this.#flows.obtain(transport, address, port, () => this.#open(transport, address, port, servername));
  }

  async #open(transport: TransportName, address: string, port: number, servername: string | undefined): Promise<Connection> {
    const socket =
      transport === 'tls'
        ? await connectTls(address, port, this.#connectTimeoutMs, this.#tlsCa, servername)
        : await connectTcp(address, port, this.#connectTimeoutMs);
    if (this.#closed) {
      socket.destroy();
      throw new InvalidStateError('transport layer is closed');
    }
    const conn = this.#stream(socket, transport, false);
    this.#flows.add(conn);
    return conn;
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** RFC 3261 §18.1.1: sends a request to a next hop, reusing an open flow or opening one (TCP/TLS).
   *  A `dest.connectionId` naming an open flow of the same transport wins (RFC 5626 §5.3 flow reuse).
   *  A top Via whose sent-by is a placeholder ("0.0.0.0" / "[::]") gets our local endpoint. */
  async sendRequest(req: SipRequest, dest: Destination): Promise<void> {
    if (this.#closed) throw new InvalidStateError('transport layer is closed');
    const pinned = dest.connectionId !== undefined ? this.#flows.get(dest.connectionId) : undefined;
    if (pinned !== undefined && pinned.transport === dest.transport) {
      this.#fillVia(req, dest.transport, familyOf(pinned.remote.address) === 6 ? 6 : 4);
      return this.#write(pinned, serializeMessage(req));
    }
    let address = dest.address;
    let servername: string | undefined;
    if (familyOf(address) === 0) {
      servername = address;
      address = (await lookup(bareHost(address))).address;
    }
    const family = familyOf(address) === 6 ? 6 : 4;
    this.#fillVia(req, dest.transport, family);
    const buf = serializeMessage(req);
    if (dest.transport === 'udp') return this.#sendUdp(this.#udpFor(family), buf, address, dest.port);
    const conn = await this.#flowTo(dest.transport, address, dest.port, servername);
    return this.#write(conn, buf);
  }

  /** RFC 3261 §18.2.2 + RFC 3581 §4: reliable -> the connection it came on if still open, else another
   *  flow to the same peer, else (TCP/TLS) a new connection to received / sent-by with the sent-by port;
   *  unreliable -> maddr, else received + rport, else received / sent-by with the Via port or 5060. */
  async sendResponse(res: SipResponse, via: { connectionId?: string; source: Endpoint }): Promise<void> {
    if (this.#closed) throw new InvalidStateError('transport layer is closed');
    const top = res.topVia();
    const buf = serializeMessage(res);
    const conn = via.connectionId ? this.#flows.get(via.connectionId) : undefined;
    if (conn) return this.#write(conn, buf);
    const transport = via.source.transport;
    if (transport === 'udp') {
      const target = unreliableResponseTarget(top);
      const address = familyOf(target.host) ? target.host : (await lookup(target.host)).address;
      return this.#sendUdp(this.#udpFor(familyOf(address) === 6 ? 6 : 4, via.connectionId), buf, address, target.port);
    }
    const flow = this.#flows.toPeer(transport, via.source.address, via.source.port);
    if (flow) return this.#write(flow, buf);
    const target = reliableResponseTarget(top, transport);
    const address = familyOf(target.host) ? target.host : (await lookup(target.host)).address;
    const fresh = await this.#flowTo(transport, address, target.port, familyOf(target.host) ? undefined : target.host);
    return this.#write(fresh, buf);
  }

  #fillVia(req: SipRequest, transport: TransportName, family: 4 | 6): void {
    // Cheap pre-check on the raw value: only a placeholder sent-by is worth parsing the Via for.
    const raw = req.headers.get('Via');
    if (raw === undefined || (!raw.includes('0.0.0.0') && !raw.includes('[::]'))) return;
    const cur = req.topVia();
    const host = bareHost(cur.host);
    if (host !== '0.0.0.0' && host !== '::') return;
    const le = this.localEndpoint(transport, this.#hasFamily(transport, family) ? family : undefined);
    replaceTopVia(req, { ...cur, host: hostForVia(le.address), port: le.port, transport: transport.toUpperCase() });
  }

  #hasFamily(transport: TransportName, family: 4 | 6): boolean {
    return this.#listeners.some((l) => l.transport === transport && listenerFamily(l) === family);
  }

  #udpFor(family: 4 | 6, preferId?: string): UdpListener {
    let first: UdpListener | undefined;
    for (const u of this.#udp) {
      if (u.family !== family) continue;
      if (u.id === preferId) return u;
      first ??= u;
    }
    if (!first) throw new NotFoundError(`no UDP listener for IPv${family}`);
    return first;
  }

  async #sendUdp(udp: UdpListener, buf: Buffer, address: string, port: number): Promise<void> {
    try {
      await udp.send(buf, address, port);
      this.stats.sent++;
    } catch (err) {
      this.stats.sendErrors++;
      throw err;
    }
  }

  async #write(conn: Connection, buf: Buffer): Promise<void> {
    try {
      await conn.write(buf);
      this.stats.sent++;
    } catch (err) {
      this.stats.sendErrors++;
      throw err;
    }
  }

  /** Closes listeners and every connection; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#flows.destroyAll();
    await Promise.allSettled(this.#listeners.map((l) => l.close()));
    this.#listeners.length = 0;
    this.#udp.length = 0;
  }
}

function listenerFamily(l: Listener): 4 | 6 {
  return familyOf(l.local.address) === 6 ? 6 : 4;
}
