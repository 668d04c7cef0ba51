// Network → application: new out-of-dialog requests and the app's answers to them.
//
// A new request goes to one app that routed its verb, round robin (client-controller.cpp); with
// none, the `onUnrouted` handler answers it — by default 503, as drachtio-server's "No providers
// available" path does; the embedding (src/call/connect.ts) may answer like a UA core instead.
// The stack has already sent 100 Trying for an INVITE (drachtio-wire.md §3). The frame carries
// the bytes as received, the server transaction id, an empty dialog id and where it arrived.
//
// The app answers with `sip|<transactionId>|` + a skeleton response (status line, Call-ID, CSeq,
// From, To and whatever it adds). The stack builds the real one — Via copied, one To tag for all
// responses of the transaction, Contact, Server — sends it, and the app gets
// `response|<id>|OK|application|…|<transactionId>|<dialogId>||Msg sent:|` + the message sent.
// A transaction that is gone (answered, cancelled, timed out) gets `NOK`.
import { SipError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { serializeMessage, type SipRequest } from '../message/index.js';
import type { SipStack } from '../stack.js';
import type { IncomingRequest } from '../dialog/types.js';
import type { AppConnection } from './app.js';
import type { Cdr } from './cdr.js';
import type { DialogOwners } from './dialogs.js';
import { sentResponseHead, sipHead } from './meta.js';
import type { Routes } from './routes.js';
import type { RouteInfo, UnroutedHandler } from './types.js';
import { dialogIdOf, extrasOf, parseAppMessage, rawOf, tagParam } from './sip-util.js';

/** drachtio-server's answer when no app routed the verb. */
export const answer503: UnroutedHandler = (req) => {
  req.respond(503);
};

/** Lower-case verbs of the common methods, so routing allocates nothing per request. */
const VERBS: Record<string, string> = {
  INVITE: 'invite', ACK: 'ack', BYE: 'bye', CANCEL: 'cancel', OPTIONS: 'options', REGISTER: 'register',
  INFO: 'info', UPDATE: 'update', PRACK: 'prack', REFER: 'refer', NOTIFY: 'notify', SUBSCRIBE: 'subscribe',
  MESSAGE: 'message', PUBLISH: 'publish',
};

export class InboundRequests {
  readonly #stack: SipStack;
  readonly #log: Logger;
  readonly #routes: Routes;
  readonly #owners: DialogOwners;
  readonly #cdr: Cdr;
  readonly #onUnrouted: UnroutedHandler;
  readonly #routeInfo: RouteInfo;

  constructor(stack: SipStack, log: Logger, routes: Routes, owners: DialogOwners, cdr: Cdr, onUnrouted: UnroutedHandler = answer503) {
    this.#stack = stack;
    this.#log = log;
    this.#routes = routes;
    this.#owners = owners;
    this.#cdr = cdr;
    this.#onUnrouted = onUnrouted;
    this.#routeInfo = { routed: (verb) => routes.has(verb.toLowerCase()), verbs: () => routes.verbs() };
  }

  /** The stack's 'request' event: a new request outside any dialog. */
  onRequest(req: IncomingRequest): void {
    const method = req.method;
    const app = this.#routes.pick(VERBS[method] ?? method.toLowerCase());
    if (app === undefined) {
      this.#unrouted(req);
      return;
    }
    app.serverTxns.add(req.id);
    const raw = rawOf(req);
    if (method === 'INVITE') {
      this.#cdr.attempt(req.message, 'network', raw);
      req.on('cancel', (cancel) => this.#cancelled(app, req, cancel));
    }
    app.sendWithSip(sipHead('network', raw.length, req.local.transport, req.source, req.id, '', req.local), raw);
  }

  /** No app routed the verb: the handler answers; silence or a crash is answered here. */
  #unrouted(req: IncomingRequest): void {
    this.#log.debug({ method: req.method }, 'no application routed this verb');
    let status = 503;
    try {
      if (req.finalStatus === undefined) this.#onUnrouted(req, this.#routeInfo);
    } catch (err) {
      this.#log.error({ err, method: req.method }, 'onUnrouted handler failed');
      status = 500;
    }
    if (req.finalStatus === undefined && !req.deferred && !req.cancelled) req.respond(status);
  }

  /**
   * The stack already answered the CANCEL 200 and the INVITE 487 (drachtio-wire.md §7); the
   * CANCEL then goes to the app, which finds its INVITE by Call-ID and emits 'cancel'.
   */
  #cancelled(app: AppConnection, req: IncomingRequest, cancel: SipRequest): void {
    app.serverTxns.delete(req.id);
    this.#cdr.stop(cancel, 'network', 'call-canceled');
    if (app.closed) return;
    const sip = serializeMessage(cancel);
    app.sendWithSip(sipHead('network', sip.length, req.local.transport, req.source, req.id, ''), sip);
  }

  /** `sip|<transactionId>|` + a response from the app. */
  respond(app: AppConnection, appMsgId: string, txnId: string, sip: Buffer): void {
    const req = app.serverTxns.has(txnId) ? this.#stack.serverRequest(txnId) : undefined;
    if (req === undefined) {
      app.serverTxns.delete(txnId);
      app.nok(appMsgId, 'transaction not found');
      return;
    }
    let status: number;
    let res;
    try {
      const m = parseAppMessage(sip);
      if (m.kind !== 'response') throw new SipError(400, 'Bad Request - expected a response');
      status = m.status;
      const x = extrasOf(m);
      res = req.respond(status, { reason: m.reason, headers: x.headers, body: x.body, contentType: x.contentType });
    } catch (err) {
      this.#log.debug({ err, txnId }, 'app response refused');
      if (req.finalStatus !== undefined) app.serverTxns.delete(txnId);
      app.nok(appMsgId, err instanceof Error ? err.message : 'invalid response');
      return;
    }
    const method = req.method;
    let dialogId = dialogIdOf(res);
    let transport: string = req.local.transport;
    if (method === 'INVITE') {
      const d = req.dialog;
      if (d !== undefined && status > 100 && status < 300) this.#owners.attach(d, app);
      if (tagParam(req.message.headers.get('To')) === undefined) {
        // An initial INVITE (a re-INVITE carries a To tag).
        if (status >= 200 && status < 300) this.#cdr.start(res, 'application', 'uas');
        else if (status >= 300) this.#cdr.stop(res, 'application', 'call-rejected');
      }
    } else if (method === 'BYE') {
      // drachtio-wire.md §5: the reply for a 200 to BYE has an empty transport and dialog id.
      dialogId = '';
      transport = '';
    }
    if (status >= 200) app.serverTxns.delete(txnId);
    const out = serializeMessage(res);
    app.sendWithSip(sentResponseHead(appMsgId, out.length, transport, req.source, txnId, dialogId), out);
  }
}
