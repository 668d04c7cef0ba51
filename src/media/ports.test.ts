import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { SipError } from '../lib/errors.js';
import { PortAllocator, PortsExhaustedError } from './ports.js';

// A range unlikely to collide with other test files (each vitest fork picks its own by pid).
const BASE = 41000 + (process.pid % 200) * 20;

const blockers: Socket[] = [];
afterEach(() => {
  for (const s of blockers.splice(0)) s.close();
});

function occupy(port: number): Promise<void> {
  const s = createSocket('udp4');
  blockers.push(s);
  return new Promise((res, rej) => {
    s.once('error', rej);
    s.bind(port, '127.0.0.1', () => res());
  });
}

describe('PortAllocator', () => {
  it('hands out even RTP ports with RTCP on the next, bound on the configured address', async () => {
    const a = new PortAllocator(BASE + 1, BASE + 8, { address: '127.0.0.1' });
    expect(a.min).toBe(BASE + 2);
    expect(a.max).toBe(BASE + 7);
    expect(a.capacity).toBe(3);
    const p = await a.allocate();
    expect(p.port % 2).toBe(0);
    expect(p.rtp.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: p.port });
    expect(p.rtcp.address().port).toBe(p.port + 1);
    a.releaseAll();
  });

  it('allocates all of a small range, fails with 503, releases, allocates again (no leaks)', async () => {
    const a = new PortAllocator(BASE, BASE + 5, { address: '127.0.0.1' });
    const pairs = await Promise.all([a.allocate(), a.allocate(), a.allocate()]);
    expect(new Set(pairs.map((p) => p.port))).toEqual(new Set([BASE, BASE + 2, BASE + 4]));
    const err = await a.allocate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortsExhaustedError);
    expect((err as SipError).status).toBe(503);
    for (const p of pairs) a.release(p.port);
    a.release(pairs[0]!.port); // idempotent
    expect(a.inUse).toBe(0);
    // Give the OS a moment to close the sockets, then the full range is available again.
    await new Promise((r) => setTimeout(r, 10));
    const again = await Promise.all([a.allocate(), a.allocate(), a.allocate()]);
    expect(new Set(again.map((p) => p.port)).size).toBe(3);
    a.releaseAll();
    expect(a.inUse).toBe(0);
  });

  it('round-robins so a released port is not reused immediately', async () => {
    const a = new PortAllocator(BASE + 10, BASE + 15, { address: '127.0.0.1' });
    const p1 = await a.allocate();
    a.release(p1.port);
    const p2 = await a.allocate();
    expect(p2.port).not.toBe(p1.port);
    a.releaseAll();
  });

  it('skips ports (RTP or RTCP) held by someone else', async () => {
    await occupy(BASE + 12); // RTP port of the first pair
    await occupy(BASE + 15); // RTCP port of the second pair
    const a = new PortAllocator(BASE + 12, BASE + 17, { address: '127.0.0.1' });
    const p = await a.allocate();
    expect(p.port).toBe(BASE + 16);
    expect(a.busySkipped).toBe(2);
    await expect(a.allocate()).rejects.toBeInstanceOf(PortsExhaustedError);
    a.releaseAll();
  });
});
