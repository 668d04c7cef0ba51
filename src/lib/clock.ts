// Injected time. Protocol timers (SIP transactions, dialogs) take a Clock so that tests
// advance time instead of sleeping; production uses the system clock.

export interface TimerHandle {
  readonly __timer: unique symbol;
}

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Protocol timers must never keep the process alive on shutdown.
    t.unref();
    return t as unknown as TimerHandle;
  },
  clearTimeout: (h) => {
    if (h !== undefined) clearTimeout(h as unknown as NodeJS.Timeout);
  },
};

/**
 * A clock that only moves when told to. Timers fire in deadline order (ties in creation
 * order) as `advance()` passes them, so tests of RFC timers are exact and instant.
 */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), seq: id, fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#timers.delete(handle as unknown as number);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let nextId = -1;
      let next: { at: number; seq: number; fn: () => void } | undefined;
      for (const [id, t] of this.#timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = t;
          nextId = id;
        }
      }
      if (!next) break;
      this.#timers.delete(nextId);
      this.#now = next.at;
      next.fn();
    }
    this.#now = target;
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.#timers.size;
  }
}
