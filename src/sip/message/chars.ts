// Character classes from the RFC 3261 §25.1 ABNF as lookup tables, so scanners index an array
// instead of chaining comparisons on the hot path.

function table(chars: string, alnum: boolean): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~", true);
/** unreserved = alphanum / mark */
const MARK = "-_.!~*'()";
/** user = 1*( unreserved / escaped / user-unreserved ) */
export const USER = table(MARK + '&=+$,;?/', true);
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table(MARK + '&=+$,', true);
/** paramchar = param-unreserved / unreserved / escaped */
export const PARAMCHAR = table(MARK + '[]/:&+$', true);
/** hname / hvalue = *( hnv-unreserved / unreserved / escaped ) */
export const HNV = table(MARK + '[]/?:+$', true);
/** hostname chars; "_" tolerated because deployed hosts use it. */
export const HOST = table('-._', true);
/** IPv6 reference body. */
export const IPV6 = table(':.', true);

export function isTokenRange(s: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

export function isToken(s: string): boolean {
  return isTokenRange(s, 0, s.length);
}

export function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

export function skipWs(s: string, i: number, end: number = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

export function skipWsBack(s: string, start: number, end: number): number {
  while (end > start) {
    const c = s.charCodeAt(end - 1);
    if (c !== 32 && c !== 9) break;
    end--;
  }
  return end;
}

/** Index just past a quoted-string starting at `i` (s[i] === '"'), or -1 if unterminated (RFC 3261 §25.1). */
export function endOfQuoted(s: string, i: number, end: number = s.length): number {
  for (let j = i + 1; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) {
      j++;
      continue;
    }
    if (c === 34 /* " */) return j + 1;
  }
  return -1;
}

/** Unescape the inside of a quoted-string (quoted-pair = "\" char). */
export function unquote(s: string, start: number, end: number): string {
  const slice = s.slice(start, end);
  if (slice.indexOf('\\') < 0) return slice;
  let out = '';
  for (let i = start; i < end; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < end) {
      out += s[i + 1];
      i++;
    } else out += ch;
  }
  return out;
}

export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, '\\$&') + '"';
}

/** Parse a run of decimal digits; returns -1 when empty, not all digits, or above `max`. */
export function parseDigits(s: string, start: number, end: number, max: number): number {
  if (start >= end || end - start > 16) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n > max ? -1 : n;
}
