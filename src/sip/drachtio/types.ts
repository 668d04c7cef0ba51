// Public types of the embedded drachtio server (src/sip/drachtio): how to start it and what it
// reports. The wire protocol itself is described in /work/shared/drachtio-wire.md.
import type { TlsOptions } from 'node:tls';
import type { Logger } from '../../lib/log.js';
import type { SipStack } from '../stack.js';
import type { IncomingRequest } from '../dialog/types.js';

/** What an `onUnrouted` handler may ask about the server's routes. */
export interface RouteInfo {
  /** Whether a connected app routes `verb` (lower-case drachtio verb: `invite`, `register`, …). */
  routed(verb: string): boolean;
  /** Every verb some connected app routes, lower-case (`cdr:*` pseudo-verbs included). */
  verbs(): string[];
}

/**
 * A new out-of-dialog request that no connected application routed. Answer it (synchronously, or
 * call `req.defer()` and answer later). Left unanswered, or when the handler throws, the server
 * answers itself: 503 / 500. The default handler answers 503, as drachtio-server's
 * "no providers available" path does.
 */
export type UnroutedHandler = (req: IncomingRequest, routes: RouteInfo) => void;

export interface DrachtioListen {
  /** Default 127.0.0.1: applications normally run on the same host. */
  address?: string;
  /** Default 9022 (drachtio's admin port); 0 = ephemeral. */
  port?: number;
  /** Serve TLS instead of plain TCP (node:tls server options: key, cert, ca, …). */
  tls?: TlsOptions;
}

export interface DrachtioServerOptions {
  stack: SipStack;
  listen?: DrachtioListen;
  /** Shared secret every application must present in `authenticate`. */
  secret: string;
  logger: Logger;
  /** Requests no app routed; default: 503 Service Unavailable. */
  onUnrouted?: UnroutedHandler;
}

/** Counts of what the server holds for its applications (leak tests, metrics). */
export interface DrachtioDump {
  apps: number;
  /** Verbs with at least one app routed. */
  routes: number;
  /** Network requests waiting for an app's answer. */
  serverTxns: number;
  /** App requests waiting for a final response. */
  clientTxns: number;
  /** Dialogs held by connected apps. */
  dialogs: number;
  /** Entries of the dialog-owner index. */
  ownedDialogs: number;
}

export interface DrachtioServerHandle {
  readonly address: string;
  readonly port: number;
  dump(): DrachtioDump;
  /** Stops listening and disconnects every application. Idempotent. */
  close(): Promise<void>;
}
