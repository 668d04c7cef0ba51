// SipStack: the SIP user agent of Switchboard. It builds the transport layer (RFC 3261 §18), the
// transaction layer (§17) and the dialog layer (§12–§15), wires them, and gives the call layer
// (and later the drachtio wire server) one surface: 'request' for new out-of-dialog requests,
// sendRequest()/invite() for requests we originate, dialog and transaction lookup by string id.
// What a UA core adds to a request it sends (Via, Max-Forwards, From tag, Call-ID, CSeq,
// Contact) and the next-hop choice (RFC 3263 without SRV) happen here.
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../lib/clock.js';
import { InvalidStateError, NotFoundError, SipError } from '../lib/errors.js';
import { moduleLogger, type Logger } from '../lib/log.js';
import type { SipConfig } from '../config/types.js';
import { Headers, SipRequest, createResponse, newBranch, newCallId, newTag, type SipResponse, type TransportName } from './message/index.js';
import { TransactionLayer, type ClientTransaction, type TransactionStats } from './transaction/index.js';
import { TransportLayer, type Destination, type Endpoint, type Inbound, type TransportStats } from './transport/index.js';
import { toBody, type DialogImpl } from './dialog/dialog.js';
import { SafeEmitter } from '../lib/events.js';
import type { IncomingRequestImpl } from './dialog/uas.js';
import { DialogLayer, type DialogLayerStats, type DialogRoute, type UaHost } from './dialog/layer.js';
import { resolveInDialog, resolveNextHop, selectNextHop, targetUri } from './dialog/next-hop.js';
import { initialSeq, tagOf } from './dialog/rules.js';
import { DEFAULT_CAPABILITIES, type UasCapabilities } from './dialog/uas-checks.js';
import { ProxyLayer, type ProxyHost, type ProxyOperation, type ProxyOptions, type ProxyStats } from './proxy/index.js';
import { oursFrom, type IsOurs } from './proxy/rules.js';
import type {
  ClientRequest,
  Dialog,
  DialogKey,
  IncomingRequest,
  InviteClient,
  RequestOptions,
  SendOptions,
  StackDump,
} from './dialog/types.js';

export interface SipStackOptions {
  clock?: Clock;
  logger?: Logger;
  /** What the UA implements (RFC 3261 §8.2 checks, OPTIONS answer); DEFAULT_CAPABILITIES otherwise. */
  capabilities?: Partial<UasCapabilities>;
}

export interface SipStackEvents {
  /** A new request outside any dialog. Answer it with `req.respond()`; with no listener the stack
   *  answers 503. (In-dialog requests go to their Dialog's 'request' / 'bye' events.) */
  request: [req: IncomingRequest];
  /** A dialog was created: UAS (by our 1xx/2xx) or UAC (by a 1xx/2xx we received). */
  dialog: [dialog: Dialog];
}

/** Options of createRequest(): an out-of-dialog request for sendRequest()/invite(). */
export interface NewRequestOptions extends RequestOptions {
  /** From value (name-addr); default `<sip:<our address>>`. A tag is added when missing. */
  from?: string;
  /** To value; default the Request-URI in angle brackets. */
  to?: string;
  callId?: string;
}

export interface SipStackStats {
  transport: TransportStats;
  transaction: TransactionStats;
  dialog: DialogLayerStats;
  proxy: ProxyStats;
}

const MAX_FORWARDS = '70';

export class SipStack extends SafeEmitter<SipStackEvents> {
  readonly #cfg: SipConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #transport: TransportLayer;
  readonly #transactions: TransactionLayer;
  readonly #dialogs: DialogLayer;
  readonly #caps: UasCapabilities;
  readonly #proxies: ProxyLayer;
  #endpoints: Endpoint[] = [];
  /** Whether a URI names one of our listeners (set once they are bound). */
  #ours: IsOurs = () => false;
  #closing: Promise<void> | undefined;

  /** Binds every `cfg.listen` entry and starts the layers. */
  static async start(cfg: SipConfig, opts: SipStackOptions = {}): Promise<SipStack> {
    const stack = new SipStack(cfg, opts);
    try {
      stack.#endpoints = await stack.#transport.listen(cfg.listen.map((l) => ({ ...l })));
      stack.#ours = oursFrom(stack.#advertised());
    } catch (err) {
      await stack.close();
      throw err;
    }
    return stack;
  }

