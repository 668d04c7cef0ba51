// Requests we send, as the UAC core sees them (RFC 3261 §8.1, §12.1.2, §13.2): a ClientRequest
// wraps a client transaction and turns its timeout / transport error into a final response; an
// InviteClient also creates the early and confirmed dialogs of an INVITE (one per fork), ACKs
// every 2xx (§13.2.2.4) and disposes of forks that answer after the first.
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import type { ClientTransaction } from '../transaction/index.js';
import type { Endpoint, Inbound } from '../transport/index.js';
import type { DialogImpl } from './dialog.js';
import { SafeEmitter } from '../../lib/events.js';
import type { DialogLayer } from './layer.js';
import { tagOf } from './rules.js';
import type {
  ClientRequest,
  ClientRequestEvents,
  DialogEndReason,
  InviteClient,
  InviteClientEvents,
  InviteOptions,
} from './types.js';

export class ClientRequestBase<E extends ClientRequestEvents & { [K in keyof E]: unknown[] }> extends SafeEmitter<E> {
  protected readonly layer: DialogLayer;
  readonly #ct: ClientTransaction;
  /** The dialog the request was sent in (undefined for out-of-dialog requests). */
  protected readonly inDialog: DialogImpl | undefined;
  #final: SipResponse | undefined;
  #resolve!: (res: SipResponse) => void;
  readonly final: Promise<SipResponse>;

