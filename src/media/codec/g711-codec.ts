// PCMU / PCMA as `Codec` objects: table-driven G.711 (g711.ts) plus a repeat-and-fade packet-loss
// concealer. Per instance state: the last decoded frame (for concealment). Nothing is allocated
// after construction.
import { InvalidStateError } from '../../lib/errors.js';
import { alawDecode, alawEncode, ulawDecode, ulawEncode } from './g711.js';
import { FRAME_SAMPLES, type Codec } from './types.js';

/** Consecutive concealed frames over which the repeated frame fades to silence (4 × 20 ms = 80 ms). */
export const FADE_FRAMES = 4;

/**
 * Repeat-last-frame concealment with a linear fade: the k-th consecutive lost frame repeats the
 * last good frame with gain ramping from 1−(k−1)/F to 1−k/F, then silence. Copies into `out`.
 */
export class FadeConcealer {
  readonly #last = new Int16Array(FRAME_SAMPLES);
  #lost = 0;

  /** Remembers a good frame (copies up to 160 samples of `src` from `from`) and resets the fade. */
  remember(src: Int16Array, from: number, n: number): void {
    const m = n < FRAME_SAMPLES ? n : FRAME_SAMPLES;
    if (m === FRAME_SAMPLES && from === 0 && src.length === FRAME_SAMPLES) {
      // The common case (a 20 ms frame decoded straight into a frame buffer): one memcpy.
      this.#last.set(src);
      this.#lost = 0;
      return;
    }
    for (let i = 0; i < m; i++) this.#last[i] = src[from + i];
    for (let i = m; i < FRAME_SAMPLES; i++) this.#last[i] = 0;
    this.#lost = 0;
  }

  conceal(out: Int16Array): number {
    const n = out.length < FRAME_SAMPLES ? out.length : FRAME_SAMPLES;
    const k = ++this.#lost;
    if (k > FADE_FRAMES) {
      out.fill(0, 0, n);
      return n;
    }
    const g0 = 1 - (k - 1) / FADE_FRAMES;
    const step = 1 / FADE_FRAMES / FRAME_SAMPLES;
    for (let i = 0; i < n; i++) out[i] = Math.round(this.#last[i] * (g0 - step * i));
    return n;
  }
}

export class G711Codec implements Codec {
  readonly name: 'PCMU' | 'PCMA';
  readonly clockRate = 8000;
  readonly channels = 1;
  readonly timestampStep = FRAME_SAMPLES;
  readonly staticPayloadType: number;
  readonly maxPayloadBytes = FRAME_SAMPLES;
  readonly stats = { encoded: 0, decoded: 0, concealed: 0, decodeErrors: 0 };
  readonly #ulaw: boolean;
  readonly #plc = new FadeConcealer();
  #closed = false;

  constructor(name: 'PCMU' | 'PCMA') {
    this.name = name;
    this.#ulaw = name === 'PCMU';
    this.staticPayloadType = this.#ulaw ? 0 : 8;
  }

  encode(pcm: Int16Array, out: Uint8Array): number {
    if (this.#closed) throw new InvalidStateError(`${this.name} codec is closed`);
    const n = pcm.length < FRAME_SAMPLES ? pcm.length : FRAME_SAMPLES;
    const w = this.#ulaw ? ulawEncode(pcm, out, n) : alawEncode(pcm, out, n);
    // Pad a short frame with encoded silence so every packet is 20 ms.
    const pad = this.#ulaw ? 0xff : 0xd5;
    let total = w;
    while (total < FRAME_SAMPLES && total < out.length) out[total++] = pad;
    this.stats.encoded++;
    return total;
  }

  decode(payload: Uint8Array, out: Int16Array): number {
    if (this.#closed) throw new InvalidStateError(`${this.name} codec is closed`);
    const n = this.#ulaw ? ulawDecode(payload, out) : alawDecode(payload, out);
    // Remember the last 20 ms for concealment.
    if (n >= FRAME_SAMPLES) this.#plc.remember(out, n - FRAME_SAMPLES, FRAME_SAMPLES);
    else this.#plc.remember(out, 0, n);
    this.stats.decoded++;
    return n;
  }

  conceal(out: Int16Array): number {
    if (this.#closed) throw new InvalidStateError(`${this.name} codec is closed`);
    this.stats.concealed++;
    return this.#plc.conceal(out);
  }

  close(): void {
    this.#closed = true;
  }
}
