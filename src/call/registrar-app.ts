// The registrar as a drachtio-srf application: REGISTER requests become RegisterRequest facts for
// the Registrar (src/call/registrar), its RegisterReply becomes the response. Expired bindings are
// purged on an unref'd timer. OPTIONS (keep-alive pings from phones and monitoring) get 200 with
// what we offer. Failed authentications are logged and counted; so are bans — read from the
// reply's `authFailed` / `banned` flags, O(1) per request.
import type { Logger } from '../lib/log.js';
import type { CallMetrics, RegisterResult } from './metrics.js';
import type { ContactFacts, RegisterReply, RegisterRequest, Registrar } from './registrar/index.js';
import { headerValues, registerContacts, splitList, uriOf } from './sip-text.js';
import { reply } from './srf-reply.js';
import { verbs, type InboundRequest, type OutboundResponse, type Srf } from './srf-types.js';

/** What we implement, for Allow (RFC 3261 §20.5). */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER';
export const ACCEPT = 'application/sdp';

export interface RegistrarAppOptions {
  registrar: Registrar;
  metrics: CallMetrics;
  logger: Logger;
  /** How often expired bindings are deleted, ms. */
  purgeIntervalMs: number;
}

export interface RegistrarApp {
  /** Stops the purge timer. srf keeps its routes until it disconnects. Idempotent. */
  close(): void;
}

export function attachRegistrarApp(srf: Srf, opts: RegistrarAppOptions): RegistrarApp {
  const log = opts.logger;
  verbs(srf).register((req, res) => onRegister(req, res, opts));
  verbs(srf).options((req, res) => {
    // RFC 3261 §11.2: 200 with our capabilities.
    reply(res, 200, 'OK', [['Allow', ALLOW], ['Accept', ACCEPT]], log.child({ callId: req.get('Call-ID') }));
  });
  const timer = setInterval(() => {
    try {
      const n = opts.registrar.purgeExpired();
      if (n > 0) log.info({ purged: n }, 'expired bindings removed');
    } catch (err) {
      log.error({ err }, 'purging expired bindings failed');
    }
  }, opts.purgeIntervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}

function onRegister(req: InboundRequest, res: OutboundResponse, opts: RegistrarAppOptions): void {
  const callId = req.get('Call-ID') ?? '';
  const log = opts.logger.child({ callId });
  let out: RegisterReply;
  try {
    const facts = registerFacts(req);
    out = typeof facts === 'string' ? { status: 400, reason: `Bad Request: ${facts}`, headers: [] } : opts.registrar.register(facts);
  } catch (err) {
    // A store failure or a bug: the phone retries, we keep running.
    log.error({ err }, 'REGISTER failed');
    out = { status: 500, reason: 'Server Internal Error', headers: [['Retry-After', '5']] };
  }
  if (out.authFailed === true) {
    opts.metrics.authFailures.inc();
    log.warn(
      { source: `${req.protocol}:${req.source_address}:${req.source_port}`, username: usernameOf(req), status: out.status, aor: out.aor },
      'REGISTER authentication failed',
    );
  }
  if (out.banned === true) {
    opts.metrics.authBans.inc();
    log.warn({ source: req.source_address }, 'source banned after repeated authentication failures');
  }
  opts.metrics.registers.inc({ result: resultOf(out) });
  if (out.status === 200) log.debug({ aor: out.aor }, 'REGISTER accepted');
  reply(res, out.status, out.reason, out.headers, log);
}

/** The Registrar's view of a REGISTER, or the reason it cannot be read (-> 400). */
export function registerFacts(req: InboundRequest): RegisterRequest | string {
  const raw = req.msg.raw ?? '';
  const contacts = registerContacts(headerValues(raw, 'Contact'));
  if (contacts === undefined) return 'unreadable Contact';
  const toUri = uriOf(req.get('To'));
  if (toUri === undefined) return 'unreadable To';
  const cseq = Number.parseInt(req.get('CSeq') ?? '', 10);
  if (!Number.isFinite(cseq)) return 'unreadable CSeq';
  const expires = headerValues(raw, 'Expires')[0];
  const path = headerValues(raw, 'Path').flatMap(splitList).map((p) => uriOf(p) ?? p);
  const transport = req.protocol.toLowerCase() || 'udp';
  const r: RegisterRequest = {
    source: { address: req.source_address, port: req.source_port, transport },
    requestUri: req.uri,
    toUri,
    authorization: headerValues(raw, 'Authorization'),
    contacts,
    callId: req.get('Call-ID') ?? '',
    cseq,
    path,
    received: receivedOf(contacts, req.source_address, req.source_port, transport),
  };
  if (expires !== undefined) r.expires = expires;
  const ua = req.get('User-Agent');
  if (ua !== undefined) r.userAgent = ua;
  return r;
}

/**
 * Where the REGISTER came from as a SIP URI, when the (first) Contact names another host:port —
 * a phone behind NAT. Requests to it then go to the source (see ext-calls.ts).
 */
function receivedOf(contacts: RegisterRequest['contacts'], address: string, port: number, transport: string): string | null {
  const first = contacts.find((c): c is ContactFacts => c !== '*');
  if (first === undefined) return null;
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?/i.exec(first.uri);
  const host = m?.[1]?.replace(/^\[|\]$/g, '');
  const p = m?.[2] === undefined ? 5060 : Number(m[2]);
  if (host === address && (p === port || transport !== 'udp')) return null;
  const h = address.includes(':') ? `[${address}]` : address;
  return `sip:${h}:${port}${transport === 'udp' ? '' : `;transport=${transport}`}`;
}

function resultOf(r: RegisterReply): RegisterResult {
  switch (r.status) {
    case 200:
      return 'ok';
    case 401:
      return 'challenge';
    case 403:
      return r.headers.some(([n]) => n.toLowerCase() === 'retry-after') ? 'banned' : 'forbidden';
    case 404:
      return 'not_found';
    case 400:
      return 'bad_request';
    case 423:
      return 'interval_too_brief';
    default:
      return 'error';
  }
}

/** The digest username a client tried, for the log line of a failure. */
export function usernameOf(req: InboundRequest, header = 'Authorization'): string | undefined {
  for (const v of headerValues(req.msg.raw ?? '', header)) {
    const m = /\busername\s*=\s*"([^"]{0,64})"/i.exec(v);
    if (m) return m[1];
  }
  return undefined;
}
