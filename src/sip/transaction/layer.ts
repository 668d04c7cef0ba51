// The transaction layer (RFC 3261 §17): owns every client and server transaction, matches
// inbound messages to them (§17.1.3, §17.2.3), runs the checks a new request gets before the TU
// sees it (§8.2.2.2, §16.3), handles CANCEL (§9.2), and hands the TU only new requests, responses
// and 2xx ACKs — never a retransmission.

import { EventEmitter } from 'node:events';
import { systemClock, type Clock } from '../../lib/clock.js';
import { InvalidStateError, SipError } from '../../lib/errors.js';
import { moduleLogger, type Logger } from '../../lib/log.js';
import { createResponse, newTag, type SipRequest } from '../message/index.js';
import { safeEmit } from './base.js';
import { ClientTx, type ClientHost } from './client.js';
import { clientKey, clientKeyOf, isRfc3261, mergeKey, sentBy, serverKey, toTag } from './matching.js';
import { ServerTx, type ServerHost } from './server.js';
import { DEFAULT_TIMERS, makeTimers, type Timers } from './timers.js';
import type {
  ClientTransaction,
  Destination,
  Endpoint,
  Inbound,
  ServerTransaction,
  TransactionLayerEvents,
  TransactionLayerOptions,
  TransactionTransport,
} from './types.js';

/** Sent-by hosts the transport replaces with its own address (see TransportLayer.sendRequest). */
const PLACEHOLDERS = new Set(['', '0.0.0.0', '::', '[::]']);

/** Plain counters, read by the metrics exporter. */
export interface TransactionStats {
  clientStarted: number;
  serverStarted: number;
  /** Request retransmissions and ACK retransmissions absorbed by a server transaction. */
  absorbed: number;
  /** Responses that matched no client transaction (passed on as 'response'). */
  unmatchedResponses: number;
  /** New requests rejected by the layer (483, 482, 481). */
  rejected: number;
  /** Inbound messages dropped because a header needed for matching was unreadable. */
  malformed: number;
}

export class TransactionLayer extends EventEmitter<TransactionLayerEvents> implements ClientHost, ServerHost {
  readonly transport: TransactionTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly stats: TransactionStats = {
    clientStarted: 0,
    serverStarted: 0,
    absorbed: 0,
    unmatchedResponses: 0,
    rejected: 0,
    malformed: 0,
  };
  readonly #unreliable: Timers;
  readonly #reliable: Timers;
  /** §17.1.3 key (branch|method) -> client transaction. */
  readonly #clients = new Map<string, ClientTx>();
  /** branch -> client transactions using it (INVITE and its CANCEL), for loop detection. */
  readonly #branches = new Map<string, Set<ClientTx>>();
  /** §17.2.3 key -> server transaction. */
  readonly #servers = new Map<string, ServerTx>();
  readonly #serversById = new Map<string, ServerTx>();
  readonly #clientsById = new Map<string, ClientTx>();
  /** §8.2.2.2 From tag + Call-ID + CSeq -> the server transaction that first had them. */
  readonly #merge = new Map<string, ServerTx>();
  #closed = false;

  constructor(transport: TransactionTransport, opts: TransactionLayerOptions = {}) {
    super();
    this.transport = transport;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? moduleLogger('sip.transaction');
    const cfg = opts.timers ?? DEFAULT_TIMERS;
    this.#unreliable = makeTimers(cfg, false);
    this.#reliable = makeTimers(cfg, true);
  }

  /** Timer values for a transport ('udp' is the only unreliable one we speak). */
  timersFor(transport: string): Timers {
    return transport.toLowerCase() === 'udp' ? this.#unreliable : this.#reliable;
  }

  serverTransaction(id: string): ServerTransaction | undefined {
    return this.#serversById.get(id);
  }

  clientTransaction(id: string): ClientTransaction | undefined {
    return this.#clientsById.get(id);
  }

  /** Live transaction counts (every map), for tests and metrics. */
  get size(): { clients: number; servers: number; clientsById: number; serversById: number; branches: number; merge: number } {
    return {
      clients: this.#clients.size,
      servers: this.#servers.size,
      clientsById: this.#clientsById.size,
      serversById: this.#serversById.size,
      branches: this.#branches.size,
      merge: this.#merge.size,
    };
  }

  // ---------------------------------------------------------------- client side

