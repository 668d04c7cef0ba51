// MediaSocket over the native rtp-io add-on (native/rtp-io/rtp_io.c), the default when it is
// built. Why: with ~1,000 streams, Node's dgram cost more than our own media code — per received
// datagram a Buffer with its own backing store, an rinfo object with a fresh address string and
// a JS callback through the event loop; per send a request object — and the socket syscalls
// themselves were ~40% of the JS thread. The add-on keeps every RTP and RTCP socket on one epoll
// set, waited on by its own I/O thread (RtpIoMode below), hands each datagram over in that
// socket's own Buffer (allocated once here) and makes ONE call into JS per batch.
//
// A batch is a table the add-on fills in `meta`: per datagram [socket id, length or −errno,
// source changed, source port]. The source address string is fetched only when it changed, so a
// steady stream costs no allocation at all. Socket ids are not reused until the next batch, so
// a socket closed by a handler mid-batch just has its remaining entries skipped.
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { errnoName, requireRtpIo } from './rtp-io-addon.js';
import { DgramMediaSocket, type BindOptions, type DatagramSource, type MediaSocket, type MediaSocketFactory, type MediaSocketHandlers } from './udp.js';

/** The add-on's functions (see native/rtp-io/rtp_io.c). Failures are negative errno values. */
interface RtpIoAddon {
  init(meta: Int32Array, onBatch: (count: number) => void, options?: { thread?: boolean; sendOnThread?: boolean; coalesceUs?: number }): void;
  open(ipv6: boolean, address: string, port: number, recvBuffer: Buffer, rcvbufBytes: number, sndbufBytes: number): number;
  localPort(id: number): number;
  connect(id: number, port: number, address: string): number;
  disconnect(id: number): number;
  send(id: number, buf: Uint8Array, offset: number, length: number): number;
  sendTo(id: number, buf: Uint8Array, offset: number, length: number, port: number, address: string): number;
  source(id: number): [string, number] | null;
  close(id: number): number;
  openCount(): number;
  stats(): NativeIoStats;
}

export interface NativeIoStats {
  batches: number;
  datagrams: number;
  rounds: number;
  recvErrors: number;
  /** The socket syscalls run on the add-on's I/O thread. */
  threaded: boolean;
  sendQueued?: number;
  sendErrors?: number;
  sendRingFull?: number;
  recvRingFull?: number;
  wakeups?: number;
  asyncCallbacks?: number;
  /** Threaded mode: I/O-thread loop iterations. */
  ioRounds?: number;
}

/**
 * Where the socket syscalls run (SWITCHBOARD_RTP_IO_THREAD):
 *   'off' (default) — everything on the JS thread (epoll on libuv's loop, synchronous sends);
 *   'recv' — the add-on's I/O thread waits on the sockets and receives into a ring; the JS thread
 *          takes batches from it and sends itself, at the media clock's instant;
 *   'all'  — the I/O thread also sends: the JS thread only copies packets into a ring, and they
 *          leave at the end of its turn (the least JS-thread time; one more thread hand-off).
 * Measured with bench:media on 2 vCPUs shared with the load generator (interleaved runs): at
 * 500 playing sessions / 315 bridged pairs 'off' used ~20 % less CPU in all and had the lower
 * send and relay timing tails; at 1,000 playing sessions (the JS thread saturated) 'off' lost
 * packets in 4 of 4 runs, 'recv'/'all' in none of 6. So 'off' by default; the thread modes suit
 * a host with a core to spare for media I/O.
 */
export type RtpIoMode = 'off' | 'recv' | 'all';

let configuredMode: RtpIoMode = 'off';

/**
 * Chooses where the socket syscalls run (config media.ioThread), before the first socket: the
 * add-on is set up once. SWITCHBOARD_RTP_IO_THREAD, when set, still wins (A/B measurements).
 */
