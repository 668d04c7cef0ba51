// Rational-ratio polyphase FIR resampler (Kaiser-windowed sinc) for the rates the media pipeline
// meets: 8000, 16000, 44100 and 48000 Hz (any pair; other integer rates work if the reduced
// up-factor stays ≤ MAX_UP_FACTOR). The prototype low-pass cuts at 0.47 × the lower rate with
// ≈ 85 dB stopband, so downsampling removes what would alias and upsampling removes images.
//
// `Resampler` is a streaming object: it keeps its filter history between `process()` calls, so a
// stream can be fed in chunks of any size (e.g. 20 ms frames) without clicks. It allocates only in
// its constructor (and grows its work buffer once if fed a chunk larger than any before).
// `resample()` is the one-shot form for whole buffers (prompts): it compensates the filter delay
// so output sample n lines up with input time n × inRate / outRate.

/** Largest reduced interpolation factor L accepted (44100 → 48000 is 160/147). */
export const MAX_UP_FACTOR = 1024;
/** Zero crossings of the windowed sinc on each side, counted at the lower of the two rates. */
const ZERO_CROSSINGS = 24;
/** Kaiser β: ≈ 85 dB stopband attenuation. */
const KAISER_BETA = 8.6;
/** Cut-off as a fraction of the lower rate (0.5 would be Nyquist). */
const CUTOFF = 0.47;

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

interface Filter {
  up: number; // L
  down: number; // M
  taps: number; // T, taps per phase
  /** coeffs[p * taps + j] = L · h[p + j·L]; contiguous per phase for the inner loop. */
  coeffs: Float32Array;
}

const filterCache = new Map<string, Filter>();

function designFilter(inRate: number, outRate: number): Filter {
  const key = `${inRate}:${outRate}`;
  const cached = filterCache.get(key);
  if (cached) return cached;
  const g = gcd(inRate, outRate);
  const up = outRate / g;
  const down = inRate / g;
  if (up > MAX_UP_FACTOR) throw new RangeError(`resample: ratio ${outRate}/${inRate} is too fine (L=${up})`);
  const low = Math.min(inRate, outRate);
  // Taps per phase: the sinc's zero crossings are 1/low apart; span ±ZERO_CROSSINGS of them.
  let taps = Math.ceil((2 * ZERO_CROSSINGS * inRate) / low);
  if (taps % 2 === 1) taps++;
  const n = taps * up; // prototype length at the up-sampled rate up·inRate
  const fc = (CUTOFF * low) / (up * inRate); // cycles per up-sampled sample
  // Centred on an integer tap (n is even) so the delay is a whole number of up-sampled samples.
  const centre = n / 2;
  const i0b = besselI0(KAISER_BETA);
  const h = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const x = k - centre;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const r = x / centre;
    const w = besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
    h[k] = sinc * w;
  }
  // Normalise each phase's DC gain to exactly 1 so a constant input stays constant.
  const coeffs = new Float32Array(n);
  for (let p = 0; p < up; p++) {
    let sum = 0;
    for (let j = 0; j < taps; j++) sum += h[p + j * up];
    for (let j = 0; j < taps; j++) coeffs[p * taps + j] = h[p + j * up] / sum;
  }
  const f: Filter = { up, down, taps, coeffs };
  filterCache.set(key, f);
  return f;
}

