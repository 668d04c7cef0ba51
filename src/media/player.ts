// Player: plays a playlist of prompts and silences into a call, one 20 ms frame per media tick,
// optionally looping (music on hold), with configurable silence between items and barge-in (a
// DTMF digit stops an item that allows it). Prompts come from the PromptCache and are shared;
// the player only keeps a cursor, so per tick it copies 160 samples (`nextFrame`), hands out a
// view of the prompt's pre-encoded G.711 (`nextPayload`), or copies that payload into the
// caller's send buffer (`nextPayloadInto`) — no allocation per tick in any of the three.
// Events: 'done' (played to the end), 'stopped' (stop() or barge-in). A listener that throws is
// isolated (counted in `listenerErrors`) and never unwinds into the media tick.
import { FRAME_SAMPLES } from './codec/types.js';
import { G711_FRAME_BYTES, type PreEncodedCodec, type Prompt } from './prompts.js';

export type PlayItem =
  | { prompt: Prompt; /** Overrides the player's `bargeIn` for this item. */ bargeIn?: boolean }
  | { silenceMs: number; bargeIn?: boolean };

export interface PlayerOptions {
  /** Start again after the last item (music on hold) until stopped. Default false. */
  loop?: boolean;
  /** Whether items may be interrupted by `bargeIn()` unless an item says otherwise. Default true. */
  bargeIn?: boolean;
  /** Silence between consecutive items (and between loops), rounded up to 20 ms. Default 0. */
  gapMs?: number;
}

export type PlayerState = 'playing' | 'done' | 'stopped';
export type StopReason = 'stop' | 'barge-in';

export interface PlayerEvents {
  done: () => void;
  stopped: (reason: StopReason) => void;
}

/** A zero-copy payload reference, reused by the player: valid until its next call. Never write to `data`. */
export interface PayloadView {
  data: Uint8Array;
  offset: number;
  length: number;
}

const SILENCE: Record<PreEncodedCodec, Uint8Array> = {
  PCMU: new Uint8Array(G711_FRAME_BYTES).fill(0xff),
  PCMA: new Uint8Array(G711_FRAME_BYTES).fill(0xd5),
};

/**
 * One 160-byte view per frame of a pre-encoded payload array, made on first use and shared by
 * every player (prompts are immutable): the per-tick copy then allocates nothing.
 */
const viewCache = new WeakMap<Uint8Array, Uint8Array[]>();
function frameViews(data: Uint8Array): Uint8Array[] {
  let views = viewCache.get(data);
  if (views === undefined) {
    views = [];
    for (let o = 0; o + G711_FRAME_BYTES <= data.length; o += G711_FRAME_BYTES) views.push(data.subarray(o, o + G711_FRAME_BYTES));
    viewCache.set(data, views);
  }
  return views;
}

interface Item {
  prompt: Prompt | undefined;
  frames: number;
  bargeIn: boolean;
}

export class Player {
  readonly #items: Item[];
  readonly #loop: boolean;
  readonly #gapFrames: number;
  #state: PlayerState = 'playing';
  #index = 0;
  #frame = 0;
  #inGap = false;
  #played = 0;
  readonly #view: PayloadView = { data: SILENCE.PCMU, offset: 0, length: G711_FRAME_BYTES };
  readonly #listeners: { [K in keyof PlayerEvents]: PlayerEvents[K][] } = { done: [], stopped: [] };
  /** Exceptions thrown by event listeners (swallowed). */
  listenerErrors = 0;

