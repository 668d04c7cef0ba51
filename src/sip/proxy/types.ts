// Public types of the stateful proxy (RFC 3261 §16): options of one proxy operation, what it
// reports, and what the proxy core needs from the stack that owns it (ProxyHost).
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { SipRequest, SipResponse, SipUri } from '../message/index.js';
import type { ClientTransaction } from '../transaction/index.js';
import type { Endpoint, Inbound } from '../transport/index.js';
import type { Events } from '../dialog/types.js';
import type { IsOurs } from './rules.js';

/** RFC 3261 §16.6 step 11 says Timer C is greater than 3 minutes. */
export const TIMER_C_MS = 180_000;

export interface ProxyOptions {
  /** 'serial' (default): one target after another on failure; 'simultaneous': fork to all. */
  mode?: 'serial' | 'simultaneous';
  /** Add our Record-Route (§16.6 step 4) so in-dialog requests come through us. */
  recordRoute?: boolean;
  /** On a 3xx, try its Contacts as new targets (§16.5 recursion) instead of only keeping it. */
  followRedirects?: boolean;
  /** Give up a branch (next target) when no provisional at all arrived within this time. */
  provisionalTimeoutMs?: number;
  /** Per-branch Timer C: cancel a branch with no final within this time (default TIMER_C_MS). */
  finalTimeoutMs?: number;
  /** Extra headers for every forwarded branch. */
  headers?: readonly (readonly [string, string])[];
  /**
   * What the targets are. 'request-uri' (default, RFC 3261 §16.5): each target becomes its
   * branch's Request-URI and the next hop follows from it. 'destination' (drachtio-server's
   * proxyRequest, sip-proxy-controller.cpp): each target is the next hop the branch is sent to;
   * the Request-URI is kept — replaced by the target only when it names this element.
   */
  targets?: 'request-uri' | 'destination';
}

/** One branch's response as reported to the proxy's owner. */
export interface BranchResponse {
  /** The branch's target: its Request-URI, or in 'destination' mode where it was sent (the
   *  unchanged Request-URI of an in-dialog request). */
  target: string;
  /** Where the branch was sent. */
  dest: Endpoint;
  /** The response as received (its bytes in `inbound.raw`). */
  inbound: Inbound;
}

export interface ProxyResult {
  /** Status of the final response sent upstream, undefined when none (the CANCEL's 487 aside). */
  status: number | undefined;
  /** The upstream request was cancelled (§16.10). */
  cancelled: boolean;
}

export interface ProxyEvents {
  /** A final response received on a branch (the first one per branch, 2xx included). */
  response: [res: SipResponse, info: BranchResponse];
  /** The proxy decided: a 2xx was relayed, the best final was relayed, or the caller cancelled
   *  and every branch ended. Emitted once. */
  done: [result: ProxyResult];
}

/** A running proxy operation (one received request forwarded to one or more targets). */
export interface ProxyOperation extends Events<ProxyEvents> {
  /** The server transaction id of the request being proxied. */
  readonly id: string;
  readonly result: ProxyResult | undefined;
}

/** What the proxy needs from the stack. */
export interface ProxyHost {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Whether a URI names this element. */
  readonly ours: IsOurs;
  /** RFC 3261 §16.6 step 7 / RFC 3263: the next hop of a request, or of `via` when given (a
   *  'destination' target). Rejects with SipError. */
  resolve(req: SipRequest, via?: SipUri): Promise<Endpoint>;
  /** Our Via value for a request to `dest`, with `branch`. */
  via(dest: Endpoint, branch: string): string;
  /** The listener we send from towards `dest` (for Record-Route). */
  localFor(dest: Endpoint): Endpoint;
  /** Starts a client transaction for a fully built request. */
  startClient(req: SipRequest, dest: Endpoint): ClientTransaction;
  /** Sends without a transaction (ACK for a 2xx, §16.11 stateless forwarding). */
  sendStateless(req: SipRequest, dest: Endpoint): Promise<void>;
  /** Sends a response per its top Via (stateless relay of a 2xx retransmission). */
  sendResponse(res: SipResponse, via: { connectionId?: string; source: Endpoint }): Promise<void>;
}
