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

/**
 * RFC 3261 §8.1.1.7 / RFC 4475 §3.2.1 (badbranch): a branch is an RFC 3261 transaction id only
 * when it starts with the magic cookie AND has something after it; the bare cookie is not unique
 * and must not be used as an id.
 */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE);
}

/**
 * The client key of a response, or undefined when its top Via has no RFC 3261 branch: our client
 * transactions always send unique cookie branches, so such a response matches none of them and
 * is handled as a stray (RFC 3261 §17.1.3, RFC 4475 §3.2.1).
 */
export function clientKeyOf(msg: SipMessage): string | undefined {
  const branch = msg.topVia().branch;
  if (!isRfc3261Branch(branch)) return undefined;
  return clientKey(branch, msg.cseq().method);
}

/** Whether a request's top Via carries an RFC 3261 branch (cookie plus a unique part). */
export function isRfc3261(req: SipRequest): boolean {
  return isRfc3261Branch(req.topVia().branch);
}

/**
 * The server transaction key of `req` looked up as `method` (INVITE for an ACK or for the CANCEL's
 * target). RFC 3261 §17.2.3: branch + sent-by + method. RFC 2543 fallback (no magic cookie, or
 * only the cookie — RFC 4475 §3.2.1):
 * Request-URI, From tag, Call-ID, CSeq number, top Via — the To tag is compared separately
 * (`toTagMatches`) because it differs between the INVITE and its ACK.
 */
export function serverKey(req: SipRequest, method: string): string {
  const top = req.topVia();
  const m = method.toUpperCase();
  if (isRfc3261Branch(top.branch)) {
    // RFC 3261 §17.2.3: branch + sent-by + method (ACK is looked up as INVITE).
    return `3261|${top.branch.toLowerCase()}|${sentBy(top)}|${m}`;
  }
  // RFC 3261 §17.2.3: RFC 2543 fallback: compare Request-URI, tags, Call-ID, CSeq, top Via.
  // RFC 4475 §3.2.1: a branch of only the cookie takes this path too (allowed alternative to 400,
  // chosen because the request is otherwise valid and RFC 2543 matching identifies it safely).
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
