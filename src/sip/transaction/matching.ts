// Transaction matching keys: RFC 3261 §17.1.3 (responses to client transactions), §17.2.3
// (requests to server transactions, with the RFC 2543 fallback), §9.2 (CANCEL to the INVITE
// it cancels) and §8.2.2.2 (merged requests).

import type { SipMessage, SipRequest, Via } from '../message/index.js';

/** RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with this cookie. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** Host and port of a Via, lower-cased, port defaulted per transport (5061 for TLS/WSS). */
export function sentBy(v: Via): string {
  const t = v.transport.toUpperCase();
  const port = v.port ?? (t === 'TLS' || t === 'WSS' ? 5061 : 5060);
  return `${v.host.toLowerCase()}:${port}`;
}

/** RFC 3261 §17.1.3: a response matches a client transaction by top-Via branch + CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch.toLowerCase()}|${method.toUpperCase()}`;
}

export function clientKeyOf(msg: SipMessage): string | undefined {
  const branch = msg.topVia().branch;
  if (!branch) return undefined;
  return clientKey(branch, msg.cseq().method);
}

/** Whether a request's top Via carries an RFC 3261 branch. */
export function isRfc3261(req: SipRequest): boolean {
  return req.topVia().branch?.startsWith(MAGIC_COOKIE) === true;
}

/**
 * The server transaction key of `req` looked up as `method` (INVITE for an ACK or for the CANCEL's
 * target). RFC 3261 §17.2.3: branch + sent-by + method. RFC 2543 fallback (no magic cookie):
 * Request-URI, From tag, Call-ID, CSeq number, top Via — the To tag is compared separately
 * (`toTagMatches`) because it differs between the INVITE and its ACK.
 */
export function serverKey(req: SipRequest, method: string): string {
  const top = req.topVia();
  const m = method.toUpperCase();
  if (top.branch?.startsWith(MAGIC_COOKIE)) {
    // RFC 3261 §17.2.3: branch + sent-by + method (ACK is looked up as INVITE).
    return `3261|${top.branch.toLowerCase()}|${sentBy(top)}|${m}`;
  }
  // RFC 3261 §17.2.3: RFC 2543 fallback: compare Request-URI, tags, Call-ID, CSeq, top Via.
  const fromTag = req.from().params.get('tag') ?? '';
  const via = `${top.transport.toUpperCase()} ${sentBy(top)};branch=${top.branch ?? ''}`;
  return `2543|${req.uri}|${fromTag}|${req.callId()}|${req.cseq().seq}|${m}|${via}`;
}

export function toTag(msg: SipMessage): string | undefined {
  return msg.to().params.get('tag') ?? undefined;
}

/** RFC 3261 §8.2.2.2: key of a request without To tag for merged-request detection. */
export function mergeKey(req: SipRequest): string | undefined {
  if (toTag(req) !== undefined) return undefined;
  const fromTag = req.from().params.get('tag') ?? '';
  const cseq = req.cseq();
  return `${fromTag}|${req.callId()}|${cseq.seq}|${cseq.method.toUpperCase()}`;
}
