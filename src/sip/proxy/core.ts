// The stateful proxy core of one received request (RFC 3261 §16): it owns the upstream server
// transaction instead of the UAS core, forks the request to its targets — one after another
// (serial) or all at once (simultaneous) — with a client transaction per branch, and keeps the
// response context: provisionals (not 100) and every 2xx are relayed at once, other finals are
// kept until every branch has ended and the best one is relayed (§16.7). A CANCEL from upstream
// cancels every pending branch (§16.10); a 2xx or 6xx cancels the others (§16.7 steps 5, 10).
// ACKs for non-2xx finals are absorbed by the transactions on both sides (hop by hop).
import type { TimerHandle } from '../../lib/clock.js';
import { createResponse, formatUri, newBranch, newTag, parseNameAddr, type SipRequest, type SipResponse, type SipUri } from '../message/index.js';
import type { ClientTransaction, ServerTransaction } from '../transaction/index.js';
import type { Endpoint, Inbound } from '../transport/index.js';
import { SafeEmitter } from '../../lib/events.js';
import {
  bestResponseIndex,
  buildBranch,
  destinationRequestUri,
  parseTarget,
  recordRoutes,
  relayedResponse,
  removeOwnRoutes,
  stampBranch,
  upstreamStatus,
} from './rules.js';
import { TIMER_C_MS, type ProxyEvents, type ProxyHost, type ProxyOperation, type ProxyOptions, type ProxyResult } from './types.js';

type BranchState = 'resolving' | 'calling' | 'proceeding' | 'done';

/** RFC 3326 Reason on the CANCELs a 2xx triggers (§16.7 step 10). */
const COMPLETED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

interface Branch {
  readonly target: string | undefined;
  state: BranchState;
  dest?: Endpoint;
  ct?: ClientTransaction;
  /** Its final (a received 3xx–6xx, or a local 408/503), for the §16.7 choice. */
  final?: SipResponse;
  got2xx: boolean;
  reported: boolean;
  provisionalTimer?: TimerHandle;
  timerC?: TimerHandle;
}

export class ProxyCore extends SafeEmitter<ProxyEvents> implements ProxyOperation {
  readonly #host: ProxyHost;
  readonly #st: ServerTransaction;
  readonly #opts: ProxyOptions;
  readonly #invite: boolean;
  /** The received request with our own Route values removed (§16.4). */
  readonly #base: SipRequest;
  /** Targets not started yet (§16.5 target set), in order. */
  readonly #pending: (string | undefined)[];
  readonly #branches: Branch[] = [];
  /** Finals made here rather than received (generated upstream, never relayed). */
  readonly #local = new WeakSet<SipResponse>();
  /** No new branch starts any more (2xx, 6xx, cancel, upstream gone). */
  #stopped = false;
  #cancelled = false;
  #result: ProxyResult | undefined;
  #closed = false;
  readonly #onClosed: (core: ProxyCore) => void;
  readonly #onCancel = (): void => this.#upstreamCancelled();
  readonly #onStTerminated = (): void => this.#upstreamGone();

