// Where a request we originate goes: RFC 3261 §8.1.2 / §12.2.1.1 pick the URI (first Route when
// it is a loose router, else the Request-URI) and RFC 3263 §4 turns it into transport, host and
// port — without NAPTR/SRV: an explicit transport param wins, sips means TLS, the port defaults
// to 5060 (5061 for TLS/WSS), and host names go through the OS resolver (dns.lookup).
// In-dialog requests to a peer reachable only over the connection it opened (a WebSocket client,
// RFC 7118 §5; a `.invalid` Contact host, RFC 6761 §6.4) use the dialog's flow (RFC 5626 §5.3).
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SipError } from '../../lib/errors.js';
import { parseNameAddr, parseUri, type SipRequest, type SipUri, type TransportName } from '../message/index.js';
import type { Destination, Endpoint } from '../transport/index.js';

export interface NextHop {
  transport: TransportName;
  /** IP literal (IPv6 without brackets) or a host name still to resolve. */
  host: string;
  port: number;
}

export interface NextHopOptions {
  /** Transports the stack listens on: a request only leaves on one of them. */
  listening: readonly TransportName[];
  /** Preferred transport when the URI names none (a dialog's own transport). */
  hint?: TransportName;
}

const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** RFC 3261 §8.1.2: the URI that decides the next hop. */
export function targetUri(req: SipRequest): SipUri {
  const route = req.headers.get('Route');
  if (route !== undefined) {
    const r = parseNameAddr(route).uri;
    // RFC 3261 §16.12 / §12.2.1.1: a loose router is the next hop; for a strict router the
    // request was already built with that router in the Request-URI.
    if (r.params.has('lr')) return r;
  }
  return parseUri(req.uri);
}

/** RFC 3263 §4.1 + §4.2 without DNS SRV/NAPTR. Throws SipError(416 / 503). */
export function selectNextHop(uri: SipUri, opts: NextHopOptions): NextHop {
  if (uri.scheme === 'tel') throw new SipError(416, 'Unsupported URI Scheme');
  const secure = uri.scheme === 'sips';
  const param = uri.params.get('transport');
  let transport: TransportName;
  if (typeof param === 'string' && param !== '') {
    const p = param.toLowerCase();
    if (!TRANSPORTS.has(p)) throw new SipError(503, 'Service Unavailable', `unsupported transport ${param}`);
    // RFC 3261 §26.2.2: sips over TCP/WS means TLS/WSS.
    transport = secure && p === 'tcp' ? 'tls' : secure && p === 'ws' ? 'wss' : (p as TransportName);
  } else if (secure) {
    // RFC 3263 §4.1: a SIPS URI with no transport uses TLS.
    transport = 'tls';
  } else if (opts.hint !== undefined && opts.listening.includes(opts.hint)) {
    transport = opts.hint;
  } else if (opts.listening.includes('udp') || opts.listening.length === 0) {
    // RFC 3263 §4.1: no transport param, not secure: UDP.
    transport = 'udp';
  } else {
    // We cannot send UDP without a UDP socket; the URI left the choice to us.
    transport = opts.listening.includes('tcp') ? 'tcp' : opts.listening[0];
  }
  if (opts.listening.length > 0 && !opts.listening.includes(transport)) {
    throw new SipError(503, 'Service Unavailable', `no ${transport} transport to reach ${uri.host}`);
  }
  // RFC 3261 §18.1.1 / RFC 3263 §4.2: maddr overrides the host.
  const maddr = uri.params.get('maddr');
  const rawHost = typeof maddr === 'string' && maddr !== '' ? maddr : uri.host;
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  // RFC 3263 §4.2: without SRV the port is the URI's, or the transport's default.
  const port = uri.port ?? (transport === 'tls' || transport === 'wss' ? 5061 : 5060);
  return { transport, host, port };
}

export type Lookup = (host: string) => Promise<{ address: string }>;

const osLookup: Lookup = (host) => dnsLookup(host);

/** Resolves a next hop's host name to an address. A failure becomes SipError(503). */
export async function resolveNextHop(hop: NextHop, lookup: Lookup = osLookup): Promise<Endpoint> {
  if (isIP(hop.host) !== 0) return { transport: hop.transport, address: hop.host, port: hop.port };
  try {
    const { address } = await lookup(hop.host);
    return { transport: hop.transport, address, port: hop.port };
  } catch {
    throw new SipError(503, 'Service Unavailable', `cannot resolve ${hop.host}`);
  }
}

/** A connection-oriented flow a dialog was established over (RFC 5626 §3.2 / RFC 7118 §5). */
export interface DialogFlow {
  /** The connection's id (`Inbound.connectionId` of a stream transport). */
  connectionId: string;
  /** The peer end of that connection. */
  remote: Endpoint;
}

/** RFC 6761 §6.4: names under `.invalid` never resolve (SIP.js Contacts use them, RFC 7118 §5). */
export function isInvalidHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'invalid' || h.endsWith('.invalid');
}

/** The destination that sends on `flow`. */
export function flowDestination(flow: DialogFlow): Destination {
  return { ...flow.remote, connectionId: flow.connectionId };
}

/**
 * RFC 3261 §18.1.1 + RFC 5626 §5.3: where an in-dialog request goes when the dialog has an open
 * flow. A hop we cannot reach by ourselves — WS/WSS (RFC 7118 §5: only the client connects) or a
 * `.invalid` host — takes the flow at once; any other hop is resolved as usual and falls back to
 * the flow only when resolution fails (SipError 503). Without a flow, plain `resolveNextHop`.
 */
export async function resolveInDialog(hop: NextHop, flow: DialogFlow | undefined, lookup: Lookup = osLookup): Promise<Destination> {
  if (flow === undefined) return resolveNextHop(hop, lookup);
  if (hop.transport === 'ws' || hop.transport === 'wss' || isInvalidHost(hop.host)) return flowDestination(flow);
  try {
    return await resolveNextHop(hop, lookup);
  } catch (err) {
    if (err instanceof SipError) return flowDestination(flow);
    throw err;
  }
}
