// Prompts and recordings on a MediaSession over real UDP sockets on 127.0.0.1, on a real media
// clock (session-playback.ts): what a raw peer receives is the prompt bit for bit after µ-law,
// prompt changes keep one continuous RTP stream, barge-in and looping work, and WAV recordings
// (mono: the caller; stereo: caller left, our prompt right) read back with the expected audio.
// Timing assertions are generous (loaded CI); content assertions are exact where the path is.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaClock } from '../src/lib/media-clock.js';
import { InvalidStateError } from '../src/lib/errors.js';
import { PortAllocator } from '../src/media/ports.js';
import type { Player, StopReason } from '../src/media/player.js';
import { sharedPromptCache } from '../src/media/session-playback.js';
import { MediaSession, type MediaSessionOptions } from '../src/media/session.js';
import type { AudioSource } from '../src/media/types.js';
import { readWav } from '../src/media/wav.js';
import { audioPackets, decodeUlaw, peerOffer, RtpPeer, sine, sleep, tonePower, ulawRoundTrip, until, type Received, type Scheduled } from './support/media-peer.js';

const BASE = 36000 + (process.pid % 50) * 40;
const allocator = new PortAllocator(BASE, BASE + 39, { address: '127.0.0.1' });
const clock = new MediaClock();
const sessions: MediaSession[] = [];
const peers: RtpPeer[] = [];
const FIX = resolve(import.meta.dirname, '../src/media/fixtures');
const MUSIC = join(FIX, 'music-8k.wav'); // 3 s
const SPEECH = join(FIX, 'speech-8k.wav'); // 16.5 s
const SHORT = join(FIX, 'prompt-16k-stereo.wav'); // 0.2 s, downmixed + resampled by the cache
const tmp = mkdtempSync(join(tmpdir(), 'media-session-play-'));

beforeAll(() => clock.start());
afterAll(() => {
  clock.stop();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
  for (const p of peers.splice(0)) p.close();
  expect(allocator.inUse).toBe(0);
});

async function call(opts: Partial<MediaSessionOptions> = {}): Promise<{ s: MediaSession; peer: RtpPeer }> {
  const s = await MediaSession.create({ allocator, clock, inactivityMs: 0, ...opts });
  sessions.push(s);
  const peer = await RtpPeer.open();
  peers.push(peer);
  s.answer(peerOffer(peer.port, 101));
  peer.target(s.port);
  return { s, peer };
}

