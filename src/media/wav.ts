// WAV (RIFF/WAVE) reading and header writing. Reads 16-bit PCM, G.711 µ-law (format tag 7) and
// A-law (tag 6), plain or as WAVE_FORMAT_EXTENSIBLE (0xFFFE), mono or stereo, any sample rate;
// unknown chunks (LIST, fact, cue, …) are skipped. A data chunk whose size is 0, 0xFFFFFFFF or
// past the end of the file (a recording cut short by a crash) is read to the end of the file and
// flagged `truncated`. Everything else that does not fit throws WavError with `kind`
// 'malformed' (not a sane RIFF file) or 'unsupported' (a valid WAV we do not decode).
// Not a hot path: reading allocates the sample array; header writers write into a caller buffer.
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { alawToLinear, ulawToLinear } from './codec/g711.js';

export type WavFormat = 'pcm16' | 'ulaw' | 'alaw';

export class WavError extends Error {
  constructor(
    readonly kind: 'malformed' | 'unsupported',
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'WavError';
  }
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  format: WavFormat;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  /** Offset of the first audio byte in the file. */
  dataOffset: number;
  /** Audio bytes actually present (whole frames only). */
  dataBytes: number;
  /** Sample frames (samples per channel). */
  frames: number;
  /** The header's data size was 0, 0xFFFFFFFF, past the end of the file or not whole frames. */
  truncated: boolean;
}

export interface WavAudio extends WavInfo {
  /** Decoded samples, interleaved when stereo (a new array, owned by the caller). */
  samples: Int16Array;
}

const FORMAT_TAGS: Record<number, WavFormat> = { 1: 'pcm16', 6: 'alaw', 7: 'ulaw' };
const TAG_NAMES: Record<number, string> = {
  1: 'PCM',
  2: 'MS ADPCM',
  3: 'IEEE float',
  6: 'A-law',
  7: 'µ-law',
  0x11: 'IMA ADPCM',
  0x31: 'GSM 6.10',
  0x55: 'MPEG layer 3',
};
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs (xxxxxxxx-0000-0010-8000-00aa00389b71). */
const GUID_TAIL = Buffer.from([0, 0, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);
const MAX_CHANNELS = 2;

/**
 * Parses the RIFF structure of a WAV file held (at least up to the data chunk's start) in `buf`.
 * `fileSize` is the whole file's size when `buf` holds only its head (defaults to `buf.length`).
 */
export function parseWavHeader(buf: Buffer, path = '<buffer>', fileSize = buf.length): WavInfo {
  if (buf.length < 12) throw new WavError('malformed', path, `too short for a RIFF header (${buf.length} bytes)`);
  const riff = buf.toString('latin1', 0, 4);
  if (riff === 'RIFX' || riff === 'RF64') throw new WavError('unsupported', path, `${riff} files are not supported`);
  if (riff !== 'RIFF') throw new WavError('malformed', path, 'not a RIFF file (no "RIFF" at offset 0)');
  if (buf.toString('latin1', 8, 12) !== 'WAVE') throw new WavError('malformed', path, 'RIFF file is not WAVE');

  let fmt: Fmt | undefined;
  let dataOffset = -1;
  let dataSize = 0;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('latin1', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavError('malformed', path, `fmt chunk too short (${size} bytes)`);
      fmt = parseFmt(buf, body, size, path);
    } else if (id === 'data') {
      dataOffset = body;
      dataSize = size;
      // Audio runs to the end of the file when the header could not be finalised; stop here.
      if (size === 0 || size === 0xffffffff || body + size > fileSize) break;
    }
    if (size === 0xffffffff) break;
    pos = body + size + (size & 1);
  }
  if (fmt === undefined) throw new WavError('malformed', path, 'no fmt chunk before the end of the header');
  if (dataOffset < 0) throw new WavError('malformed', path, 'no data chunk');

  const avail = Math.max(0, fileSize - dataOffset);
  let truncated = false;
  let bytes = dataSize;
  if (dataSize === 0 || dataSize === 0xffffffff || dataSize > avail) {
    truncated = dataSize !== 0 || avail > 0;
    bytes = avail;
  }
  const whole = bytes - (bytes % fmt.blockAlign);
  if (whole !== bytes) truncated = true;
  return { ...fmt, dataOffset, dataBytes: whole, frames: whole / fmt.blockAlign, truncated };
}

interface Fmt {
  format: WavFormat;
  channels: number;
  sampleRate: number;
  blockAlign: number;
}

