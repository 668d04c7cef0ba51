// Bridge: connects two MediaSessions of one call so each peer hears the other.
//
// Each direction is a BridgeRelay (bridge-relay.ts): RTP pass-through without decoding when the
// two sessions negotiated the same codec (sequence numbers and timestamps rewritten into the
// outbound session's own continuous numbering, RFC 4733 events carried with the other side's
// telephone-event payload type), transcoding through internal PCM otherwise (decoded by the
// inbound session's jitter buffer, encoded on the outbound session's tick, events re-sent through
// its RtpEventSource hook). The mode follows re-negotiations (checked per packet by identity).
//
// Recording (optional): a stereo Recorder gets the caller (`a`, left) and the other party (`b`,
// right), one 20 ms frame of each per media tick, aligned: the two frames of one tick are written
// together; if one side misses a tick (not negotiated yet) its channel gets silence. An
// OffloadedRecorder instead gets each side's packets as they arrive and does the same on the
// recording worker thread (the media thread then neither buffers, decodes nor copies frames).
//
// Ownership: the bridge installs itself as each session's audio source and restores the
// previous source on close(); it never closes the sessions or the recorder (their owner does).
// close() is idempotent and runs by itself when either session closes. Nothing here allocates per
// packet or tick.
import { InvalidStateError } from '../lib/errors.js';
import { BridgeRelay, type RelayMode, type RelayStats } from './bridge-relay.js';
import { OffloadedRecorder } from './offloaded-recorder.js';
import type { Recorder } from './recorder.js';
import { MediaEmitter } from './session-emitter.js';
import type { MediaSession } from './session.js';
import { FRAME_SAMPLES, type AudioSource } from './types.js';

export type { RelayMode } from './bridge-relay.js';

/** A stereo recording of the bridge: made on the media thread (Recorder) or on the recording worker. */
export type BridgeRecording = Recorder | OffloadedRecorder;

export interface BridgeOptions {
  /** Stereo recording: `a` (caller) left, `b` right. Not closed by the bridge. */
  record?: BridgeRecording | null;
}

export interface BridgeEvents {
  /** The bridge closed (close() or one of the sessions closed); sources are restored. */
  closed: [];
}

export interface BridgeStats {
  aToB: Readonly<RelayStats>;
  bToA: Readonly<RelayStats>;
  /** Stereo frames (20 ms) handed to the recorder. */
  recordedFrames: number;
  /** Frames written with one channel missing (that side did not tick). */
  recordedHalfFrames: number;
}

const SILENCE = new Int16Array(FRAME_SAMPLES);

export class Bridge extends MediaEmitter<BridgeEvents> {
  readonly a: MediaSession;
  readonly b: MediaSession;
  readonly #ab: BridgeRelay;
  readonly #ba: BridgeRelay;
  readonly #prevA: AudioSource | null;
  readonly #prevB: AudioSource | null;
  readonly #undo: (() => void)[] = [];
  #closed = false;
  readonly #stats = { recordedFrames: 0, recordedHalfFrames: 0 };

  // Recording: the latest frame of each side, written as a pair once both arrived for a tick.
  #recorder: Recorder | null = null;
  #offloaded: OffloadedRecorder | null = null;
  readonly #left = new Int16Array(FRAME_SAMPLES);
  readonly #right = new Int16Array(FRAME_SAMPLES);
  #leftReady = false;
  #rightReady = false;

  readonly #onClosed = (): void => this.close();
  readonly #leftFrame = (f: Int16Array): void => this.#onLeft(f);
  readonly #rightFrame = (f: Int16Array): void => this.#onRight(f);