const frameOf = (pcm: Int16Array, k: number): Int16Array => pcm.subarray(k * 160, k * 160 + 160);
const same = (a: Int16Array, b: Int16Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Index of the first received audio packet whose decoded payload equals `frame`, from `from`. */
function findFrame(packets: Received[], frame: Int16Array, from = 0): number {
  for (let i = from; i < packets.length; i++) if (same(decodeUlaw([packets[i]!]), frame)) return i;
  return -1;
}

/** Asserts the peer received `pcm` (after µ-law) as consecutive packets from index `at`; returns the index after it. */
function expectPromptAt(packets: Received[], pcm: Int16Array, at: number): number {
  const want = ulawRoundTrip(pcm);
  const frames = pcm.length / 160;
  expect(at, 'prompt start found').toBeGreaterThanOrEqual(0);
  expect(packets.length - at, 'all prompt frames received').toBeGreaterThanOrEqual(frames);
  const got = decodeUlaw(packets.slice(at, at + frames));
  let bad = 0;
  for (let k = 0; k < frames; k++) if (!same(frameOf(got, k), frameOf(want, k))) bad++;
  expect(bad).toBe(0);
  return at + frames;
}

/** Every consecutive pair: sequence +1, timestamp +160 (one 20 ms frame, nothing skipped). */
function expectContinuous(packets: Received[]): void {
  let breaks = 0;
  for (let i = 1; i < packets.length; i++) {
    const a = packets[i - 1]!.h;
    const b = packets[i]!.h;
    if (((b.sequence - a.sequence) & 0xffff) !== 1 || ((b.timestamp - a.timestamp) >>> 0) !== 160 || b.ssrc !== a.ssrc) breaks++;
  }
  expect(breaks).toBe(0);
}

describe('MediaSession.play', () => {
  it('plays a WAV prompt to the peer: decoded audio equals the prompt after µ-law; done; silence after', async () => {
    const { s, peer } = await call();
    await until(() => peer.audio().length >= 3, 2000, 'silence first');
    const player = s.play([MUSIC]);
    expect(s.player).toBe(player);
    const done = new Promise<void>((r) => player.on('done', r));
    await done;
    expect(s.player).toBeNull();
    expect(s.source).toBeNull();
    await sleep(100);
    const pk = peer.audio();
    const prompt = sharedPromptCache().get(MUSIC);
    const end = expectPromptAt(pk, prompt.pcm, findFrame(pk, ulawRoundTrip(frameOf(prompt.pcm, 0))));
    expect(pk.slice(end).every((p) => p.payload.every((b) => b === 0xff))).toBe(true); // µ-law silence
    expectContinuous(pk);
  });

  it('prompt changes keep one continuous RTP stream (chained on done, and replaced mid-prompt) with no gap frame', async () => {
    const { s, peer } = await call();
    const cache = sharedPromptCache();
    const loadsBefore = cache.stats.loads;
    const a = cache.get(SHORT);
    const b = cache.get(MUSIC);
    const reasons: StopReason[] = [];
    const first = s.play([SHORT]);
    first.on('done', () => {
      const second = s.play([MUSIC]);
      setTimeout(() => s.play([SHORT]), 300); // replaces MUSIC mid-prompt
      second.on('stopped', (r) => reasons.push(r));
    });
    await until(() => s.player === null && reasons.length === 1, 5000, 'three prompts played');
    await sleep(100);
    expect(reasons).toEqual(['stop']);
    expect(cache.stats.loads - loadsBefore).toBeLessThanOrEqual(2); // each file read once, shared
    const pk = peer.audio();
    const i0 = findFrame(pk, ulawRoundTrip(frameOf(a.pcm, 0)));
    const i1 = expectPromptAt(pk, a.pcm, i0);
    // MUSIC starts in the very next packet and plays until it was replaced …
    expect(same(decodeUlaw([pk[i1]!]), ulawRoundTrip(frameOf(b.pcm, 0)))).toBe(true);
    const i2 = findFrame(pk, ulawRoundTrip(frameOf(a.pcm, 0)), i1);
    expect(i2 - i1).toBeGreaterThan(5);
    expectPromptAt(pk.slice(i1, i2), b.pcm.subarray(0, (i2 - i1) * 160), 0);
    // … by SHORT, again without a gap, and seq/timestamps never jump.
    expectPromptAt(pk, a.pcm, i2);
    expectContinuous(pk);
  });

  it('barge-in: a digit from the peer stops a prompt played with bargeIn, not one without', async () => {
    const { s, peer } = await call();
    const digits: string[] = [];
    s.on('dtmf', (e) => digits.push(e.digit));
    const press = (t0: number, ts: number): Scheduled[] =>
      [0, 1, 2, 3, 4, 4, 4].map((i, k) => ({ atMs: t0 + Math.min(k, 4) * 20, pt: 101, marker: k === 0, timestamp: ts, payload: Buffer.from([5, (k >= 4 ? 0x80 : 0) | 10, (i * 160) >> 8, (i * 160) & 0xff]) }));
    const deaf = s.play([SPEECH], { bargeIn: false });
    await sleep(200);
    await peer.play(press(0, 1000));
    await until(() => digits.length === 1, 2000, 'first digit');
    expect(deaf.state).toBe('playing');
    const stopped = new Promise<StopReason>((r) => {
      const p = s.play([SPEECH], { bargeIn: true });
      p.on('stopped', r);
    });
    expect(deaf.state).toBe('stopped'); // replaced
    await sleep(300);
    await peer.play(press(0, 9000));
    expect(await stopped).toBe('barge-in');
    expect(digits).toEqual(['5', '5']);
    expect(s.player).toBeNull();
    // The prompt stopped: silence follows.
    await sleep(200);
    const n = peer.audio().length;
    await sleep(200);
    const after = peer.audio().slice(n);
    expect(after.length).toBeGreaterThan(3);
    expect(after.every((p) => p.payload.every((b) => b === 0xff))).toBe(true);
  });

  it('loops a prompt with gapMs silence between repetitions until stopPlayback()', async () => {
    const { s, peer } = await call();
    const prompt = sharedPromptCache().get(SHORT);
    const player: Player = s.play([SHORT], { loop: true, gapMs: 40 });
    await until(() => player.framesPlayed >= 4 * (prompt.frames + 2), 4000, 'four repetitions');
    s.stopPlayback();
    expect(player.state).toBe('stopped');
    await sleep(100);
    const pk = peer.audio();
    let at = findFrame(pk, ulawRoundTrip(frameOf(prompt.pcm, 0)));
    for (let rep = 0; rep < 3; rep++) {
      at = expectPromptAt(pk, prompt.pcm, at);
      expect(pk.slice(at, at + 2).every((p) => p.payload.every((b) => b === 0xff)), `gap after repetition ${rep}`).toBe(true);
      at += 2;
    }
    expectContinuous(pk);
  });

  it('resumes the source a prompt displaced (e.g. a bridge feed or hold music) when it ends', async () => {
    const { s, peer } = await call();
    let fed = 0;
    const feed: AudioSource = { nextFrame: (out) => (out.fill(1000), ++fed > 0) };
    s.setSource(feed);
    await until(() => fed > 3, 2000, 'feed running');
    const p = s.play([SHORT]);
    expect(s.source).toBe(p);
    await new Promise<void>((r) => p.on('done', r));
    expect(s.source).toBe(feed);
    const n = fed;
    await until(() => fed > n + 3, 2000, 'feed resumed');
    expect(peer.audio().length).toBeGreaterThan(0);
  });

  it('throws for a missing file without disturbing the current playback; refuses after close', async () => {
    const { s } = await call();
    const p = s.play([SPEECH]);
    expect(() => s.play([join(FIX, 'nope.wav')])).toThrow();
    expect(s.player).toBe(p);
    s.close();
    expect(p.state).toBe('stopped');
    expect(() => s.play([SHORT])).toThrow(InvalidStateError);
  });
});

describe('MediaSession.record', () => {
  /** Samples of `wav` channel `ch` of `channels`. */
  const channel = (samples: Int16Array, ch: number, channels: number): Int16Array => samples.filter((_, i) => i % channels === ch);

  /** The peer's tone after µ-law, found frame-aligned in `rec`: how many of its frames match exactly. */
  function matchedFrames(rec: Int16Array, sent: Int16Array): number {
    const want = ulawRoundTrip(sent);
    let start = -1;
    for (let off = 0; off + 160 <= rec.length && start < 0; off += 160) if (same(rec.subarray(off, off + 160), frameOf(want, 0))) start = off;
    if (start < 0) return 0;
    let ok = 0;
    for (let k = 0; k < want.length / 160 && start + k * 160 + 160 <= rec.length; k++) if (same(rec.subarray(start + k * 160, start + k * 160 + 160), frameOf(want, k))) ok++;
    return ok;
  }

  it('mono: the WAV holds the caller’s audio (a 440 Hz tone, bit-exact after µ-law); closed with the session', async () => {
    const { s, peer } = await call();
    const path = join(tmp, 'mono.wav');
    const rec = await s.record(path);
    expect(rec.channels).toBe(1);
    s.play([MUSIC]); // our side must not leak into a mono recording
    const tone = sine(440, 1000, 8000);
    await peer.play(audioPackets(0, 1000, tone, true));
    await sleep(200);
    const concealed = s.jitterStats!.concealed;
    s.close(); // closes the recording
    await rec.close();
    expect(rec.closed).toBe(true);
    const wav = readWav(path);
    expect(wav).toMatchObject({ sampleRate: 8000, channels: 1, format: 'pcm16', truncated: false });
    expect(wav.samples.length).toBeGreaterThanOrEqual(8000);
    expect(tonePower(wav.samples, 440)).toBeGreaterThan(100 * tonePower(wav.samples, 523));
    // 50 frames sent; on loopback all but a concealed one or two arrive bit-exact.
    expect(matchedFrames(wav.samples, tone)).toBeGreaterThanOrEqual(50 - 2 - concealed);
  });

  it('stereo: caller left, our prompt right (exactly the prompt samples), aligned per tick', async () => {
    const { s, peer } = await call();
    const cache = sharedPromptCache();
    const prompt = cache.fromPcm('test:1k', sine(1000, 600, 6000), 8000);
    const path = join(tmp, 'stereo.wav');
    const rec = await s.record(path, { stereo: true });
    const tone = sine(440, 1200, 8000);
    const sending = peer.play(audioPackets(0, 1200, tone, true));
    await sleep(300);
    s.play([prompt]);
    await sending;
    await sleep(200);
    await s.stopRecording();
    expect(rec.closed).toBe(true);
    const wav = readWav(path);
    expect(wav).toMatchObject({ channels: 2, sampleRate: 8000, truncated: false });
    const left = channel(wav.samples, 0, 2);
    const right = channel(wav.samples, 1, 2);
    expect(tonePower(left, 440)).toBeGreaterThan(100 * tonePower(left, 1000));
    expect(tonePower(right, 1000)).toBeGreaterThan(100 * tonePower(right, 440));
    expect(matchedFrames(left, tone)).toBeGreaterThanOrEqual(60 - 2 - s.jitterStats!.concealed);
    // The right channel is what we sent, before encoding: the prompt itself, frame-aligned.
    let at = -1;
    for (let off = 0; off + 160 <= right.length && at < 0; off += 160) if (same(right.subarray(off, off + 160), frameOf(prompt.pcm, 0))) at = off;
    expect(at).toBeGreaterThanOrEqual(0);
    expect(same(right.subarray(at, at + prompt.pcm.length), prompt.pcm)).toBe(true);
    // Both channels advance together: the recording is as long per channel as the ticks it saw.
    expect(left.length).toBe(right.length);
    // Recording stopped: no more audio is written.
    expect(rec.stats.frames).toBe(left.length);
  });
});
