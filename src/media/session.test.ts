// Integration tests of MediaSession over real UDP sockets on 127.0.0.1, on a real media clock.
// Timing assertions are deliberately generous (shared CI machines); the figures are logged.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaClock } from '../lib/media-clock.js';
import { PortAllocator } from './ports.js';
import { createRtpHeader, parseRtp, writeRtpHeader } from './rtp.js';
import { createReportBlock, parseRtcp, type RtcpPacket } from './rtcp.js';
import { SdpError } from './sdp/index.js';
import { MediaSession, type RtcpReport } from './session.js';
import type { AudioFrameKind, AudioSource, AudioTap, RtpEventPacket, RtpEventSource, TapDirection } from './types.js';
import { sleep, until } from '../../test/support/wait.js';

const BASE = 46000 + (process.pid % 150) * 40;
const allocator = new PortAllocator(BASE, BASE + 39, { address: '127.0.0.1' });
const clock = new MediaClock();
const sessions: MediaSession[] = [];
const sockets: Socket[] = [];

beforeAll(() => clock.start());
afterAll(() => clock.stop());
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
  for (const s of sockets.splice(0)) s.close();
  expect(allocator.inUse).toBe(0);
});

async function session(opts: Partial<Parameters<typeof MediaSession.create>[0]> = {}): Promise<MediaSession> {
  const s = await MediaSession.create({ allocator, clock, inactivityMs: 0, ...opts });
  sessions.push(s);
  return s;
}


class Sine implements AudioSource {
  #n = 0;
  frames = 0;
  constructor(
    readonly hz: number,
    readonly amplitude = 8000,
    readonly limit = Infinity,
  ) {}
  nextFrame(out: Int16Array): boolean {
    if (this.frames >= this.limit) return false;
    for (let i = 0; i < out.length; i++) out[i] = Math.round(this.amplitude * Math.sin((2 * Math.PI * this.hz * this.#n++) / 8000));
    this.frames++;
    return true;
  }
}

class Collect implements AudioTap {
  samples: number[] = [];
  kinds: Record<string, number> = {};
  onAudio(frame: Int16Array, kind: AudioFrameKind, dir: TapDirection): void {
    if (dir !== 'in') return;
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
    if (kind === 'audio') for (const v of frame) this.samples.push(v);
  }
}

/** Dominant frequency by zero crossings, and RMS, over the last `n` samples. */
function analyse(samples: number[], n = 4000): { hz: number; rms: number } {
  const s = samples.slice(-n);
  let crossings = 0;
  let sum = 0;
  for (let i = 1; i < s.length; i++) {
    if ((s[i - 1]! < 0 && s[i]! >= 0) || (s[i - 1]! >= 0 && s[i]! < 0)) crossings++;
    sum += s[i]! * s[i]!;
  }
  return { hz: (crossings / 2) * (8000 / s.length), rms: Math.sqrt(sum / s.length) };
}

function bindUdp(s: Socket, port: number): Promise<void> {
  return new Promise((res, rej) => {
    s.once('error', rej);
    s.bind(port, '127.0.0.1', () => res());
  });
}

function rawSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r(s)));
}

