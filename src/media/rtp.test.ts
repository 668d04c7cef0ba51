import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../lib/prng.js';
import {
  createRtpHeader,
  looksLikeRtcp,
  parseRtp,
  rtpHeaderSize,
  seqDiff,
  writeRtpHeader,
  writeRtpPadding,
  type RtpHeaderInit,
} from './rtp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('parseRtp', () => {
  it('parses a plain G.711 packet as a view', () => {
    const pkt = Buffer.concat([hex('80 80 1234 00000a00 deadbeef'), Buffer.alloc(160, 0xff)]);
    const h = createRtpHeader();
    expect(parseRtp(pkt, pkt.length, h)).toBe(true);
    expect(h).toMatchObject({
      version: 2,
      padding: false,
      extension: false,
      csrcCount: 0,
      marker: true,
      payloadType: 0,
      sequence: 0x1234,
      timestamp: 0xa00,
      ssrc: 0xdeadbeef,
      payloadOffset: 12,
      payloadLength: 160,
    });
  });

  it('reads CSRCs, extension and strips padding', () => {
    // V=2 P=1 X=1 CC=2, M=0 PT=101
    const pkt = hex(
      'b2 65 ffff 80000000 00000001' + // header
        '00000002 00000003' + // CSRCs
        'bede 0001 10ab0000' + // one-word RFC 8285 extension
        'aabbcc' + // payload
        '000003', // 3 padding bytes
    );
    const h = createRtpHeader();
    expect(parseRtp(pkt, pkt.length, h)).toBe(true);
    expect(h.csrc.slice(0, h.csrcCount)).toEqual([2, 3]);
    expect(h.extProfile).toBe(0xbede);
    expect(h.extOffset).toBe(24);
    expect(h.extLength).toBe(4);
    expect(h.payloadOffset).toBe(28);
    expect(h.payloadLength).toBe(3);
    expect(h.paddingLength).toBe(3);
    expect(h.timestamp).toBe(0x80000000);
    expect(h.sequence).toBe(0xffff);
  });

  // Malformed inputs: each must be rejected (false), never throw.
  const malformed: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['11 bytes', hex('8000000100000000000000')],
    ['version 0', hex('00000001 00000000 00000000')],
    ['version 1', hex('40000001 00000000 00000000')],
    ['version 3', hex('c0000001 00000000 00000000')],
    ['CSRC count past end', hex('83000001 00000000 00000000 00000001 00000002')],
    ['extension header truncated', hex('90000001 00000000 00000000 bede')],
    ['extension length past end', hex('90000001 00000000 00000000 bede0002 00000000')],
    ['padding count zero', hex('a0000001 00000000 00000000 aabb00')],
    ['padding longer than payload', hex('a0000001 00000000 00000000 aabb05')],
    ['padding only header', hex('a0000001 00000000 0000000d')],
  ];
  it.each(malformed)('rejects %s', (_name, pkt) => {
    expect(parseRtp(pkt, pkt.length, createRtpHeader())).toBe(false);
  });

  it('accepts padding that consumes the whole payload', () => {
    const pkt = hex('a0000001 00000000 00000000 00000004');
    const h = createRtpHeader();
    expect(parseRtp(pkt, pkt.length, h)).toBe(true);
    expect(h.payloadLength).toBe(0);
  });

  it('honours len shorter than the buffer (reused receive buffers)', () => {
    const buf = Buffer.alloc(1500, 0x80);
    hex('80000001 00000000 00000000').copy(buf);
    const h = createRtpHeader();
    expect(parseRtp(buf, 20, h)).toBe(true);
    expect(h.payloadLength).toBe(8);
    expect(parseRtp(buf, 11, h)).toBe(false);
  });

  it('never throws on random bytes', () => {
    const rnd = mulberry32(7);
    const h = createRtpHeader();
    const buf = Buffer.alloc(64);
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(rnd() * 64);
      for (let j = 0; j < n; j++) buf[j] = Math.floor(rnd() * 256);
      if (rnd() < 0.7) buf[0] = (buf[0]! & 0x3f) | 0x80; // mostly version 2
      const ok = parseRtp(buf, n, h);
      if (ok) {
        expect(h.payloadOffset + h.payloadLength + h.paddingLength).toBe(n);
        expect(h.payloadLength).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

describe('writeRtpHeader / parseRtp round trip (fuzz)', () => {
  it('random headers survive write → parse', () => {
    const rnd = mulberry32(12345);
    const out = Buffer.alloc(2048);
    const h = createRtpHeader();
    for (let i = 0; i < 5000; i++) {
      const cc = rnd() < 0.7 ? 0 : Math.floor(rnd() * 16);
      const csrc = Array.from({ length: cc }, () => Math.floor(rnd() * 2 ** 32));
      const ext = rnd() < 0.3 ? Buffer.alloc(4 * Math.floor(rnd() * 5), Math.floor(rnd() * 256)) : undefined;
      const payloadLen = Math.floor(rnd() * 200);
      const pad = rnd() < 0.2 ? 1 + Math.floor(rnd() * 255) : 0;
      const init: RtpHeaderInit = {
        marker: rnd() < 0.5,
        payloadType: Math.floor(rnd() * 128),
        sequence: Math.floor(rnd() * 65536),
        timestamp: Math.floor(rnd() * 2 ** 32),
        ssrc: Math.floor(rnd() * 2 ** 32),
        csrcCount: cc,
        csrc,
        extProfile: Math.floor(rnd() * 65536),
        ...(ext ? { extData: ext } : {}),
        padding: pad > 0,
      };
      const hl = writeRtpHeader(out, init);
      expect(hl).toBe(rtpHeaderSize(init));
      out.fill(0x5a, hl, hl + payloadLen);
      let len = hl + payloadLen;
      if (pad) len += writeRtpPadding(out, len, pad);
      expect(parseRtp(out, len, h)).toBe(true);
      expect(h.marker).toBe(init.marker);
      expect(h.payloadType).toBe(init.payloadType);
      expect(h.sequence).toBe(init.sequence);
      expect(h.timestamp).toBe(init.timestamp);
      expect(h.ssrc).toBe(init.ssrc);
      expect(h.csrc.slice(0, h.csrcCount)).toEqual(csrc);
      expect(h.extension).toBe(ext !== undefined);
      if (ext) {
        expect(h.extProfile).toBe(init.extProfile);
        expect(out.subarray(h.extOffset, h.extOffset + h.extLength).equals(ext)).toBe(true);
      }
      expect(h.payloadOffset).toBe(hl);
      expect(h.payloadLength).toBe(payloadLen);
      expect(h.paddingLength).toBe(pad);
    }
  });

  it('throws RangeError on a too-small buffer (a caller bug)', () => {
    expect(() => writeRtpHeader(Buffer.alloc(11), { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('helpers', () => {
  it('seqDiff wraps', () => {
    expect(seqDiff(1, 65535)).toBe(2);
    expect(seqDiff(65535, 1)).toBe(-2);
    expect(seqDiff(100, 100)).toBe(0);
  });
  it('looksLikeRtcp separates RTCP from RTP (RFC 5761)', () => {
    expect(looksLikeRtcp(hex('80c80006 00000000'), 8)).toBe(true); // SR
    expect(looksLikeRtcp(hex('80c90001 00000000'), 8)).toBe(true); // RR
    expect(looksLikeRtcp(hex('80000001 00000000 00000000'), 12)).toBe(false);
    expect(looksLikeRtcp(hex('80e50001 00000000 00000000'), 12)).toBe(false); // PT 101 + marker
  });
});
