// In-band DTMF detector against ITU-T Q.24 on generated audio (sine pairs, 8 kHz int16, noise),
// after G.711 µ-law, and talk-off on the speech/music fixtures (src/media/fixtures/VECTOR_SOURCE.md).
import { describe, expect, it } from 'vitest';
import { ulawDecode, ulawEncode } from '../codec/g711.js';
import { COL_HZ, GoertzelDetector, ROW_HZ, type GoertzelOptions } from './goertzel.js';
import { digitFreqs, feedFrames, readPcm16Wav, render, type Segment } from './testing.js';
import type { DtmfEvent } from './types.js';

const DIGITS = '0123456789*#ABCD';
const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
const OWN_FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

function detect(pcm: Int16Array, opts: GoertzelOptions = {}): { got: DtmfEvent[]; digits: string; det: GoertzelDetector } {
  const got: DtmfEvent[] = [];
  const det = new GoertzelDetector((e) => got.push(e), opts);
  feedFrames(pcm, (f, t) => det.process(f, t));
  return { got, digits: got.map((e) => e.digit).join(''), det };
}

function tone(digit: string, ms: number, lowDbm0 = -10, highDbm0 = lowDbm0): Segment {
  return { freqs: digitFreqs(digit), ms, lowDbm0, highDbm0 };
}
const pause = (ms: number): Segment => ({ freqs: null, ms });

function ulaw(pcm: Int16Array): Int16Array {
  const bytes = new Uint8Array(pcm.length);
  ulawEncode(pcm, bytes);
  const out = new Int16Array(pcm.length);
  ulawDecode(bytes, out);
  return out;
}

describe('GoertzelDetector: all 16 digits', () => {
  it.each([
    { level: -3, noise: -40 },
    { level: -10, noise: -35 },
    { level: -20, noise: -40 },
    { level: -25, noise: -45 },
  ])('at $level dBm0 per tone with noise at $noise dBm0', ({ level, noise }) => {
    const segs = Array.from(DIGITS).flatMap((d) => [tone(d, 60, level), pause(60)]);
    const { got, digits } = detect(render([pause(40), ...segs], { noiseDbm0: noise, seed: -level }));
    expect(digits).toBe(DIGITS);
    for (const e of got) expect(e).toMatchObject({ method: 'inband' });
  });

  it('reports timing: start within a block of the real start, duration within two blocks', () => {
    const { got } = detect(render([pause(100), tone('5', 200), pause(100)], { noiseDbm0: -45 }));
    expect(got).toHaveLength(1);
    expect(Math.abs(got[0].at - 100)).toBeLessThanOrEqual(13);
    expect(Math.abs(got[0].durationMs - 200)).toBeLessThanOrEqual(26);
  });

  it('survives G.711 µ-law encode/decode', () => {
    const segs = Array.from(DIGITS).flatMap((d) => [tone(d, 50, -15), pause(50)]);
    expect(detect(ulaw(render([pause(40), ...segs], { noiseDbm0: -45 }))).digits).toBe(DIGITS);
  });

  it('detects all digits at −31 dBm0 (2 dB above the minimum: the quiet-block gate keeps them) and none at −35', () => {
    const at = (level: number) => detect(render([pause(40), ...Array.from(DIGITS).flatMap((d) => [tone(d, 60, level), pause(60)])], {})).digits;
    expect(at(-31)).toBe(DIGITS);
    expect(at(-35)).toBe('');
  });

  it('rejects tones below the minimum level', () => {
    expect(detect(render([pause(40), tone('1', 100, -40)], {})).digits).toBe('');
  });
});

describe('GoertzelDetector: Q.24 duration (accept ≥ 40 ms, reject ≤ 20 ms), at every block alignment', () => {
  // Start offsets sweep a whole 102-sample block.
  const leads = Array.from({ length: 17 }, (_, i) => 30 + (i * 6) / 8);
  it.each([
    { ms: 10, expected: 0 },
    { ms: 15, expected: 0 },
    { ms: 20, expected: 0 },
    { ms: 40, expected: 1 },
    { ms: 45, expected: 1 },
    { ms: 100, expected: 1 },
  ])('$ms ms tone → $expected detection', ({ ms, expected }) => {
    for (const d of '1#D0') {
      for (const leadMs of leads) {
        const { got } = detect(render([tone(d, ms, -12)], { leadMs, noiseDbm0: -40, seed: Math.round(leadMs * 8) }));
        expect(got.length, `${d} lead ${leadMs}`).toBe(expected);
      }
    }
  });

  it('one digit per press: 2 s long press is one event', () => {
    const { got } = detect(render([pause(40), tone('8', 2000), pause(100)], { noiseDbm0: -40 }));
    expect(got).toHaveLength(1);
    expect(got[0].durationMs).toBeGreaterThan(1950);
  });

  it('a 40 ms pause separates presses of the same digit; a 10 ms break does not', () => {
    expect(detect(render([pause(40), tone('3', 60), pause(40), tone('3', 60), pause(40), tone('3', 60)], { noiseDbm0: -40 })).digits).toBe('333');
    for (let lead = 0; lead < 13; lead += 2) {
      const r = detect(render([pause(40 + lead), tone('4', 80), pause(10), tone('4', 80)], { noiseDbm0: -40, seed: lead }));
      expect(r.digits, `lead ${lead}`).toBe('4');
    }
  });

  it('fast dialling: 40 ms on / 40 ms off, all digits', () => {
    const segs = Array.from(DIGITS).flatMap((d) => [tone(d, 40, -8), pause(40)]);
    expect(detect(render([pause(40), ...segs], { noiseDbm0: -40 })).digits).toBe(DIGITS);
  });

  it('a digit change without a pause reports both', () => {
    expect(detect(render([pause(40), tone('1', 80), tone('9', 80), pause(80)], { noiseDbm0: -40 })).digits).toBe('19');
  });
});

