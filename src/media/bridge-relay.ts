// One direction of a Bridge: what `from`'s peer says reaches `to`'s peer.
//
// Pass-through (both sessions negotiated the same codec and, if both have telephone-event, the
// same event clock): each accepted RTP packet of `from` is re-sent at once on `to` with
// sendRtpPayload — payload bytes untouched, `to`'s SSRC and continuous sequence numbers, and the
// timestamp advanced by the source's own timestamp delta, so `to`'s timeline is the source's
// shifted by a constant. RFC 4733 packets travel the same way with `to`'s telephone-event PT
// (all packets of an event keep one timestamp, §2.5.1.1, which the delta mapping preserves).
// A discontinuity — first packet, SSRC change, arrival gap long enough for `to`'s own tick to
// have sent in between, or an absurd timestamp jump — restarts the mapping one frame after
// `to`'s last timestamp, with the marker bit.
// Transcoding (codecs differ): `from`'s decoded frames (its jitter buffer, via an 'in' tap) are
// copied into this relay, which is `to`'s AudioSource: `to` encodes them on its tick.
// Telephone-events go through an EventRelay (bridge-events.ts) on `to`'s tick.
// In both modes the relay is `to`'s source: in pass-through it only speaks while `from` sends no
// packets (the session's tick path is silent during a relay), keeping `to`'s stream alive.
// Hot path: onRtp / onAudio / nextFrame allocate nothing; the mode is re-derived only when a
// session's negotiated description (object identity) changes, e.g. after a re-INVITE.
import type { NegotiatedMedia } from './sdp/index.js';
import type { MediaSession } from './session.js';
import type { RtpHeader } from './rtp.js';
import { EventRelay } from './bridge-events.js';
import type { OffloadedRecorder } from './offloaded-recorder.js';
import { FRAME_SAMPLES, type AudioFrameKind, type AudioSource, type AudioTap, type RtpListener } from './types.js';

export type RelayMode = 'idle' | 'pass-through' | 'transcode';

/** An arrival gap (ms) after which `to`'s tick path has sent on its own (it resumes 2 ticks after a relay). */
const GAP_MS = 50;
/** A timestamp delta beyond this many seconds (either way) is a jump, not a continuation. */
const MAX_JUMP_S = 10;

export interface RelayStats {
  /** Packets relayed without decoding (audio). */
  passedThrough: number;
  /** RFC 4733 packets relayed (pass-through) or queued for re-sending (transcode). */
  dtmfPackets: number;
  /** Telephone-events that could not be carried (the other side negotiated none). */
  dtmfDropped: number;
  /** Frames handed to `to` for encoding. */
  framesOut: number;
  /** Timeline restarts (first packet, SSRC change, gap, jump). */
  resyncs: number;
}

export class BridgeRelay implements RtpListener, AudioTap, AudioSource {
  readonly from: MediaSession;
  readonly to: MediaSession;
  readonly stats: RelayStats = { passedThrough: 0, dtmfPackets: 0, dtmfDropped: 0, framesOut: 0, resyncs: 0 };
  readonly events: EventRelay;
  /** Latest decoded frame of `from` (what `to` sends next in transcode mode). */
  readonly frame = new Int16Array(FRAME_SAMPLES);
  frameKind: AudioFrameKind = 'silence';
  /** Called with each decoded frame of `from` (the bridge's recorder alignment). */
  onFrame: ((frame: Int16Array, kind: AudioFrameKind) => void) | null = null;

  #mode: RelayMode = 'idle';
  #fromMedia: NegotiatedMedia | null = null;
  #toMedia: NegotiatedMedia | null = null;
  #fromPt = -1;
  #fromTePt = -1;
  #toPt = -1;
  #toTePt = -1;
  /** `to`'s timestamp units per 20 ms frame. */
  #step = 160;
  #maxJump = 80000;
  // Pass-through timeline mapping.
  #synced = false;
  #lastTs = 0;
  #lastSsrc = 0;
  #lastArrival = 0;

  constructor(from: MediaSession, to: MediaSession) {
    this.from = from;
    this.to = to;
    this.events = new EventRelay(to);
  }

  /** The bridge wants every decoded frame of `from` (onFrame: recording). */
  wantFrames = false;

  #recordTo: OffloadedRecorder | null = null;
  #recordChannel: 0 | 1 = 0;

  /** Hands every packet of `from` to a recording on the worker thread as `channel` (null: stop). */
  recordTo(rec: OffloadedRecorder | null, channel: 0 | 1): void {
    this.#recordTo = rec;
    this.#recordChannel = channel;
    const fm = this.from.negotiated;
    if (rec !== null && fm) this.#recordCodec(rec, fm);
  }

  #recordCodec(rec: OffloadedRecorder, fm: NegotiatedMedia): void {
    rec.setCodec(this.#recordChannel, fm.codec.name, fm.codec.payloadType, fm.codec.name === 'opus' && fm.codec.params.get('useinbandfec') === '1');
  }

  /**
   * AudioTap: pass-through relays raw payloads, so `from` need not decode its inbound audio
   * unless the frames are wanted (recording) — or the mode is transcode / not yet known.
   */
  get needsAudio(): boolean {
    this.#refresh();
    return this.#mode !== 'pass-through' || this.wantFrames;
  }

