// Test and benchmark helpers for DTMF: generated tone pairs (8 kHz int16) and a minimal PCM16
// WAV reader for the talk-off fixtures. Not used on any hot path (they allocate).
import { readFileSync } from 'node:fs';
import { COL_HZ, ROW_HZ } from './goertzel.js';

/** Peak amplitude (int16) of a sine at `dbm0` (G.711: +3.17 dBm0 = full scale). */
export function amplitudeForDbm0(dbm0: number): number {
  return 32768 * 10 ** ((dbm0 - 3.17) / 20);
}

/** Row / column frequencies of a keypad digit. */
export function digitFreqs(digit: string): [number, number] {
  const i = '123A456B789C*0#D'.indexOf(digit.toUpperCase());
  if (i < 0) throw new RangeError(digit);
  return [ROW_HZ[i >> 2], COL_HZ[i & 3]];
}

/** Deterministic PRNG (LCG) so generated noise is repeatable. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export interface Segment {
  /** Tone pair (Hz) or null for a pause. */
  freqs: [number, number] | null;
  ms: number;
  /** Levels of the low and high tone, dBm0 (default −10 each). */
  lowDbm0?: number;
  highDbm0?: number;
}

/**
 * Renders segments back to back into one Int16Array, with optional white noise (uniform, level
 * in dBm0 of its RMS) over the whole signal. Tone phases are random.
 */
export function render(segments: Segment[], opts: { noiseDbm0?: number; seed?: number; leadMs?: number } = {}): Int16Array {
  const rnd = prng(opts.seed ?? 1);
  const lead = Math.round(((opts.leadMs ?? 0) * 8000) / 1000);
  const total = lead + segments.reduce((n, s) => n + Math.round((s.ms * 8000) / 1000), 0);
  const out = new Int16Array(total);
  const noiseRms = opts.noiseDbm0 === undefined ? 0 : amplitudeForDbm0(opts.noiseDbm0) / Math.SQRT2;
  let pos = lead;
  for (const s of segments) {
    const n = Math.round((s.ms * 8000) / 1000);
    if (s.freqs) {
      const a1 = amplitudeForDbm0(s.lowDbm0 ?? -10);
      const a2 = amplitudeForDbm0(s.highDbm0 ?? -10);
      const p1 = rnd() * 2 * Math.PI;
      const p2 = rnd() * 2 * Math.PI;
      for (let i = 0; i < n; i++) {
        const t = i / 8000;
        out[pos + i] = Math.round(a1 * Math.sin(2 * Math.PI * s.freqs[0] * t + p1) + a2 * Math.sin(2 * Math.PI * s.freqs[1] * t + p2));
      }
    }
    pos += n;
  }
  if (noiseRms > 0) {
    const a = noiseRms * Math.sqrt(3); // uniform in [−a, a] has RMS a/√3
    for (let i = 0; i < total; i++) out[i] = Math.max(-32768, Math.min(32767, out[i] + Math.round((rnd() * 2 - 1) * a)));
  }
  return out;
}

/** Feeds `pcm` to `process` in 160-sample frames (the last one zero-padded); frame k at k×20 ms. */
export function feedFrames(pcm: Int16Array, process: (frame: Int16Array, nowMs: number) => void, tailMs = 100): void {
  const frame = new Int16Array(160);
  const frames = Math.ceil(pcm.length / 160) + Math.ceil(tailMs / 20);
  for (let k = 0; k < frames; k++) {
    frame.fill(0);
    const start = k * 160;
    if (start < pcm.length) frame.set(pcm.subarray(start, Math.min(pcm.length, start + 160)));
    process(frame, k * 20);
  }
}

/** Mono PCM16 WAV → samples (a minimal RIFF reader for fixtures). */
export function readPcm16Wav(path: string): { sampleRate: number; samples: Int16Array } {
  const buf = readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let sampleRate = 0;
  for (let off = 12; off + 8 <= buf.length; ) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      const format = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      const bits = buf.readUInt16LE(body + 14);
      if (format !== 1 || channels !== 1 || bits !== 16) throw new Error(`${path}: want mono PCM16`);
    } else if (id === 'data') {
      const n = Math.min(size, buf.length - body) >> 1;
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(body + 2 * i);
      return { sampleRate, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}