/** Streaming mono resampler for one audio stream; keeps its own history. */
export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  readonly #f: Filter;
  /** Work buffer: [T-1 history samples | new input]. */
  #buf: Float32Array;
  /** Next output's newest input index within #buf and its polyphase phase. */
  #idx: number;
  #phase: number;
  readonly #passthrough: boolean;

  /**
   * @param opts.delayCompensated start half a filter later so output aligns with input time
   *   (used by one-shot `resample()`; the caller must then flush with `flush()`).
   */
  constructor(inRate: number, outRate: number, opts: { delayCompensated?: boolean; maxChunk?: number } = {}) {
    if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0) {
      throw new RangeError(`resample: rates must be positive integers (${inRate} → ${outRate})`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    this.#passthrough = inRate === outRate;
    this.#f = this.#passthrough ? { up: 1, down: 1, taps: 1, coeffs: new Float32Array([1]) } : designFilter(inRate, outRate);
    const t = this.#f.taps;
    this.#buf = new Float32Array(t - 1 + (opts.maxChunk ?? 960));
    this.#idx = t - 1;
    this.#phase = 0;
    if (opts.delayCompensated && !this.#passthrough) {
      const d = (this.#f.taps * this.#f.up) / 2;
      this.#idx += Math.floor(d / this.#f.up);
      this.#phase = d % this.#f.up;
    }
  }

  /** Samples of input delay the filter adds (half its length), in input samples. */
  get delayInputSamples(): number {
    return this.#passthrough ? 0 : this.#f.taps / 2;
  }

  /** Upper bound of the outputs `process()` can produce for `n` inputs. */
  maxOutput(n: number): number {
    return Math.ceil((n * this.#f.up) / this.#f.down) + 1;
  }

  /**
   * Consumes all of `input` (copies it into the history) and writes the resampled samples into
   * `out`, returning how many were written. `out` must hold `maxOutput(input.length)` samples;
   * outputs beyond `out.length` are dropped. Allocates nothing once the work buffer is large enough.
   */
  process(input: Int16Array, out: Int16Array): number {
    if (this.#passthrough) {
      const n = Math.min(input.length, out.length);
      out.set(n === input.length ? input : input.subarray(0, n));
      return n;
    }
    const { up, down, taps, coeffs } = this.#f;
    const hist = taps - 1;
    if (this.#buf.length < hist + input.length) {
      const nb = new Float32Array(hist + input.length);
      nb.set(this.#buf.subarray(0, hist));
      this.#buf = nb;
    }
    const buf = this.#buf;
    for (let i = 0; i < input.length; i++) buf[hist + i] = input[i];
    const len = hist + input.length;
    let idx = this.#idx;
    let phase = this.#phase;
    let w = 0;
    const cap = out.length;
    while (idx < len) {
      let acc = 0;
      const base = phase * taps;
      for (let j = 0; j < taps; j++) acc += coeffs[base + j] * buf[idx - j];
      if (w < cap) {
        const v = Math.round(acc);
        out[w] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      w++;
      phase += down;
      while (phase >= up) {
        phase -= up;
        idx++;
      }
    }
    // Keep the last T-1 inputs as history for the next call.
    buf.copyWithin(0, len - hist, len);
    this.#idx = idx - (len - hist);
    this.#phase = phase;
    return w < cap ? w : cap;
  }

  /** Forgets the history (e.g. when a new, unrelated stream starts). */
  reset(): void {
    this.#buf.fill(0);
    this.#idx = this.#f.taps - 1;
    this.#phase = 0;
  }
}

/**
 * One-shot resampling of a whole mono buffer (allocates; not for hot paths). Output sample n is
 * aligned with input time n·inRate/outRate (filter delay compensated); writes at most
 * `out.length` samples and returns how many, ⌈input.length · outRate / inRate⌉ when `out` is big
 * enough.
 */
export function resample(input: Int16Array, inRate: number, out: Int16Array, outRate: number): number {
  const want = Math.min(out.length, Math.ceil((input.length * outRate) / inRate));
  if (inRate === outRate) {
    out.set(input.subarray(0, want));
    return want;
  }
  const r = new Resampler(inRate, outRate, { delayCompensated: true, maxChunk: 4096 });
  const scratch = new Int16Array(r.maxOutput(4096));
  let w = 0;
  const feed = (chunk: Int16Array): void => {
    const n = r.process(chunk, scratch);
    const take = Math.min(n, want - w);
    if (take > 0) out.set(scratch.subarray(0, take), w);
    w += Math.max(0, take);
  };
  for (let off = 0; off < input.length && w < want; off += 4096) feed(input.subarray(off, off + 4096));
  // Flush the filter tail with silence.
  const zeros = new Int16Array(Math.min(4096, r.delayInputSamples + 2));
  let guard = 0;
  while (w < want && guard++ < 64) feed(zeros);
  return w;
}

/** Output length of a one-shot `resample()` of `n` input samples. */
export function resampledLength(n: number, inRate: number, outRate: number): number {
  return Math.ceil((n * outRate) / inRate);
}
