// One SIP dialog, UAC or UAS (RFC 3261 §12–§15): its state (route set, remote target, CSeq
// numbers), the requests sent inside it, admission of the requests received in it, the UAS
// retransmission of a 2xx until the ACK (§13.3.1.4) and the UAC ACK for a 2xx (§13.2.2.4).
// The DialogLayer (layer.ts) owns the maps and the sockets; a dialog reaches them only through it.
import { randomInt } from 'node:crypto';
import { InvalidStateError } from '../../lib/errors.js';
import { formatNameAddr, type NameAddr, type SipRequest, type SipResponse, type TransportName } from '../message/index.js';
import type { Inbound } from '../transport/index.js';
import { AckSender } from './ack-sender.js';
import { AckWait } from './ack-wait.js';
import { SafeEmitter } from '../../lib/events.js';
import type { DialogLayer, DialogRoute } from './layer.js';
import type { DialogFlow } from './next-hop.js';
import {
  admitInDialog,
  buildInDialogRequest,
  dialogId,
  isTargetRefresh,
  remoteTargetOf,
  routeSetFromResponse,
  type DialogKey,
} from './rules.js';
import type {
  ClientRequest,
  Dialog,
  DialogEndReason,
  DialogEvents,
  DialogInfo,
  DialogRole,
  DialogState,
  InviteClient,
  InviteOptions,
  RequestOptions,
} from './types.js';
import type { IncomingRequestImpl } from './uas.js';

export interface DialogInit {
  role: DialogRole;
  state: 'early' | 'confirmed';
  callId: string;
  /** Our party with our tag. */
  local: NameAddr;
  /** The peer with its tag. */
  remote: NameAddr;
  localTag: string;
  remoteTag: string;
  remoteTarget: string;
  /** Our Contact URI in this dialog. */
  localContact: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  transport: TransportName;
  /** The connection-oriented flow the dialog was established over (RFC 5626 §5.3). */
  flow?: DialogFlow;
}

interface ByeWaiter {
  opts: RequestOptions;
  resolve: (res: SipResponse) => void;
  reject: (err: unknown) => void;
}

export function toBody(b: Buffer | string | undefined): Buffer | undefined {
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
}

/** Requests that carry our Contact (target refresh requests, and REFER which creates a usage). */
function carriesContact(method: string): boolean {
  return isTargetRefresh(method) || method === 'REFER';
}

export class DialogImpl extends SafeEmitter<DialogEvents> implements Dialog {
  readonly id: string;
  readonly key: DialogKey;
  readonly role: DialogRole;
  readonly callId: string;
  readonly transport: TransportName;
  readonly flow: DialogFlow | undefined;
  /** @internal Transport hint and flow for the requests of this dialog. */
  readonly route: DialogRoute;
  readonly #layer: DialogLayer;
  #state: DialogState;
  #local: NameAddr;
  #remote: NameAddr;
  #remoteTarget: string;
  #localContact: string;
  #routeSet: string[];
  #localSeq: number;
  #remoteSeq: number | undefined;
  // UAS side
  /** 2xx responses waiting for their ACK, by CSeq number (a re-INVITE may overtake an ACK). */
  readonly #awaitAck = new Map<number, AckWait>();
  #byeWaiter: ByeWaiter | undefined;
  /** @internal The INVITE received on this dialog that has no final response yet (§14.2). */
  _incomingInvite: IncomingRequestImpl | undefined;
  /** @internal The 2xx that confirmed a UAS dialog: answers late retransmissions of its INVITE. */
  _initial2xx: SipResponse | undefined;
  // UAC side
  /** @internal An INVITE we sent on this dialog has no final response yet (§14.1). */
  _outgoingInvite = false;
  readonly #acks: AckSender;

