// Call recorder: 16-bit PCM WAV at 8 kHz, mono or stereo (caller left, other party right when
// bridged), streamed to disk in bounded chunks. write() copies each 20 ms frame into a chunk from
// a fixed pool (default ~1 s each); full chunks are written asynchronously, one positional write
// at a time. Memory is bounded by the pool: if the disk falls behind by more than the pool, new
// audio is dropped and counted (stats.droppedSamples) instead of growing the heap or blocking
// the media tick. No allocation per frame.
//
// Pause (PCI-DSS: card numbers must not be recorded) writes silence for the paused time rather
// than omitting it: the file's timeline stays equal to the call's, both channels stay aligned,
// and a reviewer can see where the pause was.
//
// The header is written with sizes 0 at open and fixed by close(). A process that dies before
// close() leaves sizes 0; `repairWav` / `repairRecordings` (recorder-repair.ts) fix them from
// the file length at the next start, and the WAV reader already tolerates such files.
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { InvalidStateError } from '../lib/errors.js';
import { INTERNAL_RATE } from './codec/types.js';
import { WAV_PCM_HEADER, writeWavHeader } from './recorder-header.js';

export { repairRecordings, repairWav, type RepairResult } from './recorder-repair.js';

export interface RecorderOptions {
  /** Two channels: caller left (`write`'s `left`), other party right. Default false (mono). */
  stereo?: boolean;
  /** Audio per disk write, in ms (default 1000). */
  chunkMs?: number;
  /** Full chunks allowed to wait for the disk before audio is dropped (default 4). */
  maxQueuedChunks?: number;
  /**
   * End the first chunk at a random 50–100 % of chunkMs (default true), so that recordings
   * started together write to disk at different moments afterwards.
   */
  staggerFirstChunk?: boolean;
  /** Replace an existing file (default false: fail with EEXIST). */
  overwrite?: boolean;
}

export interface RecorderStats {
  /** Sample frames accepted (per channel), paused silence included. */
  frames: number;
  /** Of which written as silence because the recorder was paused. */
  pausedFrames: number;
  /** Sample frames dropped because the disk fell behind, the file hit the 4 GiB WAV limit, or a write failed. */
  droppedFrames: number;
  /** Audio bytes confirmed written to the file. */
  bytesOnDisk: number;
  writeErrors: number;
}

interface Chunk {
  buf: Buffer;
  /** The same bytes as samples in host order (WAV's little-endian; swapped before writing on a big-endian host). */
  samples: Int16Array;
  len: number;
}

/** Largest data chunk a RIFF file can describe. */
const MAX_DATA_BYTES = 0xffffffff - WAV_PCM_HEADER;
const LITTLE_ENDIAN = endianness() === 'LE';

export class Recorder {
  readonly path: string;
  readonly channels: 1 | 2;
  readonly stats: RecorderStats = { frames: 0, pausedFrames: 0, droppedFrames: 0, bytesOnDisk: 0, writeErrors: 0 };
  #fh: FileHandle;
  readonly #free: Chunk[] = [];
  readonly #queue: Chunk[] = [];
  #cur: Chunk | undefined;
  /**
   * Bytes after which the current chunk is written. The first chunk ends at a random 50–100 % of
   * its size: recordings started together (a bridge storm, a restart) then do not all hit the
   * disk — and the event loop with their write calls — in the same media tick every second.
   */
  #limit: number;
  /** Bytes of audio in the first chunk written (see staggerFirstChunk). */
  readonly firstChunkBytes: number;
  /** Next file position for audio. */
  #pos = WAV_PCM_HEADER;
  /** Audio bytes accepted into chunks (what the data size will be). */
  #accepted = 0;
  #paused = false;
  #closing: Promise<void> | undefined;
  #pump: Promise<void> | undefined;
  #error: Error | undefined;

  private constructor(path: string, fh: FileHandle, channels: 1 | 2, chunkBytes: number, poolSize: number, stagger: boolean) {
    this.path = path;
    this.#fh = fh;
    this.channels = channels;
    for (let i = 0; i < poolSize; i++) {
      const buf = Buffer.alloc(chunkBytes);
      this.#free.push({ buf, samples: new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1), len: 0 });
    }
    this.#cur = this.#free.pop();
    const frameBytes = 2 * channels;
    const frames = chunkBytes / frameBytes;
    this.#limit = stagger ? Math.max(1, Math.ceil(frames * (0.5 + Math.random() / 2))) * frameBytes : chunkBytes;
    this.firstChunkBytes = this.#limit;
  }

