// Call detail records for apps that asked for them: srf's `srf.on('cdr:attempt'|'cdr:start'|
// 'cdr:stop', …)` sends `route|cdr:<kind>`, and drachtio-server (cdr.cpp) then posts each record
// to one app that routed that kind, as `<uuid>|cdr:<kind>|<source>|<time>[|<role or reason>]`
// + CRLF + the SIP message:
//   attempt  a new INVITE (from the network, or sent by an app)
//   start    its 2xx; role uac | uas | proxy-uac | proxy-uas
//   stop     the BYE (normal-release), a failure (call-rejected) or a CANCEL (call-canceled)
// Nothing is built when no app routed the kind, so calls pay nothing for unused CDRs.
import { serializeMessage, type SipMessage } from '../message/index.js';
import { msgId, wireTime } from './meta.js';
import type { Routes } from './routes.js';

export type CdrRole = 'uac' | 'uas' | 'proxy-uac' | 'proxy-uas';
export type CdrStopReason = 'call-rejected' | 'call-canceled' | 'normal-release' | 'session-expired' | 'system-initiated-termination';
type Source = 'network' | 'application';

export class Cdr {
  readonly #routes: Routes;

  constructor(routes: Routes) {
    this.#routes = routes;
  }

  attempt(msg: SipMessage, source: Source, raw?: Buffer): void {
    this.#post('cdr:attempt', msg, `${source}|${wireTime()}`, raw);
  }

  start(msg: SipMessage, source: Source, role: CdrRole, raw?: Buffer): void {
    this.#post('cdr:start', msg, `${source}|${wireTime()}|${role}`, raw);
  }

  stop(msg: SipMessage, source: Source, reason: CdrStopReason, raw?: Buffer): void {
    this.#post('cdr:stop', msg, `${source}|${wireTime()}|${reason}`, raw);
  }

  #post(kind: string, msg: SipMessage, meta: string, raw: Buffer | undefined): void {
    if (!this.#routes.has(kind)) return;
    const app = this.#routes.pick(kind);
    if (app === undefined) return;
    app.sendWithSip(`${msgId()}|${kind}|${meta}`, raw ?? serializeMessage(msg));
  }
}
