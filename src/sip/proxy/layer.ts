// The proxy layer of the stack (RFC 3261 §16): it keeps the running proxy cores by server
// transaction id and decides, before the UA core sees them, which messages belong to a dialog
// we record-routed rather than to one of our own dialogs:
//   * an in-dialog request whose top Route is ours (§16.4) is forwarded statefully along the
//     rest of its route set (its responses relayed back);
//   * the ACK for a 2xx in such a dialog is forwarded statelessly, end to end (§16.11);
//   * a 2xx retransmission that outlived our client transaction, carrying our Via above the
//     caller's, is relayed statelessly upstream (RFC 6026 §7.3).
import { createHash } from 'node:crypto';
import type { Inbound } from '../transport/index.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import { ProxyCore } from './core.js';
import { buildBranch, isProxiedInDialog, relayedResponse, removeOwnRoutes, stampBranch, viaSource } from './rules.js';
import type { ProxyHost, ProxyOptions } from './types.js';

/** Counters for metrics. */
export interface ProxyStats {
  /** Requests handed to proxy() (initial requests the application proxied). */
  proxied: number;
  /** In-dialog requests relayed along a route set through us. */
  inDialog: number;
  /** 2xx ACKs forwarded statelessly. */
  acksForwarded: number;
  /** 2xx retransmissions relayed statelessly after the branch transaction ended. */
  responsesRelayed: number;
}

export class ProxyLayer {
  readonly stats: ProxyStats = { proxied: 0, inDialog: 0, acksForwarded: 0, responsesRelayed: 0 };
  readonly #host: ProxyHost;
  readonly #cores = new Map<string, ProxyCore>();
  readonly #forget = (core: ProxyCore): void => {
    if (this.#cores.get(core.id) === core) this.#cores.delete(core.id);
  };
  #closed = false;

  constructor(host: ProxyHost) {
    this.#host = host;
  }

  /** Live proxy cores, for dumps. */
  get size(): number {
    return this.#cores.size;
  }

  /** Forwards the request of `st` to `targets` (Request-URIs; undefined keeps the current one). */
  proxy(st: ServerTransaction, targets: readonly (string | undefined)[], opts: ProxyOptions): ProxyCore {
    const core = new ProxyCore(this.#host, st, targets, opts, this.#forget);
    if (!this.#closed) this.#cores.set(core.id, core);
    core.start();
    return core;
  }

  /** A new request from the transaction layer: true when it is relayed through a dialog we record-routed. */
  routeRequest(st: ServerTransaction): boolean {
    if (this.#closed) return false;
    const req = st.request;
    // Cheapest test first: most requests carry no Route at all.
    if (!req.headers.has('Route') || !hasToTag(req) || !isProxiedInDialog(req, this.#host.ours)) return false;
    this.stats.inDialog++;
    this.proxy(st, [undefined], {});
    return true;
  }

  /** An ACK that matched no server transaction (ACK for a 2xx): true when forwarded. */
  routeAck(inbound: Inbound): boolean {
    if (this.#closed) return false;
    const ack = inbound.message as SipRequest;
    if (!ack.headers.has('Route') || !isProxiedInDialog(ack, this.#host.ours)) return false;
    const req = ack.clone();
    removeOwnRoutes(req, this.#host.ours);
    const out = buildBranch(req);
    this.stats.acksForwarded++;
    void this.#host
      .resolve(out)
      .then((dest) => {
        // RFC 3261 §16.11: a stateless proxy's branch is a function of the request, so a
        // retransmitted ACK leaves with the same branch.
        stampBranch(out, this.#host.via(dest, statelessBranch(ack)));
        return this.#host.sendStateless(out, dest);
      })
      .catch((err: unknown) => this.#host.logger.debug({ err }, 'ACK not forwarded'));
    return true;
  }

  /** A response that matched no client transaction: true when relayed upstream. */
  routeResponse(inbound: Inbound): boolean {
    if (this.#closed) return false;
    const res = inbound.message as SipResponse;
    if (res.status < 200 || res.status >= 300 || res.cseq().method !== 'INVITE') return false;
    const vias = res.vias();
    if (vias.length < 2 || !this.#host.ours(viaUri(vias[0].host, vias[0].port, vias[0].transport))) return false;
    const out = relayedResponse(res);
    const source = viaSource(vias[1]);
    if (out === undefined || source === undefined) return false;
    this.stats.responsesRelayed++;
    this.#host.sendResponse(out, { source }).catch((err: unknown) => this.#host.logger.debug({ err }, '2xx not relayed'));
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#cores.clear();
  }
}

function hasToTag(req: SipRequest): boolean {
  const t = req.to().params.get('tag');
  return typeof t === 'string' && t !== '';
}

function viaUri(host: string, port: number | undefined, transport: string) {
  const t = transport.toLowerCase();
  return { scheme: 'sip', host, port, params: new Map<string, string | null>([['transport', t]]), headers: new Map<string, string>() };
}

function statelessBranch(req: SipRequest): string {
  const top = req.topVia();
  const h = createHash('sha1').update(`${top.branch ?? ''}|${top.host}|${top.port ?? ''}|${req.uri}|${req.cseq().seq}`).digest('hex');
  return `z9hG4bK${h.slice(0, 24)}`;
}
