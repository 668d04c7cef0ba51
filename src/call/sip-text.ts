// Reading SIP header text the way the registrar and the call router need it, from the raw message
// drachtio-srf hands us. srf joins repeated headers with "," (SipMessage#set), which is wrong for
// Authorization (RFC 3261 §7.3.1 forbids combining it) and loses the line structure of Contact,
// so the values are read from the raw text instead. Pure functions, no I/O.
import { splitList as splitHeaderList } from '../sip/message/index.js';
import type { ContactFacts } from './registrar/index.js';

/** Compact forms (RFC 3261 §7.3.3) of the headers read here. */
const COMPACT: Record<string, string> = { contact: 'm', from: 'f', to: 't', 'call-id': 'i', 'content-type': 'c' };

/** Bound on the headers examined, so a hostile message cannot make us loop for long. */
export const MAX_HEADER_LINES = 500;

/**
 * Every value of header `name` in a raw SIP message, one per header line (folded lines joined),
 * in order. Case-insensitive; compact forms count.
 */
export function headerValues(raw: string, name: string): string[] {
  const want = name.toLowerCase();
  const compact = COMPACT[want];
  const end = raw.indexOf('\r\n\r\n');
  const lines = (end < 0 ? raw : raw.slice(0, end)).split(/\r?\n/);
  const out: string[] = [];
  let current: string[] | undefined; // the value being collected when a folded line follows
  const limit = Math.min(lines.length, MAX_HEADER_LINES);
  for (let i = 1; i < limit; i++) {
    const line = lines[i]!;
    if (/^[ \t]/.test(line)) {
      // RFC 3261 §7.3.1: a line starting with whitespace continues the previous header.
      if (current) current.push(line.trim());
      continue;
    }
    if (current) out.push(current.join(' '));
    current = undefined;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const n = line.slice(0, colon).trim().toLowerCase();
    if (n === want || (compact !== undefined && n === compact)) current = [line.slice(colon + 1).trim()];
  }
  if (current) out.push(current.join(' '));
  return out;
}

/** Splits a comma-separated header value at commas outside quotes and angle brackets. */
export function splitList(value: string): string[] {
  return splitHeaderList(value, []);
}

export interface NameAddrParts {
  /** The URI without angle brackets. */
  uri: string;
  /** Header parameters (after the URI / closing bracket), lower-case names; a flag has value ''. */
  params: Map<string, string>;
}

/**
 * Parses `"Name" <uri>;p=v` or a bare `uri;p=v` (RFC 3261 §20.10: then every ;param belongs to the
 * header, not the URI). Undefined when it is not a name-addr / addr-spec.
 */
export function parseNameAddr(value: string): NameAddrParts | undefined {
  const v = value.trim();
  let uri: string;
  let rest: string;
  const lt = indexOutsideQuotes(v, '<');
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    if (gt < 0) return undefined;
    uri = v.slice(lt + 1, gt).trim();
    rest = v.slice(gt + 1);
  } else {
    const semi = v.indexOf(';');
    uri = (semi < 0 ? v : v.slice(0, semi)).trim();
    rest = semi < 0 ? '' : v.slice(semi);
    if (/\s/.test(uri)) return undefined;
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(uri)) return undefined;
  return { uri, params: parseParams(rest) };
}

/** `;a=1;b="x;y";flag` -> Map (names lower-cased, quotes kept on values). */
function parseParams(s: string): Map<string, string> {
  const params = new Map<string, string>();
  let i = 0;
  while (i < s.length) {
    if (s[i] !== ';') {
      i++;
      continue;
    }
    i++;
    let j = i;
    let quoted = false;
    for (; j < s.length; j++) {
      const c = s[j];
      if (quoted) {
        if (c === '\\') j++;
        else if (c === '"') quoted = false;
      } else if (c === '"') quoted = true;
      else if (c === ';') break;
    }
    const part = s.slice(i, j).trim();
    const eq = part.indexOf('=');
    if (part.length > 0) {
      params.set((eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase(), eq < 0 ? '' : part.slice(eq + 1).trim());
    }
    i = j;
  }
  return params;
}

function indexOutsideQuotes(s: string, ch: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ch) return i;
  }
  return -1;
}

/**
 * The Contacts of a REGISTER as the Registrar wants them: '*' for the wildcard, else the URI and
 * the expires / q / +sip.instance / reg-id parameters as text (the Registrar judges the values).
 * Undefined when a Contact cannot be read at all (-> 400).
 */
export function registerContacts(values: readonly string[]): (ContactFacts | '*')[] | undefined {
  const out: (ContactFacts | '*')[] = [];
  for (const v of values) {
    for (const item of splitList(v)) {
      if (item === '*') {
        out.push('*');
        continue;
      }
      const na = parseNameAddr(item);
      if (na === undefined) return undefined;
      const c: ContactFacts = { uri: na.uri };
      const p = na.params;
      if (p.has('expires')) c.expires = p.get('expires')!;
      if (p.has('q')) c.q = p.get('q')!;
      if (p.has('+sip.instance')) c.instance = p.get('+sip.instance')!;
      if (p.has('reg-id')) c.regId = p.get('reg-id')!;
      out.push(c);
    }
  }
  return out;
}

/** The URI of a From / To / Contact value (angle brackets and parameters removed). */
export function uriOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : parseNameAddr(value)?.uri;
}

/** The user part of a sip:/sips: URI, percent-decoded; undefined when there is none. */
export function userOf(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  const m = /^sips?:([^@;?>]+)@/i.exec(uri.trim());
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!.split(':')[0]!);
  } catch {
    return undefined;
  }
}

/** A quoted display name for From headers we write (RFC 3261 §25.1 quoted-string). */
export function quoteDisplayName(name: string): string {
  return `"${name.replace(/[\r\n]/g, ' ').replace(/(["\\])/g, '\\$1')}"`;
}