  private constructor(cfg: SipConfig, opts: SipStackOptions) {
    const log = opts.logger ?? moduleLogger('sip');
    super(log);
    this.#cfg = cfg;
    this.#clock = opts.clock ?? systemClock;
    this.#log = log;
    this.#caps = Object.freeze({ ...DEFAULT_CAPABILITIES, ...opts.capabilities });
    this.#transport = new TransportLayer({
      maxUdpBytes: cfg.limits.maxUdpBytes,
      maxStreamBytes: cfg.limits.maxStreamBytes,
      idleTimeoutMs: cfg.limits.idleTimeoutSeconds * 1000,
      logger: log.child({ layer: 'transport' }),
    });
    this.#transactions = new TransactionLayer(this.#transport, {
      timers: cfg.timers,
      clock: this.#clock,
      logger: log.child({ layer: 'transaction' }),
    });
    this.#dialogs = new DialogLayer(this.#host());
    this.#proxies = new ProxyLayer(this.#proxyHost());
    const tl = this.#transactions;
    const dl = this.#dialogs;
    const px = this.#proxies;
    this.#transport.on('message', (inbound: Inbound) => tl.receive(inbound));
    tl.on('request', (st) => {
      try {
        // RFC 3261 §16.4: an in-dialog request routed through a dialog we record-routed is
        // relayed, not matched to our own dialogs (which would answer 481).
        if (px.routeRequest(st)) return;
        const r = dl.receiveRequest(st);
        if (r !== undefined) this.#deliver(r);
      } catch (err) {
        // A header the dialog layer needs did not parse: answer instead of going silent.
        this.#log.warn({ err }, 'request rejected by the UA core');
        const status = err instanceof SipError && err.status >= 400 ? err.status : 500;
        try {
          st.respond(createResponse(st.request, status, err instanceof SipError ? err.reason : undefined, { toTag: newTag() }));
        } catch {
          /* unanswerable: the transaction layer counts it */
        }
      }
    });
    const guard = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        this.#log.warn({ err }, `${what} dropped by the UA core`);
      }
    };
    tl.on('ack', (inbound) => guard('ACK', () => px.routeAck(inbound) || dl.receiveAck(inbound)));
    tl.on('response', (inbound) => guard('response', () => px.routeResponse(inbound) || dl.receiveStrayResponse(inbound)));
    tl.on('cancel', (st, inbound) => guard('CANCEL', () => dl.receiveCancel(st, inbound)));
  }

  /** The bound listening endpoints (ephemeral ports filled in), in `cfg.listen` order. */
  get endpoints(): Endpoint[] {
    return this.#endpoints.map((e) => ({ ...e }));
  }

  get userAgent(): string {
    return this.#cfg.userAgent;
  }

  /** URI schemes, option tags and body types this UA takes (RFC 3261 §8.2). */
  get capabilities(): Readonly<UasCapabilities> {
    return this.#caps;
  }

  // ---- requests we originate ---------------------------------------------------------------

  /** Builds an out-of-dialog request; sendRequest() fills in the rest (Via, tags, CSeq...). */
  createRequest(method: string, uri: string, opts: NewRequestOptions = {}): SipRequest {
    const headers = new Headers();
    if (opts.from !== undefined) headers.set('From', opts.from);
    headers.set('To', opts.to ?? `<${uri}>`);
    if (opts.callId !== undefined) headers.set('Call-ID', opts.callId);
    for (const [n, v] of opts.headers ?? []) headers.append(n, v);
    const body = toBody(opts.body) ?? Buffer.alloc(0);
    if (body.length > 0) headers.set('Content-Type', opts.contentType ?? 'application/sdp');
    return new SipRequest(method.toUpperCase(), uri, headers, body);
  }

  /**
   * Sends a request outside any dialog (RFC 3261 §8.1). Missing From (tag), To, Call-ID, CSeq,
   * Max-Forwards and, for INVITE / SUBSCRIBE / REFER, Contact are filled in; the top Via is ours
   * with a fresh branch. An INVITE resolves to an InviteClient. Rejects with SipError (416, 503)
   * when no next hop can be found, InvalidStateError after close() or for ACK / CANCEL.
   */
  async sendRequest(req: SipRequest, opts: SendOptions = {}): Promise<ClientRequest> {
    this.#checkOpen();
    const method = req.method.toUpperCase();
    if (method === 'ACK' || method === 'CANCEL') {
      throw new InvalidStateError(`${method} is sent with dialog.ack() / invite.cancel()`);
    }
    req.method = method;
    const dest = opts.dest ?? (await this.#resolve(req, undefined));
    this.#completeOutOfDialog(req, dest.transport);
    return this.#dialogs.sendOutOfDialog(req, opts, dest);
  }

  /** A UAC INVITE: `target` is a request from createRequest() or just a Request-URI. */
  async invite(target: SipRequest | string, opts: SendOptions & NewRequestOptions = {}): Promise<InviteClient> {
    const req = typeof target === 'string' ? this.createRequest('INVITE', target, opts) : target;
    if (req.method.toUpperCase() !== 'INVITE') throw new InvalidStateError(`invite() needs an INVITE, not ${req.method}`);
    return (await this.sendRequest(req, opts)) as InviteClient;
  }

  // RFC 3261 §8.1.1: the header fields every request we originate carries.
  #completeOutOfDialog(req: SipRequest, transport: TransportName): void {
    const h = req.headers;
    if (!h.has('To')) h.set('To', `<${req.uri}>`);
    const from = h.get('From');
    if (from === undefined) h.set('From', `<${this.#localUri(transport)}>;tag=${newTag()}`);
    // RFC 3261 §8.1.1.3: From carries a tag we chose.
    else if (tagOf(req.from()) === undefined) h.set('From', `${from};tag=${newTag()}`);
    if (!h.has('Call-ID')) h.set('Call-ID', newCallId());
    if (!h.has('CSeq')) h.set('CSeq', `${initialSeq()} ${req.method}`);
    const m = req.method;
    if ((m === 'INVITE' || m === 'SUBSCRIBE' || m === 'REFER') && !h.has('Contact')) {
      h.set('Contact', `<${this.contact(transport)}>`);
    }
  }

  // ---- proxying (RFC 3261 §16) ------------------------------------------------------------

  /**
   * Proxies a received request instead of answering it: the UAS core lets go of it (no dialog,
   * no To tag of ours; `serverRequest(id)` no longer finds it) and the proxy forwards it to
   * `targets` (Request-URIs), relaying responses upstream per RFC 3261 §16.7. Throws
   * NotFoundError for an unknown or finished request, InvalidStateError when the UAS core
   * already answered it with a provisional or after close().
   */
  proxy(id: string, targets: readonly string[], opts: ProxyOptions = {}): ProxyOperation {
    this.#checkOpen();
    const r = this.#dialogs.serverRequest(id);
    const st = this.#transactions.serverTransaction(id);
    if (r === undefined || st === undefined || r.finalStatus !== undefined || r.cancelled) {
      throw new NotFoundError(`no pending request ${id}`);
    }
    if (r.dialog !== undefined) throw new InvalidStateError(`request ${id} was already answered as a UAS`);
    if (r.method === 'ACK' || r.method === 'CANCEL') throw new InvalidStateError(`${r.method} is not proxied this way`);
    this.#dialogs._serverDone(r);
    return this.#proxies.proxy(st, targets, opts);
  }

  // ---- lookups (string ids for the drachtio wire server) -----------------------------------

  /** A dialog by its drachtio-style id `<Call-ID>;from-tag=<tag>`. */
  dialog(id: string): Dialog | undefined {
    return this.#dialogs.dialog(id);
  }

  dialogByKey(key: DialogKey): Dialog | undefined {
    return this.#dialogs.dialogByKey(key);
  }

  dialogs(): Dialog[] {
    return this.#dialogs.dialogs();
  }

  /** A received request still waiting for its final response, by transaction id. */
  serverRequest(id: string): IncomingRequest | undefined {
    return this.#dialogs.serverRequest(id);
  }

  /** A request we sent still waiting for its final response, by transaction id. */
  clientRequest(id: string): ClientRequest | InviteClient | undefined {
    return this.#dialogs.clientRequest(id);
  }

  /** Our Contact URI for a transport (first listener of that transport, else the first one). */
  contact(transport: TransportName): string {
    return this.#localUri(transport);
  }

  dump(): StackDump {
    const t = this.#transactions.size;
    return { ...this.#dialogs.dump(), serverTransactions: t.serversById, clientTransactions: t.clientsById, proxies: this.#proxies.size };
  }

  stats(): SipStackStats {
    return { transport: this.#transport.stats, transaction: this.#transactions.stats, dialog: this.#dialogs.stats, proxy: this.#proxies.stats };
  }

  /** Ends every dialog and transaction, closes every socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#dialogs.close();
      this.#proxies.close();
      this.#transactions.close();
      await this.#transport.close();
      this.removeAllListeners();
    })();
    return this.#closing;
  }

  // ---- internals ---------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closing !== undefined) throw new InvalidStateError('SIP stack is closed');
  }

  #deliver(r: IncomingRequestImpl): void {
    const { listeners, errors } = this.emitReport('request', r);
    if (r.finalStatus !== undefined || r.deferred) return;
    // No UA core attached, or it crashed: answer rather than let the peer retransmit into silence.
    if (listeners === 0) r.respond(503);
    else if (errors > 0) r.respond(500);
  }

  #transports(): TransportName[] {
    return this.#endpoints.map((e) => e.transport);
  }

  #localEndpoint(transport: TransportName, family?: 4 | 6): Endpoint {
    const t = this.#transports().includes(transport) ? transport : (this.#endpoints[0]?.transport ?? transport);
    if (family !== undefined) {
      try {
        return this.#transport.localEndpoint(t, family);
      } catch {
        // no listener of that family: the first one of the transport
      }
    }
    return this.#transport.localEndpoint(t);
  }

  #localUri(transport: TransportName): string {
    const le = this.#localEndpoint(transport);
    const host = le.address.includes(':') ? `[${le.address}]` : le.address;
    return `sip:${host}:${le.port}${le.transport === 'udp' ? '' : `;transport=${le.transport}`}`;
  }

  /** RFC 3261 §8.1.2 + RFC 3263 (no SRV): where `req` goes. */
  #resolve(req: SipRequest, hint: TransportName | undefined): Promise<Endpoint> {
    return resolveNextHop(selectNextHop(targetUri(req), { listening: this.#transports(), hint }));
  }

  /** Where an in-dialog request goes: as #resolve, or over the dialog's flow while it is open when
   *  the target cannot be reached otherwise (RFC 3261 §18.1.1, RFC 5626 §5.3, RFC 7118 §5). */
  #resolveRoute(req: SipRequest, route: DialogRoute | undefined): Promise<Destination> {
    if (route === undefined) return this.#resolve(req, undefined);
    const hop = selectNextHop(targetUri(req), { listening: this.#transports(), hint: route.hint });
    const flow = route.flow !== undefined && this.#transport.isOpen(route.flow.connectionId) ? route.flow : undefined;
    return resolveInDialog(hop, flow);
  }

  /** RFC 3261 §8.1.1.7 / §18.1.1: our top Via (fresh branch, rport per RFC 3581), Max-Forwards. */
  #prepare(req: SipRequest, dest: Endpoint): void {
    req.headers.set('Via', this.#viaValue(dest, newBranch()));
    if (!req.headers.has('Max-Forwards')) req.headers.set('Max-Forwards', MAX_FORWARDS);
    req.headers.set('Content-Length', String(req.body.length));
  }

  /** Our listeners as peers name them: bound addresses plus the advertised ones of wildcard binds. */
  #advertised(): Endpoint[] {
    const out = [...this.#endpoints];
    for (const t of new Set(this.#transports())) {
      try {
        out.push(this.#transport.localEndpoint(t));
      } catch {
        /* not listening on it after all */
      }
    }
    return out;
  }

  /** RFC 3261 §18.1.1: our Via for a request to `dest` (rport per RFC 3581). */
  #viaValue(dest: Endpoint, branch: string): string {
    const le = this.#localEndpoint(dest.transport, isIP(dest.address) === 6 ? 6 : 4);
    const host = le.address.includes(':') ? `[${le.address}]` : le.address;
    return `SIP/2.0/${dest.transport.toUpperCase()} ${host}:${le.port};branch=${branch};rport`;
  }

  #proxyHost(): ProxyHost {
    return {
      clock: this.#clock,
      logger: this.#log.child({ layer: 'proxy' }),
      ours: (uri) => this.#ours(uri),
      resolve: (req, via) =>
        via === undefined ? this.#resolve(req, undefined) : resolveNextHop(selectNextHop(via, { listening: this.#transports() })),
      via: (dest, branch) => this.#viaValue(dest, branch),
      localFor: (dest) => this.#localEndpoint(dest.transport, isIP(dest.address) === 6 ? 6 : 4),
      startClient: (req, dest) => this.#transactions.sendRequest(req, dest),
      sendStateless: (req, dest) => this.#transactions.sendAck(req, dest),
      sendResponse: (res, via) => this.#transport.sendResponse(res, via),
    };
  }

  #host(): UaHost {
    return {
      clock: this.#clock,
      timers: this.#cfg.timers,
      logger: this.#log,
      userAgent: this.#cfg.userAgent,
      capabilities: this.#caps,
      contact: (t) => this.#localUri(t),
      startTransaction: async <T>(req: SipRequest, route: DialogRoute | undefined, dest: Endpoint | undefined, wrap: (ct: ClientTransaction) => T): Promise<T> => {
        this.#checkOpen();
        const d = dest ?? (await this.#resolveRoute(req, route));
        this.#checkOpen();
        this.#prepare(req, d);
        return wrap(this.#transactions.sendRequest(req, d));
      },
      sendStateless: async (req: SipRequest, route: DialogRoute): Promise<void> => {
        this.#checkOpen();
        const d = await this.#resolveRoute(req, route);
        // A re-sent ACK keeps its Via: retransmissions of one ACK are the same request.
        if (!req.headers.has('Via')) this.#prepare(req, d);
        await this.#transactions.sendAck(req, d);
      },
      sendResponse: (res: SipResponse, inbound: Inbound): Promise<void> =>
        this.#transport.sendResponse(res, { connectionId: inbound.connectionId, source: inbound.source }),
      dialogCreated: (d: DialogImpl) => {
        this.safeEmit('dialog', d);
      },
    };
  }
}
