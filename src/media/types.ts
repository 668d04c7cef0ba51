// The small interfaces MediaSession shares with the other media modules (player, recorder,
// detectors, bridge, mixer, DTMF). Frames are internal PCM: Int16Array, 160 samples, 8 kHz mono.
import type { RtpHeader } from './rtp.js';

export type { Codec, CodecName, CodecOptions } from './codec/types.js';

/** Samples per 20 ms internal frame. */
export const FRAME_SAMPLES = 160;

/**
 * Something the session sends: a Player, a bridge/mixer feed, a tone generator. Called once per
 * media tick; fills `out` (160 samples, the session's own scratch buffer) and returns true, or
 * returns false when it has nothing more (the session then drops it, emits 'source-ended' and
 * sends silence or nothing per `sendSilence`).
 */
export interface AudioSource {
  nextFrame(out: Int16Array): boolean;
  /**
   * Optional fast path for sources that hold pre-encoded G.711 (a Player of cached prompts):
   * copies this tick's 160-byte payload for `codec` into `out` at `offset` and returns 160, or 0
   * when finished (as nextFrame's false). The session uses it instead of nextFrame + encode when
   * nothing needs the PCM ('out' taps, in-band DTMF being sent). Exactly one of the two is called
   * per tick.
   */
  nextPayloadInto?(codec: 'PCMU' | 'PCMA', out: Uint8Array, offset: number): number;
  /**
   * True for a source that only fills in while a pass-through bridge is not relaying (the
   * bridge's own relay): while packets are relayed the session skips its nextFrame.
   */
  readonly idleWhileRelaying?: boolean;
}

/** What a tapped frame holds: decoded audio, loss concealment, or silence (no audio / before start). */
export type AudioFrameKind = 'audio' | 'concealed' | 'silence';

/** 'in' = decoded audio received from the peer; 'out' = audio the session sends to the peer. */
export type TapDirection = 'in' | 'out';

/**
 * Observer of a session's audio (recorder, DTMF/tone detectors, mixer input). Called on every
 * media tick for each direction it subscribed to. `frame` is a VIEW of the session's scratch
 * buffer, valid only during the call: copy what you keep. Must not throw (a throw is isolated
 * and counted, but the frame is lost for that tap).
 */
export interface AudioTap {
  onAudio(frame: Int16Array, kind: AudioFrameKind, direction: TapDirection): void;
  /**
   * 'in' taps only: false when the tap wants the per-tick call but not the decoded audio (e.g. a
   * DTMF stream's timers with in-band detection off). When no 'in' tap needs audio the session
   * skips the jitter buffer and decoding entirely and such taps get a silent frame (kind
   * 'silence'). Read on every tick (may change); absent = true.
   */
  readonly needsAudio?: boolean;
}

/**
 * Observer of accepted inbound RTP (after the symmetric-RTP latch): the bridge's pass-through
 * relay and the RFC 4733 receiver. `header` and `payload` are VIEWS (a reused header object and a
 * subarray of the datagram) valid only during the call.
 */
export interface RtpListener {
  onRtp(header: RtpHeader, payload: Uint8Array, arrivalMs: number): void;
}

/** A DTMF digit (same shape as src/media/dtmf's DtmfEvent; emitted as the session's 'dtmf' event). */
export interface DtmfEvent {
  digit: string;
  durationMs: number;
  method: 'rfc4733' | 'inband' | 'info';
  at: number;
}

/**
 * The packet a RtpEventSource fills each tick. `payload` is the session's send buffer (write at
 * most 64 bytes into it); set `length`, `marker` (first packet of an event, RFC 4733 §2.5.1.2)
 * and `timestamp` (the event's start timestamp, the same for all its packets, §2.5.1.1).
 */
export interface RtpEventPacket {
  readonly payload: Uint8Array;
  length: number;
  marker: boolean;
  timestamp: number;
}

/**
 * RFC 4733 event sender hook (the DTMF module's Rfc4733Sender adapts to it). While set, the
 * session asks it on every tick, before audio: `nowTimestamp` is the RTP timestamp this tick
 * would carry. Returning true with length > 0 sends one telephone-event packet (next sequence
 * number, negotiated telephone-event PT) instead of audio; true with length 0 sends audio as
 * usual; false means done (the session drops the source and emits 'event-ended').
 */
export interface RtpEventSource {
  nextEventPacket(nowTimestamp: number, out: RtpEventPacket): boolean;
}
