// Requests the transaction layer builds itself: the ACK for a non-2xx final (RFC 3261
// §17.1.1.3) and a CANCEL (§9.1). Both start from a clone of the original request and keep only
// the headers the RFC lists, so they work with whatever else the request carried.

import type { SipRequest, SipResponse } from '../message/index.js';

function keepOnly(req: SipRequest, keep: ReadonlySet<string>): void {
  const drop = new Set<string>();
  for (const name of req.headers.names()) if (!keep.has(name.toLowerCase())) drop.add(name);
  for (const name of drop) req.headers.delete(name);
}

function topViaOnly(req: SipRequest, original: SipRequest): void {
  const top = original.headers.getAll('Via')[0];
  if (top !== undefined) req.headers.set('Via', top);
}

const ACK_HEADERS = new Set(['via', 'call-id', 'from', 'to', 'cseq', 'route', 'max-forwards']);

/**
 * RFC 3261 §17.1.1.3: the ACK for a non-2xx final has the INVITE's Request-URI, Call-ID, From and
 * CSeq number (method ACK), only its top Via (same branch), the To of the response (with its tag)
 * and the INVITE's Route headers.
 */
export function buildAck(invite: SipRequest, res: SipResponse): SipRequest {
  const ack = invite.clone();
  keepOnly(ack, ACK_HEADERS);
  ack.method = 'ACK';
  topViaOnly(ack, invite);
  const to = res.headers.get('To');
  if (to !== undefined) ack.headers.set('To', to);
  ack.headers.set('CSeq', `${invite.cseq().seq} ACK`);
  if (!ack.headers.has('Max-Forwards')) ack.headers.set('Max-Forwards', '70');
  ack.body = Buffer.alloc(0);
  return ack;
}

const CANCEL_HEADERS = new Set(['via', 'call-id', 'from', 'to', 'cseq', 'route', 'max-forwards']);

/**
 * RFC 3261 §9.1: a CANCEL has the INVITE's Request-URI, Call-ID, To, From and CSeq number (method
 * CANCEL), a single Via equal to the INVITE's top Via (same branch) and its Route headers; no
 * Require / Proxy-Require. `reason` adds an RFC 3326 Reason header.
 */
export function buildCancel(invite: SipRequest, reason?: string): SipRequest {
  const cancel = invite.clone();
  keepOnly(cancel, CANCEL_HEADERS);
  cancel.method = 'CANCEL';
  topViaOnly(cancel, invite);
  cancel.headers.set('CSeq', `${invite.cseq().seq} CANCEL`);
  if (!cancel.headers.has('Max-Forwards')) cancel.headers.set('Max-Forwards', '70');
  if (reason !== undefined) cancel.headers.set('Reason', reason);
  cancel.body = Buffer.alloc(0);
  return cancel;
}
