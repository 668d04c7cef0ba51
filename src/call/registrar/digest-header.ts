// Parsing of Digest credentials (the Authorization / Proxy-Authorization value) and formatting of
// challenges. RFC 7616 §3.4 and RFC 3261 §25.1: auth-param = token "=" ( token / quoted-string ),
// separated by commas; parameter names are case-insensitive; a quoted string may hold commas
// and backslash-escaped characters.

/** Longest credentials value we parse; anything longer is hostile or broken. */
export const MAX_AUTH_HEADER_BYTES = 4096;

export type ParseResult = { ok: true; scheme: string; params: Map<string, string> } | { ok: false; reason: string };

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses `Digest username="a", realm="b", nc=00000001, ...`. Names come back lower-cased,
 * values unquoted and unescaped. A repeated parameter is an error (RFC 7616 §3.4: each
 * directive at most once) rather than last-wins, which would let a proxy and us disagree.
 */
export function parseCredentials(value: string): ParseResult {
  if (value.length > MAX_AUTH_HEADER_BYTES) return { ok: false, reason: 'credentials too long' };
  let i = skipLws(value, 0);
  const schemeStart = i;
  while (i < value.length && TOKEN.test(value[i]!)) i++;
  if (i === schemeStart) return { ok: false, reason: 'missing auth scheme' };
  const scheme = value.slice(schemeStart, i);
  const params = new Map<string, string>();
  if (i < value.length && !isLws(value[i]!)) return { ok: false, reason: 'bad auth scheme' };
  i = skipLws(value, i);
  while (i < value.length) {
    const nameStart = i;
    while (i < value.length && TOKEN.test(value[i]!)) i++;
    if (i === nameStart) return { ok: false, reason: `expected a parameter name at offset ${i}` };
    const name = value.slice(nameStart, i).toLowerCase();
    i = skipLws(value, i);
    if (value[i] !== '=') return { ok: false, reason: `parameter ${name} has no value` };
    i = skipLws(value, i + 1);
    let v: string;
    if (value[i] === '"') {
      // quoted-string with quoted-pair (RFC 3261 §25.1)
      let out = '';
      i++;
      for (;;) {
        if (i >= value.length) return { ok: false, reason: `unterminated quoted value for ${name}` };
        const c = value[i]!;
        if (c === '"') break;
        if (c === '\\') {
          if (i + 1 >= value.length) return { ok: false, reason: `bad escape in ${name}` };
          out += value[i + 1];
          i += 2;
          continue;
        }
        if (c === '\r' || c === '\n') return { ok: false, reason: `line break inside ${name}` };
        out += c;
        i++;
      }
      i++;
      v = out;
    } else {
      const start = i;
      while (i < value.length && TOKEN.test(value[i]!)) i++;
      if (i === start) return { ok: false, reason: `parameter ${name} has an empty value` };
      v = value.slice(start, i);
    }
    if (params.has(name)) return { ok: false, reason: `parameter ${name} repeated` };
    params.set(name, v);
    i = skipLws(value, i);
    if (i >= value.length) break;
    if (value[i] !== ',') return { ok: false, reason: `expected "," at offset ${i}` };
    i = skipLws(value, i + 1);
  }
  return { ok: true, scheme, params };
}

/** Formats a quoted-string, escaping `"` and `\`; refuses CR/LF (header injection). */
export function quote(s: string): string {
  if (/[\r\n]/.test(s)) throw new RangeError('CR/LF in a header value');
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function isLws(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function skipLws(s: string, i: number): number {
  while (i < s.length && isLws(s[i]!)) i++;
  return i;
}
