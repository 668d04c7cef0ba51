// The recording worker: a worker thread that turns bridged calls' RTP into stereo WAV files, so
// that recording costs the media thread one ring entry per packet instead of a jitter buffer
// push, a decode, and three frame copies per 20 ms (bench:media: recorded bridges cost the media
// thread ~1.6 times a plain bridge; 500 recorded pairs did not fit in one core).
//
// Per recording it runs what the in-thread path runs — a JitterBuffer and a codec per channel
// (caller left, other party right) and a Recorder — on its own 20 ms MediaClock (Node's timers:
// file timing needs no precision). Input comes from the RecordRing (packets and the commands that
// must stay in order with them); open requests and all replies are messages (`WorkerRequest`,
// `WorkerReply`). A channel that has no codec yet, or no packets, records silence, so the two
// channels stay aligned on the worker's tick.
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { MediaClock } from '../lib/media-clock.js';
import { createCodec } from './codec/index.js';
import { JitterBuffer } from './jitter.js';
import { RecordRingReader, RingKind, type RingEntry } from './record-ring.js';
import { Recorder, type RecorderOptions, type RecorderStats } from './recorder.js';
import { FRAME_SAMPLES } from './types.js';

export type WorkerRequest = { t: 'open'; id: number; path: string; opts: RecorderOptions };
export type WorkerReply =
  | { t: 'started'; tid: number; nice: number; error?: string }
  | { t: 'opened'; id: number; error?: string }
  | { t: 'closed'; id: number; stats: RecorderStats; error?: string };

export interface RecordingWorkerData {
  sab: SharedArrayBuffer;
  /** The nice value of the thread that started us, to take on (see takeNice). */
  nice: number;
}

interface Channel {
  jitter: JitterBuffer;
  pt: number;
}

class Recording {
  readonly channels: (Channel | null)[] = [null, null];
  constructor(readonly rec: Recorder) {}
}

const port = parentPort;
if (port === null) throw new Error('recording-worker.ts runs as a worker thread');
const ring = new RecordRingReader((workerData as RecordingWorkerData).sab);
const recordings = new Map<number, Recording>();
const left = new Int16Array(FRAME_SAMPLES);
const right = new Int16Array(FRAME_SAMPLES);
const decoder = new TextDecoder();
/** The ring entry's RTP fields under the names JitterBuffer reads. */
const header = { sequence: 0, timestamp: 0, ssrc: 0 };

function reply(m: WorkerReply): void {
  port!.postMessage(m);
}

/**
 * Takes the media thread's nice value. A thread inherits it anyway, except from a realtime media
 * thread (media.realtimePriority): SCHED_RESET_ON_FORK puts a negative nice back to 0, and then
 * on a busy host (bench:media, 500 recorded pairs, the machine at 98 %) the worker lost to the
 * processes the operator had put below the media server, fell ~1 s behind and dropped frames.
 * Reports this thread's id and the nice value it got.
 */
function takeNice(nice: number): void {
  let error: string | undefined;
  try {
    if (getPriority() !== nice) setPriority(nice); // pid 0: this thread (Linux: nice is per thread)
  } catch (err) {
    error = (err as Error).message;
  }
  let tid = 0;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    // not Linux: no thread id to report
  }
  reply({ t: 'started', tid, nice: getPriority(), ...(error !== undefined ? { error } : {}) });
}

function setCodec(r: Recording, e: RingEntry): void {
  const name = decoder.decode(e.payload);
  const codec = createCodec(name, name === 'opus' ? { fec: e.seq === 1 } : {});
  r.channels[e.channel] = { jitter: new JitterBuffer({ codec, clockRate: codec.clockRate }), pt: e.pt };
}

function close(id: number, r: Recording): void {
  recordings.delete(id);
  r.rec.close().then(
    () => reply({ t: 'closed', id, stats: { ...r.rec.stats } }),
    (err: Error) => reply({ t: 'closed', id, stats: { ...r.rec.stats }, error: err.message }),
  );
}

function onEntry(e: RingEntry): void {
  const r = recordings.get(e.id);
  if (r === undefined || e.channel > 1) return;
  switch (e.kind) {
    case RingKind.Packet: {
      const ch = r.channels[e.channel];
      // Telephone-events and anything else not the negotiated audio are not recorded as sound.
      if (ch && e.pt === ch.pt) {
        header.sequence = e.seq;
        header.timestamp = e.ts;
        header.ssrc = e.ssrc;
        ch.jitter.push(header, e.payload, e.arrivalMs);
      }
      break;
    }
    case RingKind.Codec:
      setCodec(r, e);
      break;
    case RingKind.Pause:
      r.rec.pause();
      break;
    case RingKind.Resume:
      r.rec.resume();
      break;
    case RingKind.Close:
      close(e.id, r);
      break;
  }
}

const clock = new MediaClock();
clock.add({
  onMediaTick(): void {
    ring.drain(onEntry);
    for (const r of recordings.values()) {
      const [a, b] = r.channels;
      if (a) a.jitter.pop(left);
      else left.fill(0);
      if (r.rec.channels === 1) {
        r.rec.write(left);
        continue;
      }
      if (b) b.jitter.pop(right);
      else right.fill(0);
      r.rec.write(left, right);
    }
  },
});
takeNice((workerData as RecordingWorkerData).nice);
clock.start();

port.on('message', (m: WorkerRequest) => {
  if (m.t !== 'open') return;
  Recorder.open(m.path, m.opts).then(
    (rec) => {
      recordings.set(m.id, new Recording(rec));
      reply({ t: 'opened', id: m.id });
    },
    (err: Error) => reply({ t: 'opened', id: m.id, error: err.message }),
  );
});
