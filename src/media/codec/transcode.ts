// Payload-to-payload transcoding between any pair of PCMU, PCMA and opus, via internal PCM
// (8 kHz mono). PCMU↔PCMA uses a 256-entry table (bit-identical to decode-then-encode); opus
// legs decode/encode through one reused 20 ms scratch frame. One Transcoder per direction of a
// bridged stream: it owns (and closes) its codecs, so decoder/PLC/encoder state stays per stream.
import { InvalidStateError } from '../../lib/errors.js';
import { alawEncode, alawToUlaw, ulawEncode, ulawToAlaw } from './g711.js';
import { OPUS_MAX_DECODED_SAMPLES } from './opus.js';
import type { Codec } from './types.js';
import { FRAME_SAMPLES } from './types.js';

export class Transcoder {
  readonly from: Codec;
  readonly to: Codec;
  /** Decoded PCM; large enough for a 120 ms opus packet. */
  readonly #pcm = new Int16Array(OPUS_MAX_DECODED_SAMPLES);
  readonly #direct: ((src: Uint8Array, dst: Uint8Array, n: number) => number) | undefined;
  #closed = false;

  /** Takes ownership of both codecs (closes them in `close()`). */
  constructor(from: Codec, to: Codec) {
    this.from = from;
    this.to = to;
    if (from.name === to.name && from.name !== 'opus') this.#direct = copyBytes;
    else if (from.name === 'PCMU' && to.name === 'PCMA') this.#direct = ulawToAlaw;
    else if (from.name === 'PCMA' && to.name === 'PCMU') this.#direct = alawToUlaw;
  }

  /**
   * Converts one received payload into `out` (copies); returns bytes written. Packets longer than
   * 20 ms become one output payload of the same duration for G.711 targets; for an opus target
   * only whole 20 ms frames are encoded and the first is returned (`encodeFrames` for the rest).
   */
  transcode(payload: Uint8Array, out: Uint8Array): number {
    if (this.#closed) throw new InvalidStateError('transcoder is closed');
    if (this.#direct) return this.#direct(payload, out, payload.length < out.length ? payload.length : out.length);
    const n = this.from.decode(payload, this.#pcm);
    return this.#encode(n, out);
  }

  /** Produces one concealment frame of the source codec, encoded for the target (a lost packet on the way in). */
  conceal(out: Uint8Array): number {
    if (this.#closed) throw new InvalidStateError('transcoder is closed');
    const n = this.from.conceal(this.#pcm);
    return this.#encode(n, out);
  }

  #encode(n: number, out: Uint8Array): number {
    if (this.to.name === 'opus') {
      // Only the first 20 ms when a longer packet came in (rare: our peers send 20 ms ptime).
      return this.to.encode(n >= FRAME_SAMPLES ? this.#pcm : this.#pcm.subarray(0, n), out);
    }
    // G.711 target: the whole decoded duration in one payload, straight from the tables.
    return this.to.name === 'PCMU' ? ulawEncode(this.#pcm, out, n) : alawEncode(this.#pcm, out, n);
  }

  /** Closes both codecs. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.from.close();
    this.to.close();
  }
}

function copyBytes(src: Uint8Array, dst: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) dst[i] = src[i];
  return n;
}
