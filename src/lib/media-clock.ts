// The one 20 ms media clock of the process. Every MediaSession, mixer and bridge hangs off it
// instead of owning a timer: a setInterval per call drifts and loses packets beyond ~1,000 calls
// (see /work/shared/DEPENDENCIES.md), one shared tick costs ≈5–6 µs per packet.
//
// Scheduling: tick n is due at start + n*interval. Each expiry re-arms a single setTimeout
// against that absolute deadline, so timer lateness never accumulates (no drift). After an
// event-loop stall longer than one interval the missed ticks are skipped (counted in `skipped`)
// and the clock re-aligns to the grid — it never fires a burst of catch-up ticks, which would
// make every session send a burst of packets.
//
// Slots: with `slots: K` the interval is cut into K sub-slots (interval/K apart) and every
// listener is placed in one of them (the least used, unless the caller names one); a listener in
// slot s gets tick n at start + n*interval + s*interval/K — still exactly one tick per interval,
// on a fixed grid, from the same single timer. Why: a media server's work per tick is one UDP
// send per session, ~6–10 µs each on loopback here; 1,000 sessions on one deadline make a ~10 ms
// burst whose length varies by milliseconds from tick to tick, and a stream's send time moves with
// its place in the burst (measured: p99 interval deviation 6–12 ms). Ten slots make ten bursts a
// tenth as long, spread over the interval as unsynchronised phones' packets would be, and packets
// arriving meanwhile wait for one short burst instead of the whole tick.
//
// Two passes per slot: every listener's onMediaTick runs first (sessions send there), then every
// afterMediaTick (receive-side work: jitter buffer, detectors, RTCP), so no session's send waits
// behind another's decoding.
//
// Listeners are isolated: one that throws is counted (`errors`) and logged (rate-limited) and
// the others still run. A tick allocates nothing.
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { moduleLogger, type Logger } from './log.js';

export interface MediaTickListener {
  /** `tick` is the grid index (its deadline: start + tick*interval + the slot's offset); `nowMs` the clock's now(). */
  onMediaTick(tick: number, nowMs: number): void;
  /** Optional second pass: runs after every listener of the slot had its onMediaTick. */
  afterMediaTick?(tick: number, nowMs: number): void;
}

export interface MediaClockOptions {
  /** Tick period, 20 ms by default (one G.711 frame). */
  intervalMs?: number;
  /** Sub-slots per interval (default 1: every listener on the interval's deadline). */
  slots?: number;
  /** Timer source; tests pass a ManualClock. Defaults to the system clock (performance.now). */
  clock?: Clock;
  /** Overrides `clock.now` only (e.g. to simulate a stall or an early timer). */
  now?: () => number;
  /** Starts on the first add() and stops when the last listener is removed. */
  autoStart?: boolean;
  /** How many recent lateness samples p99() looks at (default 3000). */
  statsWindow?: number;
  logger?: Logger;
}

/** Lateness of tick execution behind its deadline, in ms. */
export interface LatenessStats {
  /** 99th percentile over the last `statsWindow` slot runs (0 before the first); sorts a preallocated scratch copy. */
  p99(): number;
  /** Largest lateness since start (or resetStats). */
  readonly max: number;
  /** Slot runs measured since start (or resetStats). */
  readonly count: number;
}

/** A timer firing this much before its deadline is re-armed instead of run (Node rounds to 1 ms). */
const EARLY_TOLERANCE_MS = 0.5;
const NO_LISTENERS: readonly MediaTickListener[] = [];

export class MediaClock {
  readonly intervalMs: number;
  /** Sub-slots per interval. */
  readonly slots: number;
  /** Offset between consecutive slots, ms. */
  readonly slotMs: number;
  #clock: Clock;
  readonly #now: () => number;
  readonly #autoStart: boolean;
  readonly #log: Logger;
  // Copy-on-write listener list per slot: add/remove replace the array, a run iterates a stable one.
  readonly #bySlot: (readonly MediaTickListener[])[];
  readonly #slotOf = new Map<MediaTickListener, number>();
  #size = 0;
  /** Where the next least-used search starts, so equal slots fill in turn. */
  #cursor = 0;
  #timer: TimerHandle | undefined;
  #running = false;
  #startMs = 0;
  /** Next position to run: tick n of slot s is position n*slots + s, due at start + position*slotMs. */
  #next = 0;
  #tick = 0;
  #skippedPositions = 0;
  #errors = 0;
  readonly #onTimer = (): void => this.#fire();
  // Lateness ring and a scratch array for p99 (sorted copy; no allocation per call).
  readonly #ring: Float64Array;
  readonly #scratch: Float64Array;
  #ringLen = 0;
  #ringPos = 0;
  #max = 0;
  #count = 0;
  readonly lateness: LatenessStats;