  /** Starts a client transaction. Adds nothing to the request: the caller sets the top Via with a
   *  fresh branch, Max-Forwards, etc. Throws InvalidStateError for ACK (use `sendAck`), for a
   *  request without branch, or when a live transaction has the same branch and method. */
  sendRequest(req: SipRequest, dest: Destination): ClientTransaction {
    if (this.#closed) throw new InvalidStateError('transaction layer closed');
    const method = req.method.toUpperCase();
    // RFC 3261 §17.1.1.3: an ACK is not a transaction (for a 2xx the TU sends it directly).
    if (method === 'ACK') throw new InvalidStateError('ACK is not a transaction: use sendAck()');
    const branch = req.topVia().branch;
    if (!branch) throw new InvalidStateError('request needs a top Via with a branch');
    const key = clientKey(branch, method);
    if (this.#clients.has(key)) throw new InvalidStateError(`client transaction ${key} already exists`);
    const tx = new ClientTx(this, req, dest, key, branch.toLowerCase(), this.timersFor(dest.transport));
    this.#clients.set(key, tx);
    this.#clientsById.set(tx.id, tx);
    let set = this.#branches.get(tx.branch);
    if (!set) this.#branches.set(tx.branch, (set = new Set()));
    set.add(tx);
    this.stats.clientStarted++;
    tx.start();
    return tx;
  }

  /** Sends an ACK for a 2xx (RFC 3261 §13.2.2.4): no transaction, straight to the transport. */
  sendAck(ack: SipRequest, dest: Destination): Promise<void> {
    return this.transport.sendRequest(ack, dest);
  }

  clientTerminated(tx: ClientTx): void {
    if (this.#clients.get(tx.key) === tx) this.#clients.delete(tx.key);
    this.#clientsById.delete(tx.id);
    const set = this.#branches.get(tx.branch);
    if (set) {
      set.delete(tx);
      if (set.size === 0) this.#branches.delete(tx.branch);
    }
  }

  // ---------------------------------------------------------------- inbound

  /** Feed every message the transport layer delivers. Never throws. */
  receive(inbound: Inbound): void {
    if (this.#closed) return;
    try {
      if (inbound.message.kind === 'response') this.#onResponse(inbound);
      else this.#onRequest(inbound);
    } catch (err) {
      this.stats.malformed++;
      this.logger.warn({ err, source: inbound.source }, 'inbound message dropped by transaction layer');
    }
  }

  #onResponse(inbound: Inbound): void {
    // RFC 3261 §17.1.3: match by top Via branch and CSeq method.
    const key = clientKeyOf(inbound.message);
    const tx = key === undefined ? undefined : this.#clients.get(key);
    if (tx) {
      tx.receive(inbound);
      return;
    }
    // RFC 3261 §17.1.1.2 / RFC 6026: a response without transaction (2xx retransmission after
    // the ICT ended, stray response) goes to the dialog layer.
    this.stats.unmatchedResponses++;
    safeEmit(this, this.logger, 'response', inbound);
  }

  #onRequest(inbound: Inbound): void {
    const req = inbound.message as SipRequest;
    const method = req.method.toUpperCase();

    if (method === 'ACK') {
      // RFC 3261 §17.2.3: an ACK matches the INVITE server transaction it acknowledges
      // (non-2xx final); otherwise it is the ACK for a 2xx and belongs to the dialog layer.
      const st = this.#match(req, 'INVITE');
      if (st) {
        if (st.state === 'confirmed') this.stats.absorbed++;
        st.ack(inbound);
      } else {
        safeEmit(this, this.logger, 'ack', inbound);
      }
      return;
    }

    // RFC 3261 §17.2.3: a retransmission matches its server transaction, which absorbs it
    // (resending the last response when it has one); the TU never sees it.
    const existing = this.#match(req, method);
    if (existing) {
      this.stats.absorbed++;
      existing.retransmission(inbound);
      return;
    }

    const reject = this.#checkOrBadRequest(req, method);
    const st = this.#createServer(inbound, method, reject === undefined);
    if (reject) {
      this.stats.rejected++;
      st.respond(createResponse(req, reject.status, reject.reason, { toTag: newTag() }));
      return;
    }
    if (method === 'CANCEL') {
      this.#onCancel(st, inbound);
      return;
    }
    st.start();
  }

  /** A header the checks need but cannot parse (a later Via, Max-Forwards) becomes its SipError's
   *  response (400) rather than a silent drop. */
  #checkOrBadRequest(req: SipRequest, method: string): { status: number; reason: string } | undefined {
    try {
      return this.#check(req, method);
    } catch (err) {
      if (err instanceof SipError) return { status: err.status, reason: err.reason };
      throw err;
    }
  }

  /** The checks a new request gets before the TU sees it, in the order of API.md. */
  #check(req: SipRequest, method: string): { status: number; reason: string } | undefined {
    // RFC 3261 §8.2.2 / §16.3: Max-Forwards 0 -> 483, except OPTIONS, which the TU answers
    // (RFC 3261 §11.1 allows answering OPTIONS at the last hop). A missing header is fine.
    if (req.maxForwards() === 0 && method !== 'OPTIONS') return { status: 483, reason: 'Too Many Hops' };
    // RFC 3261 §16.3 (4): a request carrying a Via that we put there (our sent-by and the branch
    // of one of our live client transactions) has looped back to us.
    if (this.#isLoop(req)) return { status: 482, reason: 'Loop Detected' };
    // RFC 3261 §8.2.2.2: no To tag, and From tag + Call-ID + CSeq equal to a live server
    // transaction that did not match (different branch): a merged request (forked to us twice).
    const mk = mergeKey(req);
    if (mk !== undefined && this.#merge.has(mk)) return { status: 482, reason: 'Loop Detected' };
    return undefined;
  }

  #isLoop(req: SipRequest): boolean {
    if (this.#branches.size === 0) return false;
    for (const via of req.vias()) {
      if (!via.branch) continue;
      const txs = this.#branches.get(via.branch.toLowerCase());
      if (!txs) continue;
      for (const tx of txs) {
        const ours = tx.request.topVia();
        // A placeholder sent-by (filled in by the transport on a copy) cannot be compared: the
        // random branch alone identifies the request then.
        if (PLACEHOLDERS.has(ours.host) || sentBy(ours) === sentBy(via)) return true;
      }
    }
    return false;
  }

  #onCancel(cancelSt: ServerTx, inbound: Inbound): void {
    const cancel = inbound.message as SipRequest;
    // RFC 3261 §9.2: the CANCEL matches the INVITE server transaction by the §17.2.3 rules with
    // method INVITE (same branch and sent-by, or the RFC 2543 comparison).
    const invite = this.#match(cancel, 'INVITE');
    if (!invite) {
      // RFC 3261 §9.2: no matching transaction: 481.
      this.stats.rejected++;
      cancelSt.respond(createResponse(cancel, 481, 'Call/Transaction Does Not Exist', { toTag: newTag() }));
      return;
    }
    // RFC 3261 §9.2: the To tag of the CANCEL's response SHOULD equal the INVITE response's.
    const tag = invite.localTag ?? newTag();
    // RFC 3261 §9.2: a matched CANCEL is answered 200 whatever the INVITE's state.
    cancelSt.respond(createResponse(cancel, 200, undefined, { toTag: tag }));
    if (invite.state !== 'proceeding') return; // RFC 3261 §9.2: final already sent: no effect.
    // RFC 3261 §9.2: an INVITE still without final is answered 487 Request Terminated.
    invite.respond(createResponse(invite.request, 487, 'Request Terminated', { toTag: tag }));
    safeEmit(invite, this.logger, 'cancelled', inbound);
    safeEmit(this, this.logger, 'cancel', invite, inbound);
  }

  /** The live server transaction `req` belongs to when looked up as `method` (§17.2.3, §9.2). */
  #match(req: SipRequest, method: string): ServerTx | undefined {
    const st = this.#servers.get(serverKey(req, method));
    if (!st || !st.rfc2543) return st;
    // RFC 3261 §17.2.3: RFC 2543 fallback also compares To tags: an ACK carries the tag of our
    // response; a retransmission or CANCEL carries the INVITE's own To tag (usually none).
    const expected = req.method.toUpperCase() === 'ACK' ? (st.localTag ?? toTag(st.request)) : toTag(st.request);
    return toTag(req) === expected ? st : undefined;
  }

