import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { AuthFailureLimiter, sourceKey } from './ratelimit.js';

function limiter(clock = new ManualClock(), maxTrackedSources?: number) {
  return new AuthFailureLimiter({ maxFailures: 5, windowSeconds: 60, banSeconds: 300, clock, ...(maxTrackedSources ? { maxTrackedSources } : {}) });
}

describe('AuthFailureLimiter', () => {
  it('bans after N failures within the window, for M seconds, with 403 and Retry-After', () => {
    const clock = new ManualClock();
    const l = limiter(clock);
    for (let i = 0; i < 4; i++) {
      expect(l.recordFailure('203.0.113.9')).toEqual({ banned: false });
      clock.advance(10_000);
    }
    expect(l.check('203.0.113.9')).toEqual({ allowed: true });
    expect(l.recordFailure('203.0.113.9')).toEqual({ banned: true }); // 5th within 40 s
    expect(l.check('203.0.113.9')).toEqual({ allowed: false, status: 403, reason: 'Forbidden', retryAfterSeconds: 300 });
    expect(l.check('203.0.113.10')).toEqual({ allowed: true }); // other sources unaffected
    clock.advance(299_999);
    expect(l.check('203.0.113.9').allowed).toBe(false);
    clock.advance(1);
    expect(l.check('203.0.113.9')).toEqual({ allowed: true });
  });

  it('failures spread wider than the window never ban', () => {
    const clock = new ManualClock();
    const l = limiter(clock);
    for (let i = 0; i < 20; i++) {
      expect(l.recordFailure('198.51.100.1').banned).toBe(false);
      clock.advance(15_000); // 4 failures per 60 s
    }
  });

  it('a success forgets earlier failures', () => {
    const l = limiter();
    for (let i = 0; i < 4; i++) l.recordFailure('192.0.2.1');
    l.recordSuccess('192.0.2.1');
    for (let i = 0; i < 4; i++) expect(l.recordFailure('192.0.2.1').banned).toBe(false);
  });

  it('a success does not lift a ban; unban does', () => {
    const l = limiter();
    for (let i = 0; i < 5; i++) l.recordFailure('192.0.2.1');
    l.recordSuccess('192.0.2.1');
    expect(l.check('192.0.2.1').allowed).toBe(false);
    expect(l.unban('192.0.2.1')).toBe(true);
    expect(l.check('192.0.2.1').allowed).toBe(true);
  });

  it('exposes counters for metrics', () => {
    const clock = new ManualClock();
    const l = limiter(clock);
    for (let i = 0; i < 6; i++) l.recordFailure('192.0.2.1'); // 6th is while banned
    l.recordFailure('192.0.2.2');
    l.check('192.0.2.1');
    l.check('192.0.2.1');
    expect(l.counters()).toEqual({ failures: 7, bans: 1, rejected: 2, activeBans: 1, trackedSources: 2 });
    clock.advance(300_000);
    l.sweep();
    expect(l.counters()).toMatchObject({ activeBans: 0, trackedSources: 0 });
  });

  it('bounds memory under a spray from many sources, keeping bans', () => {
    const l = limiter(new ManualClock(), 10);
    for (let i = 0; i < 5; i++) l.recordFailure('192.0.2.1');
    for (let i = 0; i < 100; i++) l.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(l.counters().trackedSources).toBeLessThanOrEqual(10);
    expect(l.check('192.0.2.1').allowed).toBe(false);
  });

  it('treats an IPv6 /64 as one source', () => {
    const l = limiter();
    for (let i = 1; i <= 5; i++) l.recordFailure(`2001:db8:1:2::${i}`);
    expect(l.check('2001:db8:1:2:ffff::1').allowed).toBe(false);
    expect(l.check('2001:db8:1:3::1').allowed).toBe(true);
  });

  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['[2001:db8::1]', '2001:db8:0:0::/64'],
    ['2001:0db8:0001:0002:0003:0004:0005:0006', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('sourceKey(%s) = %s', (ip, key) => {
    expect(sourceKey(ip)).toBe(key);
  });
});