  constructor(host: ProxyHost, st: ServerTransaction, targets: readonly (string | undefined)[], opts: ProxyOptions, onClosed: (core: ProxyCore) => void) {
    super(host.logger);
    this.#host = host;
    this.#st = st;
    this.#opts = opts;
    this.#invite = st.method === 'INVITE';
    this.#pending = [...targets];
    this.#onClosed = onClosed;
    this.#base = st.request.clone();
    removeOwnRoutes(this.#base, host.ours);
  }

  get id(): string {
    return this.#st.id;
  }

  get result(): ProxyResult | undefined {
    return this.#result;
  }

  /** Branches still without a final (or a next-hop lookup in progress), for dumps. */
  get branches(): number {
    let n = 0;
    for (const b of this.#branches) if (b.state !== 'done') n++;
    return n;
  }

  start(): void {
    this.#st.on('cancelled', this.#onCancel);
    this.#st.once('terminated', this.#onStTerminated);
    // RFC 3261 §16.3 step 3: a request with Max-Forwards 0 is not forwarded (OPTIONS reaches us).
    if (this.#st.request.maxForwards() === 0) {
      this.#stopped = true;
      this.#sendLocal(483);
      this.#finish(483);
      return;
    }
    this.#launch();
    this.#maybeBest();
  }

  // ---- branches -----------------------------------------------------------------------------

  /** Serial: the next target; simultaneous: every target left (§16.6 "in parallel or in sequence"). */
  #launch(): void {
    while (!this.#stopped && this.#pending.length > 0) {
      this.#startBranch(this.#pending.shift());
      if (this.#opts.mode !== 'simultaneous') return;
    }
  }

  #startBranch(target: string | undefined): void {
    const b: Branch = { target, state: 'resolving', got2xx: false, reported: false };
    this.#branches.push(b);
    let req: SipRequest;
    let via: SipUri | undefined;
    try {
      let uri = target;
      if (target !== undefined && this.#opts.targets === 'destination') {
        // drachtio-server: the target is the next hop; the Request-URI is kept unless it is ours.
        via = parseTarget(target);
        if (via === undefined) throw new Error(`unusable destination ${target}`);
        uri = destinationRequestUri(this.#base, target, this.#host.ours);
      }
      req = buildBranch(this.#base, { target: uri, extraHeaders: this.#opts.headers });
    } catch (err) {
      this.#host.logger.debug({ err, target }, 'proxy branch not built');
      this.#localFinal(b, 400);
      return;
    }
    this.#host.resolve(req, via).then(
      (dest) => this.#guard(() => this.#send(b, req, dest)),
      (err: unknown) =>
        this.#guard(() => {
          this.#host.logger.debug({ err, target }, 'proxy target unreachable');
          // RFC 3261 §16.9: a target that cannot be reached counts as a 503 for that branch.
          this.#localFinal(b, 503);
        }),
    );
  }

