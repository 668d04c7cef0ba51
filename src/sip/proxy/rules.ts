// Pure RFC 3261 §16 proxy rules, with no state, sockets or clocks: recognising our own URIs,
// Route processing on receipt (§16.4), building one branch of a forwarded request (§16.6),
// turning a received response into the one we relay upstream (§16.7 step 3), and choosing the
// best final response of a response context (§16.7 step 6). Table-driven tests: rules.test.ts.
import { formatUri, parseNameAddr, parseUri, type SipRequest, type SipResponse, type SipUri, type Via } from '../message/index.js';
import type { Endpoint } from '../transport/index.js';

/** Decides whether a URI names this element (one of our listening host:port pairs). */
export type IsOurs = (uri: SipUri) => boolean;

/** An `IsOurs` over a fixed list of endpoints; a URI without port means 5060 (5061 for sips/tls). */
export function oursFrom(endpoints: readonly Endpoint[]): IsOurs {
  const keys = new Set<string>();
  for (const e of endpoints) keys.add(`${e.address.toLowerCase()}:${e.port}`);
  return (uri) => {
    if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return false;
    const raw = uri.host.toLowerCase();
    const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
    const t = uri.params.get('transport');
    const secure = uri.scheme === 'sips' || (typeof t === 'string' && /^(tls|wss)$/i.test(t));
    return keys.has(`${host}:${uri.port ?? (secure ? 5061 : 5060)}`);
  };
}

function routeUri(value: string): SipUri | undefined {
  try {
    return parseNameAddr(value).uri;
  } catch {
    return undefined;
  }
}

/**
 * RFC 3261 §16.4 (and RFC 5658 double Record-Route): how many Route values at the top of the
 * request name us. They are removed before forwarding.
 */
export function ownRouteCount(req: SipRequest, ours: IsOurs): number {
  let n = 0;
  for (const r of req.headers.getAll('Route')) {
    const u = routeUri(r);
    if (u === undefined || !ours(u)) break;
    n++;
  }
  return n;
}

/**
 * Whether an in-dialog request (To tag present) is one we relay as a record-routing proxy rather
 * than a request for one of our own dialogs: its top Route names us and, once our Route values
 * are removed, something else remains to reach (another Route, or a Request-URI that is not us).
 */
export function isProxiedInDialog(req: SipRequest, ours: IsOurs): boolean {
  const own = ownRouteCount(req, ours);
  if (own === 0) return false;
  if (req.headers.getAll('Route').length > own) return true;
  try {
    return !ours(req.requestUri());
  } catch {
    return false;
  }
}

/** RFC 3261 §16.4: removes our Route values from the top of `req` (in place). */
export function removeOwnRoutes(req: SipRequest, ours: IsOurs): void {
  for (let n = ownRouteCount(req, ours); n > 0; n--) req.headers.shift('Route');
}

export interface BranchSpec {
  /** New Request-URI (§16.5 target); undefined keeps it (in-dialog requests along a route set). */
  target?: string;
  /** Headers the application asked to add. */
  extraHeaders?: readonly (readonly [string, string])[];
}

/** RFC 3261 §16.6 step 3: Max-Forwards of a forwarded request that carried none. */
export const DEFAULT_MAX_FORWARDS = 70;

/**
 * RFC 3261 §16.6 steps 1–6: one branch of a forwarded request, built on a copy of `received`
 * (whose own Route values were already removed, §16.4).
 *   1. copy                               2. Request-URI := target
 *   3. Max-Forwards - 1 (70 when absent)  5. extra headers
 *   6. postprocess routing: a strict router at the top of Route becomes the Request-URI.
 * The next hop is then chosen from the result (§16.6 step 7); `stampBranch` adds steps 4 and 8.
 */
export function buildBranch(received: SipRequest, spec: BranchSpec = {}): SipRequest {
  const req = received.clone();
  if (spec.target !== undefined) req.uri = spec.target;
  const mf = received.maxForwards();
  req.headers.set('Max-Forwards', String(mf === undefined ? DEFAULT_MAX_FORWARDS : Math.max(0, mf - 1)));
  for (const [n, v] of spec.extraHeaders ?? []) req.headers.append(n, v);
  strictRoute(req);
  req.headers.set('Content-Length', String(req.body.length));
  return req;
}

/**
 * RFC 3261 §16.6 step 4 (Record-Route values, top first) and step 8 (our Via on top of the
 * existing ones, with a fresh branch), once the next hop is known. In place.
 */
export function stampBranch(req: SipRequest, via: string, recordRoute: readonly string[] = []): void {
  for (let i = recordRoute.length - 1; i >= 0; i--) req.headers.prepend('Record-Route', recordRoute[i]);
  req.headers.prepend('Via', via);
}