  constructor(layer: DialogLayer, ct: ClientTransaction, dialog: DialogImpl | undefined) {
    super(layer.host.logger);
    this.layer = layer;
    this.#ct = ct;
    this.inDialog = dialog;
    this.final = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    // The transaction layer's emitter is not ours: nothing may throw back into it.
    ct.on('response', (res, inbound) => this.#guard(() => this.onResponse(res, inbound)));
    // RFC 3261 §8.1.3.1: a timeout is a 408 and a transport failure a 503 for the TU.
    ct.on('timeout', (res) => this.#guard(() => this.onResponse(res, undefined)));
    ct.on('transport-error', (res) => this.#guard(() => this.onResponse(res, undefined)));
    ct.on('terminated', () => this.#guard(() => this.onTerminated()));
  }

  get id(): string {
    return this.#ct.id;
  }
  get method(): string {
    return this.#ct.method;
  }
  get message(): SipRequest {
    return this.#ct.request;
  }
  get dest(): Endpoint {
    return this.#ct.dest;
  }
  get finalResponse(): SipResponse | undefined {
    return this.#final;
  }
  protected get transaction(): ClientTransaction {
    return this.#ct;
  }

  protected emitResponse(res: SipResponse, inbound: Inbound | undefined): void {
    (this as unknown as SafeEmitter<ClientRequestEvents>).safeEmit('response', res, inbound);
  }

  /** Records the first final response; false if one was already recorded. */
  protected settle(res: SipResponse, inbound: Inbound | undefined): boolean {
    if (this.#final !== undefined) return false;
    this.#final = res;
    this.inDialog?._clientFinal(this.message, res);
    this.emitResponse(res, inbound);
    this.layer._clientDone(this);
    this.#resolve(res);
    return true;
  }

  protected onResponse(res: SipResponse, inbound: Inbound | undefined): void {
    if (res.status < 200) this.emitResponse(res, inbound);
    else this.settle(res, inbound);
  }

  protected onTerminated(): void {
    // The transaction ended without a final (the stack closed): the TU still gets one.
    if (this.#final === undefined) this.settle(createResponse(this.message, 503, 'Service Unavailable'), undefined);
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.layer.host.logger.error({ err, tx: this.id }, 'client request handling failed');
    }
  }
}

export class ClientRequestImpl extends ClientRequestBase<ClientRequestEvents> implements ClientRequest {}

export class InviteClientImpl extends ClientRequestBase<InviteClientEvents> implements InviteClient {
  readonly #autoAck: boolean;
  readonly #dialogs: DialogImpl[] = [];
  #answered: DialogImpl | undefined;
  #cancelRequested = false;

  constructor(layer: DialogLayer, ct: ClientTransaction, dialog: DialogImpl | undefined, opts: InviteOptions) {
    super(layer, ct, dialog);
    this.#autoAck = opts.autoAck ?? true;
    if (dialog) this.#dialogs.push(dialog);
  }

  get dialogs(): readonly DialogImpl[] {
    return this.#dialogs;
  }
  get dialog(): DialogImpl | undefined {
    return this.inDialog ?? this.#answered;
  }

  cancel(): void {
    if (this.finalResponse !== undefined || this.#cancelRequested) return;
    this.#cancelRequested = true;
    // RFC 3261 §9.1: the transaction sends CANCEL once a provisional response has arrived.
    this.transaction.cancel();
  }

  protected override onResponse(res: SipResponse, inbound: Inbound | undefined): void {
    const s = res.status;
    if (s < 200) {
      // RFC 3261 §12.1.2 / §13.2.2.4: a 1xx with a To tag creates an early dialog, one per fork.
      if (s > 100 && this.inDialog === undefined && this.finalResponse === undefined && tagOf(res.to()) !== undefined) {
        const { dialog, created } = this.layer._uacDialog(this, res, 'early', inbound);
        if (created) {
          this.#dialogs.push(dialog);
          dialog._outgoingInvite = true;
          this.safeEmit('early', dialog);
        }
      }
      this.emitResponse(res, inbound);
      return;
    }
    if (s < 300) {
      this.#on2xx(res, inbound);
      return;
    }
    if (this.finalResponse !== undefined) return;
    // A failure ends every early dialog of this INVITE (RFC 3261 §12.3 via §13.2.2.3).
    const reason: DialogEndReason = this.#cancelRequested ? 'cancelled' : s === 408 ? 'timeout' : 'rejected';
    this.#endEarly(undefined, reason);
    this.settle(res, inbound);
  }

  #on2xx(res: SipResponse, inbound: Inbound | undefined): void {
    if (this.inDialog !== undefined) {
      // A re-INVITE: every 2xx (first or retransmitted) belongs to the dialog and is ACKed.
      const d = this.inDialog;
      const first = this.finalResponse === undefined;
      if (first) this.settle(res, inbound); // target refresh happens in settle
      d._invite2xx(res, this.#autoAck);
      return;
    }
    const { dialog, created } = this.layer._uacDialog(this, res, 'confirmed', inbound);
    if (created) this.#dialogs.push(dialog);
    if (this.finalResponse === undefined) {
      this.#answered = dialog;
      dialog._confirmFrom2xx(res);
      // RFC 3261 §13.2.2.4: the first 2xx wins; remaining early dialogs of other forks end.
      this.#endEarly(dialog, 'fork');
      dialog._outgoingInvite = false;
      dialog._invite2xx(res, this.#autoAck || this.#cancelRequested);
      this.settle(res, inbound);
      // RFC 3261 §9.1: a 2xx that crossed our CANCEL: the call is not wanted, hang it up.
      if (this.#cancelRequested) dialog._hangup('cancelled');
      else this.safeEmit('answered', dialog);
      return;
    }
    if (dialog === this.#answered) {
      // RFC 3261 §13.2.2.4: a retransmitted 2xx gets the same ACK again.
      dialog._invite2xx(res, this.#autoAck);
      return;
    }
    if (dialog.state === 'terminated') return;
    // RFC 3261 §13.2.2.4: another fork answered too: ACK it, then end it with BYE.
    dialog._confirmFrom2xx(res);
    dialog._outgoingInvite = false;
    dialog._invite2xx(res, true);
    dialog._hangup('fork');
  }

  #endEarly(keep: DialogImpl | undefined, reason: DialogEndReason): void {
    for (const d of this.#dialogs) {
      d._outgoingInvite = false;
      if (d !== keep && d.state === 'early') d._end(reason);
    }
  }

  protected override onTerminated(): void {
    super.onTerminated();
    this.#endEarly(this.#answered, 'timeout');
  }
}
