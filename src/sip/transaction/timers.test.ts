// Timer values (RFC 3261 Table 4, RFC 6026 L/M) derived from T1/T2/T4.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMERS, makeTimers } from './timers.js';

describe('makeTimers (RFC 3261 §17, Table 4)', () => {
  const table: [name: string, udp: number | null, tcp: number | null][] = [
    ['A', 500, null], // §17.1.1.2: T1, unreliable only
    ['B', 32000, 32000], // 64*T1
    ['D', 32000, 0], // §17.1.1.2: >= 32 s unreliable, 0 reliable
    ['E', 500, null], // §17.1.2.2: T1, unreliable only
    ['F', 32000, 32000],
    ['G', 500, null], // §17.2.1: T1, unreliable only
    ['H', 32000, 32000],
    ['I', 5000, 0], // §17.2.1: T4 / 0
    ['J', 32000, 0], // §17.2.2: 64*T1 / 0
    ['K', 5000, 0], // §17.1.2.2: T4 / 0
    ['L', 32000, 32000], // RFC 6026 §8.7
    ['M', 32000, 32000], // RFC 6026 §8.4
  ];
  it.each(table)('Timer %s: %s on UDP, %s on TCP', (name, udp, tcp) => {
    const u = makeTimers(DEFAULT_TIMERS, false) as unknown as Record<string, number | null>;
    const r = makeTimers(DEFAULT_TIMERS, true) as unknown as Record<string, number | null>;
    expect(u[name]).toBe(udp);
    expect(r[name]).toBe(tcp);
  });

  it('backoff: A doubles without cap, E and G double up to T2', () => {
    const t = makeTimers(DEFAULT_TIMERS, false);
    const seq = (next: (n: number) => number): number[] => {
      const out = [500];
      while (out.length < 7) out.push(next(out[out.length - 1]));
      return out;
    };
    expect(seq(t.nextA)).toEqual([500, 1000, 2000, 4000, 8000, 16000, 32000]);
    expect(seq(t.nextE)).toEqual([500, 1000, 2000, 4000, 4000, 4000, 4000]);
    expect(seq(t.nextG)).toEqual([500, 1000, 2000, 4000, 4000, 4000, 4000]);
  });

  it('shrinks with T1 for tests; Timer D keeps its 32 s floor unless overridden', () => {
    const t = makeTimers({ t1: 10, t2: 40, t4: 50 }, false);
    expect([t.A, t.B, t.F, t.H, t.J, t.I, t.K]).toEqual([10, 640, 640, 640, 640, 50, 50]);
    expect(t.D).toBe(32000);
    expect(makeTimers({ t1: 10, t2: 40, t4: 50, d: 640 }, false).D).toBe(640);
    expect(makeTimers({ t1: 1000, t2: 4000, t4: 5000 }, false).D).toBe(64000);
  });

  it('rejects nonsense', () => {
    expect(() => makeTimers({ t1: 0, t2: 4000, t4: 5000 }, false)).toThrow(RangeError);
    expect(() => makeTimers({ t1: 500, t2: 100, t4: 5000 }, false)).toThrow(RangeError);
  });
});