function peerSdp(port: number, formats = '0 101', extra = ''): string {
  return (
    `v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
    `m=audio ${port} RTP/AVP ${formats}\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n${extra}`
  );
}

/** A raw RTP sender: `count` G.711 packets at 20 ms with optional drops and send-time jitter. */
async function sendRaw(
  sock: Socket,
  port: number,
  opts: { count: number; ssrc?: number; drop?: (i: number) => boolean; jitterMs?: number; seq0?: number },
): Promise<void> {
  const buf = Buffer.alloc(172, 0xff);
  const h = { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: opts.ssrc ?? 0x1234 };
  const t0 = performance.now();
  for (let i = 0; i < opts.count; i++) {
    const due = t0 + i * 20 + (opts.jitterMs ? Math.random() * opts.jitterMs : 0);
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (opts.drop?.(i)) continue;
    h.marker = i === 0;
    h.sequence = ((opts.seq0 ?? 1000) + i) & 0xffff;
    h.timestamp = i * 160;
    writeRtpHeader(buf, h);
    sock.send(buf, port, '127.0.0.1');
  }
}

describe('MediaSession offer/answer and audio over UDP', () => {
  it('two sessions negotiate G.711 and exchange a sine both ways', async () => {
    const a = await session();
    const b = await session({ codecs: ['PCMA', 'PCMU'] });
    const answer = b.answer(a.createOffer());
    a.applyAnswer(answer);
    expect(a.negotiated!.codec.name).toBe('PCMU'); // offerer's order wins by default
    expect(b.negotiated!.codec.name).toBe('PCMU');
    const atB = new Collect();
    const atA = new Collect();
    b.addTap(atB, 'in');
    a.addTap(atA, 'in');
    a.setSource(new Sine(1000));
    b.setSource(new Sine(440));
    await until(() => atB.samples.length >= 8000 && atA.samples.length >= 8000);
    const fb = analyse(atB.samples);
    const fa = analyse(atA.samples);
    console.log(`G.711 A→B ${fb.hz.toFixed(0)} Hz rms ${fb.rms.toFixed(0)}; B→A ${fa.hz.toFixed(0)} Hz rms ${fa.rms.toFixed(0)}`);
    expect(fb.hz).toBeGreaterThan(950);
    expect(fb.hz).toBeLessThan(1050);
    expect(fa.hz).toBeGreaterThan(410);
    expect(fa.hz).toBeLessThan(470);
    // 8000 · 1/√2 ≈ 5657; µ-law is within a few percent.
    expect(fb.rms).toBeGreaterThan(5000);
    expect(fb.rms).toBeLessThan(6300);
    expect(a.remote).toEqual({ address: '127.0.0.1', port: b.port, latched: true });
  });

  it('negotiates Opus when only Opus is acceptable and still carries the tone', async () => {
    const a = await session({ codecs: ['opus'] });
    const b = await session();
    a.applyAnswer(b.answer(a.createOffer()));
    expect(b.negotiated!.codec.name).toBe('opus');
    expect(a.codec!.clockRate).toBe(48000);
    const atB = new Collect();
    b.addTap(atB, 'in');
    a.setSource(new Sine(800));
    await until(() => atB.samples.length >= 8000);
    const f = analyse(atB.samples);
    console.log(`Opus A→B ${f.hz.toFixed(0)} Hz rms ${f.rms.toFixed(0)}`);
    expect(f.hz).toBeGreaterThan(750);
    expect(f.hz).toBeLessThan(850);
    expect(f.rms).toBeGreaterThan(3000);
  });

  it('an unusable offer throws SdpError 488 and leaves the session as it was', async () => {
    const b = await session();
    const err = (() => {
      try {
        b.answer(peerSdp(5000, '18').replace('a=rtpmap:0 PCMU/8000\r\n', 'a=rtpmap:18 G729/8000\r\n'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SdpError);
    expect((err as SdpError).status).toBe(488);
    expect(b.negotiated).toBeNull();
    expect(() => b.answer('garbage')).toThrow(SdpError);
  });

  it('re-offers keep the o= session and bump the version only on change', async () => {
    const a = await session();
    const o1 = a.createOffer();
    const o2 = a.createOffer();
    const o3 = a.createOffer('sendonly');
    const o = (s: string) => /^o=\S+ (\d+) (\d+)/m.exec(s)!.slice(1);
    expect(o(o2)).toEqual(o(o1));
    expect(o(o3)[0]).toBe(o(o1)[0]);
    expect(BigInt(o(o3)[1]!)).toBe(BigInt(o(o1)[1]!) + 1n);
    expect(o3).toContain('a=sendonly');
  });
});

describe('MediaSession symmetric RTP, SSRC, inactivity, close', () => {
  it('latches to the first source and ignores a third socket (counted; unconnected socket)', async () => {
    // `connect: false`: the intruder's packets reach us and are counted. (Connected — the
    // default — the kernel drops them before they reach us: next test.)
    const a = await session({ connect: false });
    const b = await session({ connect: false });
    a.applyAnswer(b.answer(a.createOffer()));
    await until(() => b.stats.rtpReceived > 3);
    const intruder = await rawSocket();
    await sendRaw(intruder, b.port, { count: 5 });
    await until(() => b.stats.foreignSource >= 5);
    expect(b.remote).toEqual({ address: '127.0.0.1', port: a.port, latched: true });
    expect(b.stats.latches).toBe(1);
  });

  it('latched to the SDP address, the RTP socket is connected: a third socket is filtered by the kernel', async () => {
    const a = await session();
    const b = await session();
    a.applyAnswer(b.answer(a.createOffer()));
    await until(() => b.stats.rtpReceived > 3 && b.rtpConnected);
    const intruder = await rawSocket();
    await sendRaw(intruder, b.port, { count: 5 });
    await sleep(100);
    expect(b.remote).toEqual({ address: '127.0.0.1', port: a.port, latched: true });
    expect(b.stats.latches).toBe(1);
    expect(b.stats.foreignSource).toBe(0); // never delivered: the trade-off of a connected socket
    const n = b.stats.rtpReceived;
    await until(() => b.stats.rtpReceived > n + 2); // a still flows (and is sent to, without an address)
    expect(b.stats.sendErrors).toBe(0);
  });

  it('re-latches after an SDP change (re-INVITE)', async () => {
    const b = await session();
    const p1 = await rawSocket();
    b.answer(peerSdp(p1.address().port));
    await sendRaw(p1, b.port, { count: 3 });
    await until(() => b.stats.latches === 1);
    const p2 = await rawSocket();
    b.answer(peerSdp(p2.address().port).replace('o=peer 1 1', 'o=peer 1 2'));
    await sendRaw(p2, b.port, { count: 3, ssrc: 0x999 });
    // A stale packet of p1 still queued may re-latch first; the SDP-named p2 then wins.
    await until(() => b.remote!.port === p2.address().port);
    expect(b.stats.latches).toBeGreaterThanOrEqual(2);
    expect(b.stats.latches).toBeLessThanOrEqual(3);
    // p1 is now ignored: counted as foreign while unconnected, filtered by the kernel once the
    // socket is connected to p2 (the default; see MediaSessionOptions.connect).
    await until(() => b.rtpConnected);
    await sleep(50); // p2's packets still in flight
    const before = b.stats.rtpReceived;
    await sendRaw(p1, b.port, { count: 2 });
    await sleep(100);
    expect(b.remote!.port).toBe(p2.address().port);
    expect(b.stats.rtpReceived).toBe(before);
  });

  it('sends to the SDP address before latching, then to the latched source', async () => {
    const b = await session();
    const peer = await rawSocket();
    const got: number[] = [];
    peer.on('message', (m) => got.push(m.length));
    b.answer(peerSdp(peer.address().port));
    await until(() => got.length >= 3); // silence packets
    expect(got[0]).toBe(172);
  });

  it("emits 'ssrc-change' and resets when the peer's SSRC changes", async () => {
    const b = await session();
    const peer = await rawSocket();
    b.answer(peerSdp(peer.address().port));
    const changes: unknown[] = [];
    b.on('ssrc-change', (e) => changes.push(e));
    await sendRaw(peer, b.port, { count: 5, ssrc: 1 });
    await sendRaw(peer, b.port, { count: 5, ssrc: 2, seq0: 40000 });
    await until(() => changes.length === 1);
    expect(changes[0]).toEqual({ previous: 1, current: 2 });
    expect(b.stats.ssrcChanges).toBe(1);
  });

  it("emits 'inactive' once after the configured silence, again after RTP resumes and stops", async () => {
    const b = await session({ inactivityMs: 200 });
    const peer = await rawSocket();
    const t0 = performance.now();
    b.answer(peerSdp(peer.address().port));
    const events: number[] = [];
    b.on('inactive', () => events.push(performance.now() - t0));
    await until(() => events.length === 1, 2000);
    expect(events[0]).toBeGreaterThanOrEqual(190);
    expect(events[0]).toBeLessThan(600);
    await sleep(300);
    expect(events.length).toBe(1);
    await sendRaw(peer, b.port, { count: 2 });
    await until(() => events.length === 2, 2000);
  });

  it('close() is idempotent, emits closed once and frees the ports', async () => {
    const a = await session();
    let closed = 0;
    a.on('closed', () => closed++);
    expect(allocator.inUse).toBe(1);
    a.close();
    a.close();
    expect(closed).toBe(1);
    expect(allocator.inUse).toBe(0);
    expect(() => a.createOffer()).toThrow();
  });
});

describe('MediaSession RTCP', () => {
  it('exchanges SR/RR with CNAME and measures RTT between two sessions', async () => {
    const a = await session({ rtcpIntervalMs: 200 });
    const b = await session({ rtcpIntervalMs: 200 });
    a.applyAnswer(b.answer(a.createOffer()));
    const reports: RtcpReport[] = [];
    a.on('rtcp', (r) => reports.push(r));
    await until(() => reports.some((r) => r.rttMs !== null), 4000);
    const r = reports.find((x) => x.rttMs !== null)!;
    expect(r.packets[0]!.type).toBe('sr');
    expect(r.packets.some((p) => p.type === 'sdes' && p.chunks[0]!.cname !== null)).toBe(true);
    expect(r.rttMs!).toBeGreaterThanOrEqual(0);
    expect(r.rttMs!).toBeLessThan(50);
    expect(r.aboutUs!.fractionLost).toBe(0);
  });

  it('reports loss and jitter plausibly when packets are dropped on purpose', async () => {
    const b = await session({ rtcpIntervalMs: 400, sendSilence: false });
    // A raw peer, its RTCP port named by a=rtcp (RFC 3605).
    const pair = { rtp: createSocket('udp4'), rtcp: createSocket('udp4') };
    await Promise.all([bindUdp(pair.rtp, 0), bindUdp(pair.rtcp, 0)]);
    const rtcpIn: RtcpPacket[][] = [];
    pair.rtcp.on('message', (m) => {
      const p = parseRtcp(m, m.length);
      if (p) rtcpIn.push(p);
    });
    try {
      b.answer(peerSdp(pair.rtp.address().port, '0 101', `a=rtcp:${pair.rtcp.address().port}\r\n`));
      // 100 packets, every 10th dropped, with up to 4 ms of send jitter.
      await sendRaw(pair.rtp, b.port, { count: 100, drop: (i) => i % 10 === 5, jitterMs: 4 });
      // The first report made after the last packet arrived (one made while it was still in
      // flight counts one packet fewer).
      type Block = ReturnType<typeof createReportBlock>;
      const lastBlock = (): Block | undefined =>
        (rtcpIn[rtcpIn.length - 1]?.find((p) => p.type === 'rr') as { reports: Block[] } | undefined)?.reports[0];
      await until(() => lastBlock()?.highestSeq === 1099, 3000);
      const block = lastBlock()!;
      console.log(`RTCP RR after 10% loss: cumulative ${block.cumulativeLost}, highest ${block.highestSeq}, jitter ${block.jitter} ts units`);
      expect(block.ssrc).toBe(0x1234);
      expect(block.cumulativeLost).toBe(10);
      expect(block.highestSeq).toBe(1099);
      // Send jitter ≤ 4 ms (32 ts units) plus timer noise: plausible, not zero, not absurd.
      expect(block.jitter).toBeGreaterThan(0);
      expect(block.jitter).toBeLessThan(8 * 40);
      // Fraction lost over all intervals adds up to ≈10%.
      const fractions = rtcpIn.flatMap((c) => c.filter((p) => p.type === 'rr').flatMap((p) => (p as { reports: { fractionLost: number }[] }).reports.map((x) => x.fractionLost)));
      expect(Math.max(...fractions)).toBeGreaterThan(10);
      expect(Math.max(...fractions)).toBeLessThan(80);
    } finally {
      pair.rtp.close();
      pair.rtcp.close();
    }
  });
});

describe('MediaSession send path', () => {
  it('paces packets at 20 ms without bursts; seq/ts continuous across source changes; marker on talkspurt', async () => {
    const b = await session({ sendSilence: false });
    const peer = await rawSocket();
    const arrivals: { t: number; seq: number; ts: number; marker: boolean; ssrc: number }[] = [];
    const h = createRtpHeader();
    peer.on('message', (m) => {
      if (parseRtp(m, m.length, h)) arrivals.push({ t: performance.now(), seq: h.sequence, ts: h.timestamp, marker: h.marker, ssrc: h.ssrc });
    });
    b.answer(peerSdp(peer.address().port));
    b.setSource(new Sine(500, 8000, 30));
    b.on('source-ended', () => b.setSource(new Sine(700, 8000, 30)));
    await until(() => arrivals.length >= 60, 4000);
    b.setSource(null);
    // Intervals between consecutive packets.
    const gaps = arrivals.slice(1).map((x, i) => x.t - arrivals[i]!.t);
    const dev = gaps.map((g) => Math.abs(g - 20)).sort((x, y) => x - y);
    const p99 = dev[Math.ceil(dev.length * 0.99) - 1]!;
    const p90 = dev[Math.ceil(dev.length * 0.9) - 1]!;
    const bursts = gaps.filter((g) => g < 3).length;
    console.log(
      `send pacing over ${gaps.length} gaps: p90 |gap-20| = ${p90.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, bursts ${bursts}; ` +
        `clock p99 lateness ${clock.lateness.p99().toFixed(2)} ms, skipped ${clock.skipped}`,
    );
    // Generous: this machine is shared with other test runs; a stall shows as one long gap and
    // skipped ticks (never as a burst of back-to-back packets).
    expect(p90).toBeLessThan(10);
    expect(p99).toBeLessThan(60);
    expect(bursts).toBeLessThanOrEqual(1);
    // No drift: wall-clock span ≈ RTP timestamp span (stalls skip ticks; timestamps follow the clock).
    const span = arrivals[59]!.t - arrivals[0]!.t;
    const tsSpanMs = ((arrivals[59]!.ts - arrivals[0]!.ts) >>> 0) / 8;
    expect(Math.abs(span - tsSpanMs)).toBeLessThan(40);
    for (let i = 1; i < 60; i++) {
      expect(arrivals[i]!.seq).toBe((arrivals[i - 1]!.seq + 1) & 0xffff);
      expect(arrivals[i]!.ssrc).toBe(b.ssrc);
      // one tick per packet: +160; ticks skipped after a stall advance it by a multiple of 160
      const dts = (arrivals[i]!.ts - arrivals[i - 1]!.ts) >>> 0;
      expect(dts % 160).toBe(0);
      expect(dts).toBeGreaterThanOrEqual(160);
    }
    expect(arrivals[0]!.marker).toBe(true);
    expect(arrivals.slice(1, 60).some((x) => x.marker)).toBe(false); // source change: no new talkspurt
  });

  it('pre-encoded sources: payload bytes go out as given; PCM (encoded) path while an out tap or in-band DTMF needs it', async () => {
    // nextFrame and nextPayloadInto say different things on purpose, to see which path ran.
    class Both implements AudioSource {
      frames = 0;
      payloads = 0;
      nextFrame(out: Int16Array): boolean {
        this.frames++;
        out.fill(0); // encodes to 0xff (µ-law zero)
        return true;
      }
      nextPayloadInto(_codec: 'PCMU' | 'PCMA', out: Uint8Array, offset: number): number {
        this.payloads++;
        for (let i = 0; i < 160; i++) out[offset + i] = i & 0x7f;
        return 160;
      }
    }
    const b = await session({ sendSilence: false, codecs: ['PCMU'], telephoneEvent: false });
    const peer = await rawSocket();
    const got: { seq: number; first: number; last: number }[] = [];
    const h = createRtpHeader();
    peer.on('message', (m) => {
      if (parseRtp(m, m.length, h) && h.payloadType === 0) got.push({ seq: h.sequence, first: m[h.payloadOffset]!, last: m[h.payloadOffset + 159]! });
    });
    b.answer(peerSdp(peer.address().port, '0'));
    const src = new Both();
    b.setSource(src);
    await until(() => got.length >= 5);
    expect(got.slice(0, 5).every((p) => p.first === 0 && p.last === (159 & 0x7f))).toBe(true);
    expect(src.frames).toBe(0);
    // An 'out' tap needs the PCM: the session pulls frames and encodes them.
    const tapped: number[] = [];
    const rmTap = b.addTap({ onAudio: (f: Int16Array) => void tapped.push(f[0]!) }, 'out');
    const mark = got.length;
    await until(() => got.length >= mark + 5 && tapped.length >= 3);
    expect(got.at(-1)!.first).toBe(0xff);
    expect(src.frames).toBeGreaterThan(0);
    rmTap();
    const mark2 = got.length;
    await until(() => got.length >= mark2 + 3);
    expect(got.at(-1)!.first).toBe(0);
    // In-band DTMF (no telephone-event negotiated) is mixed into PCM: tone bytes, then back.
    expect(b.sendDtmf('5', 60, 0)).toBe('inband');
    const mark3 = got.length;
    await until(() => got.length >= mark3 + 8);
    const window = got.slice(mark3);
    expect(window.some((p) => p.first !== 0 && p.first !== 0xff)).toBe(true); // tone samples
    expect(window.at(-1)!.first).toBe(0); // fast path again
    for (let i = 1; i < got.length; i++) expect(got[i]!.seq).toBe((got[i - 1]!.seq + 1) & 0xffff);
  });

  it('pass-through: onRtp sees views, sendRtpPayload relays with our SSRC and continuous sequence', async () => {
    const a = await session();
    const b = await session({ sendSilence: false });
    a.applyAnswer(b.answer(a.createOffer()));
    const peer = await rawSocket();
    const c = await session({ sendSilence: false });
    c.answer(peerSdp(peer.address().port));
    const got: { seq: number; ts: number; ssrc: number; len: number }[] = [];
    const h = createRtpHeader();
    peer.on('message', (m) => {
      if (parseRtp(m, m.length, h)) got.push({ seq: h.sequence, ts: h.timestamp, ssrc: h.ssrc, len: h.payloadLength });
    });
    // Bridge b → c: relay what b receives from a.
    b.addRtpListener({
      onRtp(hdr, payload) {
        c.sendRtpPayload(hdr.payloadType, payload, 160, hdr.marker);
      },
    });
    a.setSource(new Sine(1000));
    await until(() => got.length >= 10);
    expect(c.stats.relayedSent).toBeGreaterThanOrEqual(10);
    expect(got.every((x) => x.ssrc === c.ssrc && x.len === 160)).toBe(true);
    for (let i = 1; i < got.length; i++) expect(got[i]!.seq).toBe((got[i - 1]!.seq + 1) & 0xffff);
  });
});

describe('MediaSession RFC 4733 event hook', () => {
  it('sends event packets from an RtpEventSource in the audio sequence space, then resumes audio', async () => {
    const b = await session();
    const peer = await rawSocket();
    const got: { pt: number; seq: number; ts: number; marker: boolean; payload: string }[] = [];
    const h = createRtpHeader();
    peer.on('message', (m) => {
      if (parseRtp(m, m.length, h))
        got.push({ pt: h.payloadType, seq: h.sequence, ts: h.timestamp, marker: h.marker, payload: m.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength).toString('hex') });
    });
    b.answer(peerSdp(peer.address().port));
    await until(() => got.length >= 3);
    // digit 5: start, 2 updates, 3 end packets (RFC 4733 §2.5.1.4), one start timestamp
    let n = 0;
    let start = 0;
    const digit: RtpEventSource = {
      nextEventPacket(nowTs: number, out: RtpEventPacket): boolean {
        if (n === 6) return false;
        if (n === 0) start = nowTs;
        const end = n >= 3;
        const duration = Math.min(n + 1, 3) * 160;
        out.payload[0] = 5;
        out.payload[1] = (end ? 0x80 : 0) | 10;
        out.payload[2] = duration >> 8;
        out.payload[3] = duration & 0xff;
        out.length = 4;
        out.marker = n === 0;
        out.timestamp = start;
        n++;
        return true;
      },
    };
    let ended = 0;
    b.on('event-ended', () => ended++);
    const skipped0 = clock.skipped;
    expect(b.setEventSource(digit)).toBe(true);
    await until(() => ended === 1 && got.filter((g) => g.pt === 0).length > got.findIndex((g) => g.pt === 101) + 2);
    const first = got.findIndex((g) => g.pt === 101);
    const events = got.slice(first, first + 6);
    expect(events.every((e) => e.pt === 101 && e.ts === events[0]!.ts)).toBe(true);
    expect(events.map((e) => e.marker)).toEqual([true, false, false, false, false, false]);
    expect(events[5]!.payload).toBe('058a01e0');
    for (let i = 1; i < first + 8; i++) expect(got[i]!.seq).toBe((got[i - 1]!.seq + 1) & 0xffff);
    // audio after the event keeps the clock's timestamp: 7 ticks after the last audio packet,
    // plus any tick the shared test clock skipped meanwhile (a stall on a loaded test machine)
    const skipped = clock.skipped - skipped0;
    const dt = (got[first + 6]!.ts - got[first - 1]!.ts) >>> 0;
    expect(dt % 160).toBe(0);
    expect(dt / 160).toBeGreaterThanOrEqual(7);
    expect(dt / 160).toBeLessThanOrEqual(7 + skipped);
  });
});
