// Application → network: requests an app sends (drachtio-wire.md §4).
//
//   sip||                  + request   a new request outside any dialog; the stack completes it
//                                      (Via, From tag, To, Call-ID, CSeq, Contact, Max-Forwards)
//   sip||<dialogId>        + request   inside a dialog (ACK for a 2xx, PRACK, BYE, re-INVITE, INFO,
//                                      …); the placeholder Request-URI gives way to the remote target
//   sip|<inviteTxnId>|     + CANCEL    cancels the app's INVITE
//   sip|||<outbound proxy>             (4th field) sends the request there instead (srf opts.proxy)
//
// The app gets `response|<id>|OK|application|…|<transactionId>|Msg sent:|` + the request sent,
// then every response as `sip|network|…|<transactionId>|<dialogId>|` — for a UAC the dialog id
// carries our own From tag. INVITEs go out with autoAck off: srf ACKs 2xx itself by dialog id.
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from '../../lib/log.js';
import { Headers, SipRequest, serializeMessage, type SipResponse, type TransportName } from '../message/index.js';
import type { SipStack } from '../stack.js';
import type { ClientRequest, Dialog, InviteClient, RequestOptions } from '../dialog/types.js';
import type { Endpoint, Inbound } from '../transport/index.js';
import type { AppConnection } from './app.js';
import type { Cdr } from './cdr.js';
import type { DialogOwners } from './dialogs.js';
import { sentRequestHead, sipHead } from './meta.js';
import { extrasOf, parseAppMessage, tagParam } from './sip-util.js';

const KEEP_MAX_FORWARDS: ReadonlySet<string> = new Set(['max-forwards']);

export class OutboundRequests {
  readonly #stack: SipStack;
  readonly #log: Logger;
  readonly #owners: DialogOwners;
  readonly #cdr: Cdr;

  constructor(stack: SipStack, log: Logger, owners: DialogOwners, cdr: Cdr) {
    this.#stack = stack;
    this.#log = log;
    this.#owners = owners;
    this.#cdr = cdr;
  }

