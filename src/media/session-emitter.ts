// Typed, "safe" event emitter for media objects (MediaSession and its observers): a listener
// that throws is logged and skipped, so application code never unwinds into a socket handler or
// the media tick (mediasoup's safeEmit). src/media may not import src/sip, hence this small copy.
import { EventEmitter } from 'node:events';
import { moduleLogger, type Logger } from '../lib/log.js';

/** Event name -> listener argument tuple. */
export type MediaEventMap<E> = { [K in keyof E]: unknown[] };

const fallbackLog = moduleLogger('media.events');

export class MediaEmitter<E extends MediaEventMap<E>> {
  readonly #ee = new EventEmitter();
  readonly #log: Logger;
  /** Listener exceptions caught. */
  listenerErrors = 0;

  constructor(logger?: Logger) {
    this.#log = logger ?? fallbackLog;
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

  protected removeAllListeners(): void {
    this.#ee.removeAllListeners();
  }

  /** Calls every listener in order; a throwing one is logged, counted and skipped. */
  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const listeners = this.#ee.rawListeners(event);
    for (const l of listeners) {
      try {
        (l as (...a: unknown[]) => unknown).apply(this, args);
      } catch (err) {
        this.listenerErrors++;
        this.#log.error({ err, event }, 'media event listener threw; ignored');
      }
    }
    return listeners.length > 0;
  }
}
