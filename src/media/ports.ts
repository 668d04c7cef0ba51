// RTP/RTCP port pairs from a configured range (RFC 3550 §11: RTP on an even port, RTCP on the
// next odd one). Ports are handed out round-robin so a just-released port is not reused at once
// (late packets of the previous call would land in the next one); a port some other process
// holds is skipped. Every allocated pair is tracked until release(), which closes both sockets.
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { SipError } from '../lib/errors.js';

export interface PortPair {
  /** The even RTP port. */
  port: number;
  rtp: Socket;
  rtcp: Socket;
}

export interface PortAllocatorOptions {
  /** Address to bind (e.g. '127.0.0.1' or the media interface). Default '0.0.0.0'. */
  address?: string;
  /** Socket buffer sizes (bytes); the OS default when unset. */
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** Thrown when every pair of the range is taken: the call layer answers 503. */
export class PortsExhaustedError extends SipError {
  constructor(min: number, max: number) {
    super(503, 'Service Unavailable', `no free RTP port pair in ${min}-${max}`);
    this.name = 'PortsExhaustedError';
  }
}

/**
 * dgram's default lookup resolves even an IP literal through dns.lookup and sends on the next
 * tick; RTP destinations are always literals, so answer synchronously and let send() go straight
 * to the kernel (no per-packet lookup, no deferred send holding the caller's buffer).
 */
function fastLookup(
  host: string,
  options: LookupOneOptions,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(host);
  if (family !== 0) cb(null, host, family);
  else dnsLookup(host, options, cb);
}

function bind(address: string, port: number, opts: PortAllocatorOptions): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', reuseAddr: false, lookup: fastLookup });
    const onError = (): void => {
      s.close();
      resolve(null);
    };
    s.once('error', onError);
    s.bind({ address, port, exclusive: true }, () => {
      s.off('error', onError);
      try {
        if (opts.recvBufferSize) s.setRecvBufferSize(opts.recvBufferSize);
        if (opts.sendBufferSize) s.setSendBufferSize(opts.sendBufferSize);
      } catch {
        // best effort: the OS may cap buffer sizes
      }
      resolve(s);
    });
  });
}

export class PortAllocator {
  readonly min: number;
  readonly max: number;
  readonly address: string;
  readonly #opts: PortAllocatorOptions;
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
      const rtp = await bind(this.address, port, this.#opts);
      const rtcp = rtp ? await bind(this.address, port + 1, this.#opts) : null;
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
      closeQuietly(pair.rtp);
      closeQuietly(pair.rtcp);
    }
  }

  /** Releases everything (shutdown). */
  releaseAll(): void {
    for (const port of [...this.#taken.keys()]) this.release(port);
  }
}

function closeQuietly(s: Socket): void {
  try {
    s.close();
  } catch {
    // already closed
  }
}