  #send(b: Branch, req: SipRequest, dest: Endpoint): void {
    if (b.state !== 'resolving') return;
    if (this.#stopped) {
      // The search ended while the next hop was looked up: this branch never starts.
      b.state = 'done';
      this.#maybeBest();
      this.#maybeClose();
      return;
    }
    b.dest = dest;
    try {
      const rr = this.#opts.recordRoute ? recordRoutes(this.#st.inbound.local, this.#host.localFor(dest)) : [];
      stampBranch(req, this.#host.via(dest, newBranch()), rr);
      const ct = this.#host.startClient(req, dest);
      b.ct = ct;
      b.state = 'calling';
      ct.on('response', (res, inbound) => this.#guard(() => this.#response(b, res, inbound)));
      ct.on('timeout', () => this.#guard(() => this.#localFinal(b, 408)));
      ct.on('transport-error', () => this.#guard(() => this.#localFinal(b, 503)));
      ct.once('terminated', () => this.#guard(() => this.#terminated(b)));
    } catch (err) {
      this.#host.logger.warn({ err, dest }, 'proxy branch not sent');
      this.#localFinal(b, 503);
      return;
    }
    const clock = this.#host.clock;
    if (this.#invite) {
      const p = this.#opts.provisionalTimeoutMs;
      if (p !== undefined && p > 0) {
        b.provisionalTimer = clock.setTimeout(() => this.#guard(() => this.#giveUp(b)), p);
      }
      // RFC 3261 §16.6 step 11: Timer C guards a branch that never gets a final.
      b.timerC = clock.setTimeout(() => this.#guard(() => this.#giveUp(b)), this.#opts.finalTimeoutMs ?? TIMER_C_MS);
    }
  }

  /** Transaction events run from sockets and timers: nothing may escape. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#host.logger.error({ err, tx: this.id }, 'proxy step failed');
    }
  }

  #response(b: Branch, res: SipResponse, inbound: Inbound): void {
    const s = res.status;
    if (s < 200) {
      if (b.state === 'calling') {
        b.state = 'proceeding';
        this.#clear(b, 'provisional');
      }
      if (b.state === 'done') return;
      // RFC 3261 §16.7 step 2: a provisional other than 100 restarts Timer C.
      if (s > 100 && b.timerC !== undefined) {
        this.#clear(b, 'c');
        b.timerC = this.#host.clock.setTimeout(() => this.#guard(() => this.#giveUp(b)), this.#opts.finalTimeoutMs ?? TIMER_C_MS);
      }
      // RFC 3261 §16.7 step 5: 100 Trying is not forwarded; other provisionals are, at once.
      if (s > 100 && this.#result === undefined) this.#relay(res);
      return;
    }
    if (s < 300) {
      // RFC 3261 §16.7 step 5: every 2xx is forwarded at once, retransmissions too (RFC 6026).
      this.#relay(res);
      if (b.got2xx) return;
      b.got2xx = true;
      b.state = 'done';
      this.#clear(b, 'all');
      this.#report(b, res, inbound);
      if (this.#result === undefined) {
        // RFC 3261 §16.7 step 10: a final went upstream: cancel every other pending branch.
        this.#stopped = true;
        this.#pending.length = 0;
        this.#cancelOthers(b, COMPLETED_ELSEWHERE);
        this.#finish(s);
      }
      this.#maybeClose();
      return;
    }
    if (b.final !== undefined && b.state === 'done') {
      // Given up already (Timer C, provisional timeout): the local 408 stays its final.
      if (!b.reported) this.#report(b, res, inbound);
      return;
    }
    // RFC 3261 §16.7 step 4: a 3xx–6xx is kept in the response context, not forwarded yet.
    b.final = res;
    b.state = 'done';
    this.#clear(b, 'all');
    this.#report(b, res, inbound);
    if (s < 400 && this.#opts.followRedirects && !this.#stopped) this.#redirect(res);
    if (s >= 600 && !this.#stopped) {
      // RFC 3261 §16.7 step 5: a 6xx ends the search; the other branches are cancelled.
      this.#stopped = true;
      this.#pending.length = 0;
      this.#cancelOthers(b);
    }
    this.#launch();
    this.#maybeBest();
    this.#maybeClose();
  }

  /** RFC 3261 §16.5: the Contacts of a 3xx become targets, tried next (recursion). */
  #redirect(res: SipResponse): void {
    const next: string[] = [];
    for (const c of res.headers.getAll('Contact')) {
      try {
        const u = parseNameAddr(c).uri;
        if (u.scheme === 'sip' || u.scheme === 'sips') next.push(formatUri(u));
      } catch {
        /* unusable Contact: skipped */
      }
    }
    this.#pending.unshift(...next);
  }

  /** Provisional timeout or Timer C (§16.8): cancel the branch and treat it as a 408. */
  #giveUp(b: Branch): void {
    if (b.state === 'done' || b.state === 'resolving') return;
    b.ct?.cancel();
    this.#localFinal(b, 408);
  }

  /** A final made here for a branch: timeout (408), unreachable / transport failure (503). */
  #localFinal(b: Branch, status: number): void {
    if (b.state === 'done') {
      this.#maybeClose();
      return;
    }
    b.state = 'done';
    if (b.final === undefined) {
      b.final = createResponse(this.#base, status);
      this.#local.add(b.final);
    }
    this.#clear(b, 'all');
    this.#launch();
    this.#maybeBest();
    this.#maybeClose();
  }

  #terminated(b: Branch): void {
    // A transaction that ended without a final (the layer closed) counts as a timeout.
    if (b.state !== 'done') this.#localFinal(b, 408);
  }

  #cancelOthers(except: Branch | undefined, reason?: string): void {
    for (const o of this.#branches) {
      if (o === except || o.state === 'done') continue;
      o.ct?.cancel(reason);
      // RFC 3261 §16.10 / §9.1: a ringing branch stays in the context until its final (487)
      // comes; one without provisional gets its CANCEL once one arrives and is over for us now.
      if (o.state === 'proceeding') continue;
      o.state = 'done';
      this.#clear(o, 'all');
    }
  }

  #clear(b: Branch, which: 'provisional' | 'c' | 'all'): void {
    const clock = this.#host.clock;
    if (which !== 'c') {
      clock.clearTimeout(b.provisionalTimer);
      b.provisionalTimer = undefined;
    }
    if (which !== 'provisional') {
      clock.clearTimeout(b.timerC);
      b.timerC = undefined;
    }
  }

  // ---- upstream -----------------------------------------------------------------------------

  /** RFC 3261 §16.7 step 3: relay with our Via removed. */
  #relay(res: SipResponse): void {
    const out = relayedResponse(res);
    if (out !== undefined) this.#st.respond(out);
  }

