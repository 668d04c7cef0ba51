// Codec objects: G.711 framing and concealment, Opus at 8 kHz with RFC 7587 RTP framing and
// libopus PLC, the factory, and transcoding between every pair.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../../lib/errors.js';
import { FADE_FRAMES, Transcoder, createCodec, linearToAlaw, ulawToLinear } from './index.js';
import { toc20ms } from './opus.js';
import { toneAmplitude } from '../testing.js';

function tone(freq: number, frames: number, amp = 8000, rate = 8000): Int16Array {
  const n = frames * (rate / 50);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return x;
}
function rms(x: Int16Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / x.length);
}

describe('createCodec', () => {
  it.each([
    ['PCMU', 'PCMU', 8000, 1, 160, 0],
    ['pcma', 'PCMA', 8000, 1, 160, 8],
    ['OPUS', 'opus', 48000, 2, 960, undefined],
  ])('%s → %s with RTP clock %i, %i channel(s), %i per 20 ms', (name, canon, clock, ch, step, pt) => {
    const c = createCodec(name);
    expect(c.name).toBe(canon);
    expect(c.clockRate).toBe(clock);
    expect(c.channels).toBe(ch);
    expect(c.timestampStep).toBe(step);
    expect(c.staticPayloadType).toBe(pt);
    c.close();
  });
  it('throws RangeError for an unknown codec', () => {
    expect(() => createCodec('G729')).toThrow(RangeError);
  });
});

describe('G.711 codec', () => {
  it('encodes a 20 ms frame to 160 bytes and decodes it back within quantisation error', () => {
    const c = createCodec('PCMU');
    const x = tone(1000, 1);
    const pay = Buffer.alloc(c.maxPayloadBytes);
    expect(c.encode(x, pay)).toBe(160);
    const y = new Int16Array(160);
    expect(c.decode(pay, y)).toBe(160);
    for (let i = 0; i < 160; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) / 16 + 8);
  });
  it('pads a short frame with encoded silence', () => {
    const c = createCodec('PCMA');
    const pay = Buffer.alloc(160);
    expect(c.encode(new Int16Array(100).fill(1000), pay)).toBe(160);
    expect(pay[99]).toBe(linearToAlaw(1000));
    expect(pay[100]).toBe(0xd5);
    expect(pay[159]).toBe(0xd5);
  });
  it('conceals by repeating the last frame with a fade, then silence', () => {
    const c = createCodec('PCMU');
    const pay = Buffer.alloc(160, 0x80 /* loudest positive */);
    const y = new Int16Array(160);
    c.decode(pay, y);
    const loud = ulawToLinear(0x80);
    const frames: Int16Array[] = [];
    for (let k = 0; k < FADE_FRAMES + 1; k++) {
      const f = new Int16Array(160);
      expect(c.conceal(f)).toBe(160);
      frames.push(f);
    }
    expect(frames[0][0]).toBe(loud);
    for (let k = 1; k < FADE_FRAMES; k++) expect(frames[k][0]).toBeLessThan(frames[k - 1][0]);
    expect(frames[FADE_FRAMES - 1][159]).toBeLessThan(loud / FADE_FRAMES / 8 + 1);
    expect(frames[FADE_FRAMES].every((v) => v === 0)).toBe(true);
    expect(c.stats.concealed).toBe(FADE_FRAMES + 1);
    // A good packet resets the fade.
    c.decode(pay, y);
    const again = new Int16Array(160);
    c.conceal(again);
    expect(again[0]).toBe(loud);
  });
  it('throws InvalidStateError after close', () => {
    const c = createCodec('PCMU');
    c.close();
    c.close();
    expect(() => c.encode(new Int16Array(160), Buffer.alloc(160))).toThrow(InvalidStateError);
  });
});

