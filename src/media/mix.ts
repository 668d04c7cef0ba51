// Mixer: an N-party conference on the shared 20 ms media clock.
//
// Each participant's decoded 160-sample frame arrives through an 'in' tap on its session (the
// jitter buffer's output) and is copied into the participant's input frame. On every tick the
// mixer sums, into a preallocated Int32 accumulator, the voices everyone may hear; then for each
// participant it takes that sum, subtracts its own voice (N−1 mixing: nobody hears an echo of
// themselves), adds the whispers addressed to it, saturates to 16 bits and leaves the result in
// the participant's output frame, which is that session's AudioSource for its next tick.
//
// Modes (changeable at runtime with setMode):
//   normal  — hears everyone, heard by everyone;
//   listen  — hears everyone, heard by no one (supervisor silent monitoring);
//   whisper — hears everyone, heard only by `whisperTo` (coaching an agent);
//   barge   — hears everyone, heard by everyone (a supervisor joining the call).
// Every mode hears every voice that is audible to it; whispers are heard only by their target.
//
// Timing: sessions and the mixer are listeners of the same clock; a session whose tick runs
// before the mixer's contributes that tick's frame, one after it the previous tick's — a fixed
// 0–20 ms per participant, never a torn or doubled frame (each input is consumed once).
// Hot path: onMediaTick, the taps and the sources allocate nothing (Int32 accumulator and
// per-participant input/output frames are allocated when a participant joins).
import { InvalidStateError, NotFoundError } from '../lib/errors.js';
import type { MediaClock, MediaTickListener } from '../lib/media-clock.js';
import { defaultMediaClock } from './precise-timer.js';
import { MediaEmitter } from './session-emitter.js';
import { FRAME_SAMPLES, type AudioFrameKind, type AudioSource, type AudioTap } from './types.js';

export type MixMode = 'normal' | 'listen' | 'whisper' | 'barge';

/** What the mixer needs of a participant's session; MediaSession fits. */
export interface MixerEndpoint {
  addTap(tap: AudioTap, direction: 'in'): () => void;
  setSource(source: AudioSource | null): AudioSource | null;
  readonly source: AudioSource | null;
}

export interface MixerOptions {
  /** The clock the participants' sessions run on (default: the shared clock). */
  clock?: MediaClock;
}

export interface MixerEvents {
  /** close() ran; every participant's previous source is restored. */
  closed: [];
}

export interface MixerStats {
  ticks: number;
  /** Output samples that saturated at ±32767. */
  clipped: number;
}

const MAX = 32767;
const MIN = -32768;

/** One conference member: its tap (input), its source (output), its mode. */
class Participant implements AudioTap, AudioSource {
  readonly endpoint: MixerEndpoint;
  readonly input = new Int16Array(FRAME_SAMPLES);
  readonly output = new Int16Array(FRAME_SAMPLES);
  /** A frame arrived since the last mix, and whether it carries sound. */
  fresh = false;
  audible = false;
  /** Decided at the start of each mix: this input is in this tick's sums. */
  live = false;
  mode: MixMode = 'normal';
  whisperTo: Participant | null = null;
  /** Whisperers addressed to this participant (rebuilt on mode changes). */
  whisperedBy: Participant[] = [];
  readonly prevSource: AudioSource | null;
  readonly removeTap: () => void;

  constructor(endpoint: MixerEndpoint) {
    this.endpoint = endpoint;
    this.removeTap = endpoint.addTap(this, 'in');
    this.prevSource = endpoint.setSource(this);
  }

  get heardByAll(): boolean {
    return this.mode === 'normal' || this.mode === 'barge';
  }

  onAudio(frame: Int16Array, kind: AudioFrameKind): void {
    const f = this.input;
    const n = frame.length < FRAME_SAMPLES ? frame.length : FRAME_SAMPLES;
    for (let i = 0; i < n; i++) f[i] = frame[i];
    this.fresh = true;
    this.audible = kind !== 'silence';
  }

  /** Set on remove(): a stale reference to this source (e.g. restored by a playback) ends at once. */
  removed = false;

  nextFrame(out: Int16Array): boolean {
    if (this.removed) return false;
    const f = this.output;
    for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = f[i];
    return true;
  }
}

export class Mixer extends MediaEmitter<MixerEvents> implements MediaTickListener {
  readonly stats: MixerStats = { ticks: 0, clipped: 0 };
  readonly #clock: MediaClock;
  readonly #byEndpoint = new Map<MixerEndpoint, Participant>();
  /** Copy-on-write: a tick iterates a stable array. */
  #parts: Participant[] = [];
  readonly #acc = new Int32Array(FRAME_SAMPLES);
  readonly #mix = new Int32Array(FRAME_SAMPLES);
  #removeTick: (() => void) | null;
  #closed = false;

