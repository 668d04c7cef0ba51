// A server transaction (RFC 3261 §17.2): drives the IST or NIST machine, executes its actions
// against the transport and the clock, absorbs retransmissions by resending the last response.

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { safeEmit, TimerSet } from './base.js';
import type { Action } from './fsm.js';
import * as ist from './ist.js';
import * as nist from './nist.js';
import { toTag } from './matching.js';
import type { Timers } from './timers.js';
import type {
  Inbound,
  ServerTransaction,
  ServerTransactionEvents,
  ServerTransactionState,
  TransactionTransport,
} from './types.js';

/** What a server transaction needs from the layer that owns it. */
export interface ServerHost {
  readonly transport: TransactionTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The TU gets a new request ('request' event). */
  deliverRequest(st: ServerTx): void;
  /** The TU gets an ACK for a 2xx ('ack' event). */
  deliverAck(inbound: Inbound): void;
  serverTerminated(st: ServerTx): void;
}

type Input = ist.IstInput | nist.NistInput;
interface Ctx {
  res?: SipResponse;
  inbound?: Inbound;
  err?: Error;
}

export class ServerTx extends EventEmitter<ServerTransactionEvents> implements ServerTransaction {
  readonly id = randomUUID();
  readonly method: string;
  readonly request: SipRequest;
  readonly inbound: Inbound;
  /** Key in the layer's server map (§17.2.3). */
  readonly key: string;
  /** Key in the layer's merged-request index (§8.2.2.2), when registered there. */
  mergeKey: string | undefined;
  /** RFC 2543 peer (no magic cookie): To tags are compared on matching. */
  readonly rfc2543: boolean;
  readonly #invite: boolean;
  readonly #host: ServerHost;
  readonly #timers: Timers;
  readonly #running: TimerSet;
  #state: ServerTransactionState;
  #last: SipResponse | undefined;

  constructor(host: ServerHost, inbound: Inbound, key: string, rfc2543: boolean, timers: Timers) {
    super();
    this.#host = host;
    this.inbound = inbound;
    this.request = inbound.message as SipRequest;
    this.key = key;
    this.rfc2543 = rfc2543;
    this.method = this.request.method.toUpperCase();
    this.#invite = this.method === 'INVITE';
    this.#timers = timers;
    this.#state = this.#invite ? 'proceeding' : 'trying';
    this.#running = new TimerSet(host.clock, (input) => this.#feed(input, {}));
  }

  get state(): ServerTransactionState {
    return this.#state;
  }

  /** The most recent response sent (what retransmissions get). */
  get lastResponse(): SipResponse | undefined {
    return this.#last;
  }

  /** The To tag we answered with, if any response carried one. */
  get localTag(): string | undefined {
    return this.#last ? toTag(this.#last) : undefined;
  }

  /** The request goes to the TU (for INVITE after 100 Trying). */
  start(): void {
    this.#feed({ type: 'start' }, {});
  }

  /** A retransmission of the request matched this transaction (§17.2.3). */
  retransmission(inbound: Inbound): void {
    this.#feed({ type: 'request' }, { inbound });
  }

  /** An ACK matched this INVITE server transaction (§17.2.3). */
  ack(inbound: Inbound): void {
    this.#feed({ type: 'ack' }, { inbound });
  }

  respond(res: SipResponse): void {
    if (this.#state === 'terminated') {
      this.#host.logger.debug({ tx: this.id, status: res.status }, 'response on terminated transaction dropped');
      return;
    }
    this.#feed({ type: 'respond', status: res.status }, { res });
  }

  /** Ends the transaction without telling the TU anything but 'terminated' (layer close). */
  abort(): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#terminate();
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
    const out = this.#invite
      ? ist.handle(this.#state as ist.IstState, input as ist.IstInput, this.#timers)
      : nist.handle(this.#state as nist.NistState, input as nist.NistInput, this.#timers);
    this.#state = out.state;
    this.#exec(out.actions, input, ctx);
  }

  #exec(actions: Action[], input: Input, ctx: Ctx): void {
    for (const a of actions) {
      switch (a.type) {
        case 'sendTrying':
          this.#last = createResponse(this.request, 100);
          this.#send(this.#last);
          break;
        case 'sendResponse':
          if (a.fresh && ctx.res) this.#last = ctx.res;
          if (this.#last) this.#send(this.#last);
          break;
        case 'startTimer':
          if (this.#state !== 'terminated') this.#running.start(a.timer, a.ms);
          break;
        case 'stopTimer':
          this.#running.stop(a.timer);
          break;
        case 'passToTU':
          if (input.type === 'start') this.#host.deliverRequest(this);
          else if (input.type === 'ack' && ctx.inbound) this.#host.deliverAck(ctx.inbound);
          break;
        case 'ackReceived':
          if (ctx.inbound) safeEmit(this, this.#host.logger, 'ack', ctx.inbound);
          break;
        case 'timeout':
          safeEmit(this, this.#host.logger, 'timeout');
          break;
        case 'transportError':
          safeEmit(this, this.#host.logger, 'transport-error', ctx.err ?? new Error('transport error'));
          break;
        case 'terminate':
          this.#terminate();
          break;
        case 'sendRequest':
        case 'sendAck':
          break; // client-side actions
      }
    }
  }

  #send(res: SipResponse): void {
    let p: Promise<void>;
    try {
      p = this.#host.transport.sendResponse(res, { connectionId: this.inbound.connectionId, source: this.inbound.source });
    } catch (err) {
      p = Promise.reject(err);
    }
    p.catch((err: unknown) => {
      this.#host.logger.debug({ err, tx: this.id }, 'response send failed');
      this.#feed({ type: 'transportError' }, { err: err instanceof Error ? err : new Error(String(err)) });
    });
  }

  #terminate(): void {
    this.#running.stopAll();
    this.#host.serverTerminated(this);
    safeEmit(this, this.#host.logger, 'terminated');
  }
}