  constructor(layer: DialogLayer, init: DialogInit) {
    super(layer.host.logger);
    this.#layer = layer;
    this.role = init.role;
    this.callId = init.callId;
    this.key = { callId: init.callId, localTag: init.localTag, remoteTag: init.remoteTag };
    this.id = dialogId(init.callId, init.role === 'uac' ? init.localTag : init.remoteTag);
    this.transport = init.transport;
    this.flow = init.flow;
    this.route = init.flow === undefined ? { hint: init.transport } : { hint: init.transport, flow: init.flow };
    this.#state = init.state;
    this.#local = init.local;
    this.#remote = init.remote;
    this.#remoteTarget = init.remoteTarget;
    this.#localContact = init.localContact;
    this.#routeSet = init.routeSet;
    this.#localSeq = init.localSeq;
    this.#remoteSeq = init.remoteSeq;
    this.#acks = new AckSender({
      build: (seq, opts) => this.#build('ACK', seq, opts),
      send: (ack) => this.#layer.host.sendStateless(ack, this.route),
      warn: (err, msg) => this.#warn(err, msg),
    });
  }

  get state(): DialogState {
    return this.#state;
  }
  get local(): string {
    return formatNameAddr(this.#local);
  }
  get remote(): string {
    return formatNameAddr(this.#remote);
  }
  get remoteTarget(): string {
    return this.#remoteTarget;
  }
  get localContact(): string {
    return this.#localContact;
  }
  get routeSet(): readonly string[] {
    return this.#routeSet;
  }
  get localSeq(): number {
    return this.#localSeq;
  }
  get remoteSeq(): number | undefined {
    return this.#remoteSeq;
  }

  info(): DialogInfo {
    return {
      id: this.id,
      key: { ...this.key },
      role: this.role,
      state: this.#state,
      local: this.local,
      remote: this.remote,
      remoteTarget: this.#remoteTarget,
      localContact: this.#localContact,
      routeSet: [...this.#routeSet],
      localSeq: this.#localSeq,
      remoteSeq: this.#remoteSeq,
      transport: this.transport,
      ...(this.flow === undefined ? {} : { flow: { connectionId: this.flow.connectionId, remote: { ...this.flow.remote } } }),
    };
  }

  // ---- requests we send -------------------------------------------------------------------

  request(method: 'INVITE', opts?: InviteOptions): Promise<InviteClient>;
  request(method: string, opts?: RequestOptions): Promise<ClientRequest>;
  request(method: string, opts: InviteOptions = {}): Promise<ClientRequest | InviteClient> {
    method = method.toUpperCase();
    if (this.#state === 'terminated') return Promise.reject(new InvalidStateError(`dialog ${this.id} is terminated`));
    if (method === 'ACK' || method === 'CANCEL') {
      return Promise.reject(new InvalidStateError(`${method} is sent with dialog.ack() / invite.cancel()`));
    }
    if (method === 'BYE') return this.#sendBye(opts, 'bye-sent');
    // RFC 3261 §14.1: no new INVITE while another INVITE transaction on the dialog is in progress.
    if (method === 'INVITE' && (this._outgoingInvite || this._incomingInvite !== undefined)) {
      return Promise.reject(new InvalidStateError(`an INVITE is already in progress on dialog ${this.id}`));
    }
    let req: SipRequest;
    try {
      req = this.#build(method, ++this.#localSeq, opts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (method === 'INVITE') this._outgoingInvite = true;
    return this.#layer.sendInDialog(this, req, opts).catch((err: unknown) => {
      if (method === 'INVITE') this._outgoingInvite = false;
      throw err;
    });
  }

  bye(opts: RequestOptions = {}): Promise<SipResponse> {
    if (this.#state === 'terminated') return Promise.reject(new InvalidStateError(`dialog ${this.id} is terminated`));
    // RFC 3261 §15: the callee MUST NOT send BYE on an early dialog.
    if (this.role === 'uas' && this.#state === 'early') {
      return Promise.reject(new InvalidStateError('a UAS cannot send BYE on an early dialog; reject the INVITE'));
    }
    if (this.#awaitAck.size > 0) {
      // RFC 3261 §15: the callee waits for the ACK (or its timeout) before sending BYE.
      if (this.#byeWaiter) return Promise.reject(new InvalidStateError('BYE already pending'));
      return new Promise((resolve, reject) => {
        this.#byeWaiter = { opts, resolve, reject };
      });
    }
    return this.#sendBye(opts, 'bye-sent').then((cr) => cr.final);
  }

  ack(opts: RequestOptions = {}): Promise<SipRequest> {
    return this.#acks.ack(opts);
  }

  terminate(): void {
    this._end('local');
  }

  /** @internal Sends BYE for a reason of the stack's own (an unwanted fork, a cancelled call). */
  _hangup(reason: DialogEndReason): void {
    if (this.#state === 'terminated') return;
    this.#sendBye({}, reason)
      .then((cr) => cr.final)
      .catch((err: unknown) => this.#warn(err, 'BYE failed'));
  }

  #build(method: string, seq: number, opts: RequestOptions): SipRequest {
    const body = toBody(opts.body);
    return buildInDialogRequest(
      {
        callId: this.callId,
        local: this.#local,
        remote: this.#remote,
        remoteTarget: this.#remoteTarget,
        routeSet: this.#routeSet,
      },
      method,
      seq,
      {
        headers: opts.headers,
        body,
        contentType: body && body.length > 0 ? (opts.contentType ?? 'application/sdp') : undefined,
        contact: carriesContact(method) ? this.#localContact : undefined,
      },
    );
  }

  #sendBye(opts: RequestOptions, reason: DialogEndReason): Promise<ClientRequest> {
    let req: SipRequest;
    try {
      req = this.#build('BYE', ++this.#localSeq, opts);
    } catch (err) {
      return Promise.reject(err);
    }
    // RFC 3261 §15.1.1: the session ends as soon as the BYE is handed to its transaction.
    this._end(reason);
    return this.#layer.sendInDialog(this, req, opts);
  }

  // ---- UAC: responses to our INVITEs -------------------------------------------------------

  /** @internal RFC 3261 §13.2.2.4: a 2xx turns an early dialog confirmed; route set recomputed. */
  _confirmFrom2xx(res: SipResponse): void {
    if (this.#state !== 'early') return;
    this.#state = 'confirmed';
    this.#routeSet = routeSetFromResponse(res);
    const target = remoteTargetOf(res);
    if (target !== undefined) this.#remoteTarget = target;
    this.safeEmit('confirmed');
  }

  /** @internal A UAS dialog confirmed by the 2xx we sent. */
  _confirm(): void {
    if (this.#state !== 'early') return;
    this.#state = 'confirmed';
    this.safeEmit('confirmed');
  }

  /** @internal Every 2xx to one of our INVITEs on this dialog, retransmissions included. */
  _invite2xx(res: SipResponse, autoAck: boolean): void {
    this.#acks.on2xx(res.cseq().seq, autoAck);
  }

  /** @internal A 2xx that matched no transaction (RFC 6026: after the ICT ended): re-ACK only. */
  _stray2xx(res: SipResponse): void {
    this.#acks.onStray(res.cseq().seq);
  }

  /** @internal The final response to a request we sent on this dialog. */
  _clientFinal(req: SipRequest, res: SipResponse): void {
    const method = req.method;
    if (method === 'INVITE') this._outgoingInvite = false;
    if (this.#state === 'terminated') return;
    if (res.status >= 200 && res.status < 300 && isTargetRefresh(method)) {
      // RFC 3261 §12.2.1.2: a 2xx to a target refresh request replaces the remote target.
      const target = remoteTargetOf(res);
      if (target !== undefined) this.#setRemoteTarget(target);
      // Our own Contact in an accepted refresh is our new target for the peer.
      const ours = remoteTargetOf(req);
      if (ours !== undefined) this.#localContact = ours;
    } else if (res.status === 481 || res.status === 408) {
      // RFC 3261 §12.2.1.2: 481 or 408 (or a timeout, made a 408) ends the dialog.
      this._end('remote-gone');
    }
  }

  // ---- UAS: requests we receive and our responses ------------------------------------------

  /** @internal An in-dialog request other than ACK (CANCEL never reaches a dialog). */
  _receive(req: IncomingRequestImpl): void {
    const m = req.message;
    const seq = m.cseq().seq;
    const verdict = admitInDialog(
      {
        remoteSeq: this.#remoteSeq,
        incomingInvitePending: this._incomingInvite !== undefined,
        outgoingInvitePending: this._outgoingInvite,
      },
      m.method,
      seq,
    );
    if (verdict.status !== 0) {
      const headers: [string, string][] =
        verdict.status === 500 && verdict.retryAfter ? [['Retry-After', String(randomInt(0, 11))]] : [];
      req.respond(verdict.status, { reason: verdict.reason, headers });
      return;
    }
    // RFC 3261 §12.2.2: an in-order request sets the remote sequence number.
    this.#remoteSeq = seq;
    if (m.method === 'BYE') {
      this.#receiveBye(req);
      return;
    }
    if (m.method === 'INVITE') this._incomingInvite = req;
    const { listeners, errors } = this.emitReport('request', req);
    if (req.finalStatus !== undefined || req.deferred) return;
    // Nobody handles in-dialog requests, or the handler crashed: answer rather than leave the
    // peer retransmitting and the transaction hanging.
    if (errors > 0) req.respond(500);
    else if (listeners > 0) return;
    else if (m.method === 'OPTIONS') req.respond(200);
    else if (m.method === 'INVITE' || m.method === 'UPDATE') req.respond(488);
    else req.respond(501);
  }

  #receiveBye(req: IncomingRequestImpl): void {
    const pending = this._incomingInvite;
    this._end('bye-received', () => {
      // RFC 3261 §15.1.2: requests still pending on the dialog SHOULD get 487.
      if (pending !== undefined && pending.finalStatus === undefined && !pending.cancelled) {
        this.#try(() => pending.respond(487));
      }
      this.safeEmit('bye', req);
      // RFC 3261 §15.1.2: the UAS answers the BYE with 2xx.
      if (req.finalStatus === undefined && !req.deferred) this.#try(() => req.respond(200));
    });
  }

  /** @internal We answered a request of this dialog (or the INVITE that created it). */
  _responded(req: IncomingRequestImpl, res: SipResponse, initial: boolean): void {
    if (res.status < 200) return;
    if (req === this._incomingInvite) this._incomingInvite = undefined;
    if (!initial && res.status < 300 && isTargetRefresh(req.method)) {
      // RFC 3261 §12.2.2 / RFC 6141 §3.4: an accepted target refresh replaces the remote target
      // with the request's Contact.
      const target = remoteTargetOf(req.message);
      if (target !== undefined) this.#setRemoteTarget(target);
      const ours = remoteTargetOf(res);
      if (ours !== undefined) this.#localContact = ours;
    }
  }

  /** @internal RFC 3261 §13.3.1.4: retransmit a 2xx to INVITE until the ACK, BYE after 64*T1. */
  _awaitAck(res: SipResponse, inbound: Inbound, inviteId: string): void {
    this.#awaitAck.get(res.cseq().seq)?.stop();
    const { clock, timers } = this.#layer.host;
    const wait: AckWait = new AckWait(clock, timers, res, inbound, inviteId, {
      resend: (r, via) =>
        this.#layer.host.sendResponse(r, via).catch((err: unknown) => this.#warn(err, '2xx retransmission failed')),
      giveUp: () => this.#ackTimeout(wait),
    });
    this.#awaitAck.set(wait.seq, wait);
  }

  #ackTimeout(wait: AckWait): void {
    if (this.#awaitAck.get(wait.seq) !== wait) return;
    this.#awaitAck.delete(wait.seq);
    this.safeEmit('ack-timeout');
    if (this.#state === 'terminated') return;
    // RFC 3261 §13.3.1.4: no ACK after 64*T1: the dialog is confirmed but the session SHOULD be
    // terminated with a BYE.
    const waiter = this.#byeWaiter;
    this.#byeWaiter = undefined;
    const sent = this.#sendBye(waiter?.opts ?? {}, 'ack-timeout').then((cr) => cr.final);
    if (waiter) sent.then(waiter.resolve, waiter.reject);
    else sent.catch((err: unknown) => this.#warn(err, 'BYE after ACK timeout failed'));
  }

  /** @internal An ACK for a 2xx; false when it acknowledges nothing pending (duplicate, stale). */
  _receiveAck(ack: SipRequest, inbound: Inbound): boolean {
    const rec = this.#awaitAck.get(ack.cseq().seq);
    if (rec === undefined) return false;
    rec.stop();
    this.#awaitAck.delete(rec.seq);
    this.safeEmit('ack', ack, { inviteId: rec.inviteId, inbound });
    const waiter = this.#byeWaiter;
    if (waiter && this.#awaitAck.size === 0 && this.#state !== 'terminated') {
      this.#byeWaiter = undefined;
      this.#sendBye(waiter.opts, 'bye-sent').then((cr) => cr.final).then(waiter.resolve, waiter.reject);
    }
    return true;
  }

  #stopRetransmit(): void {
    for (const w of this.#awaitAck.values()) w.stop();
    this.#awaitAck.clear();
  }

  #setRemoteTarget(target: string): void {
    if (target === this.#remoteTarget) return;
    this.#remoteTarget = target;
    this.safeEmit('target-refresh', target);
  }

  /**
   * @internal Ends the dialog: timers stop, the layer forgets it, then `before` runs (with the
   * dialog already unreachable) and 'terminated' is emitted. Idempotent.
   */
  _end(reason: DialogEndReason, before?: () => void): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#stopRetransmit();
    this.#layer._forget(this);
    const waiter = this.#byeWaiter;
    this.#byeWaiter = undefined;
    if (waiter) waiter.reject(new InvalidStateError(`dialog ended (${reason}) before its BYE was sent`));
    if (before) this.#try(before);
    this.safeEmit('terminated', reason);
  }

  #try(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#warn(err, 'dialog housekeeping failed');
    }
  }

  #warn(err: unknown, msg: string): void {
    this.#layer.host.logger.warn({ err, dialog: this.id }, msg);
  }
}