  /** Copies the item list (not the prompts). Zero-length items are skipped; an empty list finishes ('done') on the first tick. */
  constructor(items: readonly PlayItem[], opts: PlayerOptions = {}) {
    const dflt = opts.bargeIn ?? true;
    this.#items = items.map((it) =>
      'prompt' in it
        ? { prompt: it.prompt, frames: it.prompt.frames, bargeIn: it.bargeIn ?? dflt }
        : { prompt: undefined, frames: Math.ceil(Math.max(0, it.silenceMs) / 20), bargeIn: it.bargeIn ?? dflt },
    );
    this.#loop = opts.loop ?? false;
    this.#gapFrames = Math.ceil(Math.max(0, opts.gapMs ?? 0) / 20);
  }

  get state(): PlayerState {
    return this.#state;
  }
  /** Index of the item being played (or whose following gap is playing). */
  get itemIndex(): number {
    return this.#index;
  }
  /** Frames delivered so far (20 ms each). */
  get framesPlayed(): number {
    return this.#played;
  }

  /**
   * Per tick: copies the next 160 samples into `out` and returns true; once finished, fills `out`
   * with silence and returns false.
   */
  nextFrame(out: Int16Array): boolean {
    if (!this.#settle()) {
      out.fill(0, 0, FRAME_SAMPLES);
      return false;
    }
    const it = this.#items[this.#index];
    if (this.#inGap || it.prompt === undefined) out.fill(0, 0, FRAME_SAMPLES);
    else {
      const pcm = it.prompt.pcm;
      const base = this.#frame * FRAME_SAMPLES;
      for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = pcm[base + i];
    }
    this.#advance();
    return true;
  }

  /**
   * Per tick for PCMU/PCMA: the next 20 ms as a view of the prompt's pre-encoded bytes (or of a
   * shared silence frame), or null once finished. The returned object is reused by this player.
   */
  nextPayload(codec: PreEncodedCodec): PayloadView | null {
    if (!this.#settle()) return null;
    const it = this.#items[this.#index];
    const v = this.#view;
    if (this.#inGap || it.prompt === undefined) {
      v.data = SILENCE[codec];
      v.offset = 0;
    } else {
      v.data = it.prompt.payloads[codec];
      v.offset = this.#frame * G711_FRAME_BYTES;
    }
    v.length = G711_FRAME_BYTES;
    this.#advance();
    return v;
  }

  /** Like `nextPayload` but copies the 160 bytes into `out` at `offset` (e.g. after the RTP header); returns 160, or 0 once finished. */
  nextPayloadInto(codec: PreEncodedCodec, out: Uint8Array, offset = 0): number {
    const v = this.nextPayload(codec);
    if (v === null) return 0;
    // A typed-array set() of a same-type view is a memcpy (~20 ns; a JS byte loop is 150–400 ns).
    out.set(frameViews(v.data)[v.offset / G711_FRAME_BYTES]!, offset);
    return G711_FRAME_BYTES;
  }

  /** Stops playback ('stopped' with reason 'stop'). No effect once finished. */
  stop(): void {
    this.#finish('stopped', 'stop');
  }

  /**
   * A DTMF digit arrived: stops playback ('stopped' with reason 'barge-in') when the current item
   * allows barge-in (a gap counts as part of the item after it). Returns whether it stopped.
   */
  bargeIn(): boolean {
    if (!this.#settle()) return false;
    let idx = this.#index;
    if (this.#inGap) idx = idx + 1 < this.#items.length ? idx + 1 : 0;
    if (!this.#items[idx].bargeIn) return false;
    this.#finish('stopped', 'barge-in');
    return true;
  }

  on<K extends keyof PlayerEvents>(event: K, listener: PlayerEvents[K]): this {
    this.#listeners[event].push(listener);
    return this;
  }

  off<K extends keyof PlayerEvents>(event: K, listener: PlayerEvents[K]): this {
    const l = this.#listeners[event] as PlayerEvents[K][];
    const i = l.indexOf(listener);
    if (i >= 0) l.splice(i, 1);
    return this;
  }

  #advance(): void {
    this.#played++;
    this.#frame++;
    const len = this.#inGap ? this.#gapFrames : this.#items[this.#index].frames;
    if (this.#frame < len) return;
    this.#frame = 0;
    if (!this.#inGap && this.#gapFrames > 0 && (this.#loop || this.#index + 1 < this.#items.length)) {
      this.#inGap = true;
      return;
    }
    this.#inGap = false;
    this.#index++;
    // Settle now so 'done' fires right after the last frame, not a tick later.
    this.#settle();
  }

  /** Moves past zero-length items, wraps when looping, finishes at the end; true while playing. */
  #settle(): boolean {
    if (this.#state !== 'playing') return false;
    if (this.#inGap) return true;
    for (let guard = 0; guard <= this.#items.length; guard++) {
      if (this.#index >= this.#items.length) {
        if (!this.#loop) break;
        this.#index = 0;
      }
      if (this.#items[this.#index].frames > 0) return true;
      this.#index++;
    }
    this.#finish('done');
    return false;
  }

  #finish(state: 'done' | 'stopped', reason?: StopReason): void {
    if (this.#state !== 'playing') return;
    this.#state = state;
    if (state === 'done') this.#emit('done');
    else this.#emit('stopped', reason!);
  }

  #emit(event: 'done'): void;
  #emit(event: 'stopped', reason: StopReason): void;
  #emit(event: keyof PlayerEvents, reason?: StopReason): void {
    const list = this.#listeners[event];
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as (r?: StopReason) => void)(reason);
      } catch {
        this.listenerErrors++;
      }
    }
  }
}
