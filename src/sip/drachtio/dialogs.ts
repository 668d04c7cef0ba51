// Dialog ownership: every dialog created through an application (UAS by its 1xx/2xx, UAC by the
// responses to its INVITE) belongs to that app, and everything the network sends inside it goes
// there (drachtio-server's ClientController::route_request_inside_dialog): in-dialog requests,
// the BYE, and the ACK for a 2xx — with the INVITE's transaction id and an empty transport
// (drachtio-wire.md §5). After 64*T1 without ACK the server itself sends BYE and tells the app
// with an `unsolicited` `sip|application|…` frame (sip-dialog-controller.cpp, timer H handling;
// drachtio-wire.md §7), which srf reports as a destroy with reason "ACK timeout".
import type { Logger } from '../../lib/log.js';
import { serializeMessage } from '../message/index.js';
import type { SipStack } from '../stack.js';
import type { Dialog, IncomingRequest } from '../dialog/types.js';
import type { AppConnection } from './app.js';
import type { Cdr } from './cdr.js';
import { sipHead } from './meta.js';
import { rawOf } from './sip-util.js';

/** drachtio-server's Reason on its ACK-timeout BYE; srf reads the text="…" part. */
export const ACK_TIMEOUT_REASON = 'SIP ;cause=200 ;text="ACK timeout"';

export class DialogOwners {
  readonly #stack: SipStack;
  readonly #log: Logger;
  readonly #cdr: Cdr;
  readonly #owner = new Map<string, AppConnection>();
  readonly #attached = new WeakSet<Dialog>();

  constructor(stack: SipStack, log: Logger, cdr: Cdr) {
    this.#stack = stack;
    this.#log = log;
    this.#cdr = cdr;
  }

  get size(): number {
    return this.#owner.size;
  }

  owner(dialogId: string): AppConnection | undefined {
    return this.#owner.get(dialogId);
  }

  /** Makes `app` the owner of `d` (idempotent per dialog object; forks share one id). */
  attach(d: Dialog, app: AppConnection): void {
    if (d.state === 'terminated' || this.#attached.has(d)) return;
    this.#attached.add(d);
    const id = d.id;
    if (!this.#owner.has(id)) {
      this.#owner.set(id, app);
      app.dialogs.add(id);
    }
    d.on('request', (req) => this.#inDialog(d, req, false));
    d.on('bye', (req) => this.#inDialog(d, req, true));
    d.on('ack', (ack, info) => {
      const owner = this.#owner.get(id);
      if (owner === undefined || owner.closed) return;
      // drachtio-wire.md §5: the ACK carries the INVITE's transaction id and no transport.
      const raw = info.inbound.raw;
      owner.sendWithSip(sipHead('network', raw.length, '', info.inbound.source, info.inviteId, id), raw);
    });
    d.on('ack-timeout', () => this.#ackTimeout(d));
    d.on('terminated', () => {
      // Forks share the id: only the last dialog standing releases it.
      if (this.#stack.dialog(id) !== undefined) return;
      const owner = this.#owner.get(id);
      if (owner !== undefined) owner.dialogs.delete(id);
      this.#owner.delete(id);
    });
  }

  /** The app went away: its dialogs live on (as with drachtio-server) but have no owner. */
  release(app: AppConnection): void {
    for (const id of app.dialogs) if (this.#owner.get(id) === app) this.#owner.delete(id);
    app.dialogs.clear();
  }

  #inDialog(d: Dialog, req: IncomingRequest, bye: boolean): void {
    const owner = this.#owner.get(d.id);
    if (owner === undefined || owner.closed) {
      // Nobody to ask: a BYE is answered 200 by the stack; anything else cannot be served.
      if (!bye) req.respond(481);
      return;
    }
    if (bye) {
      req.defer();
      this.#cdr.stop(req.message, 'network', 'normal-release');
    }
    owner.serverTxns.add(req.id);
    const raw = rawOf(req);
    owner.sendWithSip(sipHead('network', raw.length, req.local.transport, req.source, req.id, d.id), raw);
  }

  #ackTimeout(d: Dialog): void {
    if (d.state === 'terminated') return;
    const owner = this.#owner.get(d.id);
    d.request('BYE', { headers: [['Reason', ACK_TIMEOUT_REASON]] }).then(
      (cr) => {
        const msg = cr.message;
        this.#cdr.stop(msg, 'application', 'normal-release');
        if (owner === undefined || owner.closed) return;
        const sip = serializeMessage(msg);
        owner.sendWithSip(sipHead('application', sip.length, cr.dest.transport, cr.dest, 'unsolicited', d.id), sip);
      },
      (err: unknown) => this.#log.warn({ err, dialog: d.id }, 'BYE after ACK timeout failed'),
    );
  }
}
