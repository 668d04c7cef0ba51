// The `proxy` command: an app hands a network request it was given (by transaction id) to the
// stack's RFC 3261 §16 proxy, as drachtio-srf's `srf.proxyRequest(req, destinations, opts)`
// does. The frame, as drachtio-agent.js builds it:
//
//   proxy|<transactionId>|[remainInDialog]|[fullResponse]|[followRedirects]|simultaneous|serial
//        |<provisionalTimeout>|<finalTimeout>|<destination>|<destination>…  CRLF  <skeleton request>
//
// (the skeleton only carries headers the app wants added). Replies, as sip-proxy-controller.cpp
// sends them: with fullResponse, every final response a branch receives goes to the app as
//   response|<appMsgId>|OK|network|<bytes>|<transport>|<addr>|<port>|<time>|||continue CRLF <response>
// (srf keeps its callback while field 12 is `continue`), then `response|<appMsgId>|OK|done` once
// the proxy decided (a 2xx relayed, the best final relayed, or the caller cancelled and every
// branch ended). Without fullResponse `OK|done` follows at once. Failures are `NOK|<reason>`.
import { NotFoundError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { SipStack } from '../stack.js';
import type { ProxyOptions } from '../proxy/index.js';
import type { AppConnection } from './app.js';
import type { Cdr } from './cdr.js';
import { msgId, wireTime } from './meta.js';
import { extrasOf, parseAppMessage } from './sip-util.js';

/** drachtio's timeout syntax: `1500ms` or `2s` (sip-proxy-controller.cpp setProvisionalTimeout). */
export function parseWireTimeout(s: string): number | undefined {
  const m = /^(\d+)(ms|s)$/.exec(s.trim());
  if (m === null) return undefined;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

export interface ProxyCommand {
  txnId: string;
  recordRoute: boolean;
  fullResponse: boolean;
  opts: ProxyOptions;
  destinations: string[];
}

/** Reads the fields of a `proxy` frame (tokens as split by framing.ts). */
export function parseProxyCommand(tokens: readonly string[], sip: Buffer): ProxyCommand {
  const recordRoute = tokens[3] === 'remainInDialog';
  const opts: ProxyOptions = {
    recordRoute,
    followRedirects: tokens[5] === 'followRedirects',
    mode: tokens[6] === 'simultaneous' ? 'simultaneous' : 'serial',
    provisionalTimeoutMs: parseWireTimeout(tokens[7] ?? ''),
    finalTimeoutMs: parseWireTimeout(tokens[8] ?? ''),
    // sip-proxy-controller.cpp: destinations are next hops; the Request-URI is replaced by the
    // destination only when it names us (srf docs: "an IP address[:port] … to proxy the request to").
    targets: 'destination',
  };
  const destinations = tokens.slice(9).filter((d) => d.trim() !== '');
  if (sip.length > 0) {
    try {
      const headers = extrasOf(parseAppMessage(sip)).headers;
      if (headers.length > 0) opts.headers = headers;
    } catch {
      /* a skeleton we cannot read adds nothing */
    }
  }
  return { txnId: tokens[2] ?? '', recordRoute, fullResponse: tokens[4] === 'fullResponse', opts, destinations };
}

export class ProxyCommands {
  readonly #stack: SipStack;
  readonly #log: Logger;
  readonly #cdr: Cdr;

  constructor(stack: SipStack, log: Logger, cdr: Cdr) {
    this.#stack = stack;
    this.#log = log;
    this.#cdr = cdr;
  }

  /** `proxy|…` from an app. */
  proxy(app: AppConnection, appMsgId: string, tokens: readonly string[], sip: Buffer): void {
    const cmd = parseProxyCommand(tokens, sip);
    const req = app.serverTxns.has(cmd.txnId) ? this.#stack.serverRequest(cmd.txnId) : undefined;
    if (req === undefined) {
      app.nok(appMsgId, `Unknown transaction id: ${cmd.txnId}`);
      return;
    }
    if (cmd.destinations.length === 0) {
      // sip-proxy-controller.cpp: nothing could be sent: 500 upstream, NOK to the app.
      app.serverTxns.delete(cmd.txnId);
      try {
        req.respond(500);
      } catch (err) {
        this.#log.debug({ err }, 'could not answer the unproxied request');
      }
      app.nok(appMsgId, 'error proxying request: no destination');
      return;
    }
    let op;
    try {
      op = this.#stack.proxy(cmd.txnId, cmd.destinations, cmd.opts);
    } catch (err) {
      this.#log.debug({ err, txnId: cmd.txnId }, 'proxy refused');
      if (err instanceof NotFoundError) app.serverTxns.delete(cmd.txnId);
      app.nok(appMsgId, err instanceof Error ? err.message : 'proxy failed');
      return;
    }
    // The app will not answer this request any more: the proxy does.
    app.serverTxns.delete(cmd.txnId);
    const invite = req.method === 'INVITE';
    if (invite) this.#cdr.attempt(req.message, 'application');
    if (cmd.fullResponse) {
      op.on('response', (res, info) => {
        if (invite) {
          if (res.status >= 200 && res.status < 300) this.#cdr.start(res, 'network', 'proxy-uac', info.inbound.raw);
          else this.#cdr.stop(res, 'network', res.status === 487 ? 'call-canceled' : 'call-rejected', info.inbound.raw);
        }
        const raw = info.inbound.raw;
        const d = info.dest;
        app.sendWithSip(
          `${msgId()}|response|${appMsgId}|OK|network|${raw.length}|${d.transport}|${d.address}|${d.port}|${wireTime()}|||continue`,
          raw,
        );
      });
    }
    op.on('done', () => {
      if (cmd.fullResponse) app.ok(appMsgId, 'done');
    });
    if (!cmd.fullResponse) app.ok(appMsgId, 'done');
  }
}
