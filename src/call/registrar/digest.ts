// Server side of SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): builds the
// WWW-Authenticate challenges, verifies Authorization credentials and says what to answer.
// Nonces are stateless (timestamp + salt + HMAC under a server secret), so any instance that
// shares the secret can verify them and a restart costs at most one stale re-challenge; the only
// state is the highest nonce-count seen per nonce, kept for replay detection and bounded.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCredentials, quote } from './digest-header.js';
import { sipUriEquals } from './uri-compare.js';

export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** RFC 8760 §2.4: challenges are listed in order of preference, strongest first. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/** Bound on the replay-detection table; see `#remember`. */
export const MAX_TRACKED_NONCES = 100_000;

const HASH: Record<DigestAlgorithm, { node: string; hexLength: number }> = {
  MD5: { node: 'md5', hexLength: 32 },
  'SHA-256': { node: 'sha256', hexLength: 64 },
};
const NONCE_BYTES = 8 + 8 + 16; // timestamp, salt, truncated HMAC
/** Nonces stamped slightly in the future are tolerated (several instances, small clock skew). */
const FUTURE_SKEW_MS = 5_000;

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** With qop=auth: 8 hex digits, cnonce and qop are all present. Without: RFC 2069 form. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

export function hashHex(algorithm: DigestAlgorithm, s: string): string {
  return createHash(HASH[algorithm].node).update(s, 'utf8').digest('hex');
}

/** The `response` value a client with this password must send (RFC 7616 §3.4.1). */
export function digestResponse(i: DigestInput): string {
  const h = (s: string): string => hashHex(i.algorithm, s);
  const ha1 = h(`${i.username}:${i.realm}:${i.password}`); // RFC 7616 §3.4.2 (non -sess)
  const ha2 = h(`${i.method}:${i.uri}`); // RFC 7616 §3.4.3, qop=auth
  if (i.qop === 'auth') return h(`${ha1}:${i.nonce}:${i.nc}:${i.cnonce}:auth:${ha2}`);
  return h(`${ha1}:${i.nonce}:${ha2}`);
}

export interface DigestServerOptions {
  realm: string;
  /** Nonce lifetime; an older nonce with otherwise good credentials gets stale=true. */
  nonceTtlSeconds: number;
  /** Password of a user, or undefined when there is no such user. */
  lookup: (username: string) => string | undefined;
  /** HMAC key for nonces. Random per process by default; share it to verify across instances. */
  secret?: string | Buffer;
  /** Wall-clock time in epoch ms (nonces carry it). Defaults to Date.now. */
  clock?: { now(): number };
  algorithms?: readonly DigestAlgorithm[];
  maxTrackedNonces?: number;
}

export interface VerifyRequest {
  method: string;
  /** The Request-URI; the credentials' digest-uri must name the same URI (RFC 7616 §3.4.6). */
  requestUri: string;
  /** Every Authorization (or Proxy-Authorization) value of the request; undefined when none. */
  authorization: string | readonly string[] | undefined;
  /** When set, credentials for another username are refused (e.g. the To user of a REGISTER). */
  username?: string;
}

export type StaleReason = 'expired' | 'unknown-nonce' | 'replay';

/**
 * What to answer. `challenge` and `stale` carry the WWW-Authenticate values for a 401;
 * `forbidden` maps to 403, `not-found` to 403 or 404 (the caller decides whether to reveal
 * which users exist), `bad-request` to 400.
 */
export type DigestOutcome =
  | { kind: 'ok'; username: string; algorithm: DigestAlgorithm }
  | { kind: 'challenge'; challenges: string[] }
  | { kind: 'stale'; reason: StaleReason; username: string; challenges: string[] }
  | { kind: 'forbidden'; reason: 'wrong-password' | 'username-mismatch'; username: string }
  | { kind: 'not-found'; username: string }
  | { kind: 'bad-request'; reason: string };

export type DigestCounters = Record<DigestOutcome['kind'], number> & { trackedNonces: number };

