// Adaptive jitter buffer for one inbound RTP stream (see src/media/API.md, "Jitter buffer").
//
// Shape of pion/interceptor's jitter buffer: explicit states, counters for late / lost /
// reordered, a fixed ring of preallocated slots. push() COPIES the payload into a slot (the
// caller may reuse its receive buffer at once); pop() writes decoded PCM into the caller's
// Int16Array. After warm-up (every slot grown to the largest payload seen) neither allocates.
//
// Playout model. `#pos` is the RTP timestamp (extended to 53 bits) of the next sample to be
// decoded; each pop() consumes 20 ms (160 samples at 8 kHz = 160 × clockRate/8000 timestamp
// units). A packet's *margin* on arrival is (its timestamp − #pos) in ms: how many pops it will
// wait. A packet whose margin is negative arrived after its playout time: dropped, counted late.
//
// Delay adaptation (the playout delay is the margin a packet arriving "on time" gets, + ≤ 20 ms):
//  - grows at once (fast attack) when a packet arrives late, by the lateness rounded up to 20 ms,
//    and when the RFC 3550 §A.8 interarrival jitter J says so (target ≥ jitterFactor × J);
//    growth is applied by holding #pos for one pop per 20 ms (one concealment frame "stretched");
//  - shrinks slowly: after every stable window (default 2 s) with no late packet and every
//    packet having waited ≥ 20 ms, by 20 ms (one frame is skipped), down to max(min, jitter target).
// Sequence numbers are extended across the 16-bit wrap (RFC 3550 §A.1); a jump beyond
// MAX_DROPOUT / MAX_MISORDER restarts the stream after a second sequential packet confirms it
// (the §A.1 probation rule); a timestamp jump (margin far beyond maxDelay) restarts at once;
// an SSRC change restarts (counted) keeping the learned delay.
import type { Codec } from './codec/types.js';
import type { RtpHeader } from './rtp.js';

/** Internal PCM samples per 20 ms pop. */
const FRAME = 160;
/** RFC 3550 §A.1: sequence jumps beyond these are not "the same stream". */
export const MAX_DROPOUT = 3000;
export const MAX_MISORDER = 100;
/** A packet whose margin exceeds maxDelay by this much is a timestamp jump, not jitter. */
export const TS_JUMP_SLACK_MS = 500;
/** Payload bytes reserved per slot up front; a larger payload grows that slot once. */
const INITIAL_SLOT_BYTES = 256;
/** #meta fields per slot. */
const META = 4;
const SEQ = 0;
const TS = 1;
const STATE = 2;
/** Decoded samples one packet may yield (opus: 120 ms max → 960 at 8 kHz). */
const MAX_DECODED = 960;

const EMPTY = 0;
const BUFFERED = 1;
const PLAYED = 2;

export type JitterState = 'idle' | 'buffering' | 'playing';
export type PopKind = 'audio' | 'concealed' | 'silence';

/** The RTP header fields the buffer reads (structurally a subset of rtp.ts's RtpHeader). */
export type JitterPacketHeader = Pick<RtpHeader, 'sequence' | 'timestamp' | 'ssrc'>;

export interface JitterBufferOptions {
  /** Only decode() and conceal() are used. */
  codec: Pick<Codec, 'decode' | 'conceal'>;
  /** RTP clock rate of the stream (8000 for G.711, 48000 for opus). */
  clockRate: number;
  /** Lower bound of the playout delay, ms (default 20). */
  minDelayMs?: number;
  /** Upper bound of the playout delay, ms (default 200). */
  maxDelayMs?: number;
  /** Delay at start, ms (default 40, clamped to [min, max]). */
  initialDelayMs?: number;
  /** Ring slots, a power of two ≥ 16 (default 64 = 1.28 s of 20 ms packets). */
  capacity?: number;
  /** Consecutive frames concealed with codec.conceal() before falling back to silence (default 3). */
  maxConcealFrames?: number;
  /** Length of a stable period before the delay shrinks by 20 ms (default 2000 ms). */
  stableWindowMs?: number;
  /** Delay target from jitter: ≥ jitterFactor × J (RFC 3550 interarrival jitter), default 3. */
  jitterFactor?: number;
}