  #sendLocal(status: number): void {
    // RFC 3261 §8.2.6.2: a final we generate carries a To tag of our own.
    this.#st.respond(createResponse(this.#st.request, status, undefined, { toTag: status > 100 ? newTag() : undefined }));
  }

  #report(b: Branch, res: SipResponse, inbound: Inbound): void {
    if (b.reported || b.dest === undefined) return;
    b.reported = true;
    this.safeEmit('response', res, { target: b.target ?? this.#base.uri, dest: b.dest, inbound });
  }

  /** RFC 3261 §16.7 step 6: once no branch is pending, the best final goes upstream. */
  #maybeBest(): void {
    if (this.#result !== undefined) return;
    if (!this.#stopped && this.#pending.length > 0) return;
    for (const b of this.#branches) if (b.state !== 'done') return;
    if (this.#cancelled) {
      this.#finish(undefined);
      return;
    }
    const finals = this.#branches.filter((b) => b.final !== undefined).map((b) => b.final!);
    const i = bestResponseIndex(finals);
    const chosen = i < 0 ? undefined : finals[i];
    const status = upstreamStatus(chosen?.status);
    // A received final is relayed as is; a local one (408, 503 -> 500) is generated here.
    if (chosen !== undefined && status === chosen.status && !this.#local.has(chosen)) {
      this.#relay(chosen);
    } else {
      this.#sendLocal(status);
    }
    this.#finish(status);
  }

  #upstreamCancelled(): void {
    // RFC 3261 §16.10: the transaction layer already answered 200 to the CANCEL and 487 to the
    // request; every pending branch is cancelled and no new one starts.
    this.#cancelled = true;
    this.#stopped = true;
    this.#pending.length = 0;
    this.#cancelOthers(undefined);
    this.#maybeBest();
    this.#maybeClose();
  }

  #upstreamGone(): void {
    if (this.#result === undefined) {
      this.#stopped = true;
      this.#pending.length = 0;
      this.#cancelOthers(undefined);
      this.#finish(undefined);
    }
    this.#maybeClose();
  }

  #finish(status: number | undefined): void {
    if (this.#result !== undefined) return;
    this.#result = { status, cancelled: this.#cancelled };
    this.safeEmit('done', this.#result);
  }

  /**
   * The decision is made and every branch has its final: the owner forgets the core. Branch
   * transactions still in RFC 6026 'accepted' keep their listeners, so a retransmitted 2xx is
   * still relayed until they end; nothing else refers to the core.
   */
  #maybeClose(): void {
    if (this.#closed || this.#result === undefined) return;
    for (const b of this.#branches) if (b.state !== 'done') return;
    this.#closed = true;
    for (const b of this.#branches) this.#clear(b, 'all');
    this.#st.off('cancelled', this.#onCancel);
    this.#st.off('terminated', this.#onStTerminated);
    this.#onClosed(this);
  }
}

