// One extension-to-extension call as a B2BUA over drachtio-srf: the caller's INVITE (A leg) is
// forked in parallel to every registered contact of the callee (B legs, srf.createUAC). The first
// 2xx wins: the other branches are CANCELled (or, if they answer too, hung up), and A is answered
// with the winner's SDP (srf.createUAS) — media flows end to end, we only relay SDP. A CANCEL from
// the caller cancels every branch (the drachtio server has already answered it 200 and A 487).
// BYE on either side hangs up the other. No failure may escape: every path ends in a response to
// A or a torn-down dialog, and every log line carries A's Call-ID.
import type { Logger } from '../lib/log.js';
import type { Binding } from '../store/index.js';
import type { CallResult } from './metrics.js';
import { reply } from './srf-reply.js';
import { statusOf, type InboundRequest, type OutboundResponse, type ReceivedResponse, type SentRequest, type Srf, type SrfDialog } from './srf-types.js';

export interface ForkParties {
  /** From of the B-leg INVITEs (the authenticated caller), e.g. `"Agent One" <sip:1001@realm>`. */
  from: string;
  /** To of the B-leg INVITEs, e.g. `<sip:1002@realm>`. */
  to: string;
}

export interface ForkHooks {
  /** The attempt's outcome, once: answered, or why not. */
  result(result: CallResult): void;
  /** Nothing of the call is left (failed, cancelled, or both legs hung up). */
  gone(): void;
}

interface Branch {
  readonly contact: string;
  sent?: SentRequest;
  /** CANCEL asked for before srf handed us the request: sent as soon as it does. */
  cancelWanted: boolean;
  done: boolean;
  status?: number;
}

type State = 'ringing' | 'answering' | 'answered' | 'failed' | 'cancelled';

export class ForkedCall {
  readonly #srf: Srf;
  readonly #req: InboundRequest;
  readonly #res: OutboundResponse;
  readonly #log: Logger;
  readonly #branches: Branch[];
  readonly #targets: Target[];
  readonly #hooks: ForkHooks;
  #state: State = 'ringing';
  #provisionalSent = false;
  #ringTimer: NodeJS.Timeout | undefined;
  #ended = false;
  #dialogs: SrfDialog[] = [];

  constructor(
    srf: Srf,
    req: InboundRequest,
    res: OutboundResponse,
    log: Logger,
    bindings: readonly Binding[],
    hooks: ForkHooks,
  ) {
    this.#srf = srf;
    this.#req = req;
    this.#res = res;
    this.#log = log;
    this.#hooks = hooks;
    this.#branches = bindings.map((b) => ({ contact: b.contact, cancelWanted: false, done: false }));
    this.#targets = bindings.map(targetOf);
  }

  get state(): State {
    return this.#state;
  }

  /** Sends every branch; `ringTimeoutMs` later, unanswered branches are cancelled and A gets 480. */
  start(parties: ForkParties, ringTimeoutMs: number): void {
    this.#req.on('cancel', () => this.#callerCancelled());
    this.#ringTimer = setTimeout(() => this.#ringTimeout(), ringTimeoutMs);
    this.#ringTimer.unref();
    this.#branches.forEach((b, i) => this.#send(b, this.#targets[i]!, parties));
  }

