// A request we received, as the UAS core sees it (RFC 3261 §8.2, §12.1.1, §13.3): it wraps the
// server transaction, builds responses (To tag, Contact, Server), tells the dialog layer about
// responses that create, confirm, refresh or end a dialog, and starts the §13.3.1.4 2xx
// retransmission. Every response to a request goes through here, so no TU can skip those rules.
import { InvalidStateError } from '../../lib/errors.js';
import { createResponse, newTag, type SipRequest, type SipResponse } from '../message/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { Endpoint, Inbound } from '../transport/index.js';
import { toBody, type DialogImpl } from './dialog.js';
import { SafeEmitter } from '../../lib/events.js';
import type { DialogLayer } from './layer.js';
import { tagOf } from './rules.js';
import type { IncomingRequest, IncomingRequestEvents, RespondOptions } from './types.js';

export class IncomingRequestImpl extends SafeEmitter<IncomingRequestEvents> implements IncomingRequest {
  readonly #layer: DialogLayer;
  readonly #st: ServerTransaction;
  /** True when the request carried no To tag: its 1xx/2xx may create a dialog. */
  readonly #initial: boolean;
  #dialog: DialogImpl | undefined;
  #toTag: string | undefined;
  #final: number | undefined;
  #cancelled = false;
  #deferred = false;

  constructor(layer: DialogLayer, st: ServerTransaction, dialog: DialogImpl | undefined) {
    super(layer.host.logger);
    this.#layer = layer;
    this.#st = st;
    this.#dialog = dialog;
    this.#initial = dialog === undefined && tagOf(st.request.to()) === undefined;
    // A request the TU never answered is forgotten with its transaction (close, transport error).
    st.once('terminated', () => layer._serverDone(this));
  }

  get id(): string {
    return this.#st.id;
  }
  get method(): string {
    return this.#st.method;
  }
  get message(): SipRequest {
    return this.#st.request;
  }
  get inbound(): Inbound {
    return this.#st.inbound;
  }
  get source(): Endpoint {
    return this.#st.inbound.source;
  }
  get local(): Endpoint {
    return this.#st.inbound.local;
  }
  get connectionId(): string | undefined {
    return this.#st.inbound.connectionId;
  }
  get dialog(): DialogImpl | undefined {
    return this.#dialog;
  }
  get finalStatus(): number | undefined {
    return this.#final;
  }
  get cancelled(): boolean {
    return this.#cancelled;
  }
  get deferred(): boolean {
    return this.#deferred;
  }

  defer(): void {
    this.#deferred = true;
  }

  /** The To tag of our responses: one per request, so every 1xx and the final agree (§12.1.1). */
  get toTag(): string | undefined {
    return tagOf(this.message.to()) ?? this.#toTag;
  }

  respond(status: number, opts: RespondOptions = {}): SipResponse {
    this.#checkOpen();
    // RFC 3261 §8.2.6.2: a response that is not a 100 carries a To tag; §12.1.1: the UAS picks it.
    if (status > 100 && this.#initial) this.#toTag ??= newTag();
    const body = toBody(opts.body);
    const res = createResponse(this.message, status, opts.reason, {
      toTag: status > 100 && this.#initial ? this.#toTag : undefined,
      headers: opts.headers?.map(([n, v]) => [n, v] as [string, string]),
      body,
      contentType: body && body.length > 0 ? (opts.contentType ?? 'application/sdp') : undefined,
    });
    this.send(res);
    return res;
  }

  send(res: SipResponse): void {
    this.#checkOpen();
    const host = this.#layer.host;
    if (!res.headers.has('Server')) res.headers.set('Server', host.userAgent);
    const status = res.status;
    const invite = this.method === 'INVITE';
    // RFC 3261 §12.1.1 / §13.3.1.4: a dialog-creating response and a 2xx to a target refresh
    // carry our Contact, on the transport the request came in on.
    const refresh = (invite && status > 100) || (this.method === 'UPDATE' && status >= 200);
    if (refresh && status < 300 && !res.headers.has('Contact')) {
      const ours = this.#dialog?.localContact ?? host.contact(this.local.transport);
      res.headers.set('Contact', `<${ours}>`);
    }
    if (status >= 200) this.#final = status;
    if (this.#initial && invite) {
      // A 101-299 with a To tag creates (or confirms) the dialog; a failure ends early ones.
      this.#dialog = this.#layer._uasDialog(this, res, this.#dialog);
    } else if (this.#dialog) {
      this.#dialog._responded(this, res, false);
    }
    this.#st.respond(res);
    const dialog = this.#dialog;
    if (invite && status >= 200 && status < 300 && dialog && dialog.state !== 'terminated') {
      if (this.#initial) dialog._initial2xx = res;
      // RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx until the ACK arrives.
      dialog._awaitAck(res, this.inbound, this.id);
    }
    if (status >= 200) this.#layer._serverDone(this);
  }

  /** @internal The transaction layer saw a CANCEL and already sent 487 (RFC 3261 §9.2). */
  _cancelled(cancel: SipRequest): void {
    if (this.#final !== undefined) return;
    this.#cancelled = true;
    this.#final = 487;
    const d = this.#dialog;
    if (d && d.state === 'early') d._end('cancelled');
    if (d && d._incomingInvite === this) d._incomingInvite = undefined;
    this.#layer._serverDone(this);
    this.safeEmit('cancel', cancel);
  }

  #checkOpen(): void {
    if (this.#cancelled) throw new InvalidStateError(`request ${this.id} was cancelled`);
    if (this.#final !== undefined) throw new InvalidStateError(`request ${this.id} already has a final response (${this.#final})`);
  }
}