/**
 * RFC 3261 §16.6 step 6 / §16.12: when the next Route is a strict router (no `lr`), the
 * Request-URI goes to the end of the Route set and the router becomes the Request-URI.
 */
function strictRoute(req: SipRequest): void {
  const top = req.headers.get('Route');
  if (top === undefined) return;
  const u = routeUri(top);
  if (u === undefined || u.params.has('lr')) return;
  req.headers.shift('Route');
  req.headers.append('Route', `<${req.uri}>`);
  req.uri = formatUri(u);
}

/** A Record-Route value for this element (§16.6 step 4): always a loose router. */
export function recordRouteFor(local: Endpoint): string {
  const host = local.address.includes(':') ? `[${local.address}]` : local.address;
  const scheme = local.transport === 'tls' || local.transport === 'wss' ? 'sips' : 'sip';
  const t = local.transport === 'udp' || local.transport === 'tls' ? '' : `;transport=${local.transport}`;
  return `<${scheme}:${host}:${local.port}${t};lr>`;
}

/**
 * RFC 3261 §16.6 step 4 + RFC 5658: one Record-Route when both sides use the same listener,
 * two (downstream-facing first) when the request changes transport or address.
 */
export function recordRoutes(inbound: Endpoint, outbound: Endpoint): string[] {
  const down = recordRouteFor(outbound);
  const up = recordRouteFor(inbound);
  return down === up ? [down] : [down, up];
}

/** RFC 3261 §16.7 step 3: the response we relay upstream is the received one minus our Via. */
export function relayedResponse(res: SipResponse): SipResponse | undefined {
  const out = res.clone();
  out.headers.shift('Via');
  // A response with no Via left was for us, not for relaying (§16.7 step 3).
  if (!out.headers.has('Via')) return undefined;
  out.headers.set('Content-Length', String(out.body.length));
  return out;
}

/** Statuses RFC 3261 §16.7 step 6 prefers within 4xx (they let the client retry usefully). */
const PREFERRED_4XX = new Set([401, 407, 415, 420, 484]);

/**
 * RFC 3261 §16.7 step 6: the best final response among non-2xx finals, in arrival order.
 * Any 6xx wins; otherwise the lowest class, preferring 401/407/415/420/484 within 4xx, else the
 * first received of that class. Returns the index into `finals`, or -1 when empty.
 */
export function bestResponseIndex(finals: readonly { status: number }[]): number {
  let best = -1;
  let bestRank = Infinity;
  for (let i = 0; i < finals.length; i++) {
    const rank = rankOf(finals[i].status);
    if (rank < bestRank) {
      best = i;
      bestRank = rank;
    }
  }
  return best;
}

function rankOf(status: number): number {
  if (status >= 600) return 0;
  const cls = Math.floor(status / 100);
  // Within a class the preferred 4xx rank just before the others.
  return cls * 10 + (PREFERRED_4XX.has(status) ? 0 : 1);
}

/**
 * RFC 3261 §16.7 step 6: what we send upstream for the chosen response's status. A 503 becomes
 * 500 (the 503 was about the downstream element, not us); no response at all becomes 408.
 */
export function upstreamStatus(chosen: number | undefined): number {
  if (chosen === undefined) return 408;
  return chosen === 503 ? 500 : chosen;
}

/**
 * The Request-URI of a branch sent to a drachtio-style destination (sip-proxy-controller.cpp
 * ClientTransaction::forwardRequest): the received Request-URI stays — a destination is where the
 * request goes, not whom it is for — unless it is a sip/sips URI naming this element, which would
 * only loop back to us; then the destination replaces it, verbatim. Undefined = keep.
 */
export function destinationRequestUri(received: SipRequest, destination: string, ours: IsOurs): string | undefined {
  let uri: SipUri;
  try {
    uri = received.requestUri();
  } catch {
    return undefined;
  }
  return (uri.scheme === 'sip' || uri.scheme === 'sips') && ours(uri) ? destination : undefined;
}

/** Parses a proxy destination as drachtio-srf sends it (already `sip:`-prefixed). */
export function parseTarget(t: string): SipUri | undefined {
  try {
    const u = parseUri(t.trim());
    return u.scheme === 'sip' || u.scheme === 'sips' ? u : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RFC 3261 §18.2.2 + RFC 3581: where a response goes per a Via (received / rport first), as the
 * `source` of a stateless relay. Undefined for a transport we do not speak.
 */
export function viaSource(v: Via): Endpoint | undefined {
  const t = v.transport.toLowerCase();
  if (t !== 'udp' && t !== 'tcp' && t !== 'tls' && t !== 'ws' && t !== 'wss') return undefined;
  const raw = v.received ?? v.host;
  const address = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  const port = typeof v.rport === 'number' ? v.rport : (v.port ?? (t === 'tls' || t === 'wss' ? 5061 : 5060));
  return { transport: t, address, port };
}
