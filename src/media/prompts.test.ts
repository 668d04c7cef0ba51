// PromptCache: files are read once, converted once (downmix, resample to 8 kHz, 20 ms padding)
// and pre-encoded once to PCMU/PCMA, and the result is shared.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alawEncode, ulawEncode } from './codec/g711.js';
import { PromptCache, makePrompt } from './prompts.js';
import { toneAmplitude } from './testing.js';
import { WavError, parseWavHeader, readWav } from './wav.js';

const FIX = join(import.meta.dirname, 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'prompts-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('PromptCache', () => {
  it('keeps an 8 kHz mono file as is, padded to whole 20 ms frames, with PCMU/PCMA pre-encoded', () => {
    const cache = new PromptCache({ baseDir: FIX });
    const p = cache.get('speech-8k.wav');
    const wav = readWav(join(FIX, 'speech-8k.wav'));
    expect(p.samples).toBe(wav.frames);
    expect(p.frames).toBe(Math.ceil(wav.frames / 160));
    expect(p.pcm.length).toBe(p.frames * 160);
    expect(p.pcm.subarray(0, wav.frames)).toEqual(wav.samples);
    expect(p.pcm.subarray(wav.frames).every((v) => v === 0)).toBe(true);
    const u = new Uint8Array(p.pcm.length);
    const a = new Uint8Array(p.pcm.length);
    ulawEncode(p.pcm, u);
    alawEncode(p.pcm, a);
    expect(p.payloads.PCMU).toEqual(u);
    expect(p.payloads.PCMA).toEqual(a);
    expect(p.durationMs).toBeCloseTo((wav.frames / 8000) * 1000, 6);
    expect(p.source).toEqual({ sampleRate: 8000, channels: 1, format: 'pcm16' });
  });

  it.each([
    ['prompt-16k-stereo.wav', 16000],
    ['prompt-44k1-stereo.wav', 44100],
    ['prompt-48k-stereo.wav', 48000],
  ])('downmixes and resamples %s (%i Hz stereo) to 8 kHz mono', (file, rate) => {
    const p = new PromptCache({ baseDir: FIX }).get(file);
    expect(p.source).toEqual({ sampleRate: rate, channels: 2, format: 'pcm16' });
    expect(p.samples).toBe(1600); // 0.2 s
    expect(p.frames).toBe(10);
    // Left 440 Hz and right 660 Hz, each at half scale (16384): the mean carries both at 8192.
    expect(toneAmplitude(p.pcm, 440, { from: 200, to: 1400 })).toBeGreaterThan(8192 * 0.97);
    expect(toneAmplitude(p.pcm, 440, { from: 200, to: 1400 })).toBeLessThan(8192 * 1.03);
    expect(toneAmplitude(p.pcm, 660, { from: 200, to: 1400 })).toBeGreaterThan(8192 * 0.97);
  });

  it("reuses a µ-law file's own bytes as its PCMU payload", () => {
    const p = new PromptCache({ baseDir: FIX }).get('prompt-8k-ulaw.wav');
    const file = readFileSync(join(FIX, 'prompt-8k-ulaw.wav'));
    const info = parseWavHeader(file);
    expect(p.source.format).toBe('ulaw');
    expect(Buffer.from(p.payloads.PCMU.subarray(0, info.dataBytes))).toEqual(
      file.subarray(info.dataOffset, info.dataOffset + info.dataBytes),
    );
  });

  it('loads each file once and shares the prompt (sync get, async load, concurrent loads)', async () => {
    const cache = new PromptCache({ baseDir: FIX });
    const [a, b] = await Promise.all([cache.load('music-8k.wav'), cache.load(join(FIX, 'music-8k.wav'))]);
    expect(a).toBe(b);
    expect(cache.get('music-8k.wav')).toBe(a);
    expect(await cache.load('./music-8k.wav')).toBe(a);
    expect(cache.stats.loads).toBe(1);
    expect(cache.stats.hits).toBe(2);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(a.bytes);
  });

  it('evicts least recently used prompts past maxBytes; holders keep theirs', () => {
    const cache = new PromptCache({ baseDir: FIX, maxBytes: 300_000 });
    const music = cache.get('music-8k.wav'); // ≈ 96 kB
    cache.get('prompt-48k-stereo.wav');
    cache.get('music-8k.wav'); // now most recent
    cache.get('speech-8k.wav'); // ≈ 527 kB: evicts the 48k prompt and music, keeps itself
    expect(cache.peek('prompt-48k-stereo.wav')).toBeUndefined();
    expect(cache.peek('speech-8k.wav')).toBeDefined();
    expect(cache.stats.evictions).toBe(2);
    expect(music.frames).toBe(150);
  });

  it('caches generated PCM under a name', () => {
    const cache = new PromptCache();
    const pcm = Int16Array.from({ length: 3200 }, (_, i) => Math.round(1000 * Math.sin(i)));
    const p = cache.fromPcm('tone:test', pcm, 16000);
    expect(p.samples).toBe(1600);
    expect(cache.peek('tone:test')).toBe(p);
    expect(cache.delete('tone:test')).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('reports unreadable files, and a failed load can be retried', async () => {
    const cache = new PromptCache({ baseDir: tmp });
    expect(() => cache.get('missing.wav')).toThrow(/ENOENT/);
    writeFileSync(join(tmp, 'bad.wav'), 'not a wav file at all');
    expect(() => cache.get('bad.wav')).toThrow(WavError);
    await expect(cache.load('bad.wav')).rejects.toBeInstanceOf(WavError);
    writeFileSync(join(tmp, 'bad.wav'), readFileSync(join(FIX, 'prompt-8k-alaw.wav')));
    expect((await cache.load('bad.wav')).frames).toBe(25);
  });

  it('makePrompt pads a partial last frame with silence', () => {
    const p = makePrompt('x', new Int16Array(170).fill(100), 8000);
    expect(p.frames).toBe(2);
    expect(p.pcm[169]).toBe(100);
    expect(p.pcm[170]).toBe(0);
    expect(p.payloads.PCMU[170]).toBe(0xff);
    expect(p.payloads.PCMA[170]).toBe(0xd5);
  });
});
