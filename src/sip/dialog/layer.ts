// The dialog layer: the UA core between the transaction layer and the application (RFC 3261
// §8, §12–§15). It keeps every dialog in two maps (by §12 key and by drachtio-style id), routes
// in-dialog requests, 2xx ACKs and stray 2xx retransmissions to their dialog, answers 481 for
// requests naming an unknown dialog, and creates dialogs from the responses we send or receive.
// Sockets, next hops and Via are the stack's job, reached through UaHost.
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { SipRequest, SipResponse, TransportName } from '../message/index.js';
import type { ClientTransaction, ServerTransaction } from '../transaction/index.js';
import type { Endpoint, Inbound } from '../transport/index.js';
import { DialogImpl } from './dialog.js';
import type { DialogFlow } from './next-hop.js';
import {
  dialogId,
  dialogKeyString,
  initialSeq,
  keyOfIncomingRequest,
  keyOfIncomingResponse,
  remoteTargetOf,
  routeSetFromRequest,
  routeSetFromResponse,
  tagOf,
  type DialogKey,
} from './rules.js';
import type { InviteOptions, RequestOptions, StackDump } from './types.js';
import { ClientRequestImpl, InviteClientImpl } from './uac.js';
import { checkIncomingRequest, type UasCapabilities } from './uas-checks.js';
import { IncomingRequestImpl } from './uas.js';

/** How a dialog's requests find their way: its transport as the default when the target names
 *  none, and the flow it was established over (RFC 5626 §5.3), if any. */
export interface DialogRoute {
  hint: TransportName;
  flow?: DialogFlow;
}

/** What the dialog layer needs from the stack that owns it. */
export interface UaHost {
  readonly clock: Clock;
  readonly timers: { readonly t1: number; readonly t2: number };
  readonly logger: Logger;
  /** Server / User-Agent header value. */
  readonly userAgent: string;
  /** Our Contact URI on a transport. */
  contact(transport: TransportName): string;
  /** Fills Via / Max-Forwards, resolves the next hop (or uses `dest`), starts a client transaction
   *  and hands it to `wrap` at once (before any of its events can fire). `route`: an in-dialog
   *  request's transport hint and flow. */
  startTransaction<T>(req: SipRequest, route: DialogRoute | undefined, dest: Endpoint | undefined, wrap: (ct: ClientTransaction) => T): Promise<T>;
  /** Same without a transaction: the ACK for a 2xx. Keeps an existing Via (a re-sent ACK is identical). */
  sendStateless(req: SipRequest, route: DialogRoute): Promise<void>;
  /** Straight to the transport, for the UAS core's 2xx retransmissions. */
  sendResponse(res: SipResponse, inbound: Inbound): Promise<void>;
  /** A dialog was created (early or confirmed, UAC or UAS). */
  dialogCreated(d: DialogImpl): void;
  /** What this UA implements, for the RFC 3261 §8.2 checks. */
  readonly capabilities: UasCapabilities;
}

/** Counters of what the layer absorbed, for metrics. */
export interface DialogLayerStats {
  /** In-dialog requests answered 481 (no such dialog). */
  unknownDialog: number;
  /** ACKs that acknowledged nothing (duplicates, unknown dialog): dropped. */
  acksDropped: number;
  /** Responses matching no transaction and no 2xx ACK to resend: dropped. */
  strayResponses: number;
  /** Late INVITE retransmissions answered from the dialog's 2xx. */
  inviteRetransmissions: number;
  /** Requests refused by the RFC 3261 §8.2 checks (416, 420, 415, 406). */
  rejected: number;
}

export class DialogLayer {
  readonly host: UaHost;
  readonly stats: DialogLayerStats = { unknownDialog: 0, acksDropped: 0, strayResponses: 0, inviteRetransmissions: 0, rejected: 0 };
  readonly #byKey = new Map<string, DialogImpl>();
  readonly #byId = new Map<string, Set<DialogImpl>>();
  readonly #servers = new Map<string, IncomingRequestImpl>();
  readonly #clients = new Map<string, ClientRequestImpl | InviteClientImpl>();
  #closed = false;

  constructor(host: UaHost) {
    this.host = host;
  }

  // ---- inbound, from the transaction layer -------------------------------------------------

