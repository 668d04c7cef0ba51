// In-band DTMF detector (ITU-T Q.23 frequencies, Q.24 acceptance; Bellcore/ETSI practice).
//
// 8 Goertzel filters at the nominal frequencies over 102-sample blocks (12.75 ms at 8 kHz, bins
// 78 Hz apart — enough to separate the row tones). Per block the detector applies, in order:
//   1. minimum level of each tone (default −33 dBm0; Q.24 receivers accept down to −25 dBm0),
//   2. twist: low group stronger by ≤ 8 dB ("normal"), high group stronger by ≤ 4 dB ("reverse"),
//   3. relative peak: the best row / column bin beats the other bins of its group by ≥ 8 dB,
//   4. tone-to-total energy: the two tones carry ≥ 75 % of the block's energy (talk-off: speech
//      and music spread energy over harmonics and formants; at 45–60 % espeak-ng's high voices in
//      dtmf/fixtures/talkoff-8k.wav still produced two false digits),
//   5. frequency: on blocks that follow a block with the same candidate, each tone's frequency is
//      measured from the phase advance of two overlapping Hann-windowed DFTs (lag 51 samples) over
//      the last 204 samples; it must be within ±2.5 % of nominal (Q.24: operate within ±1.5 %,
//      must not operate beyond ±3.5 % — the Goertzel magnitude alone cannot tell 1.5 % from 3.5 %
//      for the low tones, the phase can).
// Duration (Q.24: accept ≥ 40 ms, reject ≤ 20 ms): a block is a hit only when the tone fills it
// (its two halves' energies within 1.5 dB, i.e. ≥ 85 % coverage). A 20 ms tone (160 samples) can
// cover at most one 102-sample block that well, a 40 ms tone always fills two, so a press starts after 2
// consecutive hits. It ends after 3 consecutive misses: a ≤ 10 ms interruption spoils at most 2
// blocks (bridged), a ≥ 40 ms pause always spoils 3. One DtmfEvent per press, emitted at its end
// with the measured duration.
//
// Hot path: process() reads the frame in place and allocates nothing; samples go into the block
// history, and at the block's end the 8 filters run as locals in an unrolled loop — only when the
// block is loud enough for any bin to reach the minimum level (a quiet block costs one multiply-add
// per sample). See bench/media-goertzel.ts for throughput.
import { DTMF_DIGITS, type DtmfEvent } from './types.js';

export const RATE = 8000;
export const BLOCK = 102;
const HALF = BLOCK / 2;
const HIST = 2 * BLOCK;
const WIN = HIST - HALF; // 153-sample windows at lag HALF for the frequency measurement
export const ROW_HZ = [697, 770, 852, 941] as const;
export const COL_HZ = [1209, 1336, 1477, 1633] as const;
/** Keypad: row r, column c → DTMF_DIGITS index. */
const KEYPAD = '123A456B789C*0#D';
const DIGIT_INDEX = Array.from(KEYPAD, (ch) => DTMF_DIGITS.indexOf(ch));
/** Mean square (full scale = 1) of a 0 dBm0 sine: G.711's +3.17 dBm0 overload point is full scale. */
/** Consecutive hit blocks that start a press; consecutive misses that end it. */
export const HITS_TO_START = 2;
export const MISSES_TO_END = 3;
/**
 * Step 0: the two half-blocks' energies within this ratio (1.5 dB): the tone fills ≥ 85 % of the
 * block. (A steady tone pair's halves differ by < 1.3 dB: its beat averages out over 51 samples.)
 */
const HALF_BALANCE = 0.7;
const DBM0_MS = (10 ** (-3.17 / 20)) ** 2 / 2;

export interface GoertzelOptions {
  /** Minimum level of each tone, dBm0 (default −33). */
  minLevelDbm0?: number;
  /** Low group above high group, dB (default 8). */
  normalTwistDb?: number;
  /** High group above low group, dB (default 4). */
  reverseTwistDb?: number;
  /** Best bin over the others in its group, dB (default 8). */
  relativePeakDb?: number;
  /** Share of block energy in the two tones (default 0.75). */
  toneToTotal?: number;
  /** Largest accepted deviation from the nominal frequency, relative (default 0.025). */
  frequencyTolerance?: number;
}