describe('GoertzelDetector: Q.24 frequency tolerance (accept ±1.5 %, reject ±3.5 %)', () => {
  // For each of the 8 frequencies: a digit using it, that frequency shifted, the other nominal.
  const cases = [...ROW_HZ.map((f, r) => ({ f, digit: '147*'[r], low: true })), ...COL_HZ.map((f, c) => ({ f, digit: '123A'[c], low: false }))];
  const table = cases.flatMap((c) => [
    { ...c, dev: +0.015, expected: c.digit },
    { ...c, dev: -0.015, expected: c.digit },
    { ...c, dev: +0.035, expected: '' },
    { ...c, dev: -0.035, expected: '' },
  ]);
  it.each(table)('$f Hz $dev → "$expected"', ({ digit, low, dev, expected }) => {
    const [fl, fh] = digitFreqs(digit);
    const freqs: [number, number] = low ? [fl * (1 + dev), fh] : [fl, fh * (1 + dev)];
    for (const level of [-5, -20]) {
      const pcm = render([pause(40), { freqs, ms: 80, lowDbm0: level, highDbm0: level }, pause(60)], { noiseDbm0: level - 25, seed: 9 });
      expect(detect(pcm).digits, `level ${level}`).toBe(expected);
    }
  });
});

describe('GoertzelDetector: twist (normal ≤ 8 dB, reverse ≤ 4 dB)', () => {
  it.each([
    { name: 'no twist', low: -10, high: -10, expected: '5' },
    { name: 'normal 7 dB (low group stronger)', low: -6, high: -13, expected: '5' },
    { name: 'normal 10 dB', low: -6, high: -16, expected: '' },
    { name: 'reverse 3 dB (high group stronger)', low: -13, high: -10, expected: '5' },
    { name: 'reverse 6 dB', low: -16, high: -10, expected: '' },
  ])('$name', ({ low, high, expected }) => {
    for (const d of [expected === '' ? '5' : expected]) {
      const pcm = render([pause(40), tone(d, 80, low, high), pause(60)], { noiseDbm0: -45 });
      expect(detect(pcm).digits).toBe(expected);
    }
  });
});

describe('GoertzelDetector: talk-off', () => {
  it.each([FIXTURES + 'speech-8k.wav', FIXTURES + 'music-8k.wav', OWN_FIXTURES + 'talkoff-8k.wav'])('no detections on %s (plain and after µ-law)', (file) => {
    const { samples, sampleRate } = readPcm16Wav(file);
    expect(sampleRate).toBe(8000);
    for (const pcm of [samples, ulaw(samples)]) {
      const { got } = detect(pcm);
      expect(got).toEqual([]);
    }
  });

  it('no detections on speech at several gains', () => {
    const { samples } = readPcm16Wav(FIXTURES + 'speech-8k.wav');
    for (const gain of [0.1, 0.3, 1.4]) {
      const pcm = Int16Array.from(samples, (s) => Math.max(-32768, Math.min(32767, Math.round(s * gain))));
      expect(detect(pcm).got, `gain ${gain}`).toEqual([]);
    }
  });

  it('digits still detected with speech mixed 15 dB below the tones', () => {
    const { samples } = readPcm16Wav(FIXTURES + 'speech-8k.wav');
    const segs = Array.from(DIGITS).flatMap((d) => [tone(d, 70, -8), pause(130)]);
    const tones = render([pause(200), ...segs]);
    const mixed = new Int16Array(tones.length);
    // Speech peaks at −3 dBFS; scale it to about −23 dBm0 RMS-ish.
    for (let i = 0; i < tones.length; i++) mixed[i] = Math.max(-32768, Math.min(32767, tones[i] + Math.round(samples[(i + 8000) % samples.length] * 0.12)));
    expect(detect(mixed).digits).toBe(DIGITS);
  });
});