function parseFmt(buf: Buffer, at: number, size: number, path: string): Fmt {
  let tag = buf.readUInt16LE(at);
  const channels = buf.readUInt16LE(at + 2);
  const sampleRate = buf.readUInt32LE(at + 4);
  const blockAlign = buf.readUInt16LE(at + 12);
  const bits = buf.readUInt16LE(at + 14);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40 || at + 40 > buf.length) throw new WavError('malformed', path, 'WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes');
    const guid = buf.subarray(at + 24, at + 40);
    if (!guid.subarray(2).equals(GUID_TAIL)) throw new WavError('unsupported', path, 'WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID');
    tag = guid.readUInt16LE(0);
  }
  const format = FORMAT_TAGS[tag];
  if (format === undefined) {
    const name = TAG_NAMES[tag] ?? `format tag 0x${tag.toString(16)}`;
    throw new WavError('unsupported', path, `unsupported encoding ${name} (supported: 16-bit PCM, µ-law, A-law)`);
  }
  const wantBits = format === 'pcm16' ? 16 : 8;
  if (bits !== wantBits) {
    throw new WavError('unsupported', path, `unsupported ${bits}-bit ${TAG_NAMES[tag]} (supported: 16-bit PCM, 8-bit µ-law/A-law)`);
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw new WavError('unsupported', path, `${channels} channels (supported: mono, stereo)`);
  if (sampleRate < 1 || sampleRate > 384000) throw new WavError('malformed', path, `implausible sample rate ${sampleRate}`);
  if (blockAlign !== (channels * wantBits) / 8) {
    throw new WavError('malformed', path, `block align ${blockAlign} does not match ${channels} × ${wantBits}-bit`);
  }
  return { format, channels, sampleRate, blockAlign };
}

/** Parses a whole WAV file image into decoded samples (copies). */
export function parseWav(buf: Buffer, path = '<buffer>'): WavAudio {
  const info = parseWavHeader(buf, path, buf.length);
  const n = info.frames * info.channels;
  const samples = new Int16Array(n);
  const src = buf.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
  if (info.format === 'pcm16') {
    if (endianness() === 'LE') new Uint8Array(samples.buffer).set(src);
    else for (let i = 0; i < n; i++) samples[i] = src.readInt16LE(i * 2);
  } else if (info.format === 'ulaw') {
    for (let i = 0; i < n; i++) samples[i] = ulawToLinear(src[i]);
  } else {
    for (let i = 0; i < n; i++) samples[i] = alawToLinear(src[i]);
  }
  return { ...info, samples };
}

/** Reads and decodes a WAV file synchronously (startup and tools; prefer `readWavFile` at run time). */
export function readWav(path: string): WavAudio {
  return parseWav(readFileSync(path), path);
}

/** Reads and decodes a WAV file without blocking the event loop. */
export async function readWavFile(path: string): Promise<WavAudio> {
  return parseWav(await readFile(path), path);
}

export interface WavHeaderOptions {
  sampleRate: number;
  channels: number;
  format?: WavFormat;
  /** Audio bytes that follow the header (0 while a recording is still open). */
  dataBytes: number;
}

/** Header length for a format: 44 for PCM; 58 for G.711 (fmt with cbSize, plus a fact chunk). */
export function wavHeaderLength(format: WavFormat = 'pcm16'): number {
  return format === 'pcm16' ? 44 : 58;
}

/** Writes a canonical WAV header into `out` at `offset`; returns its length. Allocates nothing. */
export function writeWavHeader(out: Buffer, o: WavHeaderOptions, offset = 0): number {
  const format = o.format ?? 'pcm16';
  const bytesPerSample = format === 'pcm16' ? 2 : 1;
  const blockAlign = o.channels * bytesPerSample;
  const len = wavHeaderLength(format);
  if (out.length < offset + len) throw new RangeError(`WAV header needs ${len} bytes`);
  const dataBytes = Math.min(o.dataBytes, 0xffffffff - len);
  let p = offset;
  out.write('RIFF', p, 'latin1');
  out.writeUInt32LE(len - 8 + dataBytes + (dataBytes & 1), p + 4);
  out.write('WAVE', p + 8, 'latin1');
  out.write('fmt ', p + 12, 'latin1');
  out.writeUInt32LE(format === 'pcm16' ? 16 : 18, p + 16);
  out.writeUInt16LE(format === 'pcm16' ? 1 : format === 'alaw' ? 6 : 7, p + 20);
  out.writeUInt16LE(o.channels, p + 22);
  out.writeUInt32LE(o.sampleRate, p + 24);
  out.writeUInt32LE(o.sampleRate * blockAlign, p + 28);
  out.writeUInt16LE(blockAlign, p + 32);
  out.writeUInt16LE(bytesPerSample * 8, p + 34);
  p += 36;
  if (format !== 'pcm16') {
    out.writeUInt16LE(0, p); // cbSize
    out.write('fact', p + 2, 'latin1');
    out.writeUInt32LE(4, p + 6);
    out.writeUInt32LE(Math.floor(dataBytes / blockAlign), p + 10);
    p += 14;
  }
  out.write('data', p, 'latin1');
  out.writeUInt32LE(dataBytes, p + 4);
  return len;
}

/** A new header Buffer (allocates; see `writeWavHeader` for the in-place form). */
export function wavHeader(o: WavHeaderOptions): Buffer {
  const b = Buffer.alloc(wavHeaderLength(o.format));
  writeWavHeader(b, o);
  return b;
}

/** Writes a whole 16-bit PCM WAV file synchronously (tools and tests). `samples` interleaved. */
export function writeWav(path: string, samples: Int16Array, sampleRate: number, channels = 1): void {
  const header = wavHeader({ sampleRate, channels, dataBytes: samples.length * 2 });
  const body = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) body.writeInt16LE(samples[i], i * 2);
  writeFileSync(path, Buffer.concat([header, body]));
}
