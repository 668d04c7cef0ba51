// RTP/RTCP port pairs from a configured range (RFC 3550 §11: RTP on an even port, RTCP on the
// next odd one). Ports are handed out round-robin so a just-released port is not reused at once
// (late packets of the previous call would land in the next one); a port some other process
// holds is skipped. Every allocated pair is tracked until release(), which closes both sockets.
import { SipError } from '../lib/errors.js';
import { DgramMediaSocket, type BindOptions, type MediaSocket, type MediaSocketFactory, type MediaSocketKind } from './udp.js';
import { nativeMediaSockets } from './udp-native.js';

export interface PortPair {
  /** The even RTP port. */
  port: number;
  rtp: MediaSocket;
  rtcp: MediaSocket;
}

export interface PortAllocatorOptions extends BindOptions {
  /** Address to bind (e.g. '127.0.0.1' or the media interface). Default '0.0.0.0'. */
  address?: string;
  /**
   * Socket implementation: 'native' (the rtp-io add-on: batched receive, synchronous sends;
   * fails when it is not built), 'dgram' (Node's), or 'auto' (default: native when built).
   */
  io?: MediaSocketKind | 'auto';
}

/** Thrown when every pair of the range is taken: the call layer answers 503. */
export class PortsExhaustedError extends SipError {
  constructor(min: number, max: number) {
    super(503, 'Service Unavailable', `no free RTP port pair in ${min}-${max}`);
    this.name = 'PortsExhaustedError';
  }
}

function socketFactory(io: MediaSocketKind | 'auto'): { kind: MediaSocketKind; bind: MediaSocketFactory } {
  if (io === 'dgram') return { kind: 'dgram', bind: DgramMediaSocket.bind };
  const native = nativeMediaSockets();
  if (native) return { kind: 'native', bind: native };
  if (io === 'native') throw new Error('media io "native": the rtp-io add-on is not built (npm run build:native)');
  return { kind: 'dgram', bind: DgramMediaSocket.bind };
}

export class PortAllocator {
  readonly min: number;
  readonly max: number;
  readonly address: string;
  /** The socket implementation in use. */
  readonly io: MediaSocketKind;
  readonly #opts: PortAllocatorOptions;
  readonly #bind: MediaSocketFactory;
  /** Ports reserved (binding in progress) or allocated. */
  readonly #taken = new Map<number, PortPair | null>();
  #next: number;
  /** Ports skipped because another process held them. */
  busySkipped = 0;

  /** `min`..`max` inclusive; min is rounded up and max down to whole even/odd pairs. */
  constructor(min: number, max: number, opts: PortAllocatorOptions = {}) {
    const lo = min % 2 === 0 ? min : min + 1;
    const hi = max % 2 === 1 ? max : max - 1;
    if (!(lo > 0 && hi <= 65535 && hi > lo)) throw new RangeError(`bad RTP port range ${min}-${max}`);
    this.min = lo;
    this.max = hi;
    this.address = opts.address ?? '0.0.0.0';
    this.#opts = opts;
    const f = socketFactory(opts.io ?? 'auto');
    this.io = f.kind;
    this.#bind = f.bind;
    this.#next = lo;
  }

  /** Number of pairs in the range. */
  get capacity(): number {
    return (this.max + 1 - this.min) / 2;
  }
  /** Pairs currently allocated (or being bound). */
  get inUse(): number {
    return this.#taken.size;
  }

  /**
   * Binds a free pair. Concurrent calls never get the same port. Rejects with
   * PortsExhaustedError (a SipError 503) when no pair in the range can be bound.
   */
  async allocate(): Promise<PortPair> {
    const n = this.capacity;
    for (let tried = 0; tried < n; tried++) {
      const port = this.#next;
      this.#next = port + 2 > this.max ? this.min : port + 2;
      if (this.#taken.has(port)) continue;
      this.#taken.set(port, null);
      const rtp = await this.#bind(this.address, port, this.#opts);
      const rtcp = rtp ? await this.#bind(this.address, port + 1, this.#opts) : null;
      if (rtp && rtcp) {
        const pair = { port, rtp, rtcp };
        this.#taken.set(port, pair);
        return pair;
      }
      rtp?.close();
      this.#taken.delete(port);
      this.busySkipped++;
    }
    throw new PortsExhaustedError(this.min, this.max);
  }

  /** Closes the pair's sockets (if still open) and frees the port. Idempotent. */
  release(port: number): void {
    const pair = this.#taken.get(port);
    if (pair === undefined) return;
    this.#taken.delete(port);
    if (pair) {
      pair.rtp.close();
      pair.rtcp.close();
    }
  }

  /** Releases everything (shutdown). */
  releaseAll(): void {
    for (const port of [...this.#taken.keys()]) this.release(port);
  }
}