  /** Creates the file and writes a provisional header (sizes 0). */
  static async open(path: string, opts: RecorderOptions = {}): Promise<Recorder> {
    const channels = opts.stereo ? 2 : 1;
    const chunkMs = Math.max(20, opts.chunkMs ?? 1000);
    const frameBytes = 2 * channels;
    const chunkBytes = Math.ceil((INTERNAL_RATE * chunkMs) / 1000) * frameBytes;
    const poolSize = Math.max(1, opts.maxQueuedChunks ?? 4) + 1;
    const fh = await open(path, opts.overwrite ? 'w' : 'wx');
    try {
      const h = Buffer.alloc(WAV_PCM_HEADER);
      writeWavHeader(h, { sampleRate: INTERNAL_RATE, channels, dataBytes: 0 });
      await fh.write(h, 0, h.length, 0);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    return new Recorder(path, fh, channels, chunkBytes, poolSize, opts.staggerFirstChunk ?? true);
  }

  get paused(): boolean {
    return this.#paused;
  }
  get closed(): boolean {
    return this.#closing !== undefined;
  }
  /** The first write error, if any (the recording then stops taking audio). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** From now on, write() records silence instead of audio (keeps the timeline). */
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    this.#paused = false;
  }

  /**
   * Records one block (normally a 20 ms frame) — copies it; keeps no reference. Mono: `left`.
   * Stereo: `left` = caller, `right` = other party (silence when absent or shorter). Never blocks;
   * throws InvalidStateError after close().
   */
  write(left: Int16Array, right?: Int16Array): void {
    if (this.#closing) throw new InvalidStateError(`recorder ${this.path} is closed`);
    const n = left.length;
    this.stats.frames += n;
    if (this.#paused) this.stats.pausedFrames += n;
    const frameBytes = 2 * this.channels;
    let i = 0;
    while (i < n) {
      const cur = this.#cur;
      if (cur === undefined || this.#error !== undefined || this.#accepted >= MAX_DATA_BYTES) {
        this.stats.droppedFrames += n - i;
        return;
      }
      // As many samples as fit before the chunk's limit (and the RIFF size limit), in one go.
      const room = Math.min((this.#limit - cur.len) / frameBytes, Math.ceil((MAX_DATA_BYTES - this.#accepted) / frameBytes));
      const take = n - i < room ? n - i : room;
      this.#copy(cur, left, right, i, take);
      i += take;
      cur.len += take * frameBytes;
      this.#accepted += take * frameBytes;
      if (cur.len >= this.#limit) {
        this.#queue.push(cur);
        this.#cur = this.#free.pop();
        this.#limit = cur.buf.length;
        this.#kick();
      }
    }
  }

  /** Stores samples from..from+count−1 (interleaved when stereo; silence while paused) at the chunk's end. */
  #copy(cur: Chunk, left: Int16Array, right: Int16Array | undefined, from: number, count: number): void {
    const samples = cur.samples;
    const end = from + count;
    let o = cur.len >> 1;
    if (this.#paused) {
      samples.fill(0, o, o + count * this.channels);
    } else if (this.channels === 1) {
      for (let i = from; i < end; i++) samples[o++] = left[i]!;
    } else {
      const rn = right === undefined ? 0 : right.length;
      for (let i = from; i < end; i++) {
        samples[o++] = left[i]!;
        samples[o++] = i < rn ? right![i]! : 0;
      }
    }
  }

  /**
   * Flushes what is buffered, writes the final header and closes the file. Idempotent (returns
   * the same promise). Rejects with the first write error if the disk failed during recording.
   */
  close(): Promise<void> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  async #finish(): Promise<void> {
    const cur = this.#cur;
    if (cur !== undefined && cur.len > 0) {
      this.#queue.push(cur);
      this.#cur = undefined;
    }
    this.#kick();
    while (this.#pump) await this.#pump;
    try {
      const h = Buffer.alloc(WAV_PCM_HEADER);
      writeWavHeader(h, { sampleRate: INTERNAL_RATE, channels: this.channels, dataBytes: this.stats.bytesOnDisk });
      await this.#fh.write(h, 0, h.length, 0);
    } finally {
      await this.#fh.close();
    }
    if (this.#error) throw this.#error;
  }

  #kick(): void {
    if (this.#pump === undefined && this.#queue.length > 0) {
      this.#pump = this.#drain().finally(() => {
        this.#pump = undefined;
        // Chunks queued while the last write completed.
        if (this.#queue.length > 0 && this.#error === undefined) this.#kick();
      });
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const c = this.#queue.shift()!;
      try {
        if (this.#error === undefined) {
          if (!LITTLE_ENDIAN) c.buf.subarray(0, c.len).swap16(); // samples were stored in host order
          const { bytesWritten } = await this.#fh.write(c.buf, 0, c.len, this.#pos);
          this.#pos += bytesWritten;
          this.stats.bytesOnDisk += bytesWritten;
          if (bytesWritten !== c.len) throw new Error(`short write (${bytesWritten} of ${c.len} bytes)`);
        } else {
          this.stats.droppedFrames += c.len / (2 * this.channels);
        }
      } catch (e) {
        this.stats.writeErrors++;
        this.#error ??= e instanceof Error ? e : new Error(String(e));
      }
      c.len = 0;
      if (this.#cur === undefined && !this.#closing) this.#cur = c;
      else this.#free.push(c);
    }
  }
}
