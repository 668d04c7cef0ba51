// The registrar's decision procedure (RFC 3261 §10.3) over plain request facts: ban check,
// digest authentication, authorization, binding update, persistence and the event log. The
// drachtio-srf handler only turns a `req` into RegisterRequest and RegisterReply into `res.send`.
import type { Binding, EventRepository, RegistrationRepository } from '../../store/index.js';
import { canonicalAor, processRegister, type ContactFacts, type ExpiryLimits } from './bindings.js';
import type { DigestOutcome, DigestServer } from './digest.js';
import type { AuthFailureLimiter } from './ratelimit.js';
import type { UserDirectory } from './users.js';

export interface RegisterRequest {
  source: { address: string; port: number; transport: string };
  requestUri: string;
  /** URI of the To header: the AOR being registered (§10.2). */
  toUri: string;
  /** Every Authorization header value. */
  authorization?: string | readonly string[];
  contacts: readonly (ContactFacts | '*')[];
  expires?: string;
  callId: string;
  cseq: number;
  /** Path header URIs (RFC 3327), top first. */
  path?: readonly string[];
  /** Source as a SIP URI when it differs from the Contact (NAT), e.g. "sip:198.51.100.7:40123". */
  received?: string | null;
  userAgent?: string;
}

export interface RegisterReply {
  status: number;
  reason: string;
  /** Extra headers for the response, in order (name, value). Values are free of CR/LF. */
  headers: [string, string][];
  /** The AOR, once known; for logs. */
  aor?: string;
  /** This request failed authentication (wrong credentials, bad Authorization; not a plain
   *  challenge) and was counted against its source. */
  authFailed?: boolean;
  /** That failure banned the source (a new ban; a request refused by an existing ban is not one). */
  banned?: boolean;
}

export interface RegistrarDeps {
  domain: string;
  limits: ExpiryLimits;
  users: UserDirectory;
  digest: DigestServer;
  limiter: AuthFailureLimiter;
  registrations: RegistrationRepository;
  events: EventRepository;
  /** Wall clock, epoch ms (binding expiry is absolute). Defaults to Date.now. */
  now?: () => number;
}

export class Registrar {
  #d: RegistrarDeps;
  #now: () => number;

