// The default UA core `npm start` runs until the application layer exists. It answers every
// out-of-dialog request with a clean final response — never silence — so that monitoring
// (OPTIONS pings) works and callers fail fast instead of retransmitting into the void.
//
//   OPTIONS                                   200 + Allow, Accept (application/sdp first), Supported, Server
//                                             (Max-Forwards 0 too)
//   INVITE                                    480 Temporarily Unavailable (no application takes calls yet)
//   REGISTER, SUBSCRIBE, PUBLISH, MESSAGE,
//   REFER                                     405 Method Not Allowed + Allow (known, not offered here)
//   BYE, PRACK, UPDATE, INFO, NOTIFY          481 Call/Transaction Does Not Exist (they need a dialog)
//   any other method                          501 Not Implemented
//   ACK, CANCEL                               never reach the TU (dialog / transaction layer)
import type { IncomingRequest } from './dialog/types.js';
import { DEFAULT_CAPABILITIES, type UasCapabilities } from './dialog/uas-checks.js';
import type { SipStack } from './stack.js';

/** The methods this engine implements (RFC 3261 §20.5 Allow). */
export const DEFAULT_ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

export interface DefaultCoreOptions {
  /** Allow header value; default DEFAULT_ALLOW. */
  allow?: string;
  /** Body types and option tags for OPTIONS' Accept / Supported; the stack's capabilities. */
  capabilities?: Pick<UasCapabilities, 'accept' | 'supported'>;
}

interface CoreAnswer {
  status: number;
  headers: [string, string][];
}

/** Pure: the default core's answer to an out-of-dialog request of `method`. */
export function defaultCoreResponse(method: string, opts: DefaultCoreOptions = {}): CoreAnswer | undefined {
  const allow = opts.allow ?? DEFAULT_ALLOW;
  const caps = opts.capabilities ?? DEFAULT_CAPABILITIES;
  switch (method.toUpperCase()) {
    case 'ACK':
    case 'CANCEL':
      // RFC 3261 §17.1.1.3 / §9.2: never answered by a UA core.
      return undefined;
    case 'OPTIONS':
      // RFC 3261 §11.2: 200 listing our capabilities (application/sdp first). Supported is
      // empty until an extension (100rel, timer, replaces) exists; §20.37 allows an empty list.
      return {
        status: 200,
        headers: [
          ['Allow', allow],
          ['Accept', caps.accept.join(', ')],
          ['Supported', caps.supported.join(', ')],
        ],
      };
    case 'INVITE':
      // RFC 3261 §21.4.18: the callee is not reachable right now (no application to take it).
      return { status: 480, headers: [] };
    case 'REGISTER':
    case 'SUBSCRIBE':
    case 'PUBLISH':
    case 'MESSAGE':
    case 'REFER':
      // RFC 3261 §8.2.1: a method we recognise but do not offer: 405 with Allow.
      return { status: 405, headers: [['Allow', allow]] };
    case 'BYE':
    case 'PRACK':
    case 'UPDATE':
    case 'INFO':
    case 'NOTIFY':
      // RFC 3261 §15.1.2 (and RFC 3262, 3311, 6086, 6665): only meaningful inside a dialog or
      // subscription, and there is none.
      return { status: 481, headers: [] };
    default:
      // RFC 3261 §8.2.1 / §21.5.2: a method we do not recognise.
      return { status: 501, headers: [['Allow', allow]] };
  }
}

/** Answers one request the default way (a no-op for ACK / CANCEL or an answered request). */
export function answerWithDefaultCore(req: IncomingRequest, opts: DefaultCoreOptions = {}): void {
  if (req.finalStatus !== undefined) return;
  const a = defaultCoreResponse(req.method, opts);
  if (a !== undefined) req.respond(a.status, { headers: a.headers });
}

/** Attaches the default core to a stack's 'request' event; returns a function that detaches it. */
export function attachDefaultCore(stack: SipStack, opts: DefaultCoreOptions = {}): () => void {
  const o: DefaultCoreOptions = { capabilities: stack.capabilities, ...opts };
  const onRequest = (req: IncomingRequest): void => answerWithDefaultCore(req, o);
  stack.on('request', onRequest);
  return () => {
    stack.off('request', onRequest);
  };
}
