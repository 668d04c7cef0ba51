// Header-name canonicalisation: case-insensitive names and compact forms (RFC 3261 §7.3.3,
// §20) map to one canonical spelling. Lookups are cached per raw spelling in a bounded Map
// because the same few spellings arrive millions of times.

export interface HeaderName {
  /** Canonical spelling for known headers ("Call-ID"); the first-seen spelling for unknown ones. */
  readonly name: string;
  /** Lower-case canonical name: the identity used for comparisons. */
  readonly key: string;
  /** Comma-separated list header (RFC 3261 §7.3.1): getAll() splits its values. */
  readonly list: boolean;
}

const CANONICAL = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Accept-Resource-Priority',
  'Alert-Info', 'Allow', 'Allow-Events', 'Answer-Mode', 'Authentication-Info', 'Authorization',
  'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding', 'Content-Language',
  'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Diversion', 'Error-Info', 'Event', 'Expires',
  'Flow-Timer', 'History-Info', 'Identity', 'Identity-Info', 'In-Reply-To', 'Join', 'Max-Forwards',
  'MIME-Version', 'Min-Expires', 'Min-SE', 'Organization', 'P-Asserted-Identity', 'P-Access-Network-Info',
  'P-Charging-Vector', 'P-Preferred-Identity', 'Path', 'Priority', 'Privacy', 'Proxy-Authenticate',
  'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-Sub', 'Refer-To',
  'Referred-By', 'Reject-Contact', 'Remote-Party-ID', 'Replaces', 'Reply-To', 'Request-Disposition',
  'Require', 'Resource-Priority', 'Retry-After', 'Route', 'RSeq', 'Security-Client', 'Security-Server',
  'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag', 'SIP-If-Match', 'Subject',
  'Subscription-State', 'Supported', 'Target-Dialog', 'Timestamp', 'To', 'Unsupported', 'User-Agent',
  'Via', 'Warning', 'WWW-Authenticate',
];

/** RFC 3261 §7.3.3 and the IANA registry of compact forms. */
const COMPACT: Record<string, string> = {
  i: 'Call-ID', m: 'Contact', f: 'From', t: 'To', v: 'Via', l: 'Content-Length', c: 'Content-Type',
  k: 'Supported', s: 'Subject', e: 'Content-Encoding', o: 'Event', u: 'Allow-Events', r: 'Refer-To',
  x: 'Session-Expires', b: 'Referred-By', y: 'Identity', j: 'Reject-Contact', a: 'Accept-Contact',
  d: 'Request-Disposition',
};

/**
 * Headers whose values are comma-separated lists. Deliberately absent: WWW-Authenticate,
 * Authorization, Proxy-Authenticate, Proxy-Authorization, Authentication-Info (their challenge
 * params hold commas), Date, From/To/Call-ID/CSeq and every unknown header.
 */
const LIST = new Set([
  'accept', 'accept-contact', 'accept-encoding', 'accept-language', 'accept-resource-priority',
  'alert-info', 'allow', 'allow-events', 'call-info', 'contact', 'content-encoding', 'content-language',
  'diversion', 'error-info', 'history-info', 'in-reply-to', 'p-asserted-identity', 'p-preferred-identity',
  'path', 'proxy-require', 'reason', 'record-route', 'reject-contact', 'request-disposition', 'require',
  'resource-priority', 'route', 'security-client', 'security-server', 'security-verify', 'service-route',
  'supported', 'unsupported', 'via', 'warning',
]);

const KNOWN = new Map<string, HeaderName>();
for (const n of [...CANONICAL, 'From']) {
  const key = n.toLowerCase();
  KNOWN.set(key, { name: n, key, list: LIST.has(key) });
}
for (const [c, n] of Object.entries(COMPACT)) KNOWN.set(c, KNOWN.get(n.toLowerCase())!);

/**
 * Known names bucketed by (length, lower-case first char) so the parser can identify a header
 * name in place, without slicing it out of the header block or hashing it.
 */
const BUCKETS = new Map<number, Array<[string, HeaderName]>>();
for (const [lower, h] of KNOWN) {
  const k = lower.length * 128 + lower.charCodeAt(0);
  let b = BUCKETS.get(k);
  if (b === undefined) BUCKETS.set(k, (b = []));
  b.push([lower, h]);
}

/** The known header named by s[start, end) (any case), or undefined. Allocation-free. */
export function knownHeaderAt(s: string, start: number, end: number): HeaderName | undefined {
  const b = BUCKETS.get((end - start) * 128 + (s.charCodeAt(start) | 0x20));
  if (b === undefined) return undefined;
  outer: for (let k = 0; k < b.length; k++) {
    const lower = b[k][0];
    for (let i = 1; i < lower.length; i++) {
      let c = s.charCodeAt(start + i);
      if (c >= 65 && c <= 90) c |= 0x20;
      if (c !== lower.charCodeAt(i)) continue outer;
    }
    return b[k][1];
  }
  return undefined;
}

/** Bound on cached raw spellings: hostile peers can invent unlimited header names. */
const MAX_CACHE = 2048;
const cache = new Map<string, HeaderName>();

/** Canonical identity of a header name as spelled on the wire or by a caller. */
export function headerName(raw: string): HeaderName {
  let h = cache.get(raw);
  if (h !== undefined) return h;
  const lower = raw.toLowerCase();
  h = KNOWN.get(lower) ?? { name: raw, key: lower, list: false };
  if (cache.size < MAX_CACHE) cache.set(raw, h);
  return h;
}

export function canonicalName(raw: string): string {
  return headerName(raw).name;
}
