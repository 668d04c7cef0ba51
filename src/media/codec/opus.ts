// Opus (RFC 6716) over RTP per RFC 7587, through the native @discordjs/opus binding (libopus).
//
// Rate choice: the binding's encoder/decoder run at 8000 Hz, our internal rate. libopus accepts
// 8 kHz PCM natively (it codes narrowband and does its own band-limiting), and the decoder
// renders any received packet — narrowband to fullband, mono or stereo — straight to 8 kHz mono.
// So no resampler sits on this path and a 20 ms frame is 160 samples both ways. The RTP side is
// unaffected by the API rate: an Opus packet's duration is in its TOC byte, and RFC 7587 §4.1
// fixes the RTP clock at 48000 Hz whatever the audio bandwidth, so each 20 ms packet advances the
// timestamp by 960 (`timestampStep`), and SDP always says `opus/48000/2` (§7) while we send mono.
//
// Concealment: libopus runs its PLC when given a packet with no frame data. The binding's
// decode(empty) asks for MAX_FRAME_SIZE (120 ms at its rate, 720 ms at 8 kHz) of PLC, so instead
// we feed a TOC-only packet (one byte, frame count code 0, zero-length frame) whose configuration
// is the last packet's mode and bandwidth with a 20 ms frame size: libopus then conceals exactly
// 20 ms, continuing from its decoder state.
//
// Allocation: the binding returns a fresh Buffer from every encode()/decode() (its API has no
// output-buffer form); we copy out of it at once and keep no reference. Our side reuses one
// scratch Buffer per codec instance.
import { createRequire } from 'node:module';
import { InvalidStateError } from '../../lib/errors.js';
import { FRAME_SAMPLES, INTERNAL_RATE, type Codec, type CodecOptions } from './types.js';

interface NativeOpus {
  encode(buf: Buffer): Buffer;
  decode(buf: Buffer): Buffer;
  applyEncoderCTL(ctl: number, value: number): void;
  applyDecoderCTL(ctl: number, value: number): void;
  setBitrate(bitrate: number): void;
  getBitrate(): number;
}
type NativeOpusCtor = new (rate: number, channels: number) => NativeOpus;

const require = createRequire(import.meta.url);
let ctor: NativeOpusCtor | undefined;
function nativeOpus(): NativeOpusCtor {
  ctor ??= (require('@discordjs/opus') as { OpusEncoder: NativeOpusCtor }).OpusEncoder;
  return ctor;
}

// libopus CTL request numbers (opus_defines.h).
const OPUS_SET_COMPLEXITY_REQUEST = 4010;
const OPUS_SET_INBAND_FEC_REQUEST = 4012;
const OPUS_SET_PACKET_LOSS_PERC_REQUEST = 4014;
const OPUS_SET_SIGNAL_REQUEST = 4024;
const OPUS_SIGNAL_VOICE = 3001;

/** RFC 7587: RTP clock rate of Opus. */
export const OPUS_RTP_CLOCK = 48000;
/** Largest Opus packet (RFC 6716 §3.2.1: 1275 bytes per frame; 20 ms = one frame + TOC). */
export const OPUS_MAX_PACKET = 1276;
/** Samples at 8 kHz in the longest Opus packet (120 ms); size decode buffers with this for foreign packetisation. */
export const OPUS_MAX_DECODED_SAMPLES = 960;

/**
 * TOC byte with the same mode/bandwidth as `toc` but a 20 ms frame, stereo flag kept, code 0
 * (RFC 6716 §3.1: config 0–11 SILK 10/20/40/60 ms, 12–15 hybrid 10/20 ms, 16–31 CELT 2.5/5/10/20 ms).
 */
export function toc20ms(toc: number): number {
  const config = toc >> 3;
  let c20: number;
  if (config < 12) c20 = (config & ~3) | 1;
  else if (config < 16) c20 = (config & ~1) | 1;
  else c20 = config | 3;
  return (c20 << 3) | (toc & 0x04);
}