  constructor(deps: RegistrarDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  register(req: RegisterRequest): RegisterReply {
    const d = this.#d;
    const ip = req.source.address;
    const admission = d.limiter.check(ip);
    if (!admission.allowed) return reply(403, 'Forbidden', [['Retry-After', String(admission.retryAfterSeconds)]]);

    // §10.3 step 3: authenticate before revealing anything about the AOR.
    const auth = d.digest.verify({ method: 'REGISTER', requestUri: req.requestUri, authorization: req.authorization });
    if (auth.kind !== 'ok') return this.#authFailed(auth, ip);
    d.limiter.recordSuccess(ip);

    const toUser = userOf(req.toUri);
    if (toUser === undefined) return reply(400, 'Bad Request: To is not a SIP URI with a user');
    // §10.3 step 4: the authenticated user must be allowed to modify this AOR's bindings.
    if (!d.users.mayRegister(auth.username, toUser)) {
      return d.users.has(toUser) ? reply(403, 'Forbidden') : reply(404, 'Not Found'); // §10.3 step 5
    }

    const aor = canonicalAor(toUser, d.domain);
    const now = this.#now();
    const result = processRegister(d.registrations.list(aor), {
      aor,
      contacts: req.contacts,
      ...(req.expires === undefined ? {} : { expires: req.expires }),
      callId: req.callId,
      cseq: req.cseq,
      now,
      source: {
        transport: req.source.transport,
        sourceAddress: req.source.address,
        sourcePort: req.source.port,
        path: [...(req.path ?? [])],
        received: req.received ?? null,
        userAgent: req.userAgent ?? null,
      },
    }, d.limits);

    switch (result.status) {
      case 400:
        return { ...reply(400, result.reason), aor };
      case 423:
        return { ...reply(423, 'Interval Too Brief', [['Min-Expires', String(result.minExpires)]]), aor };
      case 500:
        return { ...reply(500, 'Server Internal Error', [['Retry-After', '1']]), aor };
      case 200:
        break;
    }
    try {
      // §10.3 step 7: all updates commit or none do.
      d.registrations.apply({ upsert: result.upsert, remove: result.remove });
    } catch {
      return { ...reply(500, 'Server Internal Error'), aor };
    }
    this.#logChanges(aor, now, result.upsert, result.remove, req.source.address);
    // §10.3 step 8: all current contacts with their expires, and a Date header.
    const headers: [string, string][] = result.contactHeaders.map((c) => ['Contact', c]);
    headers.push(['Date', new Date(now).toUTCString()]);
    return { ...reply(200, 'OK', headers), aor };
  }

  /** Live bindings of an extension, best q first: what the call router forks to. */
  lookup(user: string): Binding[] {
    const now = this.#now();
    return this.#d.registrations.list(canonicalAor(user, this.#d.domain)).filter((b) => b.expiresAt > now);
  }

  /** Deletes expired bindings and logs them; call periodically. Returns how many. */
  purgeExpired(): number {
    const now = this.#now();
    const gone = this.#d.registrations.purgeExpired(now);
    for (const b of gone) this.#d.events.append({ at: now, kind: 'registrar.expired', subject: b.aor, data: { contact: b.contact } });
    return gone.length;
  }

  #authFailed(auth: Exclude<DigestOutcome, { kind: 'ok' }>, ip: string): RegisterReply {
    const d = this.#d;
    switch (auth.kind) {
      case 'challenge':
      case 'stale':
        return reply(401, 'Unauthorized', auth.challenges.map((c) => ['WWW-Authenticate', c]));
      case 'bad-request':
      case 'forbidden':
      case 'not-found': {
        const { banned } = d.limiter.recordFailure(ip);
        const username = auth.kind === 'bad-request' ? null : auth.username;
        const at = this.#now();
        d.events.append({ at, kind: 'registrar.auth-failed', subject: ip, data: { outcome: auth.kind, username } });
        if (banned) d.events.append({ at, kind: 'registrar.banned', subject: ip, data: {} });
        // RFC 3261 §10.3 / §21.4.5: 404 for a user we do not know, 403 for a wrong password. Both
        // count as failures, so an enumeration scan gets the source banned after a few tries.
        const out =
          auth.kind === 'bad-request'
            ? reply(400, `Bad Request: ${auth.reason}`)
            : auth.kind === 'not-found'
              ? reply(404, 'Not Found')
              : reply(403, 'Forbidden');
        out.authFailed = true;
        if (banned) out.banned = true;
        return out;
      }
    }
  }

  #logChanges(aor: string, at: number, upsert: Binding[], remove: Binding[], source: string): void {
    const updated = new Set(upsert.map((b) => b.contact));
    for (const b of upsert) {
      this.#d.events.append({ at, kind: 'registrar.registered', subject: aor, data: { contact: b.contact, expiresAt: b.expiresAt, source } });
    }
    for (const b of remove) {
      if (updated.has(b.contact)) continue;
      const kind = b.expiresAt > at ? 'registrar.unregistered' : 'registrar.expired';
      this.#d.events.append({ at, kind, subject: aor, data: { contact: b.contact, source } });
    }
  }
}

function reply(status: number, reason: string, headers: [string, string][] = []): RegisterReply {
  return { status, reason: reason.replace(/[\r\n]/g, ' '), headers: headers.filter(([, v]) => !/[\r\n]/.test(v)) };
}

/** The user part of a sip:/sips: URI (with or without <>), undefined when there is none. */
function userOf(uri: string): string | undefined {
  const m = /^<?sips?:([^@;?>]+)@/i.exec(uri.trim());
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!.split(':')[0]!);
  } catch {
    return undefined;
  }
}
