// RFC 3261 §13.3.1.4: the UAS core's retransmission of a 2xx to INVITE until its ACK arrives.
// The interval starts at T1 and doubles up to T2; after 64*T1 without ACK the wait gives up and
// the dialog sends BYE. Timers run on the injected Clock so tests advance time.
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { SipResponse } from '../message/index.js';
import type { Inbound } from '../transport/index.js';

export interface AckWaitHooks {
  /** Send the 2xx again. */
  resend(res: SipResponse, inbound: Inbound): void;
  /** 64*T1 passed without ACK. */
  giveUp(): void;
}

export class AckWait {
  readonly res: SipResponse;
  readonly inbound: Inbound;
  /** Transaction id of the INVITE the 2xx answers. */
  readonly inviteId: string;
  /** CSeq number the ACK must carry. */
  readonly seq: number;
  readonly #clock: Clock;
  readonly #t2: number;
  readonly #hooks: AckWaitHooks;
  #interval: number;
  #retransmit: TimerHandle | undefined;
  #giveUp: TimerHandle | undefined;

  constructor(clock: Clock, timers: { t1: number; t2: number }, res: SipResponse, inbound: Inbound, inviteId: string, hooks: AckWaitHooks) {
    this.res = res;
    this.inbound = inbound;
    this.inviteId = inviteId;
    this.seq = res.cseq().seq;
    this.#clock = clock;
    this.#t2 = timers.t2;
    this.#hooks = hooks;
    this.#interval = timers.t1;
    this.#retransmit = clock.setTimeout(() => this.#fire(), this.#interval);
    this.#giveUp = clock.setTimeout(() => {
      this.stop();
      hooks.giveUp();
    }, 64 * timers.t1);
  }

  #fire(): void {
    this.#hooks.resend(this.res, this.inbound);
    // RFC 3261 §13.3.1.4: the interval doubles for each retransmission until it reaches T2.
    this.#interval = Math.min(this.#interval * 2, this.#t2);
    this.#retransmit = this.#clock.setTimeout(() => this.#fire(), this.#interval);
  }

  /** The ACK came (or the dialog ended): no more retransmissions. Idempotent. */
  stop(): void {
    this.#clock.clearTimeout(this.#retransmit);
    this.#clock.clearTimeout(this.#giveUp);
    this.#retransmit = this.#giveUp = undefined;
  }
}