/** Live counters. The object is reused; read it, do not keep references to expect snapshots. */
export interface JitterStats {
  /** Packets handed to push(). */
  received: number;
  /** Packets whose sequence number was already buffered or played. */
  duplicates: number;
  /** Packets that arrived after their playout time (dropped; their sequence is also counted lost). */
  late: number;
  /** Sequence numbers missing when playout passed them. */
  lost: number;
  /** Packets that arrived with a sequence number below the highest seen (and were still used). */
  reordered: number;
  /** Frames produced with codec.conceal() (loss, underrun, delay growth). */
  concealed: number;
  /** Current playout delay target, ms. */
  delayMs: number;
  /** RFC 3550 §A.8 interarrival jitter, ms. */
  jitterMs: number;
  /** Frames inserted to grow the delay. */
  stretched: number;
  /** Frames skipped to shrink the delay. */
  shrunk: number;
  /** Ticks a delay change waited for a quiet frame (so as not to cut into a tone or a word). */
  deferred: number;
  /** Packets too far ahead for the ring, or out of sequence range (probation), dropped. */
  dropped: number;
  /** Restarts on sequence/timestamp jumps. */
  resyncs: number;
  /** Restarts on an SSRC change. */
  ssrcChanges: number;
}

/** Frames a delay change may wait for a quiet frame (then it happens anyway). */
const MAX_ADAPT_DEFER = 25;
/** Mean |sample| below which a frame is quiet (about −40 dBm0: below any DTMF tone we accept). */
const QUIET_MEAN_ABS = 256;

function quiet(frame: Int16Array): boolean {
  let sum = 0;
  for (let i = 0; i < FRAME; i++) {
    const v = frame[i]!;
    sum += v < 0 ? -v : v;
  }
  return sum < QUIET_MEAN_ABS * FRAME;
}

function ceil20(ms: number): number {
  return Math.ceil(ms / 20 - 1e-9) * 20;
}

export class JitterBuffer {
  readonly stats: JitterStats = {
    received: 0,
    duplicates: 0,
    late: 0,
    lost: 0,
    reordered: 0,
    concealed: 0,
    delayMs: 0,
    jitterMs: 0,
    stretched: 0,
    shrunk: 0,
    deferred: 0,
    dropped: 0,
    resyncs: 0,
    ssrcChanges: 0,
  };

  readonly #codec: Pick<Codec, 'decode' | 'conceal'>;
  /** G.711: one payload byte per 8 kHz sample (a 160-byte payload is exactly one frame). */
  readonly #byteSamples: boolean;
  readonly #clockRate: number;
  /** Timestamp units per internal sample (clockRate / 8000). */
  readonly #ratio: number;
  readonly #frameTs: number;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #maxConceal: number;
  readonly #windowPops: number;
  readonly #jitterFactor: number;

  // Ring of slots indexed by extended sequence & mask.
  readonly #mask: number;
  // Per slot [extended seq, extended ts, state, -] in one array, and every slot's payload in one
  // buffer (slot i at i × #stride): with ~1,000 sessions each session's buffer is cold in cache
  // at every push and pop, so what counts is how many cache lines they touch.
  readonly #meta: Float64Array;
  #stride = INITIAL_SLOT_BYTES;
  #payloads: Uint8Array;
  /** Per slot, a view of its payload bytes as long as the payload stored (re-made only when the length changes). */
  readonly #slotView: Uint8Array[];
  #count = 0;

  // Decoded samples not yet popped (a packet longer than 20 ms, or a partial frame).
  readonly #fifo = new Int16Array(MAX_DECODED);
  #fifoStart = 0;
  #fifoLen = 0;
  readonly #scratch = new Int16Array(FRAME);
  readonly #discard = new Int16Array(FRAME);

  #state: JitterState = 'idle';
  #ssrc = 0;
  #highestSeq = 0; // extended
  #nextSeq = 0; // extended: lowest sequence not yet played or skipped
  #tsRef32 = 0;
  #tsRefExt = 0;
  #pos = 0; // extended timestamp of the next sample to decode
  #badSeq = -1; // RFC 3550 §A.1 probation
  #haveTransit = false;
  #lastTransit = 0;
  #jitter = 0; // ms
  #consecutiveConceal = 0;

