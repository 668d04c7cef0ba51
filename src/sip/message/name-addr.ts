// name-addr / addr-spec (RFC 3261 §20.10, §25.1): From, To, Contact, Route, Refer-To...
// "Joe" <sip:joe@example.com>;tag=1  |  Joe <sip:...>  |  sip:joe@example.com;tag=1
import { SipError } from '../../lib/errors.js';
import { TOKEN, endOfQuoted, quote, skipWs, skipWsBack, unquote } from './chars.js';
import { formatParams, parseHeaderParams } from './params.js';
import { formatUri, parseUri, validateUri, type SipUri } from './uri.js';

export interface NameAddr {
  /** Unescaped display name (quotes removed); absent when none was given. */
  displayName?: string;
  uri: SipUri;
  /** Header params (tag, expires, q...): keys lower-cased, null for flags, quoted values kept quoted. */
  params: Map<string, string | null>;
}

function bad(detail: string): SipError {
  return new SipError(400, `Bad Request - ${detail}`);
}

/** Display name as *(token LWS): every char a token char or whitespace (RFC 3261 §25.1). */
function isTokenRun(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9) continue;
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** Parse a name-addr or addr-spec with trailing header params. Throws SipError(400). */
export function parseNameAddr(s: string): NameAddr {
  return scanNameAddr(s, true)!;
}

/** Validate without building anything (the parser's hot path). Throws SipError(400). */
export function validateNameAddr(s: string): void {
  scanNameAddr(s, false);
}

/** One grammar for both: with build false no strings, Maps or objects are allocated. */
function scanNameAddr(s: string, build: boolean): NameAddr | null {
  const end = s.length;
  let i = skipWs(s, 0, end);
  if (i === end) throw bad('Empty address');
  let displayName: string | undefined;
  let lt = -1;
  if (s.charCodeAt(i) === 34 /* " */) {
    const q = endOfQuoted(s, i, end);
    if (q < 0) throw bad('Unterminated quoted string');
    if (build) displayName = unquote(s, i + 1, q - 1);
    lt = skipWs(s, q, end);
    if (lt >= end || s.charCodeAt(lt) !== 60) throw bad('Expected <URI> after display name');
  } else {
    lt = s.indexOf('<', i);
    if (lt >= 0) {
      const dnEnd = skipWsBack(s, i, lt);
      if (!isTokenRun(s, i, dnEnd)) throw bad('Invalid display name');
      if (build && dnEnd > i) displayName = s.slice(i, dnEnd);
    }
  }
  const params = build ? new Map<string, string | null>() : null;
  let uri: SipUri | null = null;
  let rest: number;
  if (lt >= 0) {
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0) throw bad('Unterminated <URI>');
    // parseUri rejects whitespace, so "< sip:x@y >" is refused (RFC 4475 §3.1.2.14).
    const raw = s.slice(lt + 1, gt);
    if (build) uri = parseUri(raw);
    else validateUri(raw);
    rest = gt + 1;
  } else {
    // addr-spec: params after the URI belong to the header, and the URI may not contain
    // ",", "?" or ";" unless enclosed in <> (RFC 3261 §20.10; RFC 4475 §3.1.2.13).
    let semi = s.indexOf(';', i);
    if (semi < 0) semi = end;
    const uriEnd = skipWsBack(s, i, semi);
    const raw = s.slice(i, uriEnd);
    if (raw.indexOf('?') >= 0 || raw.indexOf(',') >= 0) throw bad('URI with ? or , must be enclosed in <>');
    if (build) uri = parseUri(raw);
    else validateUri(raw);
    rest = semi;
  }
  const err = parseHeaderParams(s, rest, params);
  if (err !== null) throw bad(`Malformed address parameters (${err})`);
  if (!build) return null;
  const na: NameAddr = { uri: uri!, params: params! };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

export function formatNameAddr(n: NameAddr): string {
  let out = '';
  if (n.displayName !== undefined && n.displayName.length > 0) out = quote(n.displayName) + ' ';
  return out + '<' + formatUri(n.uri) + '>' + formatParams(n.params);
}
