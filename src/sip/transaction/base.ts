// Plumbing shared by client and server transactions: the running RFC 3261 timers of one
// transaction on the injected Clock, and event delivery that never lets a listener's
// exception unwind into the transaction layer.

import type { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { TimerName, TimerInput } from './fsm.js';

/** The timers one transaction has armed; each remembers its interval for backoff (A, E, G). */
export class TimerSet {
  readonly #clock: Clock;
  readonly #fire: (input: TimerInput) => void;
  readonly #running = new Map<TimerName, TimerHandle>();

  constructor(clock: Clock, fire: (input: TimerInput) => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  start(timer: TimerName, ms: number): void {
    this.stop(timer);
    const handle = this.#clock.setTimeout(() => {
      this.#running.delete(timer);
      this.#fire({ type: 'timer', timer, ms });
    }, ms);
    this.#running.set(timer, handle);
  }

  stop(timer: TimerName): void {
    const h = this.#running.get(timer);
    if (h !== undefined) {
      this.#clock.clearTimeout(h);
      this.#running.delete(timer);
    }
  }

  stopAll(): void {
    for (const h of this.#running.values()) this.#clock.clearTimeout(h);
    this.#running.clear();
  }

  get size(): number {
    return this.#running.size;
  }
}

/**
 * Calls every listener of `event` in order, each in its own try/catch: a throwing listener is
 * logged and the others still run. Returns the number of listeners called.
 */
export function safeEmit(emitter: EventEmitter<any>, logger: Logger, event: string, ...args: unknown[]): number {
  // rawListeners: `once` wrappers remove themselves when called.
  const listeners = emitter.rawListeners(event) as ((...a: unknown[]) => unknown)[];
  for (const fn of listeners) {
    try {
      const r = fn.apply(emitter, args);
      if (r instanceof Promise) {
        r.catch((err: unknown) => logger.error({ err, event }, 'transaction listener rejected'));
      }
    } catch (err) {
      logger.error({ err, event }, 'transaction listener threw');
    }
  }
  return listeners.length;
}