  // Adaptation.
  #pendingGrowMs = 0;
  #pendingShrink = false;
  /** The last frame played was measured quiet (measured only while a delay change is pending). */
  #lastQuiet = true;
  /** Ticks a pending delay change has waited for a quiet frame. */
  #deferred = 0;
  #windowCount = 0;
  #windowLate = 0;
  #windowMinMargin = Infinity;

  constructor(opts: JitterBufferOptions) {
    this.#codec = opts.codec;
    const name = (opts.codec as Partial<Pick<Codec, 'name'>>).name;
    this.#byteSamples = name === 'PCMU' || name === 'PCMA';
    this.#clockRate = opts.clockRate;
    this.#ratio = opts.clockRate / 8000;
    this.#frameTs = FRAME * this.#ratio;
    this.#minDelay = ceil20(opts.minDelayMs ?? 20);
    this.#maxDelay = Math.max(this.#minDelay, ceil20(opts.maxDelayMs ?? 200));
    this.#maxConceal = opts.maxConcealFrames ?? 3;
    this.#windowPops = Math.max(1, Math.round((opts.stableWindowMs ?? 2000) / 20));
    this.#jitterFactor = opts.jitterFactor ?? 3;
    const cap = opts.capacity ?? 64;
    if (cap < 16 || (cap & (cap - 1)) !== 0) throw new RangeError('capacity must be a power of two ≥ 16');
    this.#mask = cap - 1;
    this.#meta = new Float64Array(cap * META);
    this.#payloads = new Uint8Array(cap * this.#stride);
    this.#slotView = [];
    for (let i = 0; i < cap; i++) this.#slotView.push(this.#payloads.subarray(i * this.#stride, i * this.#stride));
    this.stats.delayMs = this.#clampDelay(ceil20(opts.initialDelayMs ?? 40));
  }

  get state(): JitterState {
    return this.#state;
  }

  /** Packets currently buffered (not yet played). */
  get buffered(): number {
    return this.#count;
  }