  /** Hangs up whatever is up (shutdown). */
  abort(): void {
    clearTimeout(this.#ringTimer);
    if (this.#state === 'ringing') {
      this.#state = 'failed';
      this.#cancelBranches();
      reply(this.#res, 503, 'Service Unavailable', [], this.#log);
      this.#end('failed');
    }
    const up = this.#dialogs;
    this.#dialogs = [];
    for (const d of up) void destroy(d, this.#log);
    if (up.length > 0) this.#hooks.gone();
  }

  #send(b: Branch, t: Target, parties: ForkParties): void {
    const headers: Record<string, string> = { From: parties.from, To: parties.to };
    if (t.route !== undefined) headers.Route = t.route;
    const opts: Record<string, unknown> = { localSdp: this.#req.body, headers };
    if (t.proxy !== undefined) opts.proxy = t.proxy;
    this.#log.debug({ contact: b.contact, proxy: t.proxy }, 'forking to contact');
    const progress = {
      cbRequest: (err: unknown, sent?: SentRequest) => {
        if (err || sent === undefined) return;
        b.sent = sent;
        if (b.cancelWanted) cancel(b, this.#log);
      },
      cbProvisional: (p: ReceivedResponse) => this.#provisional(p),
    };
    const createUAC = this.#srf.createUAC as unknown as (uri: string, o: unknown, p: unknown) => Promise<SrfDialog>;
    let uac: Promise<SrfDialog>;
    try {
      uac = createUAC.call(this.#srf, t.uri, opts, progress);
    } catch (err) {
      // srf asserts on its arguments synchronously (e.g. a URI it cannot parse).
      uac = Promise.reject(err);
    }
    uac.then(
      (dialog) => this.#branchAnswered(b, dialog),
      (err: unknown) => this.#branchFailed(b, err),
    );
  }

  #provisional(p: ReceivedResponse): void {
    if (this.#state !== 'ringing' || p.status <= 100) return;
    // One ringing indication for A, whichever branch rings first; early media (183 + SDP) only
    // from that first branch, since A can take a single early session.
    if (this.#provisionalSent) return;
    this.#provisionalSent = true;
    const early = p.status === 183 && p.body !== '' ? p.body : undefined;
    try {
      this.#res.send(early ? 183 : 180, early ? 'Session Progress' : 'Ringing', early ? { body: early, headers: { 'Content-Type': 'application/sdp' } } : {});
    } catch (err) {
      this.#log.debug({ err }, 'provisional not sent');
    }
  }

  #branchAnswered(b: Branch, dialog: SrfDialog): void {
    b.done = true;
    b.status = 200;
    if (this.#state !== 'ringing') {
      // A second fork answered, or A went away: RFC 3261 §16.7 — hang the extra one up.
      this.#log.info({ contact: b.contact }, 'late answer from another branch; hanging it up');
      void destroy(dialog, this.#log);
      return;
    }
    this.#state = 'answering';
    clearTimeout(this.#ringTimer);
    this.#log.info({ contact: b.contact }, 'answered');
    this.#cancelBranches();
    const uac = dialog;
    const createUAS = this.#srf.createUAS as unknown as (req: unknown, res: unknown, o: { localSdp: string }) => Promise<SrfDialog>;
    createUAS.call(this.#srf, this.#req, this.#res, { localSdp: uac.remote.sdp }).then(
      (uas) => {
        if (this.#state !== 'answering') {
          void destroy(uas, this.#log);
          void destroy(uac, this.#log);
          return;
        }
        this.#state = 'answered';
        this.#dialogs = [uas, uac];
        this.#end('answered');
        // Whichever side sends BYE first ends the call; we hang up the other (no 'destroy' for it).
        let over = false;
        const hungUp = (): void => {
          if (over) return;
          over = true;
          this.#dialogs = [];
          this.#hooks.gone();
        };
        link(uas, uac, 'caller', this.#log, hungUp);
        link(uac, uas, 'callee', this.#log, hungUp);
      },
      (err: unknown) => {
        // A cancelled while B answered (or A's transaction is gone): release B.
        this.#log.info({ err: String(err) }, 'caller gone before the answer reached it; hanging up the callee');
        this.#state = 'cancelled';
        void destroy(uac, this.#log);
        this.#end('cancelled');
      },
    );
  }

  #branchFailed(b: Branch, err: unknown): void {
    b.done = true;
    b.status = statusOf(err) ?? 503;
    this.#log.debug({ contact: b.contact, status: b.status }, 'branch failed');
    if (this.#state !== 'ringing' || this.#branches.some((x) => !x.done)) return;
    clearTimeout(this.#ringTimer);
    this.#state = 'failed';
    const [status, reason, result] = bestFailure(this.#branches.map((x) => x.status ?? 503));
    this.#log.info({ status }, 'call failed');
    reply(this.#res, status, reason, [], this.#log);
    this.#end(result);
  }

  #callerCancelled(): void {
    if (this.#state !== 'ringing' && this.#state !== 'answering') return;
    this.#log.info('caller cancelled');
    clearTimeout(this.#ringTimer);
    const wasRinging = this.#state === 'ringing';
    this.#state = 'cancelled';
    this.#cancelBranches();
    if (wasRinging) this.#end('cancelled');
  }

  #ringTimeout(): void {
    if (this.#state !== 'ringing') return;
    this.#log.info('no answer in time; cancelling');
    this.#state = 'failed';
    this.#cancelBranches();
    reply(this.#res, 480, 'Temporarily Unavailable', [], this.#log);
    this.#end('unavailable');
  }

  #cancelBranches(): void {
    for (const b of this.#branches) {
      if (b.done || b.cancelWanted) continue;
      b.cancelWanted = true;
      if (b.sent) cancel(b, this.#log);
    }
  }

  #end(result: CallResult): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hooks.result(result);
    if (result !== 'answered') this.#hooks.gone();
  }
}

interface Target {
  /** Request-URI: the registered contact. */
  uri: string;
  /** Where to send it instead of resolving the URI (srf opts.proxy). */
  proxy?: string;
  /** RFC 3327 Path of the binding as a Route set. */
  route?: string;
}

/**
 * Where a binding is reached. WebSocket clients only through the connection they registered on
 * (RFC 7118: we cannot connect to them; their Contact host is usually `*.invalid`); UDP phones at
 * the address their REGISTER came from (behind NAT that differs from the Contact); TCP/TLS at the
 * Contact itself (the stack reuses an open flow to that peer).
 */
export function targetOf(b: Binding): Target {
  const host = b.sourceAddress.includes(':') ? `[${b.sourceAddress}]` : b.sourceAddress;
  const t: Target = { uri: b.contact };
  const transport = b.transport.toLowerCase();
  if (transport === 'ws' || transport === 'wss') t.proxy = `sip:${host}:${b.sourcePort};transport=${transport}`;
  else if (transport === 'udp') t.proxy = `sip:${host}:${b.sourcePort}`;
  if (b.path.length > 0) t.route = b.path.map((p) => `<${p}>`).join(', ');
  return t;
}

/**
 * The answer for A when every branch failed, in the spirit of RFC 3261 §16.7 step 6: a 6xx
 * (the callee declined everywhere) wins, then Busy Here, then another 4xx; unreachable contacts
 * (408, 5xx, our own 503) mean the extension is not available right now: 480.
 */
export function bestFailure(statuses: readonly number[]): [number, string, CallResult] {
  const six = statuses.find((s) => s >= 600);
  if (six !== undefined) return [six, six === 603 ? 'Decline' : 'Busy Everywhere', six === 603 ? 'declined' : 'busy'];
  if (statuses.includes(486)) return [486, 'Busy Here', 'busy'];
  const four = statuses.find((s) => s >= 400 && s < 500 && s !== 408 && s !== 487 && s !== 401 && s !== 407);
  if (four !== undefined) return [four, REASONS[four] ?? 'Request Failed', 'failed'];
  return [480, 'Temporarily Unavailable', 'unavailable'];
}

const REASONS: Record<number, string> = {
  403: 'Forbidden',
  404: 'Not Found',
  480: 'Temporarily Unavailable',
  488: 'Not Acceptable Here',
};

function cancel(b: Branch, log: Logger): void {
  try {
    b.sent?.cancel({}, (err) => {
      if (err) log.debug({ err: String(err), contact: b.contact }, 'CANCEL not sent');
    });
  } catch (err) {
    log.debug({ err, contact: b.contact }, 'CANCEL failed');
  }
}

/** When `from` ends (its peer sent BYE), hang up `to`; re-INVITEs are relayed to the other side. */
function link(from: SrfDialog, to: SrfDialog, side: string, log: Logger, hungUp: () => void): void {
  from.on('destroy', () => {
    log.info({ side }, 'hung up');
    hungUp();
    void destroy(to, log);
  });
  const relay = (req: { body: string }, res: { send(status: number, opts?: object): void }): void => {
    // A re-INVITE (hold, codec change): offer it to the other side, answer with its answer.
    const send = (status: number, opts?: object): void => {
      try {
        res.send(status, opts);
      } catch (err) {
        log.debug({ err }, 're-INVITE answer not sent');
      }
    };
    (to.modify(req.body) as Promise<string>).then(
      (sdp) => send(200, { body: sdp, headers: { 'Content-Type': 'application/sdp' } }),
      (err: unknown) => send(statusOf(err) ?? 500),
    );
  };
  (from as unknown as { on(ev: 'modify', fn: typeof relay): void }).on('modify', relay);
}

async function destroy(d: SrfDialog, log: Logger): Promise<void> {
  try {
    await (d.destroy() as unknown as Promise<unknown>);
  } catch (err) {
    // Already gone (the stack hung it up, or the peer did at the same moment).
    log.debug({ err: String(err) }, 'hangup not sent');
  }
}