  #createServer(inbound: Inbound, method: string, mergeable: boolean): ServerTx {
    const req = inbound.message as SipRequest;
    const key = serverKey(req, method);
    const st = new ServerTx(this, inbound, key, !isRfc3261(req), this.timersFor(inbound.source.transport));
    this.#servers.set(key, st);
    this.#serversById.set(st.id, st);
    if (mergeable && method !== 'CANCEL') {
      const mk = mergeKey(req);
      if (mk !== undefined) {
        st.mergeKey = mk;
        this.#merge.set(mk, st);
      }
    }
    this.stats.serverStarted++;
    return st;
  }

  deliverRequest(st: ServerTx): void {
    safeEmit(this, this.logger, 'request', st);
  }

  deliverAck(inbound: Inbound): void {
    safeEmit(this, this.logger, 'ack', inbound);
  }

  serverTerminated(st: ServerTx): void {
    if (this.#servers.get(st.key) === st) this.#servers.delete(st.key);
    this.#serversById.delete(st.id);
    if (st.mergeKey !== undefined && this.#merge.get(st.mergeKey) === st) this.#merge.delete(st.mergeKey);
  }

  /** Ends every transaction (timers cleared, 'terminated' emitted) and refuses new work. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tx of [...this.#clients.values()]) tx.abort();
    for (const st of [...this.#servers.values()]) st.abort();
  }
}