  /** A new request. Returns it when it is out of dialog (the stack hands it to the TU). */
  receiveRequest(st: ServerTransaction): IncomingRequestImpl | undefined {
    if (this.#closed) return undefined;
    const req = st.request;
    // RFC 3261 §8.2: scheme, Require, body and Accept checks come before dialog matching.
    const rejection = checkIncomingRequest(req, this.host.capabilities);
    if (rejection !== undefined) {
      this.stats.rejected++;
      new IncomingRequestImpl(this, st, undefined).respond(rejection.status, { headers: rejection.headers });
      return undefined;
    }
    const key = keyOfIncomingRequest(req);
    if (key !== undefined) {
      const d = this.#byKey.get(dialogKeyString(key));
      if (d === undefined) {
        // RFC 3261 §12.2.2: a request with a To tag that matches no dialog gets 481.
        this.stats.unknownDialog++;
        new IncomingRequestImpl(this, st, undefined).respond(481);
        return undefined;
      }
      const r = new IncomingRequestImpl(this, st, d);
      this.#servers.set(r.id, r);
      d._receive(r);
      return undefined;
    }
    if (req.method === 'INVITE' && this.#lateInviteRetransmission(st)) return undefined;
    const r = new IncomingRequestImpl(this, st, undefined);
    this.#servers.set(r.id, r);
    return r;
  }

  /**
   * RFC 3261 §13.3.1.4 with RFC 6026: the INVITE server transaction absorbs retransmissions for
   * 64*T1 after our 2xx; one arriving later must not look like a new call. Same branch: the 2xx
   * again; another branch with the same From tag, Call-ID and CSeq: a merged request (§8.2.2.2).
   */
  #lateInviteRetransmission(st: ServerTransaction): boolean {
    const req = st.request;
    const fromTag = tagOf(req.from());
    if (fromTag === undefined) return false;
    const set = this.#byId.get(dialogId(req.callId(), fromTag));
    if (set === undefined) return false;
    for (const d of set) {
      const prior = d._initial2xx;
      if (d.role !== 'uas' || prior === undefined || prior.cseq().seq !== req.cseq().seq) continue;
      this.stats.inviteRetransmissions++;
      if (prior.topVia().branch === req.topVia().branch) st.respond(prior);
      else new IncomingRequestImpl(this, st, undefined).respond(482, { reason: 'Loop Detected' });
      return true;
    }
    return false;
  }

  /** An ACK that matched no INVITE server transaction: the ACK for a 2xx. Never answered. */
  receiveAck(inbound: Inbound): void {
    if (this.#closed) return;
    const ack = inbound.message as SipRequest;
    const key = keyOfIncomingRequest(ack);
    const d = key === undefined ? undefined : this.#byKey.get(dialogKeyString(key));
    // RFC 3261 §12.2.2 / §17: an ACK for no dialog (or a duplicate) is dropped silently.
    if (d === undefined || !d._receiveAck(ack, inbound)) this.stats.acksDropped++;
  }

  /** A response that matched no client transaction: a 2xx retransmission after the ICT ended. */
  receiveStrayResponse(inbound: Inbound): void {
    if (this.#closed) return;
    const res = inbound.message as SipResponse;
    if (res.status >= 200 && res.status < 300 && res.cseq().method === 'INVITE') {
      const key = keyOfIncomingResponse(res);
      const d = key === undefined ? undefined : this.#byKey.get(dialogKeyString(key));
      if (d !== undefined && d.role === 'uac') {
        d._stray2xx(res);
        return;
      }
    }
    this.stats.strayResponses++;
  }

  /** The transaction layer matched a CANCEL and already sent 200 and 487 (RFC 3261 §9.2). */
  receiveCancel(st: ServerTransaction, cancel: Inbound): void {
    this.#servers.get(st.id)?._cancelled(cancel.message as SipRequest);
  }

  // ---- outbound ----------------------------------------------------------------------------

  sendOutOfDialog(req: SipRequest, opts: InviteOptions, dest?: Endpoint): Promise<ClientRequestImpl | InviteClientImpl> {
    return this.host.startTransaction(req, undefined, dest, (ct) => this.#wrap(ct, undefined, opts));
  }

  sendInDialog(d: DialogImpl, req: SipRequest, opts: RequestOptions & InviteOptions): Promise<ClientRequestImpl | InviteClientImpl> {
    return this.host.startTransaction(req, d.route, undefined, (ct) => this.#wrap(ct, d, opts));
  }

  #wrap(ct: ClientTransaction, d: DialogImpl | undefined, opts: InviteOptions): ClientRequestImpl | InviteClientImpl {
    const c = ct.method === 'INVITE' ? new InviteClientImpl(this, ct, d, opts) : new ClientRequestImpl(this, ct, d);
    if (c.finalResponse === undefined) this.#clients.set(c.id, c);
    return c;
  }

  // ---- dialog creation ---------------------------------------------------------------------

  /**
   * @internal We are answering an initial INVITE with `res` (RFC 3261 §12.1.1): a 101–199 with a
   * To tag creates an early dialog, a 2xx creates or confirms one, a failure ends an early one.
   */
  _uasDialog(r: IncomingRequestImpl, res: SipResponse, current: DialogImpl | undefined): DialogImpl | undefined {
    const s = res.status;
    if (s >= 300) {
      if (current !== undefined && current.state === 'early') current._end('rejected');
      return current;
    }
    const localTag = s > 100 ? tagOf(res.to()) : undefined;
    if (localTag === undefined) return current;
    const req = r.message;
    const key: DialogKey = { callId: req.callId(), localTag, remoteTag: tagOf(req.from()) ?? '' };
    let d = this.#byKey.get(dialogKeyString(key));
    if (current !== undefined && current !== d && current.state === 'early') current._end('rejected');
    if (d === undefined) {
      d = new DialogImpl(this, {
        role: 'uas',
        state: s < 200 ? 'early' : 'confirmed',
        callId: key.callId,
        local: res.to(),
        remote: req.from(),
        localTag,
        remoteTag: key.remoteTag,
        // RFC 3261 §12.1.1: remote target from Contact; without one, where the request came from.
        remoteTarget: remoteTargetOf(req) ?? sourceUri(r.source),
        localContact: remoteTargetOf(res) ?? this.host.contact(r.local.transport),
        routeSet: routeSetFromRequest(req),
        localSeq: initialSeq(),
        remoteSeq: req.cseq().seq,
        transport: r.local.transport,
        // RFC 5626 §5.3: requests to the caller may have to use the connection its INVITE came on.
        flow: flowOf(r.connectionId, r.source),
      });
      this.#add(d);
      if (s < 200) d._incomingInvite = r;
    } else if (s >= 200) {
      d._confirm();
    }
    if (s >= 200 && d._incomingInvite === r) d._incomingInvite = undefined;
    return d;
  }

  /** @internal RFC 3261 §12.1.2: the dialog a 1xx/2xx to our INVITE belongs to, created if new. */
  _uacDialog(c: InviteClientImpl, res: SipResponse, state: 'early' | 'confirmed', inbound: Inbound | undefined): { dialog: DialogImpl; created: boolean } {
    const req = c.message;
    const key: DialogKey = { callId: req.callId(), localTag: tagOf(req.from()) ?? '', remoteTag: tagOf(res.to()) ?? '' };
    const found = this.#byKey.get(dialogKeyString(key));
    if (found !== undefined) return { dialog: found, created: false };
    const d = new DialogImpl(this, {
      role: 'uac',
      state,
      callId: key.callId,
      local: req.from(),
      remote: res.to(),
      localTag: key.localTag,
      remoteTag: key.remoteTag,
      remoteTarget: remoteTargetOf(res) ?? req.uri,
      localContact: remoteTargetOf(req) ?? this.host.contact(c.dest.transport),
      routeSet: routeSetFromResponse(res),
      localSeq: req.cseq().seq,
      remoteSeq: undefined,
      transport: c.dest.transport,
      // RFC 5626 §5.3 / RFC 7118 §5: the connection the answer came on (the INVITE's flow).
      flow: inbound === undefined ? undefined : flowOf(inbound.connectionId, inbound.source),
    });
    this.#add(d);
    return { dialog: d, created: true };
  }

  #add(d: DialogImpl): void {
    this.#byKey.set(dialogKeyString(d.key), d);
    let set = this.#byId.get(d.id);
    if (set === undefined) this.#byId.set(d.id, (set = new Set()));
    set.add(d);
    this.host.dialogCreated(d);
  }

  /** @internal A dialog ended: drop it from every map. */
  _forget(d: DialogImpl): void {
    const k = dialogKeyString(d.key);
    if (this.#byKey.get(k) === d) this.#byKey.delete(k);
    const set = this.#byId.get(d.id);
    if (set !== undefined) {
      set.delete(d);
      if (set.size === 0) this.#byId.delete(d.id);
    }
  }

  /** @internal A request got its final response (or was cancelled). */
  _serverDone(r: IncomingRequestImpl): void {
    this.#servers.delete(r.id);
  }

  /** @internal A request we sent got its final response. */
  _clientDone(c: { id: string }): void {
    this.#clients.delete(c.id);
  }

  // ---- lookups -----------------------------------------------------------------------------

  /** By drachtio-style id; among forks sharing it, the confirmed dialog wins. */
  dialog(id: string): DialogImpl | undefined {
    const set = this.#byId.get(id);
    if (set === undefined) return undefined;
    let best: DialogImpl | undefined;
    for (const d of set) {
      if (d.state === 'confirmed') return d;
      best ??= d;
    }
    return best;
  }

  dialogByKey(key: DialogKey): DialogImpl | undefined {
    return this.#byKey.get(dialogKeyString(key));
  }

  dialogs(): DialogImpl[] {
    return [...this.#byKey.values()];
  }

  serverRequest(id: string): IncomingRequestImpl | undefined {
    return this.#servers.get(id);
  }

  clientRequest(id: string): ClientRequestImpl | InviteClientImpl | undefined {
    return this.#clients.get(id);
  }

  dump(): StackDump {
    return { dialogs: this.#byKey.size, dialogIds: this.#byId.size, serverRequests: this.#servers.size, clientRequests: this.#clients.size };
  }

  /** Ends every dialog ('closed') and forgets every request. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of [...this.#byKey.values()]) d._end('closed');
    this.#servers.clear();
  }
}

/** RFC 5626 §3.2: a connection-oriented flow, identified by the connection a message came on.
 *  UDP has no flow to keep (its `connectionId` names the listening socket). */
function flowOf(connectionId: string | undefined, source: Endpoint): DialogFlow | undefined {
  if (connectionId === undefined || source.transport === 'udp') return undefined;
  return { connectionId, remote: { transport: source.transport, address: source.address, port: source.port } };
}

function sourceUri(e: Endpoint): string {
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  return `sip:${host}:${e.port}${e.transport === 'udp' ? '' : `;transport=${e.transport}`}`;
}
