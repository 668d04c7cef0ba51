import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { SipError } from '../lib/errors.js';
import { PortAllocator, PortsExhaustedError } from './ports.js';
import type { MediaSocket } from './udp.js';

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

/** Resolves with the first datagram `s` receives. */
function firstDatagram(s: MediaSocket): Promise<string> {
  return new Promise((res) => s.setHandlers({ datagram: (b, n) => res(b.toString('latin1', 0, n)), error: () => {} }));
}

describe.each(['native', 'dgram'] as const)('PortAllocator (%s sockets)', (io) => {
  it('hands out even RTP ports with RTCP on the next, bound on the configured address', async () => {
    const a = new PortAllocator(BASE + 1, BASE + 8, { address: '127.0.0.1', io });
    expect(a.io).toBe(io);
    expect(a.min).toBe(BASE + 2);
    expect(a.max).toBe(BASE + 7);
    expect(a.capacity).toBe(3);
    const p = await a.allocate();
    expect(p.port % 2).toBe(0);
    expect(p.rtp.kind).toBe(io);
    expect(p.rtp.port).toBe(p.port);
    expect(p.rtcp.port).toBe(p.port + 1);
    // Bound on 127.0.0.1: datagrams to that address and those ports arrive.
    const peer = createSocket('udp4');
    blockers.push(peer);
    const got = Promise.all([firstDatagram(p.rtp), firstDatagram(p.rtcp)]);
    peer.send('to rtp', p.port, '127.0.0.1');
    peer.send('to rtcp', p.port + 1, '127.0.0.1');
    expect(await got).toEqual(['to rtp', 'to rtcp']);
    a.releaseAll();
  });

  it('allocates all of a small range, fails with 503, releases, allocates again (no leaks)', async () => {
    const a = new PortAllocator(BASE, BASE + 5, { address: '127.0.0.1', io });
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
    const a = new PortAllocator(BASE + 10, BASE + 15, { address: '127.0.0.1', io });
    const p1 = await a.allocate();
    a.release(p1.port);
    const p2 = await a.allocate();
    expect(p2.port).not.toBe(p1.port);
    a.releaseAll();
  });

  it('skips ports (RTP or RTCP) held by someone else', async () => {
    await occupy(BASE + 12); // RTP port of the first pair
    await occupy(BASE + 15); // RTCP port of the second pair
    const a = new PortAllocator(BASE + 12, BASE + 17, { address: '127.0.0.1', io });
    const p = await a.allocate();
    expect(p.port).toBe(BASE + 16);
    expect(a.busySkipped).toBe(2);
    await expect(a.allocate()).rejects.toBeInstanceOf(PortsExhaustedError);
    a.releaseAll();
  });
});
