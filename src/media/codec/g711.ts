// G.711 µ-law (PCMU) and A-law (PCMA), ITU-T G.711, bit-exact with the classic Sun g711.c.
// Encoding is one lookup in a 64 KiB table per law (indexed by the 16-bit sample's two's-complement
// bits), decoding one lookup in a 256-entry table; all four tables are built once at module load.
// The array functions write into caller-owned buffers and allocate nothing.

/** µ-law code for every 16-bit sample, indexed by `sample & 0xffff`. */
const ULAW_ENC = new Uint8Array(65536);
/** A-law code for every 16-bit sample, indexed by `sample & 0xffff`. */
const ALAW_ENC = new Uint8Array(65536);
/** Linear value of every µ-law code. */
const ULAW_DEC = new Int16Array(256);
/** Linear value of every A-law code. */
const ALAW_DEC = new Int16Array(256);
/** µ-law → A-law and A-law → µ-law through linear PCM (what decode-then-encode gives). */
const ULAW_TO_ALAW = new Uint8Array(256);
const ALAW_TO_ULAW = new Uint8Array(256);

/** µ-law code of silence (linear 0). */
export const ULAW_SILENCE = 0xff;
/** A-law code of silence (linear 0 encodes to 0xd5). */
export const ALAW_SILENCE = 0xd5;

// Segment of a magnitude: the position of its highest set bit above the segment's base.
// g711.c finds it by a linear search in seg_uend/seg_aend; clz32 gives the same answer.
function ulawCode(sample: number): number {
  // g711.c linear2ulaw: 14-bit magnitude, clip at 8159, bias 33, segment, 4 mantissa bits.
  let v = sample >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  if (v > 8159) v = 8159;
  v += 0x21;
  // v in [33, 8192]; segment = bit length of v minus 6 (values ≤ 0x3f are segment 0).
  const seg = 26 - Math.clz32(v) < 0 ? 0 : 26 - Math.clz32(v);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

function alawCode(sample: number): number {
  // g711.c linear2alaw: 13-bit magnitude (one's complement for negatives), segment, 4 mantissa bits.
  let v = sample >> 3;
  let mask: number;
  if (v >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    v = -v - 1;
  }
  // segment = bit length of v minus 5 (values ≤ 0x1f are segment 0).
  const seg = 27 - Math.clz32(v) < 0 ? 0 : 27 - Math.clz32(v);
  if (seg >= 8) return 0x7f ^ mask;
  const mant = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return ((seg << 4) | mant) ^ mask;
}

function ulawLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

function alawLinear(code: number): number {
  const a = code ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (seg === 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

for (let i = 0; i < 65536; i++) {
  const s = (i << 16) >> 16;
  ULAW_ENC[i] = ulawCode(s);
  ALAW_ENC[i] = alawCode(s);
}
for (let c = 0; c < 256; c++) {
  ULAW_DEC[c] = ulawLinear(c);
  ALAW_DEC[c] = alawLinear(c);
}
for (let c = 0; c < 256; c++) {
  ULAW_TO_ALAW[c] = ALAW_ENC[ULAW_DEC[c] & 0xffff];
  ALAW_TO_ULAW[c] = ULAW_ENC[ALAW_DEC[c] & 0xffff];
}

/** µ-law code of one 16-bit sample. */
export function linearToUlaw(sample: number): number {
  return ULAW_ENC[sample & 0xffff];
}
/** A-law code of one 16-bit sample. */
export function linearToAlaw(sample: number): number {
  return ALAW_ENC[sample & 0xffff];
}
/** Linear value of one µ-law code. */
export function ulawToLinear(code: number): number {
  return ULAW_DEC[code & 0xff];
}
/** Linear value of one A-law code. */
export function alawToLinear(code: number): number {
  return ALAW_DEC[code & 0xff];
}

/** Encodes `n` samples of `pcm` (default all) into `out` as µ-law; returns bytes written. Copies. */
export function ulawEncode(pcm: Int16Array, out: Uint8Array, n: number = pcm.length): number {
  if (n > out.length) n = out.length;
  for (let i = 0; i < n; i++) out[i] = ULAW_ENC[pcm[i] & 0xffff];
  return n;
}
/** Decodes `n` µ-law bytes (default all) into `out`; returns samples written. Copies. */
export function ulawDecode(bytes: Uint8Array, out: Int16Array, n: number = bytes.length): number {
  if (n > out.length) n = out.length;
  for (let i = 0; i < n; i++) out[i] = ULAW_DEC[bytes[i]];
  return n;
}
/** Encodes `n` samples of `pcm` (default all) into `out` as A-law; returns bytes written. Copies. */
export function alawEncode(pcm: Int16Array, out: Uint8Array, n: number = pcm.length): number {
  if (n > out.length) n = out.length;
  for (let i = 0; i < n; i++) out[i] = ALAW_ENC[pcm[i] & 0xffff];
  return n;
}
/** Decodes `n` A-law bytes (default all) into `out`; returns samples written. Copies. */
export function alawDecode(bytes: Uint8Array, out: Int16Array, n: number = bytes.length): number {
  if (n > out.length) n = out.length;
  for (let i = 0; i < n; i++) out[i] = ALAW_DEC[bytes[i]];
  return n;
}
/** µ-law → A-law, identical to decoding to linear then encoding; returns bytes written. `out` may be `bytes`. */
export function ulawToAlaw(bytes: Uint8Array, out: Uint8Array, n: number = bytes.length): number {
  if (n > out.length) n = out.length;
  for (let i = 0; i < n; i++) out[i] = ULAW_TO_ALAW[bytes[i]];
  return n;
}
/** A-law → µ-law, identical to decoding to linear then encoding; returns bytes written. `out` may be `bytes`. */
export function alawToUlaw(bytes: Uint8Array, out: Uint8Array, n: number = bytes.length): number {
  if (n > out.length) n = out.length;
  for (let i = 0; i < n; i++) out[i] = ALAW_TO_ULAW[bytes[i]];
  return n;
}
