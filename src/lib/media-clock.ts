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
// Listeners are isolated: one that throws is counted (`errors`) and logged (rate-limited) and
// the others still run. A tick allocates nothing.
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { moduleLogger, type Logger } from './log.js';

export interface MediaTickListener {
  /** `tick` is the grid index (start + tick*interval is its deadline); `nowMs` the clock's now(). */
  onMediaTick(tick: number, nowMs: number): void;
}

export interface MediaClockOptions {
  /** Tick period, 20 ms by default (one G.711 frame). */
  intervalMs?: number;
  /** Timer source; tests pass a ManualClock. Defaults to the system clock (performance.now). */
  clock?: Clock;
  /** Overrides `clock.now` only (e.g. to simulate a stall or an early timer). */
  now?: () => number;
  /** Starts on the first add() and stops when the last listener is removed. */
  autoStart?: boolean;
  /** How many recent lateness samples p99() looks at (default 3000 = one minute of ticks). */
  statsWindow?: number;
  logger?: Logger;
}

/** Lateness of tick execution behind its deadline, in ms. */
export interface LatenessStats {
  /** 99th percentile over the last `statsWindow` ticks (0 before the first tick); sorts a preallocated scratch copy. */
  p99(): number;
  /** Largest lateness since start (or resetStats). */
  readonly max: number;
  /** Ticks measured since start (or resetStats). */
  readonly count: number;
}

/** A timer firing this much before its deadline is re-armed instead of run (Node rounds to 1 ms). */
const EARLY_TOLERANCE_MS = 0.5;

export class MediaClock {
  readonly intervalMs: number;
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #autoStart: boolean;
  readonly #log: Logger;
  // Copy-on-write listener list: add/remove replace the array, a tick iterates a stable one.
  #listeners: MediaTickListener[] = [];
  #timer: TimerHandle | undefined;
  #running = false;
  #startMs = 0;
  #tick = 0;
  #skipped = 0;
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
    this.#clock = opts.clock ?? systemClock;
    const clock = this.#clock;
    this.#now = opts.now ?? (() => clock.now());
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
  /** Ticks skipped after event-loop stalls. */
  get skipped(): number {
    return this.#skipped;
  }
  /** Listener exceptions caught. */
  get errors(): number {
    return this.#errors;
  }
  get running(): boolean {
    return this.#running;
  }
  get listenerCount(): number {
    return this.#listeners.length;
  }

  /** Registers a listener; returns its remove() (idempotent). Adding the same object twice is a no-op. */
  add(l: MediaTickListener): () => void {
    if (!this.#listeners.includes(l)) this.#listeners = [...this.#listeners, l];
    if (this.#autoStart && !this.#running) this.start();
    return () => this.remove(l);
  }

  remove(l: MediaTickListener): void {
    const i = this.#listeners.indexOf(l);
    if (i < 0) return;
    const next = this.#listeners.slice();
    next.splice(i, 1);
    this.#listeners = next;
    if (this.#autoStart && next.length === 0) this.stop();
  }

  /** Starts the grid at now (tick 1 due one interval later). No-op when running. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#startMs = this.#now();
    this.#tick = 0;
    this.#arm();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  resetStats(): void {
    this.#ringLen = 0;
    this.#ringPos = 0;
    this.#max = 0;
    this.#count = 0;
  }

  #arm(): void {
    const due = this.#startMs + (this.#tick + 1) * this.intervalMs;
    const delay = due - this.#now();
    this.#timer = this.#clock.setTimeout(this.#onTimer, delay > 0 ? delay : 0);
  }

  #fire(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#now();
    const iv = this.intervalMs;
    let next = this.#tick + 1;
    let deadline = this.#startMs + next * iv;
    if (now < deadline - EARLY_TOLERANCE_MS) {
      // Woken early (timer rounding): wait for the real deadline.
      this.#arm();
      return;
    }
    // Stalled past one or more whole intervals: skip to the latest due tick, never burst.
    const latest = Math.floor((now - this.#startMs) / iv);
    if (latest > next) {
      this.#skipped += latest - next;
      next = latest;
      deadline = this.#startMs + next * iv;
    }
    this.#tick = next;
    const late = now > deadline ? now - deadline : 0;
    this.#record(late);
    const ls = this.#listeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!.onMediaTick(next, now);
      } catch (err) {
        this.#errors++;
        // Rate-limited: the first error, then one in a thousand.
        if (this.#errors === 1 || this.#errors % 1000 === 0) {
          this.#log.error({ err, errors: this.#errors }, 'media tick listener threw; isolated');
        }
      }
    }
    if (this.#running && this.#timer === undefined) this.#arm();
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

let shared: MediaClock | undefined;

/**
 * The process-wide clock. It starts with its first listener and stops with its last, so an idle
 * process does not wake up every 20 ms.
 */
export function sharedMediaClock(): MediaClock {
  shared ??= new MediaClock({ autoStart: true });
  return shared;
}