export type GoertzelState = 'idle' | 'active';

const FREQS = [...ROW_HZ, ...COL_HZ];
const COEF = new Float64Array(FREQS.map((f) => 2 * Math.cos((2 * Math.PI * f) / RATE)));
const HANN = Float32Array.from({ length: WIN }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (n + 0.5)) / WIN));
// Windowed DFT kernels per frequency: cos / sin of ω n, n < WIN.
const KCOS = FREQS.map((f) => Float32Array.from({ length: WIN }, (_, n) => HANN[n] * Math.cos((2 * Math.PI * f * n) / RATE)));
const KSIN = FREQS.map((f) => Float32Array.from({ length: WIN }, (_, n) => HANN[n] * Math.sin((2 * Math.PI * f * n) / RATE)));

export class GoertzelDetector {
  readonly stats = {
    /** Blocks analysed. */
    blocks: 0,
    /** Blocks that passed the energy checks. */
    hits: 0,
    /** Hit blocks refused by the frequency measurement. */
    offFrequency: 0,
    /** Presses reported. */
    digits: 0,
  };

  readonly #onDigit: (e: DtmfEvent) => void;
  readonly #minEnergy: number;
  readonly #normalTwist: number;
  readonly #reverseTwist: number;
  readonly #relPeak: number;
  readonly #toneToTotal: number;
  readonly #tol: number;

  // Per-bin block energies, and block accumulation.
  readonly #energy = new Float64Array(8);
  #pos = 0; // samples into the current block
  #sumSq = 0;
  #sumSqFirstHalf = 0;
  #blockStartMs = 0;
  // Previous block, then current block, as the frame's int16 samples (scaled to ±1 where read):
  // half the memory of floats, and the history is written every frame of every session.
  readonly #hist = new Int16Array(HIST);

  // Block-level state machine.
  #state: GoertzelState = 'idle';
  #prevEnergyDigit = -1; // digit of the previous block's energy test (before the frequency test)
  #cand = -1;
  #candHits = 0;
  #candStartMs = 0;
  #digit = -1;
  #startMs = 0;
  #lastHitEndMs = 0;
  #misses = 0;

  constructor(onDigit: (e: DtmfEvent) => void, opts: GoertzelOptions = {}) {
    this.#onDigit = onDigit;
    // Block-normalised tone energy: e = 2|X|²/N² (a sine of amplitude A gives A²/2).
    this.#minEnergy = DBM0_MS * 10 ** ((opts.minLevelDbm0 ?? -33) / 10);
    this.#normalTwist = 10 ** ((opts.normalTwistDb ?? 8) / 10);
    this.#reverseTwist = 10 ** ((opts.reverseTwistDb ?? 4) / 10);
    this.#relPeak = 10 ** ((opts.relativePeakDb ?? 8) / 10);
    this.#toneToTotal = opts.toneToTotal ?? 0.75;
    this.#tol = opts.frequencyTolerance ?? 0.025;
  }

  get state(): GoertzelState {
    return this.#state;
  }

  /** The digit being held now (confirmed, not yet ended), or undefined. */
  get activeDigit(): string | undefined {
    return this.#state === 'active' ? DTMF_DIGITS[this.#digit] : undefined;
  }

