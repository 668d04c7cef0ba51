// A client transaction (RFC 3261 §17.1): drives the ICT or NICT machine, executes its actions
// against the transport and the clock, builds the non-2xx ACK and the §9.1 CANCEL.

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { safeEmit, TimerSet } from './base.js';
import { buildAck, buildCancel } from './build.js';
import type { Action } from './fsm.js';
import * as ict from './ict.js';
import * as nict from './nict.js';
import type { Timers } from './timers.js';
import type {
  ClientTransaction,
  ClientTransactionEvents,
  ClientTransactionState,
  Destination,
  Inbound,
  TransactionTransport,
} from './types.js';

/** What a client transaction needs from the layer that owns it. */
export interface ClientHost {
  readonly transport: TransactionTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Starts the CANCEL's own non-INVITE client transaction. */
  sendRequest(req: SipRequest, dest: Destination): ClientTransaction;
  clientTerminated(tx: ClientTx): void;
}

type Input = ict.IctInput | nict.NictInput;
interface Ctx {
  res?: SipResponse;
  inbound?: Inbound;
  err?: Error;
}

export class ClientTx extends EventEmitter<ClientTransactionEvents> implements ClientTransaction {
  readonly id = randomUUID();
  readonly method: string;
  readonly request: SipRequest;
  readonly dest: Destination;
  readonly key: string;
  readonly branch: string;
  readonly #invite: boolean;
  readonly #host: ClientHost;
  readonly #timers: Timers;
  readonly #running: TimerSet;
  #state: ClientTransactionState;
  #ack: SipRequest | undefined;
  #cancel: { reason?: string; sent: boolean } | undefined;
  #cancelGuard: TimerHandle | undefined;
  #cancelTx: ClientTransaction | undefined;

  constructor(host: ClientHost, req: SipRequest, dest: Destination, key: string, branch: string, timers: Timers) {
    super();
    this.#host = host;
    this.request = req;
    this.dest = dest;
    this.key = key;
    this.branch = branch;
    this.method = req.method.toUpperCase();
    this.#invite = this.method === 'INVITE';
    this.#timers = timers;
    this.#state = this.#invite ? 'calling' : 'trying';
    this.#running = new TimerSet(host.clock, (input) => this.#feed(input, {}));
  }

  get state(): ClientTransactionState {
    return this.#state;
  }

  /** The CANCEL's own client transaction, once sent. */
  get cancelTransaction(): ClientTransaction | undefined {
    return this.#cancelTx;
  }

  start(): void {
    this.#feed({ type: 'start' }, {});
  }

  /** A response matched to this transaction (§17.1.3). */
  receive(inbound: Inbound): void {
    const res = inbound.message as SipResponse;
    this.#feed({ type: 'response', status: res.status }, { res, inbound });
  }

  cancel(reason?: string): void {
    // RFC 3261 §9.1: only INVITE can be cancelled, and only once.
    if (!this.#invite || this.#cancel) return;
    // RFC 3261 §9.1: a CANCEL for a request with a final response has no effect: do not send it.
    if (this.#state !== 'calling' && this.#state !== 'proceeding') return;
    this.#cancel = { reason, sent: false };
    // RFC 3261 §9.1: without a provisional yet, wait for one before sending the CANCEL.
    if (this.#state === 'proceeding') this.#sendCancel();
  }

  /** Ends the transaction without telling the TU anything but 'terminated' (layer close). */
  abort(): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#terminate();
  }

  #sendCancel(): void {
    if (!this.#cancel || this.#cancel.sent) return;
    this.#cancel.sent = true;
    const cancel = buildCancel(this.request, this.#cancel.reason);
    try {
      this.#cancelTx = this.#host.sendRequest(cancel, this.dest);
    } catch (err) {
      this.#host.logger.warn({ err, tx: this.id }, 'could not send CANCEL');
      return;
    }
    // RFC 3261 §9.1: if no final response arrives within 64*T1 of the CANCEL, the INVITE client
    // transaction is considered cancelled and destroyed.
    this.#cancelGuard = this.#host.clock.setTimeout(() => {
      this.#cancelGuard = undefined;
      this.#feed({ type: 'cancelTimeout' }, {});
    }, this.#timers.B);
  }

  /** Runs one input through the machine. Also called from timers and send callbacks, so nothing
   *  may escape: an unexpected exception is logged, never thrown into the clock or a socket. */
  #feed(input: Input, ctx: Ctx): void {
    try {
      this.#step(input, ctx);
    } catch (err) {
      this.#host.logger.error({ err, tx: this.id, input: input.type }, 'transaction step failed');
    }
  }

  #step(input: Input, ctx: Ctx): void {
    if (this.#state === 'terminated') return;
    const prev = this.#state;
    const out = this.#invite
      ? ict.handle(prev as ict.IctState, input as ict.IctInput, this.#timers)
      : nict.handle(prev as nict.NictState, input as nict.NictInput, this.#timers);
    this.#state = out.state;
    this.#exec(out.actions, ctx);
    // RFC 3261 §9.1: the deferred CANCEL goes out once a provisional has arrived.
    if (prev === 'calling' && this.#state === 'proceeding') this.#sendCancel();
  }

  #exec(actions: Action[], ctx: Ctx): void {
    for (const a of actions) {
      switch (a.type) {
        case 'sendRequest':
          this.#send(this.request);
          break;
        case 'sendAck':
          if (ctx.res) {
            this.#ack ??= buildAck(this.request, ctx.res);
            this.#send(this.#ack);
          }
          break;
        case 'startTimer':
          if (this.#state !== 'terminated') this.#running.start(a.timer, a.ms);
          break;
        case 'stopTimer':
          this.#running.stop(a.timer);
          break;
        case 'passToTU':
          if (ctx.res && ctx.inbound) safeEmit(this, this.#host.logger, 'response', ctx.res, ctx.inbound);
          break;
        case 'timeout':
          safeEmit(this, this.#host.logger, 'timeout', this.#local(408));
          break;
        case 'transportError':
          safeEmit(this, this.#host.logger, 'transport-error', this.#local(503), ctx.err ?? new Error('transport error'));
          break;
        case 'terminate':
          this.#terminate();
          break;
        case 'sendResponse':
        case 'sendTrying':
        case 'ackReceived':
          break; // server-side actions
      }
    }
  }

  /** RFC 3261 §8.1.3.1 / §8.1.3.2: the TU sees a timeout as 408 and a transport failure as 503. */
  #local(status: number): SipResponse {
    return createResponse(this.request, status);
  }

  #send(req: SipRequest): void {
    let p: Promise<void>;
    try {
      p = this.#host.transport.sendRequest(req, this.dest);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.catch((err: unknown) => {
      this.#host.logger.debug({ err, tx: this.id }, 'request send failed');
      this.#feed({ type: 'transportError' }, { err: err instanceof Error ? err : new Error(String(err)) });
    });
  }

  #terminate(): void {
    this.#running.stopAll();
    this.#host.clock.clearTimeout(this.#cancelGuard);
    this.#cancelGuard = undefined;
    this.#host.clientTerminated(this);
    safeEmit(this, this.#host.logger, 'terminated');
  }
}
