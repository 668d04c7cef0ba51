// Public types of the transport layer (RFC 3261 §18): endpoints, listen specs, what an inbound
// message carries, the layer's typed events and its counters. Implementation lives in layer.ts.
import type { SipMessage, TransportName } from '../message/index.js';
import type { SipLimitsConfig } from '../../config/types.js';

/** A transport address. `address` is an IP literal (IPv6 without brackets) or, for outbound
 *  requests only, a host name the layer resolves with the OS resolver. */
export interface Endpoint {
  transport: TransportName;
  address: string;
  port: number;
}

/**
 * Where a request goes: a transport address, optionally pinned to an open connection-oriented
 * flow (RFC 5626 §5.3 / RFC 7118 §5: a WebSocket client, or a client behind NAT, is reached only
 * over the connection it opened). While that connection is open the request is written to it;
 * once it has closed the address is used as for any other request (a WS peer then fails: we
 * cannot connect to it).
 */
export interface Destination extends Endpoint {
  /** Id of the flow to send on (an `Inbound.connectionId` of a stream transport). */
  connectionId?: string;
}

export interface ListenSpec {
  transport: TransportName;
  address: string;
  /** 0 = ephemeral; the bound port is reported by `listen()`. */
  port: number;
  /** tls / wss: PEM file paths. `ca`, when given, is also trusted for outbound TLS. */
  tls?: { cert: string; key: string; ca?: string };
  /** ws / wss: the HTTP path accepted for the upgrade, "/" by default. */
  path?: string;
}

/** A message received from the network, after rport/received have been applied to the top Via of requests. */
export interface Inbound {
  message: SipMessage;
  /** The bytes received: the datagram / framed message itself (a view, not a copy). */
  raw: Buffer;
  /** Remote address/port as seen by the socket. */
  source: Endpoint;
  /** The listening address it arrived on (for outbound streams: the connection's local side). */
  local: Endpoint;
  /** The flow it came on; pass it back to `sendResponse`. Stream transports: the connection;
   *  UDP: the listening socket, so responses leave from the address the request reached (RFC 3581 §4). */
  connectionId?: string;
  receivedAt: number;
}

export interface DroppedInfo {
  source: Endpoint;
  reason: string;
}

export interface TransportLayerEvents {
  message: (inbound: Inbound) => void;
  /** A message that could not be parsed and could not be answered; counted, then dropped. */
  dropped: (info: DroppedInfo) => void;
}

export interface TransportLayerOptions {
  /** Largest UDP datagram accepted (default 65535). Larger requests are answered 413. */
  maxUdpBytes?: number;
  /** Largest message on a stream (TCP, TLS, WS), default 65536. */
  maxStreamBytes?: number;
  /** Stream connections with no traffic in either direction for this long are closed (default 600 000). */
  idleTimeoutMs?: number;
  /** Outbound TCP/TLS connect timeout (default 10 000). */
  connectTimeoutMs?: number;
  logger?: import('../../lib/log.js').Logger;
}

/** Plain counters, read by the metrics exporter. Monotonic except `connectionsOpen`. */
export interface TransportStats {
  /** Messages (datagrams or framed stream / WS messages) received, keep-alives excluded. */
  received: number;
  /** Messages handed to the OS successfully. */
  sent: number;
  sendErrors: number;
  /** Messages that failed to parse (answered 400 or dropped). */
  parseErrors: number;
  /** Messages dropped without an answer (unparseable, no readable Via, responses that fail to parse, ...). */
  dropped: number;
  /** Messages over the size limit (answered 413 when possible). */
  tooLarge: number;
  /** 400 / 413 answers the transport layer generated itself. */
  rejected: number;
  /** CRLF keep-alives received (RFC 5626 §4.4.1; UDP CRLFCRLF datagrams). */
  keepAlives: number;
  connectionsOpen: number;
  connectionsAccepted: number;
  connectionsOpened: number;
  connectionsIdleClosed: number;
  /** WebSocket upgrades refused (wrong path, no 'sip' subprotocol). */
  wsRejected: number;
}

export function newStats(): TransportStats {
  return {
    received: 0,
    sent: 0,
    sendErrors: 0,
    parseErrors: 0,
    dropped: 0,
    tooLarge: 0,
    rejected: 0,
    keepAlives: 0,
    connectionsOpen: 0,
    connectionsAccepted: 0,
    connectionsOpened: 0,
    connectionsIdleClosed: 0,
    wsRejected: 0,
  };
}

/** Default ports per transport (RFC 3261 §19.1.2; RFC 7118 reuses 5060/5061 for sent-by defaults). */
export function defaultPort(t: TransportName): number {
  return t === 'tls' || t === 'wss' ? 5061 : 5060;
}

export function isReliable(t: TransportName): boolean {
  return t !== 'udp';
}

/** Maps the validated `sip.limits` config onto layer options (seconds -> ms). */
export function optionsFromLimits(l: SipLimitsConfig): Pick<TransportLayerOptions, 'maxUdpBytes' | 'maxStreamBytes' | 'idleTimeoutMs'> {
  return { maxUdpBytes: l.maxUdpBytes, maxStreamBytes: l.maxStreamBytes, idleTimeoutMs: l.idleTimeoutSeconds * 1000 };
}