  /**
   * Analyses one frame of 8 kHz PCM (any length; usually 160 samples) whose first sample is at
   * `nowMs`. Reads the frame in place, keeps no reference, allocates nothing.
   */
  process(frame: Int16Array, nowMs: number): void {
    const n = frame.length;
    let i = 0;
    while (i < n) {
      if (this.#pos === 0) {
        this.#blockStartMs = nowMs + (i * 1000) / RATE;
      }
      const boundary = this.#pos < HALF ? HALF : BLOCK;
      const end = Math.min(n, i + boundary - this.#pos);
      this.#run(frame, i, end);
      this.#pos += end - i;
      i = end;
      if (this.#pos === HALF) this.#sumSqFirstHalf = this.#sumSq;
      if (this.#pos === BLOCK) {
        this.#pos = 0;
        this.#endBlock();
      }
    }
  }

  /** Flushes a press still in progress (end of call). */
  flush(): void {
    if (this.#state === 'active') this.#emit();
    this.#cand = -1;
    this.#candHits = 0;
  }

  /** Copies frame[from, to) into the block history and accumulates the block energy (scaled to ±1). */
  #run(frame: Int16Array, from: number, to: number): void {
    const hist = this.#hist;
    let sq = this.#sumSq;
    let h = BLOCK + this.#pos;
    for (let k = from; k < to; k++) {
      const v = frame[k];
      hist[h++] = v;
      const x = v * (1 / 32768);
      sq += x * x;
    }
    this.#sumSq = sq;
  }

  /**
   * The 8 Goertzel filters over the block just completed (hist[BLOCK, 2·BLOCK)), unrolled, into
   * #energy. Run at the block's end rather than per sample so that a quiet block can skip it.
   */
  #goertzel(): void {
    const hist = this.#hist;
    const c0 = COEF[0], c1 = COEF[1], c2 = COEF[2], c3 = COEF[3];
    const c4 = COEF[4], c5 = COEF[5], c6 = COEF[6], c7 = COEF[7];
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
    for (let k = BLOCK; k < HIST; k++) {
      const x = hist[k] * (1 / 32768);
      let t: number;
      t = x + c0 * a0 - b0; b0 = a0; a0 = t;
      t = x + c1 * a1 - b1; b1 = a1; a1 = t;
      t = x + c2 * a2 - b2; b2 = a2; a2 = t;
      t = x + c3 * a3 - b3; b3 = a3; a3 = t;
      t = x + c4 * a4 - b4; b4 = a4; a4 = t;
      t = x + c5 * a5 - b5; b5 = a5; a5 = t;
      t = x + c6 * a6 - b6; b6 = a6; a6 = t;
      t = x + c7 * a7 - b7; b7 = a7; a7 = t;
    }
    const e = this.#energy;
    const norm = 2 / (BLOCK * BLOCK);
    // |X|² = s1² + s2² − coef·s1·s2
    e[0] = (a0 * a0 + b0 * b0 - c0 * a0 * b0) * norm;
    e[1] = (a1 * a1 + b1 * b1 - c1 * a1 * b1) * norm;
    e[2] = (a2 * a2 + b2 * b2 - c2 * a2 * b2) * norm;
    e[3] = (a3 * a3 + b3 * b3 - c3 * a3 * b3) * norm;
    e[4] = (a4 * a4 + b4 * b4 - c4 * a4 * b4) * norm;
    e[5] = (a5 * a5 + b5 * b5 - c5 * a5 * b5) * norm;
    e[6] = (a6 * a6 + b6 * b6 - c6 * a6 * b6) * norm;
    e[7] = (a7 * a7 + b7 * b7 - c7 * a7 * b7) * norm;
  }

  #endBlock(): void {
    this.stats.blocks++;
    const e = this.#energy;
    const total = this.#sumSq / BLOCK;
    // Quiet block: no bin can reach the minimum level, since by Cauchy–Schwarz a bin's energy
    // 2|X|²/N² is at most twice the block's mean square — skip the filters (the classification
    // would refuse the block at step 1 either way). Most inbound audio is silence or noise.
    if (2 * total >= this.#minEnergy) this.#goertzel();
    else e.fill(0);
    const h1 = this.#sumSqFirstHalf;
    const h2 = this.#sumSq - h1;
    this.#sumSq = 0;

    // Step 0: a block the tone only partly fills (it starts or stops inside) is not a hit; this
    // makes the block count an exact duration measure (a hit block is ≥ 85 % tone).
    const balanced = h1 >= HALF_BALANCE * h2 && h2 >= HALF_BALANCE * h1;
    const energyDigit = balanced ? this.#classify(e, total) : -1;
    let d = energyDigit;
    if (d >= 0) {
      this.stats.hits++;
      // Step 5: measure the frequencies once the last 204 samples hold the same candidate.
      if (this.#prevEnergyDigit === d && !this.#frequenciesOk(d)) {
        this.stats.offFrequency++;
        d = -1;
      }
    }
    this.#prevEnergyDigit = energyDigit;
    this.#hist.copyWithin(0, BLOCK, HIST);
    this.#step(d);
  }

  /** Steps 1–4 on one block's energies; returns the keypad index (row*4+col) or −1. */
  #classify(e: Float64Array, total: number): number {
    let r = 0;
    for (let k = 1; k < 4; k++) if (e[k] > e[r]) r = k;
    let c = 4;
    for (let k = 5; k < 8; k++) if (e[k] > e[c]) c = k;
    const er = e[r];
    const ec = e[c];
    // 1. Minimum level (Q.24 table 1 sensitivity).
    if (er < this.#minEnergy || ec < this.#minEnergy) return -1;
    // 2. Twist (Q.24 §3 / Bellcore: normal ≤ 8 dB, reverse ≤ 4 dB).
    if (er > ec * this.#normalTwist || ec > er * this.#reverseTwist) return -1;
    // 3. Relative peaks within each group.
    for (let k = 0; k < 4; k++) if (k !== r && e[k] * this.#relPeak > er) return -1;
    for (let k = 4; k < 8; k++) if (k !== c && e[k] * this.#relPeak > ec) return -1;
    // 4. Signal to total energy (talk-off).
    if (er + ec < this.#toneToTotal * total) return -1;
    return r * 4 + (c - 4);
  }

  /** Step 5 for keypad index kp: both tones within ±tolerance of nominal (Q.24 ±1.5 % / ±3.5 %). */
  #frequenciesOk(kp: number): boolean {
    return this.#deviation(kp >> 2) <= this.#tol && this.#deviation(4 + (kp & 3)) <= this.#tol;
  }

  /** |f − f_k| / f_k for bin k, from the phase advance between two windows HALF samples apart. */
  #deviation(k: number): number {
    const h = this.#hist;
    const kc = KCOS[k];
    const ks = KSIN[k];
    let r1 = 0, i1 = 0, r2 = 0, i2 = 0;
    for (let n = 0; n < WIN; n++) {
      const x1 = h[n] * (1 / 32768);
      const x2 = h[n + HALF] * (1 / 32768);
      const c = kc[n];
      const s = ks[n];
      r1 += x1 * c;
      i1 -= x1 * s;
      r2 += x2 * c;
      i2 -= x2 * s;
    }
    // arg(Z2 · conj Z1) = ω_true · HALF (mod 2π)
    const re = r2 * r1 + i2 * i1;
    const im = i2 * r1 - r2 * i1;
    const f = FREQS[k];
    let d = Math.atan2(im, re) - ((2 * Math.PI * f * HALF) / RATE) % (2 * Math.PI);
    while (d > Math.PI) d -= 2 * Math.PI;
    while (d < -Math.PI) d += 2 * Math.PI;
    const df = (d * RATE) / (2 * Math.PI * HALF);
    return Math.abs(df) / f;
  }

  /** Per-block state machine: 3 consecutive hits start a press, 2 consecutive misses end it. */
  #step(d: number): void {
    const blockEndMs = this.#blockStartMs + (BLOCK * 1000) / RATE;
    if (d >= 0 && d === this.#cand) {
      this.#candHits++;
    } else {
      this.#cand = d;
      this.#candHits = d >= 0 ? 1 : 0;
      this.#candStartMs = this.#blockStartMs;
    }
    if (this.#state === 'active') {
      if (d === this.#digit) {
        this.#misses = 0;
        this.#lastHitEndMs = blockEndMs;
        return;
      }
      if (++this.#misses < MISSES_TO_END) return;
      this.#emit();
    }
    if (this.#candHits >= HITS_TO_START) {
      this.#state = 'active';
      this.#digit = this.#cand;
      this.#startMs = this.#candStartMs;
      this.#lastHitEndMs = blockEndMs;
      this.#misses = 0;
    }
  }

  #emit(): void {
    this.#state = 'idle';
    this.stats.digits++;
    const e: DtmfEvent = {
      digit: DTMF_DIGITS[DIGIT_INDEX[this.#digit]],
      durationMs: Math.round(this.#lastHitEndMs - this.#startMs),
      method: 'inband',
      at: this.#startMs,
    };
    this.#digit = -1;
    try {
      this.#onDigit(e);
    } catch {
      // A listener's exception must not unwind into the media tick.
    }
  }
}
