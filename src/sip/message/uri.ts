// SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), plus an opaque form for other schemes so
// that valid messages carrying them (RFC 4475 §3.3.2-3.3.4) still parse.
import { SipError } from '../../lib/errors.js';
import { HNV, HOST, IPV6, PARAMCHAR, PASSWORD, USER } from './chars.js';

/** Widened from the contract's 'sip' | 'sips' | 'tel': other schemes parse to an opaque URI. */
export type UriScheme = 'sip' | 'sips' | 'tel' | (string & {});

export interface SipUri {
  scheme: UriScheme;
  /** Unescaped. */
  user?: string;
  password?: string;
  /** IPv6 kept in brackets ("[::1]"); for tel: the number; for other schemes: the opaque part. */
  host: string;
  port?: number;
  /** Keys lower-cased and unescaped; null for a flag param (";lr"). */
  params: Map<string, string | null>;
  headers: Map<string, string>;
}

function bad(detail: string): SipError {
  return new SipError(400, `Bad Request - ${detail}`);
}

const HEX = '0123456789ABCDEF';

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Decode %HH escapes as UTF-8. A "%" not followed by two hex digits is kept literally. */
export function unescapeUri(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length) {
      const h = hexVal(s.charCodeAt(i + 1));
      const l = hexVal(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 2;
        continue;
      }
    }
    if (c < 128) bytes.push(c);
    else for (const b of Buffer.from(s[i], 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Escape every byte outside `allowed` (UTF-8, upper-case hex). */
export function escapeUri(s: string, allowed: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || allowed[c] === 0) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b < 128 && allowed[b] === 1) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Characters never valid unescaped anywhere in a URI on the wire. */
function hasForbidden(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 34 || c === 60 || c === 62) return true;
  }
  return false;
}

/** Validate a hostname / IPv4 / IPv6 reference; returns the index past the host, or -1. */
function scanHost(s: string, i: number, end: number): number {
  if (i >= end) return -1;
  if (s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= end || close === i + 1) return -1;
    for (let j = i + 1; j < close; j++) {
      const c = s.charCodeAt(j);
      if (c >= 128 || IPV6[c] === 0) return -1;
    }
    return close + 1;
  }
  const start = i;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HOST[c] === 0) break;
    i++;
  }
  return i === start ? -1 : i;
}

/** Parse "1*DIGIT" port in 0..65535, or -1. */
function portOf(s: string, start: number, end: number): number {
  if (start >= end || end - start > 5) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n > 65535 ? -1 : n;
}

function parseUriParams(s: string, i: number, end: number, out: Map<string, string | null> | null): void {
  // uri-parameters = *( ";" uri-parameter ), split at ";" up to `end` ("?" or end of string).
  while (i < end) {
    let next = s.indexOf(';', i + 1);
    if (next < 0 || next > end) next = end;
    let eq = -1;
    for (let j = i + 1; j < next; j++) {
      const c = s.charCodeAt(j);
      if (c === 61 /* = */) {
        if (eq < 0) eq = j;
      } else if (c !== 37 && (c >= 128 || PARAMCHAR[c] === 0)) throw bad('Invalid character in URI');
    }
    if ((eq < 0 ? next : eq) === i + 1) throw bad('Malformed URI parameter');
    if (out !== null) {
      const value = eq >= 0 ? unescapeUri(s.slice(eq + 1, next)) : null;
      out.set(unescapeUri(s.slice(i + 1, eq >= 0 ? eq : next)).toLowerCase(), value);
    }
    i = next;
  }
}

function parseUriHeaders(s: string, i: number, out: Map<string, string> | null): void {
  const end = s.length;
  i++;
  while (i <= end) {
    let next = s.indexOf('&', i);
    if (next < 0) next = end;
    const eq = s.indexOf('=', i);
    if (eq < 0 || eq > next || eq === i) throw bad('Malformed URI header');
    checkChars(s, i, next, HNV, 61);
    if (out !== null) out.set(unescapeUri(s.slice(i, eq)), unescapeUri(s.slice(eq + 1, next)));
    i = next + 1;
  }
}

/** Check s[start..end) holds only `allowed` chars, escapes, or `extra`. */
function checkChars(s: string, start: number, end: number, allowed: Uint8Array, extra: number): void {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === extra) continue;
    if (c >= 128 || allowed[c] === 0) throw bad('Invalid character in URI');
  }
}

/** Parse a URI. Throws SipError(400) on malformed SIP/SIPS/tel URIs. */
export function parseUri(s: string): SipUri {
  return scanUri(s, true)!;
}

/** Validate a URI without building it (the parser's hot path). Throws SipError(400). */
export function validateUri(s: string): void {
  scanUri(s, false);
}