  /** `sip|<txnId>|<dialogId>[|<proxy>]` + a request. Never rejects. */
  async request(app: AppConnection, appMsgId: string, txnId: string, dialogId: string, proxy: string, sip: Buffer): Promise<void> {
    let m: SipRequest;
    try {
      const parsed = parseAppMessage(sip);
      if (parsed.kind !== 'request') throw new Error('expected a request');
      m = parsed;
    } catch (err) {
      app.nok(appMsgId, `invalid request: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const method = m.method.toUpperCase();
    try {
      if (method === 'CANCEL' && txnId !== '' && dialogId === '') this.#cancel(app, appMsgId, txnId);
      else if (dialogId !== '') await this.#inDialog(app, appMsgId, dialogId, method, m);
      else if (method === 'ACK') app.nok(appMsgId, 'ACK without a dialog: nothing to acknowledge');
      else await this.#outOfDialog(app, appMsgId, m, proxy);
    } catch (err) {
      this.#log.debug({ err, method }, 'app request failed');
      app.nok(appMsgId, err instanceof Error ? err.message : String(err));
    }
  }

  async #outOfDialog(app: AppConnection, appMsgId: string, m: SipRequest, proxy: string): Promise<void> {
    m.method = m.method.toUpperCase();
    const h = m.headers;
    h.delete('Via');
    // drachtio-wire.md §4: the server adds Content-Type for a body the app did not label.
    if (m.body.length > 0 && !h.has('Content-Type')) h.set('Content-Type', 'application/sdp');
    const dest = proxy !== '' ? endpointOf(proxy) : undefined;
    const cr = await this.#stack.sendRequest(m, { autoAck: false, dest });
    if (m.method === 'INVITE') this.#cdr.attempt(cr.message, 'application');
    this.#sent(app, appMsgId, cr, undefined);
  }

  async #inDialog(app: AppConnection, appMsgId: string, dialogId: string, method: string, m: SipRequest): Promise<void> {
    const d = this.#stack.dialog(dialogId);
    if (d === undefined) {
      // srf maps this text to err.code ENODIALOG (drachtio-agent.js).
      app.nok(appMsgId, 'unable to find dialog');
      return;
    }
    const x = extrasOf(m, method === 'ACK' ? undefined : KEEP_MAX_FORWARDS);
    const opts: RequestOptions = { headers: x.headers, body: x.body, contentType: x.contentType };
    if (method === 'ACK') {
      const sent: unknown = await d.ack(opts);
      const ack = sent instanceof SipRequest ? sent : echoAck(d, opts);
      const out = serializeMessage(ack);
      // drachtio-wire.md §4: an app-sent ACK gets a transaction id of its own.
      app.sendWithSip(sentRequestHead(appMsgId, out.length, d.transport, this.#local(d.transport), randomUUID()), out);
      return;
    }
    const cr = method === 'INVITE' ? await d.request('INVITE', { ...opts, autoAck: false }) : await d.request(method, opts);
    if (method === 'BYE') this.#cdr.stop(cr.message, 'application', 'normal-release');
    this.#sent(app, appMsgId, cr, d);
  }

  /** RFC 3261 §9.1: CANCEL of the app's INVITE (sent once a provisional arrived). */
  #cancel(app: AppConnection, appMsgId: string, txnId: string): void {
    const cr = app.clientTxns.get(txnId);
    if (cr === undefined || cr.method !== 'INVITE' || cr.finalResponse !== undefined) {
      app.nok(appMsgId, 'transaction not found');
      return;
    }
    (cr as InviteClient).cancel();
    const cancel = cancelOf(cr.message);
    this.#cdr.stop(cancel, 'application', 'call-canceled');
    const out = serializeMessage(cancel);
    app.sendWithSip(sentRequestHead(appMsgId, out.length, cr.dest.transport, this.#local(cr.dest.transport), randomUUID()), out);
  }

  /** Acknowledges the app's command, then relays every response to it. */
  #sent(app: AppConnection, appMsgId: string, cr: ClientRequest | InviteClient, d: Dialog | undefined): void {
    const out = serializeMessage(cr.message);
    app.sendWithSip(sentRequestHead(appMsgId, out.length, cr.dest.transport, this.#local(cr.dest.transport), cr.id), out);
    let finalSeen = false;
    const relay = (res: SipResponse, inbound: Inbound | undefined): void => {
      if (res.status >= 200) {
        if (finalSeen) return;
        finalSeen = true;
        app.clientTxns.delete(cr.id);
      }
      this.#relay(app, cr, d, res, inbound);
    };
    if (cr.finalResponse === undefined) app.clientTxns.set(cr.id, cr);
    (cr as ClientRequest).on('response', relay);
    // A local 503 may have settled the request before we subscribed.
    if (cr.finalResponse !== undefined) relay(cr.finalResponse, undefined);
  }

  #relay(app: AppConnection, cr: ClientRequest, d: Dialog | undefined, res: SipResponse, inbound: Inbound | undefined): void {
    const status = res.status;
    let dialogId = d?.id ?? '';
    if (d === undefined && cr.method === 'INVITE' && status > 100) {
      const fromTag = tagParam(cr.message.headers.get('From'));
      if (tagParam(res.headers.get('To')) !== undefined && fromTag !== undefined) {
        dialogId = `${res.headers.get('Call-ID') ?? ''};from-tag=${fromTag}`;
        const dlg = status < 300 ? this.#stack.dialog(dialogId) : undefined;
        if (dlg !== undefined) {
          if (app.closed) {
            // Nobody will ACK or hang up: complete the 2xx and end the call at once.
            if (status < 300) void this.#abandon(dlg);
          } else this.#owners.attach(dlg, app);
        }
      }
      if (status >= 200 && status < 300) this.#cdr.start(res, 'network', 'uac', inbound?.raw);
      else if (status >= 300) this.#cdr.stop(res, 'network', 'call-rejected', inbound?.raw);
    }
    if (app.closed) return;
    const raw = inbound?.raw ?? serializeMessage(res);
    const transport = inbound?.local.transport ?? cr.dest.transport;
    app.sendWithSip(sipHead('network', raw.length, transport, inbound?.source ?? cr.dest, cr.id, dialogId), raw);
  }

  async #abandon(d: Dialog): Promise<void> {
    try {
      await d.ack();
      await d.bye();
    } catch (err) {
      this.#log.debug({ err, dialog: d.id }, 'hanging up an orphaned call failed');
    }
  }

  #local(transport: TransportName): Endpoint {
    const eps = this.#stack.endpoints;
    return eps.find((e) => e.transport === transport) ?? eps[0] ?? { transport, address: '0.0.0.0', port: 0 };
  }
}

/** srf's `opts.proxy`: `sip:host[:port][;transport=x]` or `host[:port]`, IP literals only. */
export function endpointOf(s: string): Endpoint {
  const m = /^(?:sips?:)?(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?(?:;.*?transport=(\w+))?/i.exec(s.trim());
  if (m === null) throw new Error(`invalid outbound proxy ${s}`);
  const address = m[1].replace(/^\[|\]$/g, '');
  if (isIP(address) === 0) throw new Error(`outbound proxy must be an IP address: ${s}`);
  const transport = (m[3]?.toLowerCase() ?? 'udp') as TransportName;
  return { transport, address, port: m[2] !== undefined ? Number(m[2]) : transport === 'tls' ? 5061 : 5060 };
}

/** RFC 3261 §9.1: the CANCEL mirrors the INVITE's Request-URI, top Via, From, To, Call-ID, Route. */
function cancelOf(invite: SipRequest): SipRequest {
  const h = new Headers();
  const via = invite.headers.get('Via');
  if (via !== undefined) h.set('Via', via);
  h.set('Max-Forwards', '70');
  for (const n of ['From', 'To', 'Call-ID']) {
    const v = invite.headers.get(n);
    if (v !== undefined) h.set(n, v);
  }
  h.set('CSeq', `${invite.cseq().seq} CANCEL`);
  for (const r of invite.headers.getAll('Route')) h.append('Route', r);
  return new SipRequest('CANCEL', invite.uri, h);
}

/** What the stack sent for an ACK when it does not hand it back (RFC 3261 §13.2.2.4). */
function echoAck(d: Dialog, opts: RequestOptions): SipRequest {
  const h = new Headers();
  h.set('Max-Forwards', '70');
  h.set('From', d.local);
  h.set('To', d.remote);
  h.set('Call-ID', d.callId);
  h.set('CSeq', `${d.localSeq} ACK`);
  for (const [n, v] of opts.headers ?? []) h.append(n, v);
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  if (body !== undefined && body.length > 0) h.set('Content-Type', opts.contentType ?? 'application/sdp');
  return new SipRequest('ACK', d.remoteTarget, h, body);
}
