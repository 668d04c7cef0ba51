// Bridge over real UDP on 127.0.0.1: two "phones" (MediaSessions, or raw sockets when the test
// needs to see the bytes) each talk to one of two server sessions that a Bridge joins.
// Tones of distinct frequencies tell who hears whom; raw peers check pass-through byte for byte.
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaClock } from '../src/lib/media-clock.js';
import { Bridge } from '../src/media/bridge.js';
import { Rfc4733EventSource, Rfc4733Receiver } from '../src/media/dtmf/rfc4733.js';
import type { DtmfEvent } from '../src/media/dtmf/types.js';
import { PortAllocator } from '../src/media/ports.js';
import { OffloadedRecorder } from '../src/media/offloaded-recorder.js';
import { Recorder } from '../src/media/recorder.js';
import { createRtpHeader, parseRtp, writeRtpHeader, type RtpHeader } from '../src/media/rtp.js';
import { MediaSession } from '../src/media/session.js';
import { toneAmplitude } from '../src/media/testing.js';
import type { AudioFrameKind, AudioSource, AudioTap, TapDirection } from '../src/media/types.js';
import { readWav } from '../src/media/wav.js';
import { sleep, until } from './support/wait.js';

const BASE = 52000 + (process.pid % 100) * 40;
const allocator = new PortAllocator(BASE, BASE + 39, { address: '127.0.0.1' });
const clock = new MediaClock();
const sessions: MediaSession[] = [];
const sockets: Socket[] = [];
const bridges: Bridge[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'media-bridge-'));

beforeAll(() => clock.start());
afterAll(() => {
  clock.stop();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  for (const b of bridges.splice(0)) b.close();
  for (const s of sessions.splice(0)) s.close();
  for (const s of sockets.splice(0)) s.close();
  expect(allocator.inUse).toBe(0);
});


async function session(codecs?: ('PCMU' | 'PCMA' | 'opus')[]): Promise<MediaSession> {
  const s = await MediaSession.create({ allocator, clock, inactivityMs: 0, ...(codecs ? { codecs } : {}) });
  sessions.push(s);
  return s;
}

function bridge(a: MediaSession, b: MediaSession, opts?: ConstructorParameters<typeof Bridge>[2]): Bridge {
  const br = new Bridge(a, b, opts);
  bridges.push(br);
  return br;
}

async function rawSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