  get mode(): RelayMode {
    this.#refresh();
    return this.#mode;
  }

  /** Re-derives the mode when either side (re-)negotiated; cheap identity check otherwise. */
  #refresh(): void {
    const fm = this.from.negotiated;
    const tm = this.to.negotiated;
    if (fm === this.#fromMedia && tm === this.#toMedia) return;
    this.#fromMedia = fm;
    this.#toMedia = tm;
    this.#synced = false;
    if (fm && this.#recordTo !== null) this.#recordCodec(this.#recordTo, fm);
    if (!fm || !tm) {
      this.#mode = 'idle';
      this.#fromPt = this.#fromTePt = this.#toPt = this.#toTePt = -1;
      return;
    }
    this.#fromPt = fm.codec.payloadType;
    this.#toPt = tm.codec.payloadType;
    this.#fromTePt = fm.telephoneEvent?.payloadType ?? -1;
    this.#toTePt = tm.telephoneEvent?.payloadType ?? -1;
    this.#step = (tm.codec.clockRate / 50) | 0;
    this.#maxJump = tm.codec.clockRate * MAX_JUMP_S;
    const sameCodec = fm.codec.name === tm.codec.name && fm.codec.clockRate === tm.codec.clockRate;
    const fte = fm.telephoneEvent;
    const tte = tm.telephoneEvent;
    // Events stay on the audio timeline only when both event clocks equal the (common) audio clock.
    const teOk = !fte || !tte || (fte.clockRate === fm.codec.clockRate && tte.clockRate === tm.codec.clockRate);
    this.#mode = sameCodec && teOk ? 'pass-through' : 'transcode';
    this.events.setRates(fte?.clockRate ?? 8000, tte?.clockRate ?? 8000);
  }

  /** RtpListener on `from`: every accepted packet (views, not kept). */
  onRtp(h: RtpHeader, payload: Uint8Array, arrivalMs: number): void {
    this.#refresh();
    if (this.#recordTo !== null) this.#recordTo.packet(this.#recordChannel, h, payload, arrivalMs);
    const pt = h.payloadType;
    if (pt === this.#fromPt) {
      if (this.#mode !== 'pass-through') return; // decoded by `from`'s jitter buffer instead
      const discontinuity = this.#delta(h, arrivalMs);
      if (this.to.sendRtpPayload(this.#toPt, payload, this.#deltaOut, h.marker || discontinuity)) this.stats.passedThrough++;
      return;
    }
    if (pt !== this.#fromTePt) return;
    if (this.#toTePt < 0) {
      // The other side cannot receive events. Count presses (marker = first packet).
      if (h.marker) this.stats.dtmfDropped++;
      return;
    }
    this.stats.dtmfPackets++;
    if (this.#mode === 'pass-through') {
      this.#delta(h, arrivalMs);
      this.to.sendRtpPayload(this.#toTePt, payload, this.#deltaOut, h.marker);
    } else {
      this.events.push(h, payload); // counts presses it cannot install in events.stats.dropped
    }
  }

  #deltaOut = 0;

  /** Sets #deltaOut for this packet; returns true on a timeline restart. */
  #delta(h: RtpHeader, arrivalMs: number): boolean {
    const ts = h.timestamp >>> 0;
    let restart = !this.#synced || h.ssrc !== this.#lastSsrc || arrivalMs - this.#lastArrival > GAP_MS;
    let d = 0;
    if (!restart) {
      d = (ts - this.#lastTs) | 0;
      if (d > this.#maxJump || d < -this.#maxJump) restart = true;
    }
    if (restart) {
      d = this.#step;
      this.#synced = true;
      this.#lastSsrc = h.ssrc;
      this.stats.resyncs++;
    }
    this.#lastTs = ts;
    this.#lastArrival = arrivalMs;
    this.#deltaOut = d;
    return restart;
  }

  /** AudioTap ('in' of `from`): copies the decoded frame. */
  onAudio(frame: Int16Array, kind: AudioFrameKind): void {
    // Pass-through without recording gets a silent frame per tick (the session's timers only):
    // once our copy is silence (all zeros), further silent frames change nothing.
    if (kind === 'silence' && this.frameKind === 'silence' && this.onFrame === null) return;
    const f = this.frame;
    const n = frame.length < FRAME_SAMPLES ? frame.length : FRAME_SAMPLES;
    for (let i = 0; i < n; i++) f[i] = frame[i];
    this.frameKind = kind;
    const cb = this.onFrame;
    if (cb !== null) cb(f, kind);
  }

  /** Set by the bridge's close(): a stale reference (e.g. a playback restoring it) then ends at once. */
  detached = false;
  /** AudioSource: while `to` relays our packets it does not ask us for frames. */
  readonly idleWhileRelaying = true;

  /** AudioSource of `to`: the latest decoded frame of `from`. Ends only once detached. */
  nextFrame(out: Int16Array): boolean {
    if (this.detached) return false;
    const f = this.frame;
    for (let i = 0; i < FRAME_SAMPLES; i++) out[i] = f[i];
    this.stats.framesOut++;
    return true;
  }
}