export function setNativeIoMode(m: RtpIoMode): void {
  if (addon && m !== mode && process.env.SWITCHBOARD_RTP_IO_THREAD === undefined) {
    throw new Error(`rtp-io is already set up in mode '${mode}'; choose the mode before the first socket`);
  }
  configuredMode = m;
}

function modeFromEnv(): RtpIoMode {
  const v = process.env.SWITCHBOARD_RTP_IO_THREAD;
  if (v === undefined || v === '') return configuredMode;
  if (v === 'off' || v === 'recv' || v === 'all') return v;
  throw new Error(`SWITCHBOARD_RTP_IO_THREAD must be off, recv or all (got ${JSON.stringify(v)})`);
}

let mode: RtpIoMode = 'off';

/**
 * Thread modes: how long (µs) the I/O thread lets datagrams gather after a receiving round
 * before it takes them in one round and one JS batch (SWITCHBOARD_RTP_IO_COALESCE_US; unset or 0:
 * JS is woken per arrival). Fewer wake-ups of both threads, at the price of up to that much delay;
 * see rtp_io.c for why it is off by default.
 */
function coalesceFromEnv(): number | undefined {
  const v = process.env.SWITCHBOARD_RTP_IO_COALESCE_US;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 20000) throw new Error(`SWITCHBOARD_RTP_IO_COALESCE_US must be an integer from 0 to 20000 (got ${JSON.stringify(v)})`);
  return n;
}

/** Largest datagram received whole; a longer one is dropped and reported (RTP over UDP stays far below). */
export const NATIVE_RECV_BYTES = 2048;
/** Datagrams per batch (the add-on stops a round when the table is full; the rest follow). */
const BATCH_ENTRIES = 1024;
const EMSGSIZE = osConstants.errno.EMSGSIZE;

