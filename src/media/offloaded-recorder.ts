// OffloadedRecorder: a bridge recording made on the recording worker thread
// (recording-worker.ts) instead of the media thread.
//
// What the media thread does per packet: copy its header fields and payload into the RecordRing
// (record-ring.ts). The worker runs the jitter buffers, decoders and the Recorder — the same
// classes as the in-thread path (Bridge with a Recorder), so the file is the same: WAV PCM16
// 8 kHz, caller left, other party right, streamed in chunks, header finished on close, repaired
// by repairRecordings after a crash. Use it for bridged calls under load; the in-thread Recorder
// stays for taps and single sessions.
//
// One worker per process, started with the first recording; it does not keep the process alive
// while no recording is open or closing. If it dies, every open recording's close() rejects and
// the next open() starts a new worker.
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { moduleLogger } from '../lib/log.js';
import { RecordRingWriter, RingKind } from './record-ring.js';
import type { RecorderOptions, RecorderStats } from './recorder.js';
import type { RecordingWorkerData, WorkerReply, WorkerRequest } from './recording-worker.js';
import type { RtpHeader } from './rtp.js';

/** ~0.8 s of 500 recorded pairs' packets; the worker drains it every 20 ms. */
const RING_BYTES = 8 << 20;
/** A close that found the ring full is retried this often (it must not be dropped). */
const CLOSE_RETRY_MS = 20;

const log = moduleLogger('media.recording');
const encoder = new TextEncoder();

class RecordingHost {
  readonly ring = RecordRingWriter.create(RING_BYTES);
  readonly #worker: Worker;
  readonly #opens = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  readonly #closes = new Map<number, { resolve: (s: RecorderStats) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #active = 0;
  dead: Error | null = null;
  /** The worker's thread id and nice value, once it has started. */
  readonly started: Promise<{ tid: number; nice: number }>;
  #onStarted!: (info: { tid: number; nice: number }) => void;

  constructor() {
    this.started = new Promise((resolve) => (this.#onStarted = resolve));
    const data: RecordingWorkerData = { sab: this.ring.sab, nice: getPriority() };
    this.#worker = new Worker(new URL('./recording-worker-entry.mjs', import.meta.url), { workerData: data, name: 'recording' });
    this.#worker.unref();
    this.#worker.on('message', (m: WorkerReply) => this.#onReply(m));
    this.#worker.on('error', (err) => this.#die(err));
    this.#worker.on('exit', (code) => this.#die(new Error(`recording worker exited (code ${code})`)));
  }

  open(path: string, opts: RecorderOptions): Promise<number> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.#nextId++;
    this.#hold(1);
    return new Promise<number>((resolve, reject) => {
      this.#opens.set(id, { resolve: () => resolve(id), reject });
      this.#worker.postMessage({ t: 'open', id, path, opts } satisfies WorkerRequest);
    });
  }

  close(id: number): Promise<RecorderStats> {
    if (this.dead) {
      this.#hold(-1);
      return Promise.reject(this.dead);
    }
    return new Promise<RecorderStats>((resolve, reject) => {
      this.#closes.set(id, { resolve, reject });
      const push = (): void => {
        if (this.dead) return; // #die rejected it
        if (!this.ring.push(RingKind.Close, id, 0, 0, 0, 0, 0, 0, null)) setTimeout(push, CLOSE_RETRY_MS).unref();
      };
      push();
    });
  }

  /** Keeps the worker (and so the process) alive while recordings are open or closing. */
  #hold(delta: number): void {
    this.#active += delta;
    if (this.#active > 0 && this.#active === delta) this.#worker.ref();
    else if (this.#active === 0) this.#worker.unref();
  }

  #onReply(m: WorkerReply): void {
    if (m.t === 'started') {
      if (m.error !== undefined) log.warn({ tid: m.tid, nice: m.nice, err: m.error }, 'recording worker could not take the media thread\'s nice value');
      else log.debug({ tid: m.tid, nice: m.nice }, 'recording worker started');
      this.#onStarted({ tid: m.tid, nice: m.nice });
      return;
    }
    if (m.t === 'opened') {
      const p = this.#opens.get(m.id);
      this.#opens.delete(m.id);
      if (m.error === undefined) p?.resolve();
      else {
        this.#hold(-1);
        p?.reject(new Error(m.error));
      }
      return;
    }
    const p = this.#closes.get(m.id);
    this.#closes.delete(m.id);
    this.#hold(-1);
    if (m.error === undefined) p?.resolve(m.stats);
    else p?.reject(new Error(m.error));
  }

  #die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    if (host === this) host = undefined;
    log.error({ err }, 'recording worker stopped; open recordings are lost (repaired at the next start)');
    for (const p of [...this.#opens.values(), ...this.#closes.values()]) p.reject(err);
    this.#opens.clear();
    this.#closes.clear();
  }
}

let host: RecordingHost | undefined;

export class OffloadedRecorder {
  readonly path: string;
  readonly channels: 1 | 2;
  /** Media-thread side: packets queued for the worker, and dropped because its ring was full. */
  readonly stats = { packets: 0, dropped: 0 };
  readonly #host: RecordingHost;
  readonly #id: number;
  #paused = false;
  #closing: Promise<RecorderStats> | undefined;

  private constructor(host: RecordingHost, id: number, path: string, channels: 1 | 2) {
    this.#host = host;
    this.#id = id;
    this.path = path;
    this.channels = channels;
  }

  /** The running recording worker's thread id and nice value (null: none started yet). */
  static workerThread(): Promise<{ tid: number; nice: number }> | null {
    return host?.started ?? null;
  }

  /** Creates the file on the worker (rejects as Recorder.open would: exists, no directory, ...). */
  static async open(path: string, opts: RecorderOptions = {}): Promise<OffloadedRecorder> {
    host ??= new RecordingHost();
    const h = host;
    const id = await h.open(path, opts);
    return new OffloadedRecorder(h, id, path, opts.stereo ? 2 : 1);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }
  get paused(): boolean {
    return this.#paused;
  }

  /** From now on the recording takes silence instead of audio (keeps the timeline). */
  pause(): void {
    this.#paused = true;
    if (!this.closed) this.#host.ring.push(RingKind.Pause, this.#id, 0, 0, 0, 0, 0, 0, null);
  }
  resume(): void {
    this.#paused = false;
    if (!this.closed) this.#host.ring.push(RingKind.Resume, this.#id, 0, 0, 0, 0, 0, 0, null);
  }

  /** The codec a channel's packets carry from now on (the bridge calls it on each negotiation). */
  setCodec(channel: 0 | 1, name: string, payloadType: number, opusFec = false): void {
    if (this.closed) return;
    this.#host.ring.push(RingKind.Codec, this.#id, channel, opusFec ? 1 : 0, 0, 0, payloadType, 0, encoder.encode(name));
  }

  /** One received RTP packet of a channel (0: caller, 1: other party); header and payload are copied. */
  packet(channel: 0 | 1, h: RtpHeader, payload: Uint8Array, arrivalMs: number): void {
    if (this.#closing !== undefined) return;
    if (this.#host.ring.push(RingKind.Packet, this.#id, channel, h.sequence, h.timestamp, h.ssrc, h.payloadType, arrivalMs, payload)) this.stats.packets++;
    else this.stats.dropped++;
  }

  /**
   * Finishes the file (what is buffered, then the final header). Idempotent. Resolves with the
   * worker-side Recorder's stats; rejects with the first write error, or if the worker died.
   */
  close(): Promise<RecorderStats> {
    this.#closing ??= this.#host.close(this.#id);
    return this.#closing;
  }
}
