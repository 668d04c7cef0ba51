// Header parameters: *( SEMI generic-param ) with SWS around ";" and "=" (RFC 3261 §25.1,
// §7.3.1). Shared by name-addr (tag, expires, q) and Via (branch, received, rport).
import { TOKEN, endOfQuoted, skipWs } from './chars.js';

/**
 * Parse `;name[=value]...` from `s[i..]` into `out` (keys lower-cased, null for flags, quoted
 * values kept with their quotes). Returns null on success or a short description of the fault. With `out` null
 * the params are only validated.
 */
export function parseHeaderParams(s: string, i: number, out: Map<string, string | null> | null): string | null {
  const end = s.length;
  i = skipWs(s, i, end);
  while (i < end) {
    if (s.charCodeAt(i) !== 59 /* ; */) return 'unexpected text after value';
    i = skipWs(s, i + 1, end);
    const ns = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) break;
      i++;
    }
    if (i === ns) return 'empty parameter';
    const nameEnd = i;
    i = skipWs(s, i, end);
    let value: string | null = null;
    let vs = -1;
    let ve = -1;
    if (i < end && s.charCodeAt(i) === 61 /* = */) {
      i = skipWs(s, i + 1, end);
      if (i < end && s.charCodeAt(i) === 34) {
        const q = endOfQuoted(s, i, end);
        if (q < 0) return 'unterminated quoted string';
        vs = i;
        ve = i = q;
      } else {
        // gen-value = token / host / quoted-string; IPv6 references bring ":" "[" "]".
        vs = i;
        while (i < end) {
          const c = s.charCodeAt(i);
          if (c === 59 || c === 32 || c === 9 || c === 44 || c === 34 || c === 60 || c === 62 || c < 32) break;
          i++;
        }
        if (i === vs) return 'empty parameter value';
        ve = i;
      }
      i = skipWs(s, i, end);
    }
    // Validation-only callers pass null: no strings are built.
    if (out !== null) {
      if (vs >= 0) value = s.slice(vs, ve);
      out.set(s.slice(ns, nameEnd).toLowerCase(), value);
    }
  }
  return null;
}

/** Serialise params as `;k=v` / `;flag`. */
export function formatParams(params: Map<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

