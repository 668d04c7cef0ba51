// A Clock whose timers fire within microseconds of their deadline, for the media clock.
//
// Why: Node's setTimeout keeps time in whole milliseconds (libuv's loop time and epoll_wait's
// timeout), so the shared 20 ms clock's slots fired 0–1 ms late, differently at every tick. On a
// bench:media capture at 50 playing sessions that was the whole of the send-interval deviation:
// every stream of a slot off by the same 0.4–1 ms, half of the 2 ms p99 budget gone before any
// load. The rtp-io add-on's timer (native/rtp-io/media_timer.c) is a timerfd on libuv's loop:
// the kernel wakes the loop at the nanosecond deadline.
//
// The add-on has ONE timer; this Clock multiplexes any number over it (the media clock keeps one
// pending at a time). Like systemClock's, the timers never keep the process alive.
// SWITCHBOARD_MEDIA_TIMER=node selects Node's timers instead (for A/B measurements).
import type { Clock, TimerHandle } from '../lib/clock.js';
import { sharedMediaClock, useSharedMediaTimer, type MediaClock } from '../lib/media-clock.js';
import { requireRtpIo } from './rtp-io-addon.js';

interface TimerAddon {
  timerInit(onTimer: () => void): void;
  timerArm(delayMs: number): void;
  timerCancel(): void;
  timerStats(): { fired: number; spurious: number };
}

interface Pending {
  at: number;
  fn: () => void;
}

/** A callback due within this much of now runs instead of re-arming for a few microseconds. */
const DUE_SLACK_MS = 0.02;

class PreciseTimerClock implements Clock {
  readonly #addon: TimerAddon;
  /** Pending timers, earliest first (the media clock keeps one, so a sorted array is enough). */
  #queue: Pending[] = [];
  #armedAt = Number.POSITIVE_INFINITY;

  constructor(addon: TimerAddon) {
    this.#addon = addon;
    addon.timerInit(() => this.#fire());
  }

  now(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const p: Pending = { at: performance.now() + (ms > 0 ? ms : 0), fn };
    const q = this.#queue;
    let i = q.length;
    while (i > 0 && q[i - 1]!.at > p.at) i--;
    q.splice(i, 0, p);
    if (i === 0) this.#arm();
    return p as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const i = this.#queue.indexOf(handle as unknown as Pending);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    if (i === 0) this.#arm();
  }

  /** Counters of the add-on's timer: expiries delivered, and wake-ups with nothing due. */
  stats(): { fired: number; spurious: number } {
    return this.#addon.timerStats();
  }

  #arm(): void {
    const first = this.#queue[0];
    if (first === undefined) {
      if (this.#armedAt !== Number.POSITIVE_INFINITY) this.#addon.timerCancel();
      this.#armedAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (first.at === this.#armedAt) return;
    this.#armedAt = first.at;
    this.#addon.timerArm(first.at - performance.now());
  }

  #fire(): void {
    this.#armedAt = Number.POSITIVE_INFINITY;
    const q = this.#queue;
    // Only what is due now: a callback that sets a timer for "now" runs on the next wake-up, as
    // with setTimeout, so a timer loop cannot starve I/O.
    const now = performance.now() + DUE_SLACK_MS;
    let n = 0;
    while (n < q.length && q[n]!.at <= now) n++;
    try {
      if (n === 1) q.shift()!.fn();
      else if (n > 1) for (const p of q.splice(0, n)) p.fn();
    } finally {
      this.#arm();
    }
  }
}

let clock: PreciseTimerClock | null | undefined;
let loadError: Error | null = null;

/** The precise timer Clock, or null when the add-on is not built (or SWITCHBOARD_MEDIA_TIMER=node). */
export function preciseTimerClock(): (Clock & { stats(): { fired: number; spurious: number } }) | null {
  if (clock !== undefined) return clock;
  const choice = process.env.SWITCHBOARD_MEDIA_TIMER;
  if (choice !== undefined && choice !== '' && choice !== 'precise' && choice !== 'node') {
    throw new Error(`SWITCHBOARD_MEDIA_TIMER must be precise or node (got ${JSON.stringify(choice)})`);
  }
  if (choice === 'node') return (clock = null);
  try {
    clock = new PreciseTimerClock(requireRtpIo<TimerAddon>());
  } catch (err) {
    loadError = err as Error;
    clock = null;
  }
  return clock;
}

/** Why the precise timer is not in use (null when it is, or when Node's timers were chosen). */
export function preciseTimerLoadError(): Error | null {
  preciseTimerClock();
  return loadError;
}

let installed = false;

/**
 * The process-wide media clock (lib's sharedMediaClock) driven by the precise timer when the
 * add-on is built. Sessions and mixers without a clock of their own use this.
 */
export function defaultMediaClock(): MediaClock {
  if (!installed) {
    installed = true;
    const precise = preciseTimerClock();
    if (precise) useSharedMediaTimer(precise);
  }
  return sharedMediaClock();
}
