// Prompt cache: an audio file is read once, converted once to internal PCM (downmixed to mono,
// resampled to 8 kHz, padded to whole 20 ms frames) and encoded once to PCMU and PCMA, so playing
// it to thousands of G.711 calls costs a subarray view per packet and no encoding. Prompts are
// immutable and shared by every Player that plays them.
import { resolve } from 'node:path';
import { alawEncode, ulawEncode } from './codec/g711.js';
import { resample, resampledLength } from './codec/resample.js';
import { FRAME_SAMPLES, INTERNAL_RATE } from './codec/types.js';
import { readWav, readWavFile, type WavAudio, type WavFormat } from './wav.js';

/** Codecs whose payloads are pre-encoded per prompt (stateless, sample-per-byte). */
export type PreEncodedCodec = 'PCMU' | 'PCMA';

/** Bytes of one 20 ms G.711 frame. */
export const G711_FRAME_BYTES = FRAME_SAMPLES;

export interface Prompt {
  /** Cache key: the resolved path, or the name given to `fromPcm`. */
  readonly key: string;
  /** 8 kHz mono PCM, `frames × 160` samples (last frame padded with silence). Shared: never write to it. */
  readonly pcm: Int16Array;
  /** Number of 20 ms frames. */
  readonly frames: number;
  /** Audio length before padding, in samples at 8 kHz. */
  readonly samples: number;
  readonly durationMs: number;
  /** What the source was before conversion. */
  readonly source: { sampleRate: number; channels: number; format: WavFormat | 'pcm' };
  /** `frames × 160` bytes of pre-encoded G.711, frame k at `[k*160, k*160+160)`. Shared: never write to it. */
  readonly payloads: Readonly<Record<PreEncodedCodec, Uint8Array>>;
  /** Memory held, in bytes. */
  readonly bytes: number;
}

/**
 * Builds a prompt from interleaved 16-bit audio at any supported rate (8/16/44.1/48 kHz, …):
 * downmix (mean of the channels), resample to 8 kHz, pad to 20 ms, pre-encode PCMU and PCMA.
 * Copies; the input is not kept.
 */
export function makePrompt(
  key: string,
  samples: Int16Array,
  sampleRate: number,
  channels = 1,
  format: WavFormat | 'pcm' = 'pcm',
): Prompt {
  let mono: Int16Array;
  if (channels === 1) mono = samples;
  else {
    const n = Math.floor(samples.length / channels);
    mono = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += samples[i * channels + c];
      mono[i] = Math.round(s / channels);
    }
  }
  const n8k = sampleRate === INTERNAL_RATE ? mono.length : resampledLength(mono.length, sampleRate, INTERNAL_RATE);
  const frames = Math.ceil(n8k / FRAME_SAMPLES);
  const pcm = new Int16Array(frames * FRAME_SAMPLES);
  if (sampleRate === INTERNAL_RATE) pcm.set(mono);
  else resample(mono, sampleRate, pcm.subarray(0, n8k), INTERNAL_RATE);
  const PCMU = new Uint8Array(pcm.length);
  const PCMA = new Uint8Array(pcm.length);
  ulawEncode(pcm, PCMU);
  alawEncode(pcm, PCMA);
  return {
    key,
    pcm,
    frames,
    samples: n8k,
    durationMs: (n8k * 1000) / INTERNAL_RATE,
    source: { sampleRate, channels, format },
    payloads: { PCMU, PCMA },
    bytes: pcm.byteLength + PCMU.byteLength + PCMA.byteLength,
  };
}

function fromWav(key: string, w: WavAudio): Prompt {
  return makePrompt(key, w.samples, w.sampleRate, w.channels, w.format);
}

export interface PromptCacheOptions {
  /** Relative paths resolve against this directory (default: the process's working directory). */
  baseDir?: string;
  /** Least recently used prompts are dropped from the cache past this many bytes (default 256 MiB). Players keep theirs. */
  maxBytes?: number;
}

/** Loaded-once, converted-once prompts shared by all calls. */
export class PromptCache {
  readonly #baseDir: string;
  readonly #maxBytes: number;
  /** Insertion order is recency order (a hit re-inserts). */
  readonly #prompts = new Map<string, Prompt>();
  readonly #loading = new Map<string, Promise<Prompt>>();
  #bytes = 0;
  readonly stats = { hits: 0, loads: 0, evictions: 0 };

  constructor(opts: PromptCacheOptions = {}) {
    this.#baseDir = resolve(opts.baseDir ?? '.');
    this.#maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  }

  /** Cache key of a path (absolute, normalised). */
  keyOf(path: string): string {
    return resolve(this.#baseDir, path);
  }

  /** The prompt for `path`, reading and converting it synchronously on first use (startup, tools). Throws WavError / fs errors. */
  get(path: string): Prompt {
    const key = this.keyOf(path);
    const hit = this.#hit(key);
    if (hit) return hit;
    this.stats.loads++;
    return this.#insert(fromWav(key, readWav(key)));
  }

  /** The prompt for `path`, read without blocking; concurrent loads of one file share one read. */
  load(path: string): Promise<Prompt> {
    const key = this.keyOf(path);
    const hit = this.#hit(key);
    if (hit) return Promise.resolve(hit);
    let p = this.#loading.get(key);
    if (p === undefined) {
      this.stats.loads++;
      p = readWavFile(key)
        .then((w) => this.#insert(fromWav(key, w)))
        .finally(() => this.#loading.delete(key));
      this.#loading.set(key, p);
    }
    return p;
  }

  /** Caches generated audio (TTS output, tones) under `name`; replaces an entry of that name. */
  fromPcm(name: string, samples: Int16Array, sampleRate: number, channels = 1): Prompt {
    this.delete(name);
    return this.#insert(makePrompt(name, samples, sampleRate, channels));
  }

  /** The cached prompt, if any, without loading. */
  peek(path: string): Prompt | undefined {
    return this.#prompts.get(this.keyOf(path)) ?? this.#prompts.get(path);
  }

  /** Drops a prompt (e.g. the file changed). Players already holding it keep playing it. */
  delete(path: string): boolean {
    const key = this.#prompts.has(path) ? path : this.keyOf(path);
    const p = this.#prompts.get(key);
    if (p === undefined) return false;
    this.#prompts.delete(key);
    this.#bytes -= p.bytes;
    return true;
  }

  clear(): void {
    this.#prompts.clear();
    this.#bytes = 0;
  }

  get size(): number {
    return this.#prompts.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #hit(key: string): Prompt | undefined {
    const p = this.#prompts.get(key);
    if (p === undefined) return undefined;
    this.stats.hits++;
    this.#prompts.delete(key);
    this.#prompts.set(key, p);
    return p;
  }

  #insert(p: Prompt): Prompt {
    const old = this.#prompts.get(p.key);
    if (old) return old; // a sync get() raced an async load(): keep the first
    this.#prompts.set(p.key, p);
    this.#bytes += p.bytes;
    for (const [k, v] of this.#prompts) {
      if (this.#bytes <= this.#maxBytes || k === p.key) break;
      this.#prompts.delete(k);
      this.#bytes -= v.bytes;
      this.stats.evictions++;
    }
    return p;
  }
}
