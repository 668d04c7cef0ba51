// Rate limiting of failed authentications per source address: `maxFailures` failures within
// `windowSeconds` ban the source for `banSeconds`. Banned sources are answered 403 Forbidden
// rather than dropped: over UDP a dropped REGISTER is retransmitted for 32 s (RFC 3261 Timer F)
// and costs more than one absorbed response, and a misconfigured phone's owner sees why it fails.
// Time comes from an injected Clock, so tests advance it instead of sleeping.
import { isIPv6 } from 'node:net';
import type { Clock } from '../../lib/clock.js';

/** Bound on the sources remembered; beyond it, the oldest un-banned entries are forgotten. */
export const MAX_TRACKED_SOURCES = 50_000;

export interface AuthRateLimitOptions {
  maxFailures: number;
  windowSeconds: number;
  banSeconds: number;
  clock: Clock;
  maxTrackedSources?: number;
}

export type Admission = { allowed: true } | { allowed: false; status: 403; reason: 'Forbidden'; retryAfterSeconds: number };

export interface RateLimitCounters {
  /** Failures recorded since start. */
  failures: number;
  /** Bans started since start. */
  bans: number;
  /** Requests refused because their source was banned. */
  rejected: number;
  /** Sources banned right now. */
  activeBans: number;
  /** Sources with state in memory. */
  trackedSources: number;
}

interface SourceState {
  /** Times (clock ms) of recent failures, oldest first, at most maxFailures. */
  failures: number[];
  bannedUntil: number;
}

export class AuthFailureLimiter {
  #opts: Required<AuthRateLimitOptions>;
  #sources = new Map<string, SourceState>();
  #totals = { failures: 0, bans: 0, rejected: 0 };

  constructor(opts: AuthRateLimitOptions) {
    if (opts.maxFailures < 1) throw new RangeError('maxFailures must be >= 1');
    this.#opts = { maxTrackedSources: MAX_TRACKED_SOURCES, ...opts };
  }

  /** Call before doing any work for a request from `address`. */
  check(address: string): Admission {
    const s = this.#sources.get(sourceKey(address));
    const now = this.#opts.clock.now();
    if (!s || s.bannedUntil <= now) return { allowed: true };
    this.#totals.rejected++;
    return { allowed: false, status: 403, reason: 'Forbidden', retryAfterSeconds: Math.ceil((s.bannedUntil - now) / 1000) };
  }

  /** Records a failed authentication; `banned` is true when this failure started a ban. */
  recordFailure(address: string): { banned: boolean } {
    const key = sourceKey(address);
    const now = this.#opts.clock.now();
    this.#totals.failures++;
    let s = this.#sources.get(key);
    if (!s) {
      s = { failures: [], bannedUntil: 0 };
      this.#sources.set(key, s);
      this.#bound(now);
    }
    if (s.bannedUntil > now) return { banned: false }; // already banned: the ban is not extended
    const windowStart = now - this.#opts.windowSeconds * 1000;
    while (s.failures.length > 0 && s.failures[0]! <= windowStart) s.failures.shift();
    s.failures.push(now);
    if (s.failures.length < this.#opts.maxFailures) return { banned: false };
    s.failures = [];
    s.bannedUntil = now + this.#opts.banSeconds * 1000;
    this.#totals.bans++;
    return { banned: true };
  }

  /** A successful authentication forgets the source's earlier failures (typo, then right password). */
  recordSuccess(address: string): void {
    const key = sourceKey(address);
    const s = this.#sources.get(key);
    if (s && s.bannedUntil <= this.#opts.clock.now()) this.#sources.delete(key);
  }

  /** Lifts a ban (operator action). */
  unban(address: string): boolean {
    return this.#sources.delete(sourceKey(address));
  }

  counters(): RateLimitCounters {
    const now = this.#opts.clock.now();
    let activeBans = 0;
    for (const s of this.#sources.values()) if (s.bannedUntil > now) activeBans++;
    return { ...this.#totals, activeBans, trackedSources: this.#sources.size };
  }

  /** Drops state that no longer matters: expired bans and failures outside the window. */
  sweep(): void {
    const now = this.#opts.clock.now();
    const windowStart = now - this.#opts.windowSeconds * 1000;
    for (const [key, s] of this.#sources) {
      if (s.bannedUntil <= now && (s.failures.at(-1) ?? -Infinity) <= windowStart) this.#sources.delete(key);
    }
  }

  #bound(now: number): void {
    if (this.#sources.size <= this.#opts.maxTrackedSources) return;
    this.sweep();
    // Still too many (a spray from many addresses): forget the oldest sources that are not banned.
    for (const [key, s] of this.#sources) {
      if (this.#sources.size <= this.#opts.maxTrackedSources) break;
      if (s.bannedUntil <= now) this.#sources.delete(key);
    }
  }
}

/**
 * The unit that gets banned. IPv6 hosts usually own a whole /64, so one address per attempt
 * would walk around a per-address ban; we key IPv6 by its /64 and IPv4-mapped IPv6 as IPv4.
 */
export function sourceKey(address: string): string {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zoneless = a.split('%')[0]!;
  if (!isIPv6(zoneless)) return zoneless;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(zoneless);
  if (mapped) return mapped[1]!;
  const [head = '', tail = ''] = zoneless.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = zoneless.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
