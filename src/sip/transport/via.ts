// Via processing owned by the transport layer: stamping received/rport on requests we receive
// (RFC 3261 §18.2.1, RFC 3581 §4) and choosing where a response goes (§18.2.2, RFC 3581 §4).
import { formatVia, type SipMessage, type SipRequest, type TransportName, type Via } from '../message/index.js';
import { defaultPort, type Endpoint } from './types.js';

/** "[::1]" -> "::1"; lower-cased for comparison. */
export function bareHost(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return h.toLowerCase();
}

/** IPv6 literals in brackets, as a Via sent-by / URI host needs them. */
export function hostForVia(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/**
 * RFC 3261 §18.2.1: add received=<source ip> when the sent-by host differs from the packet's source.
 * RFC 3581 §4: when rport is present (as a flag), fill in the source port and always add received.
 * Rewrites the top Via value in place (same header position); returns the Via now on top.
 * Throws (SipError 400) if there is no readable top Via.
 */
export function applyReceived(req: SipRequest, source: Endpoint): Via {
  const cur = req.topVia();
  const hasRport = cur.rport !== undefined;
  if (!hasRport && bareHost(cur.host) === source.address.toLowerCase()) return cur;
  // A copy: the message's cached Via must not change under anyone holding it.
  const top: Via = { ...cur, params: new Map(cur.params), received: source.address };
  if (hasRport) top.rport = source.port;
  replaceTopVia(req, top);
  return top;
}

/** Swaps the first Via element for `via`, keeping its position (other elements on the line stay). */
export function replaceTopVia(m: SipMessage, via: Via): void {
  m.headers.shift('Via');
  m.headers.prepend('Via', formatVia(via));
}

/** Where to send a response to a request that arrived over an unreliable transport
 *  (RFC 3261 §18.2.2 with RFC 3581 §4). The host may be a name that still needs resolving. */
export function unreliableResponseTarget(via: Via): { host: string; port: number } {
  const viaPort = via.port ?? 5060;
  const maddr = via.maddr ?? paramValue(via, 'maddr');
  if (maddr) return { host: bareHost(maddr), port: viaPort };
  const received = via.received ?? paramValue(via, 'received');
  const rport = via.rport ?? numParam(via, 'rport');
  if (received) return { host: bareHost(received), port: typeof rport === 'number' ? rport : viaPort };
  return { host: bareHost(via.host), port: viaPort };
}

/** Reliable fallback when the original connection is gone (§18.2.2): received (else sent-by host)
 *  with the sent-by port or the transport's default port. */
export function reliableResponseTarget(via: Via, transport: TransportName): { host: string; port: number } {
  const received = via.received ?? paramValue(via, 'received');
  return { host: bareHost(received || via.host), port: via.port ?? defaultPort(transport) };
}

/** Via transport token -> our transport name; undefined for ones we do not speak (e.g. SCTP). */
export function viaTransport(via: Via): TransportName | undefined {
  switch (via.transport.toUpperCase()) {
    case 'UDP':
      return 'udp';
    case 'TCP':
      return 'tcp';
    case 'TLS':
      return 'tls';
    case 'WS':
      return 'ws';
    case 'WSS':
      return 'wss';
    default:
      return undefined;
  }
}

function paramValue(via: Via, name: string): string | undefined {
  const v = via.params.get(name);
  return v ?? undefined;
}

function numParam(via: Via, name: string): number | undefined {
  const v = via.params.get(name);
  if (v == null) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}
