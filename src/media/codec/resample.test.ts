// Resampler: tones keep their frequency and level, out-of-band tones are removed instead of
// aliasing, upsampling leaves no images, and streaming in frames equals one-shot processing.
import { describe, expect, it } from 'vitest';
import { toneAmplitude } from '../testing.js';
import { Resampler, resample, resampledLength } from './resample.js';

function sine(freq: number, rate: number, seconds: number, amp = 10000): Int16Array {
  const n = Math.round(rate * seconds);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}
function rms(x: Int16Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
}
const db = (ratio: number): number => 20 * Math.log10(ratio);

const RATES = [8000, 16000, 44100, 48000];

describe('resample', () => {
  for (const inRate of RATES) {
    for (const outRate of RATES) {
      if (inRate === outRate) continue;
      it(`keeps a 1 kHz tone's frequency and level ${inRate} → ${outRate} Hz`, () => {
        const x = sine(1000, inRate, 0.5);
        const out = new Int16Array(resampledLength(x.length, inRate, outRate));
        expect(resample(x, inRate, out, outRate)).toBe(out.length);
        // Skip the edges, where the filter sees the signal start and stop.
        const from = Math.round(outRate * 0.05);
        const to = out.length - from;
        const a = toneAmplitude(out, 1000, { rate: outRate, from, to });
        expect(a).toBeGreaterThan(9900);
        expect(a).toBeLessThan(10100);
        // Everything is in the 1 kHz component: residual below −50 dB.
        const residual = Math.sqrt(Math.max(0, rms(out, from, to) ** 2 - (a * a) / 2));
        expect(db(residual / a)).toBeLessThan(-50);
        // And the delay is compensated: phase lines up with the input's time base.
        const expected = 10000 * Math.sin((2 * Math.PI * 1000 * from) / outRate);
        expect(Math.abs(out[from] - expected)).toBeLessThan(300);
      });
    }
  }

  it('suppresses a 6 kHz tone when going 48 kHz → 8 kHz (would alias to 2 kHz)', () => {
    const x = sine(6000, 48000, 0.5);
    const out = new Int16Array(resampledLength(x.length, 48000, 8000));
    resample(x, 48000, out, 8000);
    const from = 400;
    const to = out.length - 400;
    // Naive decimation would give a full-level 2 kHz tone; the filter leaves < −70 dB.
    expect(db(toneAmplitude(out, 2000, { from, to }) / 10000)).toBeLessThan(-70);
    expect(db(rms(out, from, to) / (10000 / Math.SQRT2))).toBeLessThan(-70);
  });

  it('suppresses a 5 kHz tone when going 44.1 kHz → 8 kHz', () => {
    const x = sine(5000, 44100, 0.5);
    const out = new Int16Array(resampledLength(x.length, 44100, 8000));
    resample(x, 44100, out, 8000);
    expect(db(rms(out, 400, out.length - 400) / (10000 / Math.SQRT2))).toBeLessThan(-60);
  });

  it('passes 3.3 kHz (top of the telephone band) going 48 kHz → 8 kHz', () => {
    const x = sine(3300, 48000, 0.5);
    const out = new Int16Array(resampledLength(x.length, 48000, 8000));
    resample(x, 48000, out, 8000);
    expect(toneAmplitude(out, 3300, { from: 400, to: out.length - 400 })).toBeGreaterThan(9500);
  });

  it('leaves no images when going 8 kHz → 48 kHz', () => {
    const x = sine(1000, 8000, 0.5);
    const out = new Int16Array(resampledLength(x.length, 8000, 48000));
    resample(x, 8000, out, 48000);
    const from = 2400;
    const to = out.length - 2400;
    for (const image of [7000, 9000, 15000, 17000]) {
      expect(db(toneAmplitude(out, image, { rate: 48000, from, to }) / 10000)).toBeLessThan(-70);
    }
  });

  it('keeps a constant input constant', () => {
    const x = new Int16Array(4410).fill(1234);
    const out = new Int16Array(resampledLength(x.length, 44100, 8000));
    resample(x, 44100, out, 8000);
    for (let i = 200; i < out.length - 200; i++) expect(Math.abs(out[i] - 1234)).toBeLessThanOrEqual(1);
  });
});

describe('Resampler (streaming)', () => {
  it('gives the same samples whether fed in 20 ms frames or in one chunk', () => {
    const x = sine(700, 44100, 0.3);
    const whole = new Resampler(44100, 8000, { maxChunk: x.length });
    const a = new Int16Array(whole.maxOutput(x.length));
    const na = whole.process(x, a);
    const framed = new Resampler(44100, 8000);
    const b = new Int16Array(na + 10);
    const frame = new Int16Array(framed.maxOutput(882));
    let nb = 0;
    for (let off = 0; off < x.length; off += 882) {
      const n = framed.process(x.subarray(off, off + 882), frame);
      b.set(frame.subarray(0, n), nb);
      nb += n;
    }
    expect(nb).toBe(na);
    expect(Array.from(b.subarray(0, nb))).toEqual(Array.from(a.subarray(0, na)));
  });

  it('turns each 160-sample frame into exactly 960 samples at 48 kHz', () => {
    const r = new Resampler(8000, 48000);
    const x = sine(1000, 8000, 0.2);
    const out = new Int16Array(r.maxOutput(160));
    for (let off = 0; off < x.length; off += 160) expect(r.process(x.subarray(off, off + 160), out)).toBe(960);
  });

  it('turns each 960-sample frame at 48 kHz into exactly 160 samples', () => {
    const r = new Resampler(48000, 8000);
    const x = sine(1000, 48000, 0.2);
    const out = new Int16Array(r.maxOutput(960));
    for (let off = 0; off < x.length; off += 960) expect(r.process(x.subarray(off, off + 960), out)).toBe(160);
  });

  it('rejects unusable rates', () => {
    expect(() => new Resampler(0, 8000)).toThrow(RangeError);
    expect(() => new Resampler(8000, 44101)).toThrow(RangeError);
  });
});
