// Building a response to a request (RFC 3261 §8.2.6): Via, From, To, Call-ID and CSeq copied
// byte-for-byte, a To tag added when asked for and absent. Works on a SipParseError's partial
// request, so a malformed From/To never prevents answering; `createResponseToMalformed` also
// repairs an unparseable From/To so that the 400 itself parses.
import { SipError } from '../../lib/errors.js';
import { quote } from './chars.js';
import { Headers } from './headers.js';
import { SipResponse, type SipRequest } from './message.js';
import { validateNameAddr } from './name-addr.js';
import { parseHeaderParams } from './params.js';

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  199: 'Early Dialog Terminated', 200: 'OK', 202: 'Accepted', 204: 'No Notification',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy',
  380: 'Alternative Service', 400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone', 412: 'Conditional Request Failed',
  413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 417: 'Unknown Resource-Priority', 420: 'Bad Extension',
  421: 'Extension Required', 422: 'Session Interval Too Small', 423: 'Interval Too Brief',
  428: 'Use Identity Header', 429: 'Provide Referrer Identity', 430: 'Flow Failed', 433: 'Anonymity Disallowed',
  436: 'Bad Identity-Info', 437: 'Unsupported Certificate', 438: 'Invalid Identity Header',
  439: 'First Hop Lacks Outbound Support', 440: 'Max-Breadth Exceeded', 469: 'Bad Info Package',
  470: 'Consent Needed', 480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected', 483: 'Too Many Hops', 484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here',
  487: 'Request Terminated', 488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending',
  493: 'Undecipherable', 494: 'Security Agreement Required', 500: 'Server Internal Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Server Time-out',
  505: 'Version Not Supported', 513: 'Message Too Large', 580: 'Precondition Failure', 600: 'Busy Everywhere',
  603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable', 607: 'Unwanted',
};

const CLASS_REASONS = ['', 'Informational', 'Success', 'Redirection', 'Client Error', 'Server Error', 'Global Failure'];

/** RFC 3261 §21 reason phrases (and later RFCs'); a class name for unknown codes. */
export function defaultReason(status: number): string {
  return REASONS[status] ?? CLASS_REASONS[Math.floor(status / 100)] ?? 'Unknown';
}

export interface CreateResponseOptions {
  toTag?: string;
  headers?: [string, string][];
  body?: Buffer;
  contentType?: string;
}

function isNameAddr(v: string): boolean {
  try {
    validateNameAddr(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * A From/To value that parses: `v` itself when it does, else `"display" <uri>;params` rebuilt from
 * its pieces (an unterminated or missing quote around the display name, LWS inside <>), else
 * `<uri>;params`, else `v` unchanged. Bounded: two extra parse attempts.
 */
export function repairNameAddr(v: string): string {
  if (isNameAddr(v)) return v;
  const lt = v.indexOf('<');
  const gt = lt < 0 ? -1 : v.indexOf('>', lt + 1);
  if (lt < 0 || gt < 0) return v;
  const uri = v.slice(lt + 1, gt).trim();
  const params = v.slice(gt + 1).trim();
  if (uri === '' || /[\s<>]/.test(uri)) return v;
  const display = v.slice(0, lt).trim().replace(/^"/, '').replace(/"$/, '').trim();
  const bare = `<${uri}>${params}`;
  const named = display === '' ? bare : `${quote(display)} ${bare}`;
  if (isNameAddr(named)) return named;
  return isNameAddr(bare) ? bare : v;
}

/** True when a To value carries a tag param; tolerant of malformed values (partial requests). */
function hasTag(to: string): boolean {
  const gt = to.lastIndexOf('>');
  const semi = to.indexOf(';', gt < 0 ? 0 : gt);
  if (semi < 0) return false;
  const params = new Map<string, string | null>();
  if (parseHeaderParams(to, semi, params) === null) return params.has('tag');
  return /;\s*tag\s*=/i.test(to.slice(semi));
}

/**
 * RFC 3261 §8.2.6.2: copy Via (all, in order), From, To, Call-ID, CSeq; add the To tag when given
 * and the request's To has none. §8.2.6.1: a 100 also copies Timestamp. From, To, Call-ID, CSeq
 * and Timestamp are single-value headers (§20): a request that repeats one (RFC 4475 multi01,
 * only ever answered 400) gets its first occurrence back, so the response has exactly one.
 */
export function createResponse(req: SipRequest, status: number, reason?: string, opts: CreateResponseOptions = {}): SipResponse {
  return buildResponse(req, status, reason, opts, false);
}

/**
 * RFC 3261 §8.2.6 for a request that failed to parse (a SipParseError's `partial`, answered 400 /
 * 413 / 505 by the transport layer): as createResponse, and a From or To whose value is not a
 * valid name-addr (RFC 4475 quotbal, baddn, badaspec) is rewritten into one that is — its URI in
 * angle brackets, LWS trimmed, its parameters (the tag) kept, the display name quoted — so the
 * answer is itself well-formed. A value that cannot be repaired is copied as received. The Via
 * list is always copied intact: the response is routed by it (§18.2.2).
 */
export function createResponseToMalformed(req: SipRequest, status: number, reason?: string): SipResponse {
  return buildResponse(req, status, reason, {}, true);
}

function buildResponse(req: SipRequest, status: number, reason: string | undefined, opts: CreateResponseOptions, repair: boolean): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new SipError(500, 'Server Internal Error - invalid status code');
  const src = req.headers;
  const names: string[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  const rn = src.rawNames();
  const rk = src.rawKeys();
  const rv = src.rawValues();
  // Wire order of the request is kept for the copied fields; single-value ones only once.
  let seen = 0;
  for (let i = 0; i < rk.length; i++) {
    const k = rk[i];
    const bit = k === 'via' ? 0 : k === 'from' ? 1 : k === 'to' ? 2 : k === 'call-id' ? 4 : k === 'cseq' ? 8 : status === 100 && k === 'timestamp' ? 16 : -1;
    if (bit < 0 || (seen & bit) !== 0) continue;
    seen |= bit;
    names.push(rn[i]);
    keys.push(k);
    let v = rv[i];
    if (repair && (k === 'from' || k === 'to')) v = repairNameAddr(v);
    if (k === 'to' && opts.toTag !== undefined && !hasTag(v)) v = `${v};tag=${opts.toTag}`;
    values.push(v);
  }
  const headers = Headers.fromParsed(names, keys, values);
  if (opts.toTag !== undefined && /[\r\n]/.test(opts.toTag)) throw new SipError(500, 'Server Internal Error - CR/LF in header value');
  if (opts.headers) for (const [n, v] of opts.headers) headers.append(n, v);
  let body: Buffer = Buffer.alloc(0);
  if (opts.body !== undefined) {
    body = opts.body;
    if (opts.contentType !== undefined) headers.set('Content-Type', opts.contentType);
  }
  return new SipResponse(status, reason ?? defaultReason(status), headers, body);
}
