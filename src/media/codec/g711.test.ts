// G.711 tables against a straightforward transcription of the classic Sun g711.c (segment search),
// over every 16-bit input and every 8-bit code.
import { describe, expect, it } from 'vitest';
import {
  ALAW_SILENCE,
  ULAW_SILENCE,
  alawDecode,
  alawEncode,
  alawToLinear,
  alawToUlaw,
  linearToAlaw,
  linearToUlaw,
  ulawDecode,
  ulawEncode,
  ulawToAlaw,
  ulawToLinear,
} from './g711.js';

// ---- reference: g711.c (Sun Microsystems, public domain), transcribed literally ----
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
function search(val: number, table: number[]): number {
  for (let i = 0; i < table.length; i++) if (val <= table[i]) return i;
  return table.length;
}
function refLinear2alaw(pcm: number): number {
  let mask: number;
  pcm = pcm >> 3;
  if (pcm >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = search(pcm, SEG_AEND);
  if (seg >= 8) return (0x7f ^ mask) & 0xff;
  let aval = seg << 4;
  if (seg < 2) aval |= (pcm >> 1) & 0xf;
  else aval |= (pcm >> seg) & 0xf;
  return (aval ^ mask) & 0xff;
}
function refAlaw2linear(aVal: number): number {
  aVal ^= 0x55;
  let t = (aVal & 0xf) << 4;
  const seg = (aVal & 0x70) >> 4;
  switch (seg) {
    case 0:
      t += 8;
      break;
    case 1:
      t += 0x108;
      break;
    default:
      t += 0x108;
      t <<= seg - 1;
  }
  return aVal & 0x80 ? t : -t;
}
const BIAS = 0x84;
const CLIP = 8159;
function refLinear2ulaw(pcm: number): number {
  let mask: number;
  pcm = pcm >> 2;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  } else mask = 0xff;
  if (pcm > CLIP) pcm = CLIP;
  pcm += BIAS >> 2;
  const seg = search(pcm, SEG_UEND);
  if (seg >= 8) return (0x7f ^ mask) & 0xff;
  const uval = (seg << 4) | ((pcm >> (seg + 1)) & 0xf);
  return (uval ^ mask) & 0xff;
}
function refUlaw2linear(uVal: number): number {
  uVal = ~uVal & 0xff;
  let t = ((uVal & 0xf) << 3) + BIAS;
  t <<= (uVal & 0x70) >> 4;
  return uVal & 0x80 ? BIAS - t : t - BIAS;
}

describe('G.711 µ-law', () => {
  it('encodes all 65536 inputs exactly as g711.c', () => {
    const pcm = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) pcm[i] = i - 32768;
    const out = new Uint8Array(65536);
    expect(ulawEncode(pcm, out)).toBe(65536);
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) {
      if (out[i] !== refLinear2ulaw(pcm[i]) || linearToUlaw(pcm[i]) !== out[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
  it('decodes all 256 codes exactly as g711.c', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = new Int16Array(256);
    expect(ulawDecode(codes, out)).toBe(256);
    for (let c = 0; c < 256; c++) {
      expect(out[c]).toBe(refUlaw2linear(c));
      expect(ulawToLinear(c)).toBe(out[c]);
    }
  });
  it('has the well-known anchor values', () => {
    expect(linearToUlaw(0)).toBe(ULAW_SILENCE);
    expect(ulawToLinear(0x00)).toBe(-32124);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0xff)).toBe(0);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
  });
  it('re-encodes every decoded code to itself (except the negative zero 0x7f)', () => {
    for (let c = 0; c < 256; c++) {
      const back = linearToUlaw(ulawToLinear(c));
      expect(back).toBe(c === 0x7f ? 0xff : c);
    }
  });
});

describe('G.711 A-law', () => {
  it('encodes all 65536 inputs exactly as g711.c', () => {
    const pcm = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) pcm[i] = i - 32768;
    const out = new Uint8Array(65536);
    expect(alawEncode(pcm, out)).toBe(65536);
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) {
      if (out[i] !== refLinear2alaw(pcm[i]) || linearToAlaw(pcm[i]) !== out[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
  it('decodes all 256 codes exactly as g711.c', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = new Int16Array(256);
    expect(alawDecode(codes, out)).toBe(256);
    for (let c = 0; c < 256; c++) {
      expect(out[c]).toBe(refAlaw2linear(c));
      expect(alawToLinear(c)).toBe(out[c]);
    }
  });
  it('has the well-known anchor values', () => {
    expect(linearToAlaw(0)).toBe(ALAW_SILENCE);
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x55)).toBe(-8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });
  it('re-encodes every decoded code to itself', () => {
    for (let c = 0; c < 256; c++) expect(linearToAlaw(alawToLinear(c))).toBe(c);
  });
});

describe('G.711 law conversion', () => {
  it('µ-law → A-law and back equal going through linear PCM', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const a = new Uint8Array(256);
    const u = new Uint8Array(256);
    ulawToAlaw(codes, a);
    alawToUlaw(codes, u);
    for (let c = 0; c < 256; c++) {
      expect(a[c]).toBe(refLinear2alaw(refUlaw2linear(c)));
      expect(u[c]).toBe(refLinear2ulaw(refAlaw2linear(c)));
    }
  });
  it('clamps n to the output length', () => {
    const pcm = new Int16Array(10);
    const out = new Uint8Array(4);
    expect(ulawEncode(pcm, out)).toBe(4);
  });
});