export class DigestServer {
  readonly realm: string;
  readonly algorithms: readonly DigestAlgorithm[];
  #ttlMs: number;
  #lookup: DigestServerOptions['lookup'];
  #secret: Buffer;
  #clock: { now(): number };
  #opaque: string;
  #maxTracked: number;
  /** nonce -> highest nc accepted and when the nonce expires; insertion order ~ issue order. */
  #seen = new Map<string, { nc: number; expiresAt: number }>();
  /** Nonces issued at or before this time were evicted from #seen while still valid. */
  #evictedUpTo = -Infinity;
  #counters: Record<DigestOutcome['kind'], number> = {
    ok: 0,
    challenge: 0,
    stale: 0,
    forbidden: 0,
    'not-found': 0,
    'bad-request': 0,
  };

  constructor(opts: DigestServerOptions) {
    if (/[\r\n"\\]/.test(opts.realm)) throw new RangeError('realm must not contain CR, LF, quote or backslash');
    this.realm = opts.realm;
    this.algorithms = opts.algorithms ?? DIGEST_ALGORITHMS;
    this.#ttlMs = opts.nonceTtlSeconds * 1000;
    this.#lookup = opts.lookup;
    this.#secret = opts.secret === undefined ? randomBytes(32) : Buffer.from(opts.secret);
    this.#clock = opts.clock ?? { now: Date.now };
    this.#maxTracked = opts.maxTrackedNonces ?? MAX_TRACKED_NONCES;
    // The opaque carries nothing (the nonce does); it is stable per realm+secret so clients that
    // echo it (RFC 7616 §3.3 says they must) can be checked cheaply.
    this.#opaque = this.#mac(`opaque:${this.realm}`).subarray(0, 16).toString('base64url');
  }

  /** WWW-Authenticate values, one per algorithm, strongest first (RFC 8760 §2.4). */
  challenge(opts: { stale?: boolean } = {}): string[] {
    const nonce = this.issueNonce();
    return this.algorithms.map(
      (alg) =>
        `Digest realm=${quote(this.realm)}, nonce=${quote(nonce)}, opaque=${quote(this.#opaque)}, ` +
        `algorithm=${alg}, qop="auth"${opts.stale ? ', stale=true' : ''}`,
    );
  }

  issueNonce(): string {
    const buf = Buffer.alloc(NONCE_BYTES);
    buf.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.#clock.now()))), 0);
    randomBytes(8).copy(buf, 8);
    this.#mac(buf.subarray(0, 16)).copy(buf, 16, 0, 16);
    return buf.toString('base64url');
  }

  verify(req: VerifyRequest): DigestOutcome {
    const outcome = this.#verify(req);
    this.#counters[outcome.kind]++;
    return outcome;
  }

  get counters(): DigestCounters {
    return { ...this.#counters, trackedNonces: this.#seen.size };
  }

  #verify(req: VerifyRequest): DigestOutcome {
    const values = req.authorization === undefined ? [] : typeof req.authorization === 'string' ? [req.authorization] : req.authorization;
    let params: Map<string, string> | undefined;
    for (const v of values) {
      // Other schemes (Basic's token68 ...) are not ours to parse, let alone judge.
      if (!/^\s*digest(\s|$)/i.test(v)) continue;
      const parsed = parseCredentials(v);
      if (!parsed.ok) return { kind: 'bad-request', reason: parsed.reason };
      // RFC 3261 §22.4: credentials for another realm (another hop's) are not ours to judge.
      if (parsed.params.get('realm') !== this.realm) continue;
      if (params) return { kind: 'bad-request', reason: 'several credentials for our realm' };
      params = parsed.params;
    }
    if (!params) return { kind: 'challenge', challenges: this.challenge() };

    for (const name of ['username', 'nonce', 'uri', 'response'] as const) {
      if (!params.get(name)) return { kind: 'bad-request', reason: `missing ${name}` };
    }
    const username = params.get('username')!;
    const nonce = params.get('nonce')!;
    const uri = params.get('uri')!;
    const response = params.get('response')!.toLowerCase();
    if (params.has('username*') || params.get('userhash')?.toLowerCase() === 'true') {
      return { kind: 'bad-request', reason: 'username* and userhash are not supported' };
    }
    // RFC 7616 §3.4: no algorithm directive means MD5.
    const algName = (params.get('algorithm') ?? 'MD5').toUpperCase();
    const algorithm = this.algorithms.find((a) => a === algName);
    if (!algorithm) return { kind: 'bad-request', reason: `unsupported algorithm ${algName}` };
    // We always offer qop="auth"; RFC 7616 §3.4 then requires the client to echo it with nc and
    // cnonce. Accepting the RFC 2069 form would also give up replay detection.
    if (params.get('qop')?.toLowerCase() !== 'auth') return { kind: 'bad-request', reason: 'qop must be auth' };
    const ncText = params.get('nc') ?? '';
    const cnonce = params.get('cnonce') ?? '';
    if (!/^[0-9a-fA-F]{8}$/.test(ncText)) return { kind: 'bad-request', reason: 'nc must be 8 hex digits' };
    if (!cnonce) return { kind: 'bad-request', reason: 'missing cnonce' };
    if (!new RegExp(`^[0-9a-f]{${HASH[algorithm].hexLength}}$`).test(response)) {
      return { kind: 'bad-request', reason: 'response is not a hex digest' };
    }
    // RFC 7616 §3.4.6 (and RFC 2617 §3.2.2.5): digest-uri must match the Request-URI, else 400.
    if (!sipUriEquals(uri, req.requestUri)) return { kind: 'bad-request', reason: 'digest uri does not match the Request-URI' };

    if (req.username !== undefined && username !== req.username) {
      return { kind: 'forbidden', reason: 'username-mismatch', username };
    }
    const password = this.#lookup(username);
    if (password === undefined) return { kind: 'not-found', username };

    const expected = digestResponse({
      algorithm,
      username,
      realm: this.realm,
      password,
      method: req.method,
      uri,
      nonce,
      qop: 'auth',
      nc: ncText,
      cnonce,
    });
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(response))) {
      return { kind: 'forbidden', reason: 'wrong-password', username };
    }

    // The password is right: nonce problems only earn a fresh challenge with stale=true
    // (RFC 7616 §3.3), so the client retries without prompting anyone.
    const stale = (reason: StaleReason): DigestOutcome => ({ kind: 'stale', reason, username, challenges: this.challenge({ stale: true }) });
    const opaque = params.get('opaque');
    const issuedAt = this.#checkNonce(nonce);
    if (issuedAt === undefined || (opaque !== undefined && opaque !== this.#opaque)) return stale('unknown-nonce');
    const now = this.#clock.now();
    if (now - issuedAt > this.#ttlMs) return stale('expired');
    // RFC 7616 §3.4: the same (or a lower) nc for a nonce is a replay. A stale challenge rather
    // than 403: an attacker learns nothing, a confused but legitimate client recovers.
    const nc = parseInt(ncText, 16);
    const seen = this.#seen.get(nonce);
    if (seen ? nc <= seen.nc : issuedAt <= this.#evictedUpTo) return stale('replay');
    this.#remember(nonce, nc, issuedAt + this.#ttlMs, now);
    return { kind: 'ok', username, algorithm };
  }

  /** Issue time of a nonce we minted, or undefined when it is not ours (or from a future clock). */
  #checkNonce(nonce: string): number | undefined {
    if (!/^[A-Za-z0-9_-]+$/.test(nonce)) return undefined;
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_BYTES) return undefined;
    const mac = this.#mac(buf.subarray(0, 16)).subarray(0, 16);
    if (!timingSafeEqual(mac, buf.subarray(16))) return undefined;
    const issuedAt = Number(buf.readBigUInt64BE(0));
    return issuedAt > this.#clock.now() + FUTURE_SKEW_MS ? undefined : issuedAt;
  }

  #remember(nonce: string, nc: number, expiresAt: number, now: number): void {
    this.#seen.delete(nonce); // re-insert: most recently used last
    this.#seen.set(nonce, { nc, expiresAt });
    for (const [key, entry] of this.#seen) {
      if (this.#seen.size <= this.#maxTracked && entry.expiresAt >= now) break;
      this.#seen.delete(key);
      // Evicting a live nonce forgets its nc; from now on every nonce as old as it is refused
      // (stale) instead of letting a replay through.
      if (entry.expiresAt >= now) this.#evictedUpTo = Math.max(this.#evictedUpTo, entry.expiresAt - this.#ttlMs);
    }
  }

  #mac(data: string | Buffer): Buffer {
    return createHmac('sha256', this.#secret).update(data).digest();
  }
}