export class OpusCodec implements Codec {
  readonly name = 'opus' as const;
  readonly clockRate = OPUS_RTP_CLOCK;
  readonly channels = 2;
  readonly timestampStep = (OPUS_RTP_CLOCK / 1000) * 20;
  readonly staticPayloadType = undefined;
  readonly maxPayloadBytes = OPUS_MAX_PACKET;
  readonly stats = { encoded: 0, decoded: 0, concealed: 0, decodeErrors: 0 };
  #native: NativeOpus | undefined;
  /** PCM scratch handed to the encoder (160 samples, little-endian int16). */
  readonly #pcmBuf = Buffer.alloc(FRAME_SAMPLES * 2);
  /** One-byte TOC-only packet used to drive the decoder's PLC. */
  readonly #plcPacket = Buffer.alloc(1);
  /** TOC of the last decoded packet; -1 before the first one. */
  #lastToc = -1;

  constructor(opts: CodecOptions = {}) {
    const native = new (nativeOpus())(INTERNAL_RATE, 1);
    native.setBitrate(opts.bitrate ?? 24000);
    native.applyEncoderCTL(OPUS_SET_SIGNAL_REQUEST, OPUS_SIGNAL_VOICE);
    native.applyEncoderCTL(OPUS_SET_COMPLEXITY_REQUEST, Math.max(0, Math.min(10, (opts.complexity ?? 5) | 0)));
    if (opts.fec) native.applyEncoderCTL(OPUS_SET_INBAND_FEC_REQUEST, 1);
    if (opts.packetLossPercent !== undefined) {
      native.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC_REQUEST, Math.max(0, Math.min(100, opts.packetLossPercent | 0)));
    }
    this.#native = native;
  }

  #live(): NativeOpus {
    if (this.#native === undefined) throw new InvalidStateError('opus codec is closed');
    return this.#native;
  }

  encode(pcm: Int16Array, out: Uint8Array): number {
    const native = this.#live();
    const buf = this.#pcmBuf;
    const n = pcm.length < FRAME_SAMPLES ? pcm.length : FRAME_SAMPLES;
    for (let i = 0; i < n; i++) buf.writeInt16LE(pcm[i], i * 2);
    if (n < FRAME_SAMPLES) buf.fill(0, n * 2);
    const packet = native.encode(buf);
    if (packet.length > out.length) throw new RangeError(`opus: output buffer too small (${out.length} < ${packet.length})`);
    out.set(packet);
    this.stats.encoded++;
    return packet.length;
  }

  decode(payload: Uint8Array, out: Int16Array): number {
    const native = this.#live();
    if (payload.length === 0) return this.conceal(out);
    let pcm: Buffer;
    try {
      pcm = native.decode(payload as Buffer);
    } catch {
      this.stats.decodeErrors++;
      return this.conceal(out);
    }
    this.#lastToc = payload[0];
    this.stats.decoded++;
    return copyPcm(pcm, out);
  }

  conceal(out: Int16Array): number {
    const native = this.#live();
    this.stats.concealed++;
    const n = out.length < FRAME_SAMPLES ? out.length : FRAME_SAMPLES;
    if (this.#lastToc < 0) {
      out.fill(0, 0, n);
      return n;
    }
    this.#plcPacket[0] = toc20ms(this.#lastToc);
    let pcm: Buffer;
    try {
      pcm = native.decode(this.#plcPacket);
    } catch {
      out.fill(0, 0, n);
      return n;
    }
    const w = copyPcm(pcm, out);
    if (w < n) out.fill(0, w, n);
    return n;
  }

  close(): void {
    // The binding frees libopus state in its finaliser; dropping our only reference lets it go.
    this.#native = undefined;
  }
}

/** Copies little-endian int16 PCM from the binding's Buffer into `out`; returns samples copied. */
function copyPcm(pcm: Buffer, out: Int16Array): number {
  let n = pcm.length >> 1;
  if (n > out.length) n = out.length;
  for (let i = 0; i < n; i++) out[i] = pcm.readInt16LE(i * 2);
  return n;
}
