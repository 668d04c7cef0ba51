// Typed events for the engine's public objects (SipStack, Dialog, MediaSession, Bridge, ...).
// Emission is "safe": a listener that throws (or returns a rejected promise) is logged, counted
// and skipped, so application code can never unwind into a protocol engine, a socket handler or
// the media tick (the shape of mediasoup's EnhancedEventEmitter.safeEmit).
import { EventEmitter } from 'node:events';
import { moduleLogger, type Logger } from './log.js';

/** Event name -> listener argument tuple. */
export type EventMap<E> = { [K in keyof E]: unknown[] };

const fallbackLog = moduleLogger('events');

export class SafeEmitter<E extends EventMap<E>> {
  // Composition, not inheritance: callers get the typed surface only, never the untyped emit().
  readonly #ee = new EventEmitter();
  readonly #log: Logger;
  /** Listener exceptions caught so far (synchronous throws and rejected promises). */
  listenerErrors = 0;

  constructor(logger?: Logger) {
    this.#log = logger ?? fallbackLog;
    // Many observers (metrics, API, call layer) may watch one object; this is not a leak.
    this.#ee.setMaxListeners(0);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.#ee.listenerCount(event);
  }

  /** Drops every listener; used when the object is closed for good. */
  protected removeAllListeners(): void {
    this.#ee.removeAllListeners();
  }

  /**
   * Calls every listener of `event` in registration order. A throwing listener is logged and the
   * next one still runs. Internal: only the stack emits. Returns whether anyone listened.
   */
  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return this.emitReport(event, ...args).listeners > 0;
  }

  /** safeEmit() that also says how many listeners threw (synchronously). */
  emitReport<K extends keyof E & string>(event: K, ...args: E[K]): { listeners: number; errors: number } {
    const listeners = this.#ee.rawListeners(event);
    let errors = 0;
    for (const l of listeners) {
      // rawListeners() returns once-wrappers, which remove themselves when called.
      try {
        const r = (l as (...a: unknown[]) => unknown).apply(this, args);
        if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') {
          (r as Promise<unknown>).then(undefined, (err: unknown) => this.#report(event, err));
        }
      } catch (err) {
        errors++;
        this.#report(event, err);
      }
    }
    return { listeners: listeners.length, errors };
  }

  #report(event: string, err: unknown): void {
    this.listenerErrors++;
    this.#log.error({ err, event }, 'event listener threw; ignored');
  }
}