  /** Bridges `a` (the caller) and `b`. Throws InvalidStateError for a closed or identical session. */
  constructor(a: MediaSession, b: MediaSession, opts: BridgeOptions = {}) {
    super();
    if (a === b) throw new InvalidStateError('cannot bridge a session with itself');
    if (a.closed || b.closed) throw new InvalidStateError('cannot bridge a closed session');
    this.a = a;
    this.b = b;
    this.#ab = new BridgeRelay(a, b);
    this.#ba = new BridgeRelay(b, a);
    this.#setRecording(opts.record ?? null);
    this.#prevA = a.setSource(this.#ba);
    this.#prevB = b.setSource(this.#ab);
    this.#undo.push(a.addRtpListener(this.#ab), b.addRtpListener(this.#ba), a.addTap(this.#ab, 'in'), b.addTap(this.#ba, 'in'));
    a.on('closed', this.#onClosed);
    b.on('closed', this.#onClosed);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** How each direction is relayed now ('idle' until both sides negotiated). */
  get mode(): { aToB: RelayMode; bToA: RelayMode } {
    return { aToB: this.#ab.mode, bToA: this.#ba.mode };
  }

  get stats(): BridgeStats {
    return { aToB: this.#ab.stats, bToA: this.#ba.stats, ...this.#stats };
  }

  /** RFC 4733 events re-sent through the event hook (transcode mode), per direction. */
  get eventStats(): { aToB: EventStats; bToA: EventStats } {
    return { aToB: this.#ab.events.stats, bToA: this.#ba.events.stats };
  }

  get recorder(): BridgeRecording | null {
    return this.#recorder ?? this.#offloaded;
  }

  /** Starts, switches or (null) stops recording; returns the previous recording (not closed). */
  record(r: BridgeRecording | null): BridgeRecording | null {
    const prev = this.recorder;
    this.#setRecording(this.#closed ? null : r);
    return prev;
  }

  #setRecording(r: BridgeRecording | null): void {
    this.#offloaded = r instanceof OffloadedRecorder ? r : null;
    this.#recorder = r instanceof OffloadedRecorder ? null : r;
    this.#ab.wantFrames = this.#ba.wantFrames = this.#recorder !== null;
    // No frame callback unless recording here: a pass-through relay then skips its per-tick copy.
    this.#ab.onFrame = this.#recorder !== null ? this.#leftFrame : null;
    this.#ba.onFrame = this.#recorder !== null ? this.#rightFrame : null;
    this.#ab.recordTo(this.#offloaded, 0);
    this.#ba.recordTo(this.#offloaded, 1);
    this.#leftReady = this.#rightReady = false;
  }

  #onLeft(f: Int16Array): void {
    if (this.#recorder === null) return;
    if (this.#leftReady) this.#flush(); // `b` missed a tick
    this.#left.set(f);
    this.#leftReady = true;
    if (this.#rightReady) this.#flush();
  }

  #onRight(f: Int16Array): void {
    if (this.#recorder === null) return;
    if (this.#rightReady) this.#flush();
    this.#right.set(f);
    this.#rightReady = true;
    if (this.#leftReady) this.#flush();
  }

  #flush(): void {
    const rec = this.#recorder;
    const l = this.#leftReady;
    const r = this.#rightReady;
    this.#leftReady = this.#rightReady = false;
    if (rec === null) return;
    if (rec.closed) {
      this.#setRecording(null); // its owner closed it: stop feeding it
      return;
    }
    rec.write(l ? this.#left : SILENCE, r ? this.#right : SILENCE);
    this.#stats.recordedFrames++;
    if (!(l && r)) this.#stats.recordedHalfFrames++;
  }

  /** Unbridges: detaches from both sessions and restores their previous sources. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#recorder !== null && (this.#leftReady || this.#rightReady)) this.#flush();
    this.#setRecording(null);
    for (const u of this.#undo.splice(0)) u();
    this.a.off('closed', this.#onClosed);
    this.b.off('closed', this.#onClosed);
    this.#ab.events.detach();
    this.#ba.events.detach();
    this.#ab.detached = this.#ba.detached = true;
    if (!this.a.closed && this.a.source === this.#ba) this.a.setSource(this.#prevA);
    if (!this.b.closed && this.b.source === this.#ab) this.b.setSource(this.#prevB);
    this.safeEmit('closed');
  }
}

type EventStats = BridgeRelay['events']['stats'];
