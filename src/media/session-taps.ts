// SessionTaps: the observers of one MediaSession, owned by the session — audio taps on the
// inbound ('in') and outbound ('out') frames and listeners of each accepted inbound RTP packet.
// It also decides whether inbound audio is decoded at all: only while some 'in' tap needs it
// (`needsAudio !== false`) do packets go to the jitter buffer and does the tick decode a frame;
// otherwise 'in' taps get a zeroed silence frame. A throwing observer is isolated (counted in
// `tapErrors`, logged) and never unwinds into the session.
//
// Hot path: the lists are copy-on-write arrays, iterated without allocation; the inbound frame
// and the silence frame are reused. Taps and listeners get views valid only during the call.
import type { Logger } from '../lib/log.js';
import type { JitterBuffer } from './jitter.js';
import type { RtpHeader } from './rtp.js';
import type { MediaSessionStats } from './session-types.js';
import { FRAME_SAMPLES, type AudioFrameKind, type AudioTap, type RtpListener, type TapDirection } from './types.js';

export class SessionTaps {
  readonly #stats: MediaSessionStats;
  readonly #log: Logger;
  #inTaps: AudioTap[] = [];
  #outTaps: AudioTap[] = [];
  #rtpListeners: RtpListener[] = [];
  readonly #rxFrame = new Int16Array(FRAME_SAMPLES);
  /** Handed to 'in' taps that do not need audio while nothing needs it (zeroed each time). */
  readonly #rxSilence = new Int16Array(FRAME_SAMPLES);
  /** Some 'in' tap needs decoded inbound audio: packets go to the jitter buffer, the tick decodes. */
  #inboundActive = false;

  constructor(stats: MediaSessionStats, log: Logger) {
    this.#stats = stats;
    this.#log = log;
  }

  /** Inbound packets go to the jitter buffer (some 'in' tap needs decoded audio). */
  get inboundActive(): boolean {
    return this.#inboundActive;
  }

  /** Subscribes a tap; `jitter` is reset when it is the first to need inbound audio. Returns remove(). */
  add(tap: AudioTap, direction: TapDirection | 'both', jitter: JitterBuffer | null): () => void {
    if (direction !== 'out' && !this.#inTaps.includes(tap)) {
      this.#inTaps = [...this.#inTaps, tap];
      // Audio from now on, not from the next tick (the tick re-checks every 'in' tap).
      if (tap.needsAudio !== false && !this.#inboundActive) {
        this.#inboundActive = true;
        jitter?.reset();
      }
    }
    if (direction !== 'in' && !this.#outTaps.includes(tap)) this.#outTaps = [...this.#outTaps, tap];
    return () => {
      this.#inTaps = this.#inTaps.filter((t) => t !== tap);
      this.#outTaps = this.#outTaps.filter((t) => t !== tap);
    };
  }

  /** Subscribes to each accepted inbound RTP packet (views). Returns remove(). */
  addRtpListener(l: RtpListener): () => void {
    if (!this.#rtpListeners.includes(l)) this.#rtpListeners = [...this.#rtpListeners, l];
    return () => {
      this.#rtpListeners = this.#rtpListeners.filter((x) => x !== l);
    };
  }

  /**
   * Tick step 1: one frame from the jitter buffer to the 'in' taps — only when a tap needs the
   * audio (no consumer: packets skip the jitter buffer and nothing is decoded).
   */
  tickInbound(jitter: JitterBuffer): void {
    const inTaps = this.#inTaps;
    if (inTaps.length) {
      let need = false;
      for (let i = 0; i < inTaps.length; i++) if (inTaps[i]!.needsAudio !== false) need = true;
      if (need !== this.#inboundActive) {
        // Start (or stop) filling the jitter buffer afresh: nothing stale from before.
        this.#inboundActive = need;
        jitter.reset();
      }
      if (need) this.#tap(inTaps, this.#rxFrame, jitter.pop(this.#rxFrame), 'in');
      else {
        this.#rxSilence.fill(0);
        this.#tap(inTaps, this.#rxSilence, 'silence', 'in');
      }
    } else if (this.#inboundActive) {
      this.#inboundActive = false;
      jitter.reset();
    }
  }

  /** Some 'out' tap wants the outgoing PCM (so pre-encoded payloads cannot be sent as they are). */
  get hasOutbound(): boolean {
    return this.#outTaps.length > 0;
  }

  /** Hands the outgoing frame to the 'out' taps. */
  tapOutbound(frame: Int16Array, kind: AudioFrameKind): void {
    if (this.#outTaps.length) this.#tap(this.#outTaps, frame, kind, 'out');
  }

  /** Hands an accepted inbound packet (views) to the RTP listeners. */
  dispatchRtp(h: RtpHeader, payload: Uint8Array, nowMs: number): void {
    const ls = this.#rtpListeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!.onRtp(h, payload, nowMs);
      } catch (err) {
        this.#stats.tapErrors++;
        this.#log.error({ err }, 'RTP listener threw; isolated');
      }
    }
  }

  /** Drops every observer (session close). */
  clear(): void {
    this.#inTaps = [];
    this.#outTaps = [];
    this.#rtpListeners = [];
  }

  #tap(taps: AudioTap[], frame: Int16Array, kind: AudioFrameKind, dir: TapDirection): void {
    for (let i = 0; i < taps.length; i++) {
      try {
        taps[i]!.onAudio(frame, kind, dir);
      } catch (err) {
        this.#stats.tapErrors++;
        if (this.#stats.tapErrors === 1) this.#log.error({ err }, 'audio tap threw; isolated');
      }
    }
  }
}
