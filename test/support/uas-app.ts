// A small UAS on the public SipStack API, for integration tests: it answers an INVITE with 180
// then 200 + SDP, records the ACK, the BYE and how the dialog ended, and answers every other
// out-of-dialog request the way the default core does. A Request-URI user listed in
// `noAnswerUsers` (default `noanswer`) only rings, so the caller can CANCEL it.
// The `calls` records are the oracle the tests assert on; nothing here reads stack internals.
import {
  defaultCoreResponse,
  type Dialog,
  type DialogEndReason,
  type IncomingRequest,
  type SipStack,
} from '../../src/sip/index.js';

export interface UasCall {
  callId: string;
  user: string | undefined;
  /** The INVITE arrived over this transport. */
  transport: string;
  ringing: boolean;
  answered: boolean;
  cancelled: boolean;
  acked: boolean;
  byeReceived: boolean;
  ended: DialogEndReason | undefined;
  dialog: Dialog | undefined;
}

export interface UasAppOptions {
  /** Delay between the 180 and the 200, ms (default 0: answer right after ringing). */
  answerDelayMs?: number;
  /** Request-URI users that ring and are never answered. */
  noAnswerUsers?: readonly string[];
}

function sdpAnswer(address: string): string {
  return [
    'v=0',
    `o=switchboard 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    'm=audio 40000 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');
}

export class UasApp {
  readonly calls: UasCall[] = [];
  readonly #stack: SipStack;
  readonly #opts: Required<UasAppOptions>;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #onRequest = (req: IncomingRequest): void => this.#handle(req);

  constructor(stack: SipStack, opts: UasAppOptions = {}) {
    this.#stack = stack;
    this.#opts = { answerDelayMs: opts.answerDelayMs ?? 0, noAnswerUsers: opts.noAnswerUsers ?? ['noanswer'] };
    stack.on('request', this.#onRequest);
  }

  /** Stops answering (pending answers are dropped). */
  detach(): void {
    this.#stack.off('request', this.#onRequest);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** Resolves once `pred` holds for the call records, polling; rejects after `timeoutMs`. */
  async until(pred: (calls: readonly UasCall[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.calls)) {
      if (Date.now() > deadline) throw new Error(`UasApp: condition not met in ${timeoutMs} ms: ${JSON.stringify(this.summary())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The call records without the dialog objects (for assertion messages). */
  summary(): Omit<UasCall, 'dialog'>[] {
    return this.calls.map(({ dialog: _d, ...rest }) => rest);
  }

  #handle(req: IncomingRequest): void {
    if (req.method !== 'INVITE') {
      const a = defaultCoreResponse(req.method);
      if (a !== undefined && req.finalStatus === undefined) req.respond(a.status, { headers: a.headers });
      return;
    }
    const msg = req.message;
    const call: UasCall = {
      callId: msg.callId(),
      user: msg.requestUri().user ?? undefined,
      transport: req.local.transport,
      ringing: false,
      answered: false,
      cancelled: false,
      acked: false,
      byeReceived: false,
      ended: undefined,
      dialog: undefined,
    };
    this.calls.push(call);
    req.on('cancel', () => {
      call.cancelled = true;
    });
    req.respond(180);
    call.ringing = true;
    this.#watch(call, req.dialog);
    if (call.user !== undefined && this.#opts.noAnswerUsers.includes(call.user)) return;
    const answer = (): void => {
      if (req.finalStatus !== undefined || req.cancelled) return;
      req.respond(200, { body: sdpAnswer(req.local.address), contentType: 'application/sdp' });
      call.answered = true;
      this.#watch(call, req.dialog);
    };
    if (this.#opts.answerDelayMs <= 0) answer();
    else {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        answer();
      }, this.#opts.answerDelayMs);
      this.#timers.add(t);
    }
  }

  #watch(call: UasCall, dialog: Dialog | undefined): void {
    if (dialog === undefined || call.dialog === dialog) return;
    call.dialog = dialog;
    dialog.on('ack', () => {
      call.acked = true;
    });
    dialog.on('bye', () => {
      call.byeReceived = true;
    });
    dialog.on('terminated', (reason) => {
      call.ended = reason;
    });
  }
}