  constructor(opts: MixerOptions = {}) {
    super();
    this.#clock = opts.clock ?? defaultMediaClock();
    this.#removeTick = this.#clock.add(this);
  }

  get size(): number {
    return this.#parts.length;
  }

  has(s: MixerEndpoint): boolean {
    return this.#byEndpoint.has(s);
  }

  modeOf(s: MixerEndpoint): { mode: MixMode; whisperTo: MixerEndpoint | null } {
    const p = this.#get(s);
    return { mode: p.mode, whisperTo: p.whisperTo?.endpoint ?? null };
  }

  /**
   * Adds a session (it becomes the session's audio source; the previous one is restored on
   * remove). `whisperTo` is required for 'whisper' and must already be a participant. Adding a
   * participant again only changes its mode.
   */
  add(s: MixerEndpoint, mode: MixMode = 'normal', whisperTo?: MixerEndpoint): void {
    if (this.#closed) throw new InvalidStateError('mixer is closed');
    const target = this.#target(s, mode, whisperTo);
    let p = this.#byEndpoint.get(s);
    if (p === undefined) {
      p = new Participant(s);
      this.#byEndpoint.set(s, p);
      this.#parts = [...this.#parts, p];
    }
    p.mode = mode;
    p.whisperTo = target;
    this.#rebuildWhispers();
  }

  /** Changes a participant's mode at runtime (takes effect on the next tick). */
  setMode(s: MixerEndpoint, mode: MixMode, whisperTo?: MixerEndpoint): void {
    this.#get(s);
    this.add(s, mode, whisperTo);
  }

  /** Removes a session and restores its previous source; whispers to it fall silent. No-op if absent. */
  remove(s: MixerEndpoint): void {
    const p = this.#byEndpoint.get(s);
    if (p === undefined) return;
    this.#byEndpoint.delete(s);
    this.#parts = this.#parts.filter((x) => x !== p);
    for (const q of this.#parts) if (q.whisperTo === p) q.whisperTo = null;
    this.#rebuildWhispers();
    p.removeTap();
    p.removed = true;
    if (s.source === p) s.setSource(p.prevSource);
  }

  /** Removes everyone (restoring their sources) and leaves the clock. Idempotent. */
  close(): void {
    if (this.#closed) return;
    for (const p of this.#parts) this.remove(p.endpoint);
    this.#closed = true;
    this.#removeTick?.();
    this.#removeTick = null;
    this.safeEmit('closed');
  }

  /** MediaTickListener: mixes this tick's inputs into every participant's output frame. */
  onMediaTick(): void {
    const parts = this.#parts;
    const n = parts.length;
    if (n === 0) return;
    this.stats.ticks++;
    const acc = this.#acc;
    acc.fill(0);
    for (let k = 0; k < n; k++) {
      const p = parts[k];
      p.live = p.fresh && p.audible;
      p.fresh = false;
      if (p.live && p.heardByAll) {
        const x = p.input;
        for (let i = 0; i < FRAME_SAMPLES; i++) acc[i] += x[i];
      }
    }
    const mix = this.#mix;
    let clipped = 0;
    for (let k = 0; k < n; k++) {
      const p = parts[k];
      mix.set(acc);
      if (p.live && p.heardByAll) {
        const own = p.input;
        for (let i = 0; i < FRAME_SAMPLES; i++) mix[i] -= own[i];
      }
      const ws = p.whisperedBy;
      for (let w = 0; w < ws.length; w++) {
        const q = ws[w];
        if (!q.live) continue;
        const x = q.input;
        for (let i = 0; i < FRAME_SAMPLES; i++) mix[i] += x[i];
      }
      const out = p.output;
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const v = mix[i];
        if (v > MAX) {
          out[i] = MAX;
          clipped++;
        } else if (v < MIN) {
          out[i] = MIN;
          clipped++;
        } else out[i] = v;
      }
    }
    this.stats.clipped += clipped;
  }

  #get(s: MixerEndpoint): Participant {
    const p = this.#byEndpoint.get(s);
    if (p === undefined) throw new NotFoundError('not a participant of this mixer');
    return p;
  }

  #target(s: MixerEndpoint, mode: MixMode, whisperTo: MixerEndpoint | undefined): Participant | null {
    if (mode !== 'whisper') return null;
    if (whisperTo === undefined) throw new RangeError("mode 'whisper' needs a whisperTo participant");
    if (whisperTo === s) throw new RangeError('a participant cannot whisper to itself');
    return this.#get(whisperTo);
  }

  #rebuildWhispers(): void {
    for (const p of this.#parts) p.whisperedBy = [];
    for (const p of this.#parts) if (p.mode === 'whisper' && p.whisperTo !== null) p.whisperTo.whisperedBy.push(p);
  }
}
