// Public types of the codec layer (see src/media/API.md). Internal audio is signed 16-bit PCM,
// mono, 8000 Hz, 20 ms = 160 samples; each codec converts at its edge.

export type CodecName = 'PCMU' | 'PCMA' | 'opus';

/** Samples of internal PCM per 20 ms frame (8 kHz). */
export const FRAME_SAMPLES = 160;
/** Internal PCM sample rate. */
export const INTERNAL_RATE = 8000;

export interface Codec {
  readonly name: CodecName;
  /** RTP clock rate: 8000 (PCMU, PCMA) / 48000 (opus, RFC 7587). */
  readonly clockRate: number;
  /** RTP/SDP channel count: 1 (G.711) / 2 (opus: always signalled as opus/48000/2; audio is mono inside). */
  readonly channels: number;
  /** RTP timestamp increment per 20 ms frame: 160 (G.711) / 960 (opus). */
  readonly timestampStep: number;
  /** Static RTP payload type, or undefined when dynamic (opus). */
  readonly staticPayloadType: number | undefined;
  /** Upper bound of `encode()`'s output for one 20 ms frame; size `out` with it. */
  readonly maxPayloadBytes: number;
  /**
   * Encodes one 20 ms frame of internal PCM (the first 160 samples of `pcm`; a shorter frame is
   * padded with silence) into `out` (copies); returns bytes written. No allocation (G.711); opus
   * pays one small native Buffer per call inside the binding.
   */
  encode(pcm: Int16Array, out: Uint8Array): number;
  /**
   * Decodes one payload into internal PCM (160 samples @ 8 kHz per 20 ms of payload; copies);
   * returns samples written, at most `out.length`. A payload that cannot be decoded is concealed
   * instead (counted in `stats.decodeErrors`); never throws.
   */
  decode(payload: Uint8Array, out: Int16Array): number;
  /** Writes one 20 ms packet-loss concealment frame (opus: decoder PLC; G.711: repeat with fade); returns 160. */
  conceal(out: Int16Array): number;
  /** Frees native state (opus). Idempotent; any later call throws InvalidStateError. */
  close(): void;
  readonly stats: { encoded: number; decoded: number; concealed: number; decodeErrors: number };
}

export interface CodecOptions {
  /** opus: target bitrate in bit/s (default 24000). */
  bitrate?: number;
  /**
   * opus: encoder complexity 0–10 (default 5: about twice the frames per second of libopus's
   * default 10 — measured 17k vs 9k 20 ms frames/s per core — at a small quality cost).
   */
  complexity?: number;
  /** opus: ask the encoder for in-band FEC (helps far-end decoders; our binding cannot use it). */
  fec?: boolean;
  /** opus: expected packet-loss percentage for the encoder's FEC tuning (default 0). */
  packetLossPercent?: number;
}