  /**
   * Takes one packet. Copies `payload` into a ring slot (no view is kept). Drops and counts
   * duplicates, late packets and out-of-range sequence numbers; restarts on an SSRC change.
   */
  push(h: JitterPacketHeader, payload: Uint8Array, arrivalMs: number): void {
    this.stats.received++;
    if (this.#state === 'idle') {
      this.#start(h, payload, arrivalMs);
      return;
    }
    if (h.ssrc !== this.#ssrc) {
      // RFC 3550 §8.2: a new SSRC is a new source — its sequence and timestamp spaces are unrelated.
      this.stats.ssrcChanges++;
      this.#flush();
      this.#start(h, payload, arrivalMs);
      return;
    }
    const ext = this.#extendSeq(h.sequence);
    const delta = ext - this.#highestSeq;
    if (delta > MAX_DROPOUT || delta < -MAX_MISORDER) {
      // RFC 3550 §A.1: a big jump is accepted only when the next packet follows it in sequence.
      if (h.sequence === this.#badSeq) {
        this.stats.resyncs++;
        this.#flush();
        this.#start(h, payload, arrivalMs);
      } else {
        this.#badSeq = (h.sequence + 1) & 0xffff;
        this.stats.dropped++;
      }
      return;
    }
    this.#badSeq = -1;
    const ts = this.#extendTs(h.timestamp);
    const margin = ((ts - this.#pos) * 1000) / this.#clockRate;
    if (margin > this.#maxDelay + TS_JUMP_SLACK_MS || margin < -(this.#maxDelay + TS_JUMP_SLACK_MS)) {
      // Timestamp jump with continuous sequence numbers (source switch at the sender): restart here.
      this.stats.resyncs++;
      this.#flush();
      this.#start(h, payload, arrivalMs);
      return;
    }
    const idx = ext & this.#mask;
    const m = this.#meta;
    const mi = idx * META;
    if (m[mi + STATE] !== EMPTY && m[mi + SEQ] === ext) {
      this.stats.duplicates++;
      return;
    }
    this.#updateJitter(ts, arrivalMs);
    if (margin < 0 || ext < this.#nextSeq) {
      if (this.#state === 'buffering' && margin >= 0 && ext >= this.#nextSeq - this.#mask) {
        // Before the first packet played, an earlier sequence number may still become the head.
        this.#nextSeq = ext;
      } else {
        this.stats.late++;
        this.#windowLate++;
        if (margin < 0) this.#grow(-margin);
        return;
      }
    }
    if (ext - this.#nextSeq > this.#mask) {
      this.stats.dropped++; // beyond the ring: more than capacity × ptime ahead of playout
      return;
    }
    if (delta < 0) this.stats.reordered++;
    else this.#highestSeq = ext;
    if (margin < this.#windowMinMargin) this.#windowMinMargin = margin;
    this.#store(idx, ext, ts, payload);
  }

  /**
   * Called once per 20 ms media tick: writes 160 samples into `out` (copies) — decoded audio,
   * a concealment frame on loss (codec.conceal() for up to maxConcealFrames in a row, then
   * silence), or silence before the stream starts. Returns what it wrote.
   */
  pop(out: Int16Array): PopKind {
    if (this.#state === 'idle') {
      out.fill(0, 0, FRAME);
      return 'silence';
    }
    this.#endOfTick();
    // Delay changes wait for a quiet frame (at most MAX_ADAPT_DEFER frames): a frame inserted or
    // skipped in the middle of a DTMF tone breaks it (its phase jumps, or a gap opens) and the
    // detector may see two short presses instead of one; in speech it is a click. A real
    // underrun is concealed by #fill whatever happens here.
    const adapt = this.#pendingGrowMs >= 20 || this.#pendingShrink;
    if (adapt && !this.#lastQuiet && this.#deferred < MAX_ADAPT_DEFER) {
      this.#deferred++;
      this.stats.deferred++;
    } else if (this.#pendingGrowMs >= 20) {
      // Grow: emit a frame without consuming the timeline.
      this.#deferred = 0;
      this.#pendingGrowMs -= 20;
      this.stats.delayMs += 20;
      this.stats.stretched++;
      const kind = this.#concealOrSilence(out, 0, FRAME) ? 'concealed' : 'silence';
      this.#noteLoudness(kind, out);
      return kind;
    } else if (this.#pendingShrink) {
      // Shrink: consume one frame of timeline without playing it.
      this.#deferred = 0;
      this.#pendingShrink = false;
      this.stats.delayMs -= 20;
      this.stats.shrunk++;
      this.#fill(this.#discard);
    }
    const kind = this.#fill(out);
    this.#noteLoudness(kind, out);
    return kind;
  }

  /**
   * Loudness matters only while a delay change waits for a quiet frame, so only then is the frame
   * measured; a change that becomes pending meanwhile waits one tick for its first measurement.
   */
  #noteLoudness(kind: PopKind, out: Int16Array): void {
    this.#lastQuiet = this.#pendingGrowMs >= 20 || this.#pendingShrink ? kind === 'silence' || quiet(out) : false;
  }

  /** Forgets the stream (buffer, sequence and timing state) but keeps counters and the learned delay. */
  reset(): void {
    this.#flush();
    this.#state = 'idle';
  }

  // ---- internals ----

  #start(h: JitterPacketHeader, payload: Uint8Array, arrivalMs: number): void {
    this.#ssrc = h.ssrc;
    this.#state = 'buffering';
    const ext = 65536 + h.sequence; // head-room below for early reordering
    this.#highestSeq = ext;
    this.#nextSeq = ext;
    this.#tsRef32 = h.timestamp >>> 0;
    this.#tsRefExt = 4294967296 + this.#tsRef32;
    // The first packet waits delay − 20 ms of pops (+ up to one tick of phase).
    this.#pos = this.#tsRefExt - ((this.stats.delayMs - 20) * this.#clockRate) / 1000;
    this.#badSeq = -1;
    this.#haveTransit = false;
    this.#updateJitter(this.#tsRefExt, arrivalMs);
    this.#windowMinMargin = Infinity;
    this.#windowLate = 0;
    this.#windowCount = 0;
    this.#store(ext & this.#mask, ext, this.#tsRefExt, payload);
  }

  #flush(): void {
    for (let i = STATE; i < this.#meta.length; i += META) this.#meta[i] = EMPTY;
    this.#count = 0;
    this.#fifoLen = 0;
    this.#fifoStart = 0;
    this.#pendingGrowMs = 0;
    this.#pendingShrink = false;
    this.#deferred = 0;
    this.#lastQuiet = true;
    this.#consecutiveConceal = 0;
  }

  #store(idx: number, ext: number, ts: number, payload: Uint8Array): void {
    const len = payload.length;
    if (len > this.#stride) this.#growSlots(len);
    const at = idx * this.#stride;
    this.#payloads.set(payload, at);
    if (this.#slotView[idx]!.length !== len) this.#slotView[idx] = this.#payloads.subarray(at, at + len);
    const m = this.#meta;
    const mi = idx * META;
    if (m[mi + STATE] !== BUFFERED) this.#count++;
    m[mi + STATE] = BUFFERED;
    m[mi + SEQ] = ext;
    m[mi + TS] = ts;
  }

  /** Warm-up only: a payload longer than the slots — every slot grows to the next power of two. */
  #growSlots(len: number): void {
    let stride = this.#stride;
    while (stride < len) stride *= 2;
    const old = this.#payloads;
    const next = new Uint8Array((this.#mask + 1) * stride);
    for (let i = 0; i <= this.#mask; i++) {
      const n = this.#slotView[i]!.length;
      next.set(old.subarray(i * this.#stride, i * this.#stride + n), i * stride);
      this.#slotView[i] = next.subarray(i * stride, i * stride + n);
    }
    this.#payloads = next;
    this.#stride = stride;
  }

  #extendSeq(seq: number): number {
    const hi = this.#highestSeq % 65536;
    const d = ((seq - hi + 32768) & 0xffff) - 32768;
    return this.#highestSeq + d;
  }

  #extendTs(ts: number): number {
    const d = ((ts >>> 0) - this.#tsRef32) | 0; // signed 32-bit distance
    const ext = this.#tsRefExt + d;
    if (d > 0) {
      this.#tsRef32 = ts >>> 0;
      this.#tsRefExt = ext;
    }
    return ext;
  }

  /** RFC 3550 §A.8: J += (|D(i−1,i)| − J) / 16, on transit times in ms. */
  #updateJitter(ts: number, arrivalMs: number): void {
    const transit = arrivalMs - (ts * 1000) / this.#clockRate;
    if (this.#haveTransit) {
      const d = Math.abs(transit - this.#lastTransit);
      this.#jitter += (d - this.#jitter) / 16;
      this.stats.jitterMs = this.#jitter;
      const target = this.#clampDelay(ceil20(this.#jitterFactor * this.#jitter));
      const planned = this.stats.delayMs + this.#pendingGrowMs;
      if (target > planned) this.#pendingGrowMs = target - this.stats.delayMs;
    }
    this.#haveTransit = true;
    this.#lastTransit = transit;
  }

  /** Fast attack after a late packet: plan enough delay that it would have been on time. */
  #grow(lateMs: number): void {
    const want = this.#clampDelay(this.stats.delayMs + ceil20(lateMs));
    const planned = this.stats.delayMs + this.#pendingGrowMs;
    if (want > planned) this.#pendingGrowMs = want - this.stats.delayMs;
  }

  #clampDelay(ms: number): number {
    return ms < this.#minDelay ? this.#minDelay : ms > this.#maxDelay ? this.#maxDelay : ms;
  }

  /** Stable-window bookkeeping: slow decay of the delay (one 20 ms step per stable window). */
  #endOfTick(): void {
    if (++this.#windowCount < this.#windowPops) return;
    const floor = this.#clampDelay(ceil20(this.#jitterFactor * this.#jitter));
    if (
      this.#windowLate === 0 &&
      this.#windowMinMargin >= 20 &&
      this.#windowMinMargin !== Infinity &&
      this.#pendingGrowMs === 0 &&
      this.stats.delayMs - 20 >= floor
    ) {
      this.#pendingShrink = true;
    }
    this.#windowCount = 0;
    this.#windowLate = 0;
    this.#windowMinMargin = Infinity;
  }

  /** Lowest buffered slot at or after #nextSeq, or −1. At most capacity probes (none when empty). */
  #head(): number {
    if (this.#count === 0) return -1;
    const mask = this.#mask;
    const m = this.#meta;
    for (let s = this.#nextSeq, end = this.#nextSeq + mask; s <= end; s++) {
      const idx = s & mask;
      if (m[idx * META + STATE] === BUFFERED && m[idx * META + SEQ] === s) return idx;
    }
    return -1;
  }

  /** Writes concealment (or silence once the run is too long / before start) into out[from, from+n). */
  #concealOrSilence(out: Int16Array, from: number, n: number): boolean {
    if (this.#state !== 'playing' || this.#consecutiveConceal >= this.#maxConceal) {
      out.fill(0, from, from + n);
      return false;
    }
    this.#consecutiveConceal++;
    this.stats.concealed++;
    const sc = this.#scratch;
    this.#codec.conceal(sc);
    for (let i = 0; i < n; i++) out[from + i] = sc[i];
    return true;
  }

  #fill(out: Int16Array): PopKind {
    let filled = 0;
    let audio = false;
    let concealed = false;
    const half = this.#frameTs / 2;
    const m = this.#meta;
    while (filled < FRAME) {
      if (this.#fifoLen > 0) {
        const n = Math.min(this.#fifoLen, FRAME - filled);
        const f = this.#fifo;
        for (let i = 0, j = this.#fifoStart; i < n; i++, j++) out[filled + i] = f[j];
        this.#fifoStart += n;
        this.#fifoLen -= n;
        filled += n;
        audio = true;
        continue;
      }
      const idx = this.#head();
      const mi = idx * META;
      if (idx >= 0 && m[mi + TS] < this.#pos + half) {
        const seq = m[mi + SEQ];
        if (seq > this.#nextSeq) this.stats.lost += seq - this.#nextSeq;
        const payload = this.#slotView[idx]!;
        // The common case — a whole 20 ms G.711 frame at the start of the output — decodes
        // straight into `out` instead of through the FIFO.
        const direct = filled === 0 && this.#byteSamples && payload.length === FRAME && out.length >= FRAME;
        const n = this.#codec.decode(payload, direct ? out : this.#fifo);
        m[mi + STATE] = PLAYED;
        this.#count--;
        this.#nextSeq = seq + 1;
        this.#state = 'playing';
        this.#consecutiveConceal = 0;
        this.#fifoStart = 0;
        this.#fifoLen = n > 0 && !direct ? n : 0;
        if (direct && n > 0) {
          filled = n;
          audio = true;
        }
        // Re-align to the sender's timeline.
        this.#pos = m[mi + TS] + (n > 0 ? n : FRAME) * this.#ratio;
        if (n <= 0) {
          // Undecodable and empty: conceal its slot.
          if (this.#concealOrSilence(out, filled, FRAME - filled)) concealed = true;
          filled = FRAME;
        }
        continue;
      }
      const need = FRAME - filled;
      let n = need;
      if (idx >= 0) {
        // The head is in the future: a gap before it.
        const gap = Math.ceil((m[mi + TS] - this.#pos) / this.#ratio);
        if (gap < n) n = gap;
        if (m[mi + SEQ] > this.#nextSeq) {
          if (this.#concealOrSilence(out, filled, n)) concealed = true; // loss
        } else {
          out.fill(0, filled, filled + n); // no sequence gap: silence suppression (DTX) or start
        }
      } else if (this.#concealOrSilence(out, filled, n)) {
        concealed = true; // underrun: nothing buffered
      }
      filled += n;
      this.#pos += n * this.#ratio;
    }
    return concealed ? 'concealed' : audio ? 'audio' : 'silence';
  }
}
