// Codec factory and re-exports of the codec layer (see src/media/API.md).
import { G711Codec } from './g711-codec.js';
import { OpusCodec } from './opus.js';
import type { Codec, CodecName, CodecOptions } from './types.js';

export * from './types.js';
export * from './g711.js';
export { FadeConcealer, G711Codec, FADE_FRAMES } from './g711-codec.js';
export { OpusCodec, OPUS_MAX_DECODED_SAMPLES, OPUS_MAX_PACKET, OPUS_RTP_CLOCK } from './opus.js';
export { Resampler, resample, resampledLength } from './resample.js';
export { Transcoder } from './transcode.js';

/** Codec names accepted by `createCodec`, matched case-insensitively (SDP rtpmap encoding names). */
export const CODEC_NAMES: readonly CodecName[] = ['PCMU', 'PCMA', 'opus'];

/** Canonical name for an SDP encoding name, or undefined when we do not implement it. */
export function codecName(name: string): CodecName | undefined {
  switch (name.toLowerCase()) {
    case 'pcmu':
      return 'PCMU';
    case 'pcma':
      return 'PCMA';
    case 'opus':
      return 'opus';
    default:
      return undefined;
  }
}

/** A new codec instance (one per stream direction pair: it holds decoder/PLC state). Throws RangeError for an unknown name. */
export function createCodec(name: string, opts: CodecOptions = {}): Codec {
  switch (codecName(name)) {
    case 'PCMU':
      return new G711Codec('PCMU');
    case 'PCMA':
      return new G711Codec('PCMA');
    case 'opus':
      return new OpusCodec(opts);
    default:
      throw new RangeError(`unknown codec ${JSON.stringify(name)}`);
  }
}