/** One grammar for parsing and validating: with build false nothing is allocated. */
function scanUri(s: string, build: boolean): SipUri | null {
  const colon = s.indexOf(':');
  if (colon <= 0) throw bad('Malformed URI');
  const end = s.length;
  const scheme = schemeOf(s, colon);
  if (scheme !== 'sip' && scheme !== 'sips') {
    // SIP URIs are checked char by char against their grammar below; the rest only for these.
    if (colon + 1 >= end || hasForbidden(s, colon + 1, end)) throw bad('Malformed URI');
    if (scheme === 'tel') {
      const semi = s.indexOf(';', colon + 1);
      const numEnd = semi < 0 ? end : semi;
      if (numEnd === colon + 1) throw bad('Malformed tel URI');
      const params = build ? new Map<string, string | null>() : null;
      if (semi >= 0) parseUriParams(s, semi, end, params);
      return build ? { scheme, host: s.slice(colon + 1, numEnd), params: params!, headers: new Map() } : null;
    }
    return build ? { scheme, host: s.slice(colon + 1), params: new Map(), headers: new Map() } : null;
  }

  let i = colon + 1;
  const uri: SipUri | null = build ? { scheme, host: '', params: new Map(), headers: new Map() } : null;
  // userinfo ends at the first "@": user may hold ";" "?" "/" but never an unescaped "@".
  const at = s.indexOf('@', i);
  if (at >= 0) {
    let userEnd = at;
    for (let j = i; j < at; j++) {
      const c = s.charCodeAt(j);
      if (c === 58 /* : */) {
        userEnd = j;
        break;
      }
      if (c !== 37 && (c >= 128 || USER[c] === 0)) throw bad('Invalid character in URI');
    }
    if (userEnd === i) throw bad('Malformed URI user');
    if (userEnd < at) checkChars(s, userEnd + 1, at, PASSWORD, -1);
    if (uri !== null) {
      uri.user = unescapeUri(s.slice(i, userEnd));
      if (userEnd < at) uri.password = unescapeUri(s.slice(userEnd + 1, at));
    }
    i = at + 1;
  }
  const hostEnd = scanHost(s, i, end);
  if (hostEnd < 0) throw bad('Malformed URI host');
  if (uri !== null) uri.host = s.slice(i, hostEnd);
  i = hostEnd;
  if (i < end && s.charCodeAt(i) === 58 /* : */) {
    let pe = i + 1;
    while (pe < end) {
      const c = s.charCodeAt(pe);
      if (c < 48 || c > 57) break;
      pe++;
    }
    const port = portOf(s, i + 1, pe);
    if (port < 0) throw bad('Malformed URI port');
    if (uri !== null) uri.port = port;
    i = pe;
  }
  if (i === end) return uri;
  const q = s.indexOf('?', i);
  const paramsEnd = q < 0 ? end : q;
  const c = s.charCodeAt(i);
  if (c === 59 /* ; */) parseUriParams(s, i, paramsEnd, uri === null ? null : uri.params);
  else if (c !== 63 /* ? */) throw bad('Malformed URI host');
  if (q >= 0) {
    // Only the parser's Request-URI check needs to know headers exist without building them.
    if (uri === null) lastHadHeaders = true;
    parseUriHeaders(s, q, uri === null ? null : uri.headers);
  }
  return uri;
}

/** Set by validateUri when the URI carried ?headers (RFC 3261 §19.1.1: not in a Request-URI). */
let lastHadHeaders = false;

/** Validate and report whether the URI has a headers part. */
export function validateUriHeaders(s: string): boolean {
  lastHadHeaders = false;
  scanUri(s, false);
  return lastHadHeaders;
}

function schemeOf(s: string, colon: number): string {
  // Fast path for the schemes we see all day.
  if (colon === 3 && (s.charCodeAt(0) | 0x20) === 115 && (s.charCodeAt(1) | 0x20) === 105 && (s.charCodeAt(2) | 0x20) === 112) return 'sip';
  const scheme = s.slice(0, colon).toLowerCase();
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )  (RFC 3986 §3.1)
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw bad('Malformed URI scheme');
  return scheme;
}

export function isSipUri(u: SipUri): boolean {
  return u.scheme === 'sip' || u.scheme === 'sips';
}

export function formatUri(u: SipUri): string {
  if (u.scheme !== 'sip' && u.scheme !== 'sips') {
    let out = `${u.scheme}:${u.host}`;
    for (const [k, v] of u.params) out += v === null ? `;${k}` : `;${k}=${v}`;
    return out;
  }
  let out = u.scheme + ':';
  if (u.user !== undefined) {
    out += escapeUri(u.user, USER);
    if (u.password !== undefined) out += ':' + escapeUri(u.password, PASSWORD);
    out += '@';
  }
  out += u.host;
  if (u.port !== undefined) out += ':' + u.port;
  for (const [k, v] of u.params) {
    out += ';' + escapeUri(k, PARAMCHAR);
    if (v !== null) out += '=' + escapeUri(v, PARAMCHAR);
  }
  let sep = '?';
  for (const [k, v] of u.headers) {
    out += sep + escapeUri(k, HNV) + '=' + escapeUri(v, HNV);
    sep = '&';
  }
  return out;
}
