// Pure RFC 3261 §12–§14 dialog rules, with no state, sockets or clocks: dialog identifiers,
// remote-CSeq admission of in-dialog requests, route set and remote target extraction, and the
// construction of requests inside a dialog. Table-driven tests live in rules.test.ts.
import {
  Headers,
  SipRequest,
  formatNameAddr,
  formatUri,
  parseNameAddr,
  parseUri,
  type NameAddr,
  type SipMessage,
  type SipUri,
} from '../message/index.js';

/** RFC 3261 §12: a dialog is identified by Call-ID, local tag and remote tag. */
export interface DialogKey {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

/** Map key for a DialogKey. LF cannot occur in a header value, so the join is unambiguous. */
export function dialogKeyString(k: DialogKey): string {
  return `${k.callId}\n${k.localTag}\n${k.remoteTag}`;
}

/**
 * The drachtio-style dialog id `<Call-ID>;from-tag=<tag in From>`. For a UAS dialog the From tag
 * is the remote tag, for a UAC dialog our own (drachtio-wire.md §4–5). Forked early dialogs of
 * one INVITE share it; a confirmed dialog owns it.
 */
export function dialogId(callId: string, fromTag: string): string {
  return `${callId};from-tag=${fromTag}`;
}

/** Splits a drachtio-style id at its last `;from-tag=` (a Call-ID may itself contain ';'). */
export function parseDialogId(id: string): { callId: string; fromTag: string } | undefined {
  const i = id.lastIndexOf(';from-tag=');
  if (i <= 0) return undefined;
  return { callId: id.slice(0, i), fromTag: id.slice(i + ';from-tag='.length) };
}

export function tagOf(n: NameAddr): string | undefined {
  const t = n.params.get('tag');
  return t === null || t === undefined || t === '' ? undefined : t;
}

/** RFC 3261 §12.2.2: for a request we receive, the local tag is in To and the remote tag in From. */
export function keyOfIncomingRequest(req: SipMessage): DialogKey | undefined {
  const localTag = tagOf(req.to());
  if (localTag === undefined) return undefined;
  return { callId: req.callId(), localTag, remoteTag: tagOf(req.from()) ?? '' };
}

/** RFC 3261 §12.1.2: for a response we receive, the local tag is in From and the remote tag in To. */
export function keyOfIncomingResponse(res: SipMessage): DialogKey | undefined {
  const remoteTag = tagOf(res.to());
  const localTag = tagOf(res.from());
  if (remoteTag === undefined || localTag === undefined) return undefined;
  return { callId: res.callId(), localTag, remoteTag };
}

// ---------------------------------------------------------------------------------------------
// Admission of in-dialog requests

export interface AdmissionState {
  /** Highest CSeq number seen from the peer; undefined while empty (UAC dialog, no request yet). */
  remoteSeq: number | undefined;
  /** An INVITE from the peer on this dialog has no final response yet. */
  incomingInvitePending: boolean;
  /** An INVITE we sent on this dialog has no final response yet. */
  outgoingInvitePending: boolean;
}

export type Admission =
  | { status: 0 }
  | { status: 500; reason: string; retryAfter: boolean }
  | { status: 491; reason: string };

/**
 * Decides whether an in-dialog request (not ACK, not CANCEL: both reuse the INVITE's number)
 * may reach the TU. Status 0 = admit; otherwise the dialog layer answers with that status itself.
 */
export function admitInDialog(s: AdmissionState, method: string, seq: number): Admission {
  // RFC 3261 §12.2.2: a request whose CSeq is lower than the remote sequence number is out of
  // order and MUST be rejected with 500. An empty remote sequence number accepts anything.
  if (s.remoteSeq !== undefined && seq < s.remoteSeq) {
    return { status: 500, reason: 'Server Internal Error', retryAfter: false };
  }
  if (method === 'INVITE') {
    // RFC 3261 §14.2: a second INVITE before the final response to the first gets 500 with a
    // Retry-After of 0–10 s.
    if (s.incomingInvitePending) return { status: 500, reason: 'Server Internal Error', retryAfter: true };
    // RFC 3261 §14.2: an INVITE while our own INVITE on the dialog is in progress gets 491.
    if (s.outgoingInvitePending) return { status: 491, reason: 'Request Pending' };
  }
  return { status: 0 };
}

/** RFC 3261 §12.2 + RFC 3311 §5.4 + RFC 6665 §4.1.2: requests that refresh the remote target. */
export function isTargetRefresh(method: string): boolean {
  return method === 'INVITE' || method === 'UPDATE' || method === 'SUBSCRIBE' || method === 'NOTIFY';
}

/** RFC 8.1.1.5: an initial local CSeq, random below 2^31 with room left to count up. */
export function initialSeq(rand: () => number = Math.random): number {
  return 1 + Math.floor(rand() * 0x3fffffff);
}

// ---------------------------------------------------------------------------------------------
// Dialog state taken from the message that creates or refreshes it

/** RFC 3261 §12.1.1: a UAS route set is the Record-Route list of the request, in order. */
export function routeSetFromRequest(req: SipMessage): string[] {
  return req.headers.getAll('Record-Route');
}

/** RFC 3261 §12.1.2: a UAC route set is the Record-Route list of the response, reversed. */
export function routeSetFromResponse(res: SipMessage): string[] {
  return res.headers.getAll('Record-Route').reverse();
}

/** RFC 3261 §12.1.1 / §12.1.2: the remote target is the URI of the (first) Contact. */
export function remoteTargetOf(msg: SipMessage): string | undefined {
  const c = msg.contacts()[0];
  return c ? formatUri(c.uri) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Request construction inside a dialog

export interface DialogRouting {
  callId: string;
  /** Our party, with our tag: goes into From. */
  local: NameAddr;
  /** The peer, with its tag: goes into To. */
  remote: NameAddr;
  remoteTarget: string;
  /** Route header values in the order they are used. */
  routeSet: readonly string[];
}

export interface InDialogRequestOptions {
  headers?: readonly (readonly [string, string])[];
  body?: Buffer;
  contentType?: string;
  /** Our Contact URI; written for target refresh requests and the ones that carry it anyway. */
  contact?: string;
}

/** RFC 3261 §19.1.1 (Table 1): parameters a Request-URI may not carry. */
function forRequestUri(u: SipUri): SipUri {
  const params = new Map(u.params);
  params.delete('method');
  return { ...u, params, headers: new Map() };
}

function isLooseRoute(route: string): boolean {
  return parseNameAddr(route).uri.params.has('lr');
}

/**
 * RFC 3261 §12.2.1.1: builds a request within a dialog. Request-URI and Route come from the
 * remote target and the route set; To/From carry the tags; CSeq is given by the caller (the
 * dialog's next local number, or the INVITE's number for an ACK). Via and Max-Forwards are the
 * stack's job when it sends the request.
 */
export function buildInDialogRequest(
  d: DialogRouting,
  method: string,
  seq: number,
  opts: InDialogRequestOptions = {},
): SipRequest {
  const headers = new Headers();
  let uri: string;
  const routes = d.routeSet;
  if (routes.length === 0) {
    // RFC 3261 §12.2.1.1: empty route set: Request-URI = remote target, no Route.
    uri = d.remoteTarget;
  } else if (isLooseRoute(routes[0])) {
    // RFC 3261 §12.2.1.1: first route is a loose router: Request-URI = remote target and the
    // route set goes, in order, into Route.
    uri = d.remoteTarget;
    for (const r of routes) headers.append('Route', r);
  } else {
    // RFC 3261 §12.2.1.1: strict router: its URI (minus disallowed params) becomes the
    // Request-URI; the rest of the route set follows in Route, then the remote target.
    uri = formatUri(forRequestUri(parseNameAddr(routes[0]).uri));
    for (const r of routes.slice(1)) headers.append('Route', r);
    headers.append('Route', `<${d.remoteTarget}>`);
  }
  headers.set('To', formatNameAddr(d.remote));
  headers.set('From', formatNameAddr(d.local));
  headers.set('Call-ID', d.callId);
  headers.set('CSeq', `${seq} ${method}`);
  const ownContact = opts.headers?.some(([n]) => n.toLowerCase() === 'contact' || n === 'm') ?? false;
  if (opts.contact !== undefined && !ownContact && method !== 'ACK' && method !== 'BYE' && method !== 'CANCEL') {
    headers.set('Contact', `<${opts.contact}>`);
  }
  for (const [name, value] of opts.headers ?? []) headers.append(name, value);
  const body = opts.body ?? Buffer.alloc(0);
  if (body.length > 0 && opts.contentType !== undefined) headers.set('Content-Type', opts.contentType);
  return newRequest(method, uri, headers, body);
}

/** Parses a URI only to validate it; throws SipError(400). */
export function checkUri(u: string): SipUri {
  return parseUri(u);
}

/** The one place that constructs a SipRequest, so the message module's constructor shape is local. */
export function newRequest(method: string, uri: string, headers: Headers, body: Buffer): SipRequest {
  return new SipRequest(method, uri, headers, body);
}
