// Extension-to-extension calls: the srf INVITE handler. As PBXs do, the caller proves who it is
// with digest on the INVITE itself (RFC 3261 §22.3: 407 Proxy-Authenticate, then Proxy-Authorization
// with the extension's password) rather than being trusted for its registered source address —
// over UDP a source address is trivially spoofed, and toll fraud starts exactly there. Failed
// authentications count toward the same per-source ban as REGISTER's.
//
//   banned source                    403 (+ Retry-After)
//   no / stale credentials           407 with a fresh challenge
//   wrong password, unknown user     403 (counted, may start a ban)
//   number is not an extension       404
//   extension has no live binding    480
//   INVITE without SDP (late offer)  488: we relay SDP and do not do offer/answer ourselves
//   otherwise                        forked to every binding (fork.ts)
import type { Logger } from '../lib/log.js';
import { ForkedCall } from './fork.js';
import type { CallMetrics, CallResult } from './metrics.js';
import type { AuthFailureLimiter, DigestServer, Registrar, UserDirectory } from './registrar/index.js';
import { headerValues, quoteDisplayName, userOf } from './sip-text.js';
import { reply } from './srf-reply.js';
import { verbs, type InboundRequest, type OutboundResponse, type Srf } from './srf-types.js';
import { usernameOf } from './registrar-app.js';

export interface ExtCallsOptions {
  registrar: Registrar;
  users: UserDirectory;
  digest: DigestServer;
  limiter: AuthFailureLimiter;
  /** Domain of the AORs (the registrar realm). */
  domain: string;
  metrics: CallMetrics;
  logger: Logger;
  ringTimeoutMs: number;
}

export interface ExtCalls {
  /** Calls not over yet: ringing, answering or connected. */
  readonly active: number;
  /** Cancels ringing calls (503 to the caller) and hangs up connected ones. Idempotent. */
  close(): void;
}

export function attachExtCalls(srf: Srf, opts: ExtCallsOptions): ExtCalls {
  const calls = new Set<ForkedCall>();
  let closed = false;
  verbs(srf).invite((req, res) => {
    const log = opts.logger.child({ callId: req.get('Call-ID') ?? '' });
    try {
      if (closed) return reply(res, 503, 'Service Unavailable', [], log);
      onInvite(srf, req, res, opts, log, calls);
    } catch (err) {
      log.error({ err }, 'INVITE handling failed');
      reply(res, 500, 'Server Internal Error', [], log);
    }
  });
  return {
    get active() {
      return calls.size;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const c of calls) c.abort();
      calls.clear();
    },
  };
}

function onInvite(srf: Srf, req: InboundRequest, res: OutboundResponse, opts: ExtCallsOptions, log: Logger, calls: Set<ForkedCall>): void {
  const count = (result: CallResult): void => void opts.metrics.extCalls.inc({ result });
  const ip = req.source_address;
  const admission = opts.limiter.check(ip);
  if (!admission.allowed) {
    count('forbidden');
    return reply(res, 403, 'Forbidden', [['Retry-After', String(admission.retryAfterSeconds)]], log);
  }

  const auth = opts.digest.verify({
    method: 'INVITE',
    requestUri: req.uri,
    authorization: headerValues(req.msg.raw ?? '', 'Proxy-Authorization'),
  });
  switch (auth.kind) {
    case 'challenge':
    case 'stale':
      count('challenge');
      return reply(res, 407, 'Proxy Authentication Required', auth.challenges.map((c) => ['Proxy-Authenticate', c] as const), log);
    case 'forbidden':
    case 'not-found':
    case 'bad-request': {
      const { banned } = opts.limiter.recordFailure(ip);
      opts.metrics.authFailures.inc();
      if (banned) opts.metrics.authBans.inc();
      log.warn(
        { source: `${req.protocol}:${ip}:${req.source_port}`, username: usernameOf(req, 'Proxy-Authorization'), outcome: auth.kind, banned },
        'INVITE authentication failed',
      );
      count('forbidden');
      return auth.kind === 'bad-request' ? reply(res, 400, `Bad Request: ${auth.reason}`, [], log) : reply(res, 403, 'Forbidden', [], log);
    }
    case 'ok':
      opts.limiter.recordSuccess(ip);
      break;
  }
  const caller = auth.username;

  const dialled = userOf(req.uri);
  if (dialled === undefined || !opts.users.has(dialled)) {
    log.info({ caller, dialled }, 'no such extension');
    count('not_found');
    return reply(res, 404, 'Not Found', [], log);
  }
  const bindings = opts.registrar.lookup(dialled);
  if (bindings.length === 0) {
    log.info({ caller, dialled }, 'extension not registered');
    count('unavailable');
    return reply(res, 480, 'Temporarily Unavailable', [], log);
  }
  if (req.body.trim() === '') {
    count('failed');
    return reply(res, 488, 'Not Acceptable Here', [['Warning', '399 switchboard "an SDP offer is required in the INVITE"']], log);
  }

  const name = opts.users.list().find((u) => u.user === caller)?.name;
  const callerUri = `<sip:${caller}@${opts.domain}>`;
  const parties = {
    // The B leg shows the authenticated extension, not whatever From the caller wrote.
    from: name === undefined ? callerUri : `${quoteDisplayName(name)} ${callerUri}`,
    to: `<sip:${dialled}@${opts.domain}>`,
  };
  log.info({ caller, dialled, contacts: bindings.length }, 'calling extension');
  const call = new ForkedCall(srf, req, res, log, bindings, {
    result: count,
    gone: () => calls.delete(call),
  });
  calls.add(call);
  call.start(parties, opts.ringTimeoutMs);
}