  constructor(opts: MediaClockOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 20;
    if (!(this.intervalMs > 0)) throw new RangeError('intervalMs must be > 0');
    this.slots = opts.slots ?? 1;
    if (!Number.isInteger(this.slots) || this.slots < 1) throw new RangeError('slots must be an integer >= 1');
    this.slotMs = this.intervalMs / this.slots;
    this.#bySlot = Array.from({ length: this.slots }, () => NO_LISTENERS);
    this.#clock = opts.clock ?? systemClock;
    this.#now = opts.now ?? (() => this.#clock.now());
    this.#autoStart = opts.autoStart ?? false;
    this.#log = opts.logger ?? moduleLogger('media.clock');
    const window = Math.max(1, opts.statsWindow ?? 3000);
    this.#ring = new Float64Array(window);
    this.#scratch = new Float64Array(window);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.lateness = {
      p99: () => self.#p99(),
      get max() {
        return self.#max;
      },
      get count() {
        return self.#count;
      },
    };
  }

  /** Index of the last tick run (0 before the first). */
  get tick(): number {
    return this.#tick;
  }
  /** Ticks skipped after event-loop stalls (slot runs skipped / slots). */
  get skipped(): number {
    return Math.round(this.#skippedPositions / this.slots);
  }
  /** Listener exceptions caught. */
  get errors(): number {
    return this.#errors;
  }
  get running(): boolean {
    return this.#running;
  }
  get listenerCount(): number {
    return this.#size;
  }
  /** Listeners per slot. */
  slotSizes(): number[] {
    return this.#bySlot.map((l) => l.length);
  }
  /** The slot of a registered listener (undefined when not registered). */
  slotOf(l: MediaTickListener): number | undefined {
    return this.#slotOf.get(l);
  }

  /**
   * Registers a listener in `slot` (default: the least used); returns its remove() (idempotent).
   * Adding a registered listener again is a no-op (it keeps its slot).
   */
  add(l: MediaTickListener, slot?: number): () => void {
    if (!this.#slotOf.has(l)) {
      const s = slot === undefined ? this.#leastUsed() : slot;
      if (!Number.isInteger(s) || s < 0 || s >= this.slots) throw new RangeError(`slot must be 0..${this.slots - 1}`);
      this.#bySlot[s] = [...this.#bySlot[s]!, l];
      this.#slotOf.set(l, s);
      this.#size++;
    }
    if (this.#autoStart && !this.#running) this.start();
    return () => this.remove(l);
  }

  remove(l: MediaTickListener): void {
    const s = this.#slotOf.get(l);
    if (s === undefined) return;
    this.#slotOf.delete(l);
    this.#bySlot[s] = this.#bySlot[s]!.filter((x) => x !== l);
    this.#size--;
    if (this.#autoStart && this.#size === 0) this.stop();
  }

  /** Starts the grid at now (tick 1 of slot 0 due one interval later). No-op when running. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startMs = this.#now();
    this.#next = this.slots;
    this.#tick = 0;
    this.#arm();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Moves the clock's timer to another source (same time base: both monotonic ms), e.g. the media
   * layer's precise timer; a pending expiry is re-armed there, so the grid does not move.
   */
  setTimerSource(clock: Clock): void {
    if (clock === this.#clock) return;
    const pending = this.#timer !== undefined;
    if (pending) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#clock = clock;
    if (pending && this.#running) this.#arm();
  }

  resetStats(): void {
    this.#ringLen = 0;
    this.#ringPos = 0;
    this.#max = 0;
    this.#count = 0;
  }

  #leastUsed(): number {
    const k = this.slots;
    let best = this.#cursor % k;
    for (let i = 1; i < k; i++) {
      const s = (this.#cursor + i) % k;
      if (this.#bySlot[s]!.length < this.#bySlot[best]!.length) best = s;
    }
    this.#cursor = best + 1;
    return best;
  }

  /** Moves #next past slots without listeners (at most one interval's worth). */
  #skipEmpty(): void {
    if (this.#size === 0) return;
    const k = this.slots;
    while (this.#bySlot[this.#next % k]!.length === 0) this.#next++;
  }

  #arm(): void {
    this.#skipEmpty();
    const due = this.#startMs + this.#next * this.slotMs;
    const delay = due - this.#now();
    this.#timer = this.#clock.setTimeout(this.#onTimer, delay > 0 ? delay : 0);
  }

  #fire(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const k = this.slots;
    const sub = this.slotMs;
    let now = this.#now();
    // At most one interval's worth of slots per timer callback: if the work outruns the clock,
    // the event loop still gets to poll sockets between callbacks.
    for (let runs = 0; runs < k; runs++) {
      this.#skipEmpty();
      let pos = this.#next;
      let deadline = this.#startMs + pos * sub;
      if (now < deadline - EARLY_TOLERANCE_MS) break; // not due (or woken early): re-arm
      // Stalled past a whole interval: run each slot once, for its latest due tick — never a burst.
      const latest = Math.floor((now - this.#startMs) / sub);
      if (latest - pos >= k) {
        const resume = latest - k + 1;
        this.#skippedPositions += resume - pos;
        this.#next = pos = resume;
        this.#skipEmpty();
        pos = this.#next;
        deadline = this.#startMs + pos * sub;
      }
      const tick = Math.floor(pos / k);
      this.#next = pos + 1;
      this.#tick = tick;
      this.#record(now > deadline ? now - deadline : 0);
      this.#run(this.#bySlot[pos % k]!, tick, now);
      if (!this.#running || this.#size === 0) break;
      now = this.#now();
    }
    if (this.#running && this.#timer === undefined) this.#arm();
  }

  #run(ls: readonly MediaTickListener[], tick: number, now: number): void {
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!.onMediaTick(tick, now);
      } catch (err) {
        this.#caught(err);
      }
    }
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i]!;
      if (l.afterMediaTick === undefined) continue;
      try {
        l.afterMediaTick(tick, now);
      } catch (err) {
        this.#caught(err);
      }
    }
  }

  #caught(err: unknown): void {
    this.#errors++;
    // Rate-limited: the first error, then one in a thousand.
    if (this.#errors === 1 || this.#errors % 1000 === 0) {
      this.#log.error({ err, errors: this.#errors }, 'media tick listener threw; isolated');
    }
  }

  #record(late: number): void {
    this.#ring[this.#ringPos] = late;
    this.#ringPos = (this.#ringPos + 1) % this.#ring.length;
    if (this.#ringLen < this.#ring.length) this.#ringLen++;
    if (late > this.#max) this.#max = late;
    this.#count++;
  }

  #p99(): number {
    const n = this.#ringLen;
    if (n === 0) return 0;
    const s = this.#scratch.subarray(0, n);
    s.set(this.#ring.subarray(0, n));
    s.sort();
    return s[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]!;
  }
}

/**
 * Node flags a media process runs with (`npm start`, bench:media): a small young generation and
 * single-threaded GC keep each young-generation GC — frequent, since Node allocates per datagram —
 * to about a millisecond, instead of 3–6 ms stops once a second with a 64 MB semi-space and
 * parallel GC threads (measured with bench:media on 2 vCPUs).
 */
export const MEDIA_NODE_FLAGS = ['--max-semi-space-size=4', '--single-threaded-gc'] as const;

/** Slots of the shared clock: 2 ms apart, Node's timer resolution being 1 ms. */
export const SHARED_SLOTS = 10;

let shared: MediaClock | undefined;
let sharedTimer: Clock = systemClock;

/** The timer source of the process-wide clock (Node's timers until the media layer sets its own). */
export function useSharedMediaTimer(clock: Clock): void {
  sharedTimer = clock;
  shared?.setTimerSource(clock);
}

/**
 * The process-wide clock. It starts with its first listener and stops with its last, so an idle
 * process does not wake up every 20 ms.
 */
export function sharedMediaClock(): MediaClock {
  shared ??= new MediaClock({ autoStart: true, slots: SHARED_SLOTS, clock: sharedTimer });
  return shared;
}
