// SessionPlayback: prompts and recordings of one MediaSession, created by the session on first
// play()/record() and owned by it (closed by session.close()).
//
// play(): builds a Player over prompts from a PromptCache shared by all sessions (paths are read
// and converted once per process), installs it as the session's audio source and, when it ends
// ('done', stop(), barge-in, a newer play()), puts back the source it displaced (a bridge's
// feed, hold music) if the player is still the current source. The session's RTP sequence
// numbers and timestamps run on across prompt changes (one send state per session). With
// `bargeIn`, the session's next 'dtmf' digit stops it.
//
// record(): opens a Recorder and feeds it from the session's taps — mono: the decoded inbound
// audio (the caller); stereo: inbound left, our outbound audio (prompts, the bridged party, DTMF
// tones) right, the two frames of each tick written together. Recorders still open when the
// session closes are closed (the WAV header fixed); a recorder closed by its owner detaches itself.
//
// Per tick: the record tap copies one frame (stereo: 160 samples into its own buffer); nothing
// is allocated.
import { InvalidStateError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { Player, type PlayItem, type PlayerOptions } from './player.js';
import { PromptCache, type Prompt } from './prompts.js';
import { Recorder, type RecorderOptions } from './recorder.js';
import { FRAME_SAMPLES, type AudioFrameKind, type AudioSource, type AudioTap, type DtmfEvent, type TapDirection } from './types.js';

/** Something to play: a WAV path (through the PromptCache), a prompt, or a Player item. */
export type PlayInput = string | Prompt | PlayItem;

export interface SessionPlayOptions extends PlayerOptions {
  /** Stop on the next 'dtmf' digit (unless an item says otherwise). Default false. */
  bargeIn?: boolean;
}

export interface SessionRecordOptions extends Pick<RecorderOptions, 'stereo' | 'chunkMs' | 'maxQueuedChunks' | 'overwrite'> {}

/** What SessionPlayback needs of its session (MediaSession implements it). */
export interface PlaybackHost {
  readonly closed: boolean;
  readonly source: AudioSource | null;
  setSource(src: AudioSource | null): AudioSource | null;
  addTap(tap: AudioTap, direction: TapDirection | 'both'): () => void;
  on(event: 'dtmf', listener: (e: DtmfEvent) => void): unknown;
  off(event: 'dtmf', listener: (e: DtmfEvent) => void): unknown;
}

let shared: PromptCache | undefined;

/** The process-wide prompt cache sessions use unless given their own. */
export function sharedPromptCache(): PromptCache {
  shared ??= new PromptCache();
  return shared;
}

/** Writes a session's audio into a Recorder: 'in' frames (mono), or in + out pairs (stereo). */
class RecordTap implements AudioTap {
  readonly #left = new Int16Array(FRAME_SAMPLES);
  #haveLeft = false;
  remove: () => void = () => undefined;

  constructor(
    readonly recorder: Recorder,
    readonly stereo: boolean,
    readonly onDetach: (t: RecordTap) => void,
  ) {}

  onAudio(frame: Int16Array, _kind: AudioFrameKind, direction: TapDirection): void {
    if (this.recorder.closed) {
      this.detach();
      return;
    }
    if (!this.stereo) {
      this.recorder.write(frame);
    } else if (direction === 'in') {
      this.#left.set(frame.length === FRAME_SAMPLES ? frame : frame.subarray(0, FRAME_SAMPLES));
      this.#haveLeft = true;
    } else {
      // The session calls 'in' taps before 'out' taps within one tick.
      if (!this.#haveLeft) this.#left.fill(0);
      this.recorder.write(this.#left, frame);
      this.#haveLeft = false;
    }
  }

  detach(): void {
    this.remove();
    this.onDetach(this);
  }
}

export class SessionPlayback {
  readonly #host: PlaybackHost;
  readonly #cache: PromptCache;
  readonly #log: Logger;
  #player: Player | null = null;
  /** The source the current player displaced, restored when it ends. */
  #displaced: AudioSource | null = null;
  #bargeIn = false;
  readonly #taps = new Set<RecordTap>();
  #closed = false;

  readonly #onDtmf = (): void => {
    const p = this.#player;
    if (p !== null && this.#bargeIn) p.bargeIn();
  };

  constructor(host: PlaybackHost, cache: PromptCache | undefined, log: Logger) {
    this.#host = host;
    this.#cache = cache ?? sharedPromptCache();
    this.#log = log;
    host.on('dtmf', this.#onDtmf);
  }

  get cache(): PromptCache {
    return this.#cache;
  }

  /** The player currently playing, or null. */
  get player(): Player | null {
    return this.#player;
  }

  /** Open recorders. */
  get recorders(): Recorder[] {
    return [...this.#taps].map((t) => t.recorder);
  }

  /**
   * Plays `items` from the next tick, replacing (stopping) the current player. Paths are loaded
   * synchronously through the PromptCache on first use (preload with cache.load() to avoid the
   * blocking read); a missing or unreadable file throws before anything changes.
   */
  play(items: readonly PlayInput[], opts: SessionPlayOptions = {}): Player {
    if (this.#closed || this.#host.closed) throw new InvalidStateError('MediaSession is closed');
    const list: PlayItem[] = items.map((it) => (typeof it === 'string' ? { prompt: this.#cache.get(it) } : 'pcm' in it ? { prompt: it } : it));
    const bargeIn = opts.bargeIn ?? false;
    const player = new Player(list, { ...opts, bargeIn });
    const prev = this.#player;
    let displaced = this.#host.source;
    if (prev !== null) {
      displaced = this.#displaced; // keep what the first player displaced
      this.#player = null; // so prev's 'stopped' does not restore
      prev.stop();
    }
    this.#player = player;
    this.#displaced = displaced === prev ? null : displaced;
    this.#bargeIn = bargeIn;
    const ended = (): void => this.#ended(player);
    player.on('done', ended).on('stopped', ended);
    this.#host.setSource(player);
    return player;
  }

  /** Stops the current player (its 'stopped' fires); the displaced source resumes. */
  stopPlayback(): void {
    this.#player?.stop();
  }

  /** Starts recording the session into a new WAV file (see the header comment). */
  async record(path: string, opts: SessionRecordOptions = {}): Promise<Recorder> {
    if (this.#closed || this.#host.closed) throw new InvalidStateError('MediaSession is closed');
    const rec = await Recorder.open(path, opts);
    if (this.#closed || this.#host.closed) {
      await rec.close();
      throw new InvalidStateError('MediaSession closed while the recording was opening');
    }
    const stereo = rec.channels === 2;
    const tap = new RecordTap(rec, stereo, (t) => this.#taps.delete(t));
    tap.remove = this.#host.addTap(tap, stereo ? 'both' : 'in');
    this.#taps.add(tap);
    return rec;
  }

  /** Closes every recorder of this session (headers fixed). */
  async stopRecording(): Promise<void> {
    const taps = [...this.#taps];
    for (const t of taps) t.detach();
    await Promise.all(taps.map((t) => t.recorder.close()));
  }

  /** End of the session: stops the player and closes the recorders (errors are logged). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.off('dtmf', this.#onDtmf);
    const p = this.#player;
    this.#player = null;
    this.#displaced = null;
    p?.stop();
    this.stopRecording().catch((err: unknown) => this.#log.error({ err }, 'closing a session recording failed'));
  }

  #ended(player: Player): void {
    if (this.#player !== player) return;
    this.#player = null;
    const displaced = this.#displaced;
    this.#displaced = null;
    if (this.#closed || this.#host.closed) return;
    if (this.#host.source === player) this.#host.setSource(displaced);
  }
}