describe('opus codec', () => {
  it('round-trips a 440 Hz tone at 8 kHz in 20 ms packets', () => {
    const enc = createCodec('opus');
    const dec = createCodec('opus');
    const x = tone(440, 50);
    const y = new Int16Array(x.length);
    const pay = Buffer.alloc(enc.maxPayloadBytes);
    const frame = new Int16Array(160);
    for (let f = 0; f < 50; f++) {
      const n = enc.encode(x.subarray(f * 160, f * 160 + 160), pay);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(200);
      // TOC: a single 20 ms frame (SILK 20 ms configs are 1, 5, 9; hybrid 13, 15; CELT 19, 23, 27, 31).
      expect([1, 5, 9, 13, 15, 19, 23, 27, 31]).toContain(pay[0] >> 3);
      expect(pay[0] & 3).toBe(0);
      expect(dec.decode(pay.subarray(0, n), frame)).toBe(160);
      y.set(frame, f * 160);
    }
    // After the codec's warm-up, the tone is there at about its level and dominates.
    const tail = y.subarray(160 * 10);
    const a = toneAmplitude(tail, 440);
    expect(a).toBeGreaterThan(8000 * 0.7);
    expect(a).toBeLessThan(8000 * 1.3);
    expect(toneAmplitude(tail, 1000)).toBeLessThan(a / 30);
    enc.close();
    dec.close();
  });

  it('decodes a fullband stereo 48 kHz packet (as a WebRTC peer sends) to 160 mono samples', () => {
    const require = createRequire(import.meta.url);
    const { OpusEncoder } = require('@discordjs/opus') as {
      OpusEncoder: new (r: number, c: number) => { encode(b: Buffer): Buffer };
    };
    const peer = new OpusEncoder(48000, 2);
    const dec = createCodec('opus');
    const out = new Int16Array(960);
    const src = tone(440, 1, 8000, 48000);
    const stereo = Buffer.alloc(960 * 4);
    for (let i = 0; i < 960; i++) {
      stereo.writeInt16LE(src[i], i * 4);
      stereo.writeInt16LE(src[i], i * 4 + 2);
    }
    for (let k = 0; k < 3; k++) expect(dec.decode(peer.encode(stereo), out)).toBe(160);
    dec.close();
  });

  it('conceals with libopus PLC: 20 ms that continue the signal, silence before any packet', () => {
    const enc = createCodec('opus');
    const dec = createCodec('opus');
    const out = new Int16Array(160);
    expect(dec.conceal(out)).toBe(160);
    expect(out.every((v) => v === 0)).toBe(true);
    const x = tone(300, 20);
    const pay = Buffer.alloc(enc.maxPayloadBytes);
    for (let f = 0; f < 20; f++) dec.decode(pay.subarray(0, enc.encode(x.subarray(f * 160, f * 160 + 160), pay)), out);
    const level = rms(out);
    expect(dec.conceal(out)).toBe(160);
    expect(rms(out)).toBeGreaterThan(level * 0.3);
    expect(toneAmplitude(out, 300)).toBeGreaterThan(toneAmplitude(out, 1500) * 3);
    // PLC decays over a long loss.
    for (let k = 0; k < 30; k++) dec.conceal(out);
    expect(rms(out)).toBeLessThan(level * 0.2);
    expect(dec.stats.concealed).toBe(32);
    enc.close();
    dec.close();
  });

  it('conceals instead of throwing on a corrupt packet', () => {
    const dec = createCodec('opus');
    const out = new Int16Array(160);
    expect(dec.decode(Buffer.from([0xff, 0xff, 0xff]), out)).toBe(160);
    expect(dec.stats.decodeErrors).toBe(1);
    dec.close();
    expect(() => dec.decode(Buffer.from([8]), out)).toThrow(InvalidStateError);
  });

  it.each([
    [0, 1], // SILK NB 10 ms → SILK NB 20 ms
    [3, 1], // SILK NB 60 ms
    [9, 9], // SILK WB 20 ms
    [12, 13], // hybrid SWB 10 ms → 20 ms
    [16, 19], // CELT NB 2.5 ms → 20 ms
    [29, 31], // CELT FB 5 ms → 20 ms
  ])('toc20ms maps config %i to %i', (from, to) => {
    expect(toc20ms((from << 3) | 0x04 | 0x03)).toBe((to << 3) | 0x04);
  });
});

describe('Transcoder', () => {
  const names = ['PCMU', 'PCMA', 'opus'] as const;
  for (const a of names) {
    for (const b of names) {
      it(`${a} → ${b} keeps a 500 Hz tone`, () => {
        const srcEnc = createCodec(a);
        const t = new Transcoder(createCodec(a), createCodec(b));
        const sinkDec = createCodec(b);
        const x = tone(500, 30);
        const y = new Int16Array(x.length);
        const p1 = Buffer.alloc(1500);
        const p2 = Buffer.alloc(1500);
        const frame = new Int16Array(160);
        for (let f = 0; f < 30; f++) {
          const n1 = srcEnc.encode(x.subarray(f * 160, f * 160 + 160), p1);
          const n2 = t.transcode(p1.subarray(0, n1), p2);
          expect(sinkDec.decode(p2.subarray(0, n2), frame)).toBe(160);
          y.set(frame, f * 160);
        }
        const tail = y.subarray(160 * 10);
        expect(toneAmplitude(tail, 500)).toBeGreaterThan(8000 * 0.6);
        t.close();
        t.close();
        srcEnc.close();
        sinkDec.close();
      });
    }
  }
  it('PCMU → PCMA is a byte table identical to decode-then-encode', () => {
    const t = new Transcoder(createCodec('PCMU'), createCodec('PCMA'));
    const src = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const out = Buffer.alloc(256);
    expect(t.transcode(src, out)).toBe(256);
    for (let c = 0; c < 256; c++) expect(out[c]).toBe(linearToAlaw(ulawToLinear(c)));
  });
  it('conceals a lost packet into the target codec', () => {
    const t = new Transcoder(createCodec('opus'), createCodec('PCMU'));
    const out = Buffer.alloc(160);
    expect(t.conceal(out)).toBe(160);
    expect(out.every((v) => v === 0xff)).toBe(true);
    t.close();
  });
});
