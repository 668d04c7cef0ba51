// SIP URI equality (RFC 3261 §19.1.4), used to match a REGISTER's Contact against stored
// bindings and a digest-uri against the Request-URI. Self-contained on purpose: the registrar
// receives header text from drachtio-srf, whose parser is not ours, and needs only comparison.

interface LooseUri {
  scheme: string;
  userinfo: string | null;
  host: string;
  port: string | null;
  params: Map<string, string | null>;
  headers: Map<string, string>;
}

/** Parameters that, when present in either URI, must be present and equal in both (§19.1.4). */
const MUST_MATCH = ['user', 'ttl', 'method', 'maddr', 'transport'];

/**
 * §19.1.4: scheme and host compare case-insensitively, userinfo case-sensitively, escapes equal
 * their characters, a missing port differs from an explicit default port, uri-parameters
 * user/ttl/method/maddr/transport must agree when either has them, other parameters only when
 * both have them, and header components must all agree. Non-SIP URIs compare as exact text
 * (scheme case aside).
 */
export function sipUriEquals(a: string, b: string): boolean {
  const x = parseLoose(a);
  const y = parseLoose(b);
  if (!x || !y) return a.trim() === b.trim();
  if (x.scheme !== y.scheme || x.userinfo !== y.userinfo || x.host !== y.host || x.port !== y.port) return false;
  for (const name of MUST_MATCH) {
    if (x.params.has(name) || y.params.has(name)) {
      if (!x.params.has(name) || !y.params.has(name) || x.params.get(name) !== y.params.get(name)) return false;
    }
  }
  for (const [name, v] of x.params) {
    if (y.params.has(name) && y.params.get(name) !== v) return false;
  }
  if (x.headers.size !== y.headers.size) return false;
  for (const [name, v] of x.headers) if (y.headers.get(name) !== v) return false;
  return true;
}

/** Splits a sip:/sips: URI (with or without <>); undefined for other schemes or garbage. */
function parseLoose(text: string): LooseUri | undefined {
  let s = text.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1);
  const colon = s.indexOf(':');
  if (colon < 0) return undefined;
  const scheme = s.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return undefined;
  let rest = s.slice(colon + 1);
  const headers = new Map<string, string>();
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const part of rest.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      const name = unescape(eq < 0 ? part : part.slice(0, eq)).toLowerCase();
      headers.set(name, unescape(eq < 0 ? '' : part.slice(eq + 1)));
    }
    rest = rest.slice(0, q);
  }
  // '@' cannot appear unescaped in parameters, so the first one ends the userinfo.
  let userinfo: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    userinfo = unescape(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  const semi = rest.indexOf(';');
  const hostport = semi < 0 ? rest : rest.slice(0, semi);
  const params = new Map<string, string | null>();
  if (semi >= 0) {
    for (const part of rest.slice(semi + 1).split(';')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const name = unescape(eq < 0 ? part : part.slice(0, eq)).toLowerCase();
      // Parameter values compare case-insensitively (§19.1.4), flags have no value.
      params.set(name, eq < 0 ? null : unescape(part.slice(eq + 1)).toLowerCase());
    }
  }
  let host: string;
  let port: string | null = null;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return undefined;
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) return undefined;
      port = after.slice(1);
    }
  } else {
    const pc = hostport.lastIndexOf(':');
    host = pc < 0 ? hostport : hostport.slice(0, pc);
    if (pc >= 0) port = hostport.slice(pc + 1);
  }
  if (!host || (port !== null && !/^\d{1,5}$/.test(port))) return undefined;
  if (port !== null) port = String(Number(port)); // "05060" and "5060" are the same port
  return { scheme, userinfo, host: host.toLowerCase(), port, params, headers };
}

function unescape(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a malformed escape is compared literally
  }
}