function peerSdp(port: number, formats = '0 101', te = 101): string {
  return (
    `v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
    `m=audio ${port} RTP/AVP ${formats}\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:${te} telephone-event/8000\r\na=fmtp:${te} 0-15\r\n`
  );
}

class Sine implements AudioSource {
  #n = 0;
  constructor(readonly hz: number) {}
  nextFrame(out: Int16Array): boolean {
    for (let i = 0; i < out.length; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * this.hz * this.#n++) / 8000));
    return true;
  }
}

/** Decoded audio a phone receives. */
class Ear implements AudioTap {
  samples: number[] = [];
  onAudio(frame: Int16Array, kind: AudioFrameKind, dir: TapDirection): void {
    if (dir === 'in' && kind === 'audio') for (const v of frame) this.samples.push(v);
  }
}

/** Amplitude of `hz` in the last 4000 samples (500/1000/1500 Hz then sit on bins). */
function level(x: ArrayLike<number>, hz: number): number {
  return toneAmplitude(x, hz, { from: x.length - 4000 });
}

/** A phone session negotiated with a server session; it plays `hz` and records what it hears. */
async function phone(server: MediaSession, hz: number, codecs?: ('PCMU' | 'PCMA' | 'opus')[]): Promise<{ s: MediaSession; ear: Ear }> {
  const s = await session(codecs);
  s.applyAnswer(server.answer(s.createOffer()));
  s.setSource(new Sine(hz));
  const ear = new Ear();
  s.addTap(ear, 'in');
  return { s, ear };
}

/** Runs a bridged call between phones playing 500 Hz (A) and 1500 Hz (B); checks each hears the other. */
async function expectTonesCross(a: { ear: Ear }, b: { ear: Ear }): Promise<void> {
  const startA = a.ear.samples.length;
  const startB = b.ear.samples.length;
  await until(() => a.ear.samples.length - startA >= 8000 && b.ear.samples.length - startB >= 8000);
  expect(level(b.ear.samples, 500)).toBeGreaterThan(4000);
  expect(level(b.ear.samples, 1500)).toBeLessThan(200);
  expect(level(a.ear.samples, 1500)).toBeGreaterThan(4000);
  expect(level(a.ear.samples, 500)).toBeLessThan(200);
}

/**
 * A recorded bridged call: 8 kHz stereo, `frames` sample frames, the caller's 500 Hz on the left
 * and the callee's 1500 Hz on the right, each above `loud` and the other tone below `quiet`.
 */
function expectStereoCall(path: string, frames: number, loud: number, quiet: number): void {
  const wav = readWav(path);
  expect(wav.channels).toBe(2);
  expect(wav.sampleRate).toBe(8000);
  expect(wav.samples.length).toBe(frames * 2);
  const left = wav.samples.filter((_, i) => i % 2 === 0);
  const right = wav.samples.filter((_, i) => i % 2 === 1);
  expect(level(left, 500)).toBeGreaterThan(loud);
  expect(level(left, 1500)).toBeLessThan(quiet);
  expect(level(right, 1500)).toBeGreaterThan(4000);
  expect(level(right, 500)).toBeLessThan(200);
}

describe('Bridge', () => {
  it('relays both ways without decoding when the codecs match', async () => {
    const [sa, sb] = [await session(), await session()];
    const a = await phone(sa, 500);
    const b = await phone(sb, 1500);
    const br = bridge(sa, sb);
    expect(br.mode).toEqual({ aToB: 'pass-through', bToA: 'pass-through' });
    await expectTonesCross(a, b);
    expect(br.stats.aToB.passedThrough).toBeGreaterThan(40);
    expect(br.stats.bToA.passedThrough).toBeGreaterThan(40);
    expect(sb.stats.relayedSent).toBe(br.stats.aToB.passedThrough);
    // While packets are relayed the sessions' ticks do not pull frames from the relay (at most
    // the first tick or two before the first packet, and after a gap).
    expect(br.stats.aToB.framesOut + br.stats.bToA.framesOut).toBeLessThan(10);
  });

  it('pass-through keeps payload bytes and rewrites SSRC, sequence and timestamp into the outbound stream', async () => {
    const [sa, sb] = [await session(), await session()];
    const rawA = await rawSocket();
    const rawB = await rawSocket();
    sa.answer(peerSdp(rawA.address().port));
    sb.answer(peerSdp(rawB.address().port));
    const got: { h: RtpHeader; payload: Buffer }[] = [];
    rawB.on('message', (msg) => {
      const h = createRtpHeader();
      if (parseRtp(msg, msg.length, h)) got.push({ h, payload: Buffer.from(msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength)) });
    });
    const br = bridge(sa, sb);
    await until(() => got.length >= 5); // sb's own (silence) stream before A talks
    const sent: Buffer[] = [];
    const buf = Buffer.alloc(12 + 160);
    const ts0 = 0xfffff000; // the source's timestamps and sequence numbers wrap on the way
    for (let i = 0; i < 50; i++) {
      const payload = Buffer.from(Array.from({ length: 160 }, (_, k) => (i * 7 + k * 13) & 0xff));
      writeRtpHeader(buf, { marker: i === 0, payloadType: 0, sequence: (65520 + i) & 0xffff, timestamp: (ts0 + i * 160) >>> 0, ssrc: 0xabc });
      payload.copy(buf, 12);
      rawA.send(buf, sa.port, '127.0.0.1');
      sent.push(payload);
      await sleep(20);
    }
    await until(() => got.filter((g) => sent.some((p) => p.equals(g.payload))).length === 50);
    const first = got.findIndex((g) => g.payload.equals(sent[0]!));
    const relayed = got.slice(first, first + 50);
    relayed.forEach((g, i) => expect(g.payload.equals(sent[i]!)).toBe(true));
    for (let i = 0; i < got.length; i++) {
      expect(got[i]!.h.ssrc).toBe(sb.ssrc);
      // One continuous sequence across sb's own packets and the relayed ones.
      if (i > 0) expect(got[i]!.h.sequence).toBe((got[i - 1]!.h.sequence + 1) & 0xffff);
    }
    for (let i = 1; i < relayed.length; i++) expect((relayed[i]!.h.timestamp - relayed[i - 1]!.h.timestamp) >>> 0).toBe(160);
    expect(relayed[0]!.h.marker).toBe(true);
    expect(br.stats.aToB.passedThrough).toBe(50);
  });

  it('transcodes PCMU <-> PCMA through internal PCM', async () => {
    const [sa, sb] = [await session(), await session()];
    const a = await phone(sa, 500, ['PCMU']);
    const b = await phone(sb, 1500, ['PCMA']);
    expect(sa.negotiated?.codec.name).toBe('PCMU');
    expect(sb.negotiated?.codec.name).toBe('PCMA');
    const br = bridge(sa, sb);
    expect(br.mode).toEqual({ aToB: 'transcode', bToA: 'transcode' });
    await expectTonesCross(a, b);
    expect(br.stats.aToB.passedThrough).toBe(0);
    expect(br.stats.aToB.framesOut).toBeGreaterThan(50);
  });

  it('transcodes opus <-> PCMU', async () => {
    const [sa, sb] = [await session(), await session()];
    const a = await phone(sa, 500, ['opus']);
    const b = await phone(sb, 1500, ['PCMU']);
    expect(sa.negotiated?.codec.name).toBe('opus');
    const br = bridge(sa, sb);
    expect(br.mode).toEqual({ aToB: 'transcode', bToA: 'transcode' });
    await expectTonesCross(a, b);
  });

  it('carries RFC 4733 events across a pass-through bridge with the other side’s payload type', async () => {
    const [sa, sb] = [await session(), await session()];
    const rawA = await rawSocket();
    const rawB = await rawSocket();
    sa.answer(peerSdp(rawA.address().port, '0 101', 101));
    sb.answer(peerSdp(rawB.address().port, '0 96', 96));
    expect(sb.negotiated?.telephoneEvent?.payloadType).toBe(96);
    const events: { h: RtpHeader; payload: Buffer }[] = [];
    const digits: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => digits.push(e));
    let audioAfter = 0;
    rawB.on('message', (msg) => {
      const h = createRtpHeader();
      if (!parseRtp(msg, msg.length, h)) return;
      const payload = Buffer.from(msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength));
      if (h.payloadType === 96) {
        events.push({ h, payload });
        rx.push(h, payload, performance.now());
      } else if (events.length > 0) audioAfter++;
    });
    const br = bridge(sa, sb);
    // A talks (so the relay is active), presses 7 for 6 packets + 3 ends, then talks again.
    const buf = Buffer.alloc(172, 0xff);
    const sentEvents: Buffer[] = [];
    let seq = 100;
    let ts = 5000;
    const send = (pt: number, marker: boolean, timestamp: number, payload: Buffer) => {
      writeRtpHeader(buf, { marker, payloadType: pt, sequence: seq++ & 0xffff, timestamp, ssrc: 0x777 });
      payload.copy(buf, 12);
      rawA.send(buf, 0, 12 + payload.length, sa.port, '127.0.0.1');
    };
    for (let i = 0; i < 10; i++, ts += 160) {
      send(0, i === 0, ts, Buffer.alloc(160, 0xff));
      await sleep(20);
    }
    const evTs = ts;
    for (let i = 1; i <= 9; i++) {
      const end = i > 6;
      const dur = Math.min(i, 6) * 160;
      const p = Buffer.from([7, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
      sentEvents.push(p);
      send(101, i === 1, evTs, p);
      ts += 160;
      await sleep(20);
    }
    for (let i = 0; i < 10; i++, ts += 160) {
      send(0, false, ts, Buffer.alloc(160, 0xff));
      await sleep(20);
    }
    await until(() => events.length === 9 && audioAfter >= 5);
    expect(events.map((e) => e.payload)).toEqual(sentEvents);
    expect(new Set(events.map((e) => e.h.timestamp)).size).toBe(1); // one timestamp per event (§2.5.1.1)
    expect(events.map((e) => e.h.marker)).toEqual([true, false, false, false, false, false, false, false, false]);
    expect(events.every((e) => e.h.ssrc === sb.ssrc)).toBe(true);
    expect(digits.map((d) => d.digit)).toEqual(['7']);
    expect(digits[0]!.durationMs).toBe(120);
    expect(br.stats.aToB.dtmfPackets).toBe(9);
  });

  it('carries RFC 4733 events across a transcoding bridge', async () => {
    const [sa, sb] = [await session(), await session()];
    const a = await phone(sa, 500, ['PCMU']);
    const b = await phone(sb, 1500, ['PCMA']);
    const digits: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => digits.push(e));
    const tePt = b.s.negotiated!.telephoneEvent!.payloadType;
    b.s.addRtpListener({ onRtp: (h, payload, now) => h.payloadType === tePt && rx.push(h, payload, now) });
    const br = bridge(sa, sb);
    await until(() => b.ear.samples.length > 1600);
    expect(a.s.setEventSource(new Rfc4733EventSource('9', 200))).toBe(true);
    await until(() => digits.length === 1);
    expect(digits[0]!.digit).toBe('9');
    expect(digits[0]!.method).toBe('rfc4733');
    expect(Math.abs(digits[0]!.durationMs - 200)).toBeLessThanOrEqual(20);
    expect(br.eventStats.aToB.events).toBe(1);
    expect(br.eventStats.aToB.packets).toBeGreaterThanOrEqual(10); // updates + 3 ends
    expect(br.eventStats.aToB.dropped).toBe(0);
  });

  it('records caller left and callee right in a stereo WAV, aligned per tick', async () => {
    const [sa, sb] = [await session(), await session()];
    const a = await phone(sa, 500);
    const b = await phone(sb, 1500);
    const path = join(tmp, 'call.wav');
    const rec = await Recorder.open(path, { stereo: true });
    const br = bridge(sa, sb, { record: rec });
    await expectTonesCross(a, b);
    br.close();
    const frames = br.stats.recordedFrames;
    await rec.close();
    expect(br.stats.recordedHalfFrames).toBe(0);
    expectStereoCall(path, frames * 160, 4000, 200);
    // Independent check with sox when present: each channel's dominant frequency ('stat' prints to stderr).
    const sox = spawnSync('sox', ['--version']);
    if (sox.status === 0) {
      const rough = (ch: number) => {
        const r = spawnSync('sox', [path, '-n', 'remix', String(ch), 'stat'], { encoding: 'utf8' });
        return Number(/Rough\s+frequency:\s+(\d+)/.exec(r.stderr)?.[1]);
      };
      expect(Math.abs(rough(1) - 500)).toBeLessThan(50);
      expect(Math.abs(rough(2) - 1500)).toBeLessThan(150);
    }
  });

  it('records on the recording worker (OffloadedRecorder): caller left, callee right, each channel decoded with its own codec, nothing decoded on the media thread', async () => {
    // Transcoding bridge: the caller speaks opus, the callee PCMU — the worker must decode each
    // channel with the codec that side negotiated.
    const [sa, sb] = [await session(['opus']), await session(['PCMU'])];
    const a = await phone(sa, 500, ['opus']);
    const b = await phone(sb, 1500, ['PCMU']);
    const path = join(tmp, 'offloaded.wav');
    const rec = await OffloadedRecorder.open(path, { stereo: true });
    const br = bridge(sa, sb, { record: rec });
    expect(br.recorder).toBe(rec);
    await expectTonesCross(a, b);
    br.close();
    const stats = await rec.close();
    expect(await rec.close()).toEqual(stats); // idempotent
    expect(rec.stats.packets).toBeGreaterThan(80);
    expect(rec.stats.dropped).toBe(0);
    expect(br.stats.recordedFrames).toBe(0); // nothing went through the in-thread path
    // opus (the caller) comes back a little quieter and less pure than G.711.
    expectStereoCall(path, stats.frames, 3000, 300);
  });

  it('OffloadedRecorder: pause() records silence and keeps the timeline, resume() brings the audio back; open() refuses an existing file', async () => {
    const [sa, sb] = [await session(), await session()];
    const a = await phone(sa, 500);
    const b = await phone(sb, 1500);
    const path = join(tmp, 'offloaded-pause.wav');
    const rec = await OffloadedRecorder.open(path, { stereo: true });
    bridge(sa, sb, { record: rec });
    await expectTonesCross(a, b);
    rec.pause();
    expect(rec.paused).toBe(true);
    await sleep(600);
    rec.resume();
    await sleep(600);
    await rec.close();
    const wav = readWav(path);
    const left = Array.from(wav.samples.filter((_, i) => i % 2 === 0));
    // Find the paused stretch: the longest run of exact zeros in the caller's channel.
    let best = 0;
    let run = 0;
    let bestEnd = 0;
    for (let i = 0; i < left.length; i++) {
      run = left[i] === 0 ? run + 1 : 0;
      if (run > best) [best, bestEnd] = [run, i];
    }
    expect(best).toBeGreaterThan(0.4 * 8000); // ~600 ms of silence in the middle...
    expect(best).toBeLessThan(0.9 * 8000);
    expect(level(left.slice(0, bestEnd - best), 500)).toBeGreaterThan(4000); // ...audio before it
    expect(level(left.slice(bestEnd + 1), 500)).toBeGreaterThan(4000); // ...and after it
    await expect(OffloadedRecorder.open(path, { stereo: true })).rejects.toThrow(/EEXIST/);
    const again = await OffloadedRecorder.open(join(tmp, 'offloaded-after-error.wav'));
    await again.close(); // the worker survived the failed open
  });

  it('close() is idempotent, restores the previous sources, and follows a session closing', async () => {
    const [sa, sb] = [await session(), await session()];
    const src: AudioSource = new Sine(300);
    sa.setSource(src);
    const br = bridge(sa, sb);
    expect(sa.source).not.toBe(src);
    let closed = 0;
    br.on('closed', () => closed++);
    br.close();
    br.close();
    expect(closed).toBe(1);
    expect(sa.source).toBe(src);
    expect(sb.source).toBeNull();
    const br2 = bridge(sa, sb);
    let closed2 = 0;
    br2.on('closed', () => closed2++);
    sb.close();
    expect(closed2).toBe(1);
    expect(br2.closed).toBe(true);
    expect(sa.source).toBe(src);
    expect(() => new Bridge(sa, sb)).toThrow(/closed/);
    expect(() => new Bridge(sa, sa)).toThrow(/itself/);
  });
});
