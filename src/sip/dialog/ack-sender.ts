// RFC 3261 §13.2.2.4: the UAC core's ACK for each 2xx to its INVITE. The ACK is built like any
// in-dialog request (CSeq number of the INVITE, method ACK) and sent without a transaction; every
// retransmission of that 2xx gets the very same ACK again. With autoAck off the application
// sends it (e.g. with the SDP answer of a delayed offer) and retransmissions wait for it.
import { InvalidStateError } from '../../lib/errors.js';
import type { SipRequest } from '../message/index.js';
import type { RequestOptions } from './types.js';

export interface AckSenderHooks {
  build(seq: number, opts: RequestOptions): SipRequest;
  send(ack: SipRequest): Promise<void>;
  warn(err: unknown, msg: string): void;
}

export class AckSender {
  readonly #hooks: AckSenderHooks;
  #last: SipRequest | undefined;
  #lastSeq = -1;
  #due: number | undefined;

  constructor(hooks: AckSenderHooks) {
    this.#hooks = hooks;
  }

  /** A 2xx (first or retransmitted) to our INVITE with CSeq number `seq`. */
  on2xx(seq: number, autoAck: boolean): void {
    if (this.#last !== undefined && this.#lastSeq === seq) {
      // RFC 3261 §13.2.2.4: a 2xx retransmission gets the same ACK again.
      this.#hooks.send(this.#last).catch((err: unknown) => this.#hooks.warn(err, 'ACK resend failed'));
      return;
    }
    if (this.#due === seq) return; // the application has not ACKed yet
    if (autoAck) this.#send(seq, {}).catch((err: unknown) => this.#hooks.warn(err, 'ACK failed'));
    else this.#due = seq;
  }

  /** A 2xx that matched no transaction: only an ACK already sent is repeated. */
  onStray(seq: number): void {
    if (this.#last !== undefined && this.#lastSeq === seq) this.on2xx(seq, false);
  }

  /** The application's ACK for the 2xx waiting for one; resolves with the ACK as sent. */
  ack(opts: RequestOptions): Promise<SipRequest> {
    const seq = this.#due;
    if (seq === undefined) return Promise.reject(new InvalidStateError('no 2xx is waiting for an ACK'));
    this.#due = undefined;
    return this.#send(seq, opts).then(() => this.#last as SipRequest);
  }

  #send(seq: number, opts: RequestOptions): Promise<void> {
    let ack: SipRequest;
    try {
      ack = this.#hooks.build(seq, opts);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#last = ack;
    this.#lastSeq = seq;
    return this.#hooks.send(ack);
  }
}