function errnoError(op: string, negErrno: number): Error {
  const code = errnoName(negErrno);
  const err = new Error(`${op} ${code}`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = negErrno;
  return err;
}

let addon: RtpIoAddon | null | undefined;
let loadError: Error | null = null;
const sockets: (NativeMediaSocket | undefined)[] = [];
const meta = new Int32Array(BATCH_ENTRIES * 4);

function onBatch(count: number): void {
  for (let i = 0, o = 0; i < count; i++, o += 4) {
    const s = sockets[meta[o]!];
    if (s !== undefined) s.deliver(meta[o + 1]!, meta[o + 2]! !== 0, meta[o + 3]!);
  }
}

function load(): RtpIoAddon | null {
  if (addon !== undefined) return addon;
  try {
    const m = modeFromEnv();
    const a = requireRtpIo<RtpIoAddon>();
    a.init(meta, onBatch, { thread: m !== 'off', sendOnThread: m === 'all', coalesceUs: coalesceFromEnv() });
    mode = m;
    addon = a;
  } catch (err) {
    loadError = err as Error;
    addon = null;
  }
  return addon;
}

/** Why the add-on is not in use (null when it loaded). */
export function nativeLoadError(): Error | null {
  load();
  return loadError;
}

/** Where the socket syscalls run (see RtpIoMode); meaningful once the add-on loaded. */
export function nativeIoMode(): RtpIoMode {
  load();
  return mode;
}

/** The add-on's cumulative counters, or null when it is not loaded. */
export function nativeIoStats(): (NativeIoStats & { open: number }) | null {
  const a = load();
  return a ? { ...a.stats(), open: a.openCount() } : null;
}

/** The factory binding native sockets, or null when the add-on is not built. */
export function nativeMediaSockets(): MediaSocketFactory | null {
  const a = load();
  if (!a) return null;
  return (address, port, opts) => {
    // A host name to bind is resolved by dgram (the add-on takes literals only).
    if (isIP(address) === 0) return DgramMediaSocket.bind(address, port, opts);
    return Promise.resolve(NativeMediaSocket.open(a, address, port, opts));
  };
}

export class NativeMediaSocket implements MediaSocket {
  readonly kind = 'native';
  readonly port: number;
  readonly #io: RtpIoAddon;
  readonly #id: number;
  readonly #buf: Buffer;
  readonly #ipv6: boolean;
  readonly #from: DatagramSource = { address: '', port: 0 };
  #handlers: MediaSocketHandlers | null = null;
  #connected = false;
  #closed = false;
  /** sendTo()'s last destination name and the literal it resolved to ('' while resolving). */
  #toName = '';
  #toLiteral = '';

  static open(io: RtpIoAddon, address: string, port: number, opts: BindOptions): NativeMediaSocket | null {
    const buf = Buffer.alloc(NATIVE_RECV_BYTES);
    const id = io.open(address.includes(':'), address, port, buf, opts.recvBufferSize ?? 0, opts.sendBufferSize ?? 0);
    if (id < 0) return null;
    const bound = io.localPort(id);
    if (bound < 0) {
      io.close(id);
      return null;
    }
    return new NativeMediaSocket(io, id, bound, buf, address.includes(':'));
  }

  private constructor(io: RtpIoAddon, id: number, port: number, buf: Buffer, ipv6: boolean) {
    this.#io = io;
    this.#ipv6 = ipv6;
    this.#id = id;
    this.port = port;
    this.#buf = buf;
    sockets[id] = this;
  }

  get connected(): boolean {
    return this.#connected;
  }

  setHandlers(h: MediaSocketHandlers | null): void {
    this.#handlers = h;
  }

  /** From the batch table: a datagram of `len` bytes in our buffer, or −errno. */
  deliver(len: number, sourceChanged: boolean, sourcePort: number): void {
    const h = this.#handlers;
    if (h === null) return;
    if (len < 0) {
      // (With the I/O thread sending, its send errors arrive here too.)
      h.error(len === -EMSGSIZE ? new Error(`datagram longer than ${NATIVE_RECV_BYTES} bytes dropped`) : errnoError('socket', len));
      return;
    }
    const from = this.#from;
    if (sourceChanged) {
      const src = this.#io.source(this.#id);
      from.address = src ? src[0] : '';
    }
    from.port = sourcePort;
    try {
      h.datagram(this.#buf, len, from);
    } catch (err) {
      // Handlers catch their own; this keeps the rest of the batch flowing whatever happens.
      h.error(err as Error);
    }
  }

  send(buf: Uint8Array, offset: number, length: number): void {
    if (this.#closed) return;
    const r = this.#io.send(this.#id, buf, offset, length);
    if (r < 0) this.#handlers?.error(errnoError('send', r));
  }

  sendTo(buf: Uint8Array, offset: number, length: number, port: number, address: string): void {
    if (this.#closed) return;
    if (address !== this.#toName) this.#aim(address);
    const to = this.#toLiteral;
    if (to === '') return; // a name still resolving: nothing to send to yet
    const r = this.#io.sendTo(this.#id, buf, offset, length, port, to);
    if (r < 0) this.#handlers?.error(errnoError('sendto', r));
  }

  /** A new destination: literals at once; a name (an SDP c= may hold one) is looked up once. */
  #aim(name: string): void {
    this.#toName = name;
    if (isIP(name) !== 0) {
      this.#toLiteral = name;
      return;
    }
    this.#toLiteral = '';
    lookup(name, { family: this.#family() }, (err, address) => {
      if (this.#toName !== name) return;
      if (err) this.#handlers?.error(err);
      else this.#toLiteral = address;
    });
  }

  #family(): 4 | 6 {
    return this.#ipv6 ? 6 : 4;
  }

  connect(port: number, address: string): boolean {
    if (this.#closed || isIP(address) === 0) return false;
    this.#connected = this.#io.connect(this.#id, port, address) === 0;
    return this.#connected;
  }

  disconnect(): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#io.disconnect(this.#id);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers = null;
    this.#connected = false;
    sockets[this.#id] = undefined;
    this.#io.close(this.#id);
  }
}
