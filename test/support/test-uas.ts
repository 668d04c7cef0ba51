// A small UAS for integration tests (SIPp scenarios, stack tests), written only on the public
// stack API: INVITE -> 180 then 200 + SDP (or another final status), the dialog it creates, BYE
// -> 200 (the stack's default). Other out-of-dialog requests get the default core's answers.
import type { ListenConfig, SipConfig } from '../../src/config/types.js';
import { SipStack, answerWithDefaultCore, type Dialog, type IncomingRequest } from '../../src/sip/index.js';
import type { Endpoint } from '../../src/sip/index.js';

export const TEST_UAS_SDP = [
  'v=0',
  'o=switchboard 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  '',
].join('\r\n');

export interface TestUasBehaviour {
  /** Final status for INVITE (default 200). */
  status: number;
  /** Send 180 Ringing first (default true). */
  ring: boolean;
  /** Delay between 180 and the final, ms (default 0); null rings until the caller cancels. */
  answerAfterMs: number | null;
  /** Body of the 200 (default TEST_UAS_SDP). */
  sdp: string;
}

export interface TestUasOptions extends Partial<TestUasBehaviour> {
  /** Where to listen (default UDP on 127.0.0.1, ephemeral port). */
  listen?: ListenConfig[];
  timers?: SipConfig['timers'];
}

/** What the UAS saw, for assertions. */
export interface TestUasCounts {
  invites: number;
  answered: number;
  rejected: number;
  cancelled: number;
  acks: number;
  byes: number;
  ackTimeouts: number;
  options: number;
}

export class TestUas {
  readonly stack: SipStack;
  readonly counts: TestUasCounts = { invites: 0, answered: 0, rejected: 0, cancelled: 0, acks: 0, byes: 0, ackTimeouts: 0, options: 0 };
  /** Dialogs currently up. */
  readonly dialogs = new Set<Dialog>();
  #behaviour: TestUasBehaviour;
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(stack: SipStack, behaviour: TestUasBehaviour) {
    this.stack = stack;
    this.#behaviour = behaviour;
    stack.on('request', (req) => this.#onRequest(req));
  }

  static async start(opts: TestUasOptions = {}): Promise<TestUas> {
    const cfg: SipConfig = {
      listen: opts.listen ?? [{ transport: 'udp', address: '127.0.0.1', port: 0 }],
      timers: opts.timers ?? { t1: 500, t2: 4000, t4: 5000 },
      limits: { maxUdpBytes: 65535, maxStreamBytes: 65536, idleTimeoutSeconds: 300 },
      userAgent: 'Switchboard-TestUAS',
    };
    const stack = await SipStack.start(cfg);
    return new TestUas(stack, {
      status: opts.status ?? 200,
      ring: opts.ring ?? true,
      answerAfterMs: opts.answerAfterMs === undefined ? 0 : opts.answerAfterMs,
      sdp: opts.sdp ?? TEST_UAS_SDP,
    });
  }

  get endpoints(): Endpoint[] {
    return this.stack.endpoints;
  }

  /** Changes how the next INVITEs are answered. */
  answerWith(b: Partial<TestUasBehaviour>): void {
    this.#behaviour = { ...this.#behaviour, ...b };
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.stack.close();
  }

  #onRequest(req: IncomingRequest): void {
    if (req.method === 'OPTIONS') this.counts.options++;
    if (req.method !== 'INVITE') {
      answerWithDefaultCore(req);
      return;
    }
    this.counts.invites++;
    const b = this.#behaviour;
    req.on('cancel', () => this.counts.cancelled++);
    if (b.ring) req.respond(180);
    if (b.answerAfterMs === null) return;
    if (b.answerAfterMs <= 0) {
      this.#answer(req, b);
      return;
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#answer(req, b);
    }, b.answerAfterMs);
    this.#timers.add(t);
  }

  #answer(req: IncomingRequest, b: TestUasBehaviour): void {
    if (req.cancelled || req.finalStatus !== undefined) return;
    if (b.status >= 300) {
      this.counts.rejected++;
      req.respond(b.status);
      return;
    }
    req.respond(b.status, { body: b.sdp, contentType: 'application/sdp' });
    this.counts.answered++;
    const d = req.dialog;
    if (d === undefined) return;
    this.dialogs.add(d);
    d.on('ack', () => this.counts.acks++);
    d.on('ack-timeout', () => this.counts.ackTimeouts++);
    d.on('bye', () => this.counts.byes++);
    // Re-INVITE / UPDATE refresh the session with the same SDP; anything else is acknowledged.
    d.on('request', (r) => r.respond(200, r.method === 'INVITE' || r.method === 'UPDATE' ? { body: b.sdp } : {}));
    d.on('terminated', () => this.dialogs.delete(d));
  }
}
