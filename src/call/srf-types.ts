// Narrow local views of the parts of drachtio-srf 5.0.29 the call layer uses but its bundled
// TypeScript declarations (lib/@types/index.d.ts) omit or type loosely: the verb routers
// (srf.register, srf.options — created at runtime from sip-methods), the raw message text,
// the transaction meta (source address / port / transport) and the callback form of res.send.
// Only this directory imports drachtio-srf (see README "Layout").
import Srf from 'drachtio-srf';

export { Srf };
export type SrfDialog = Srf.Dialog;

/** An incoming request as srf hands it to a verb handler. */
export interface InboundRequest {
  readonly method: string;
  readonly uri: string;
  readonly body: string;
  /** Where the request came from (drachtio meta: remote address / port / transport). */
  readonly source_address: string;
  readonly source_port: number;
  /** 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' (lower case as the server sends it). */
  readonly protocol: string;
  readonly msg: { readonly raw?: string };
  get(name: string): string | undefined;
  has(name: string): boolean;
  on(event: 'cancel', listener: (cancel: unknown) => void): unknown;
}

export interface ResponseOptions {
  headers?: Record<string, string>;
  body?: string;
}

/** The response object of a verb handler. */
export interface OutboundResponse {
  readonly finalResponseSent: boolean;
  send(status: number, reason: string, opts: ResponseOptions, callback?: (err: unknown) => void): void;
}

export type VerbHandler = (req: InboundRequest, res: OutboundResponse) => void;

/** The per-verb routers srf creates at runtime (each registers `route|<verb>` with the server). */
export interface VerbRouter {
  register(handler: VerbHandler): void;
  options(handler: VerbHandler): void;
  invite(handler: VerbHandler): void;
}

export function verbs(srf: Srf): VerbRouter {
  return srf as unknown as VerbRouter;
}

/** The request srf sent for createUAC (cbRequest): what CANCEL needs. */
export interface SentRequest {
  cancel(opts?: { headers?: Record<string, string> }, callback?: (err: unknown) => void): void;
}

/** A provisional or final response srf received on a UAC leg. */
export interface ReceivedResponse {
  readonly status: number;
  readonly reason: string;
  readonly body: string;
  get(name: string): string | undefined;
  has(name: string): boolean;
}

/** srf's SipError-like rejection of createUAC / createUAS: a status when the peer answered. */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

/** The slice of srf's connection internals (drachtio-agent → WireProtocol) `abandon` touches. */
interface WireInternals {
  closing?: boolean;
  on?(event: 'connect', fn: (socket: { destroy(): void }) => void): void;
  mapIncomingMsg?: Map<{ destroy(): void }, unknown>;
  reconnectVars?: { retryTimer?: NodeJS.Timeout | null };
}

/**
 * Gives up on an outbound connection that never authenticated. srf.disconnect() only knows
 * authenticated sockets, and srf retries a refused connection forever with backoff; neither is
 * acceptable for a startup that has failed. Marks the wire as closing (no reconnect), cancels a
 * pending retry and destroys every socket it still holds.
 */
export function abandon(srf: Srf): void {
  const wp = wireOf(srf);
  if (wp === undefined) return;
  wp.closing = true;
  if (wp.reconnectVars?.retryTimer) {
    clearTimeout(wp.reconnectVars.retryTimer);
    wp.reconnectVars.retryTimer = null;
  }
  for (const socket of wp.mapIncomingMsg?.keys() ?? []) socket.destroy();
  for (const socket of TRACKED.get(wp) ?? []) socket.destroy();
}

/** Sockets of connections not yet authenticated (srf tracks a socket only once data arrived). */
const TRACKED = new WeakMap<WireInternals, Set<{ destroy(): void }>>();

/** Call right after srf.connect(): remembers the sockets its wire opens, for `abandon`. */
export function trackSockets(srf: Srf): void {
  const wp = wireOf(srf);
  if (wp?.on === undefined || TRACKED.has(wp)) return;
  const set = new Set<{ destroy(): void }>();
  TRACKED.set(wp, set);
  wp.on('connect', (socket) => set.add(socket));
}

function wireOf(srf: Srf): WireInternals | undefined {
  return (srf as unknown as { app?: { client?: { wp?: WireInternals } } }).app?.client?.wp;
}
