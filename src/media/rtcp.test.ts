import { describe, expect, it } from 'vitest';
import {
  createReportBlock,
  ntpMiddle,
  ntpMiddleOfMs,
  ntpNow,
  parseRtcp,
  rttFromReport,
  RtpReceiverStats,
  writeBye,
  writeReceiverReport,
  writeSdesCname,
  writeSenderReport,
  type ReportBlock,
} from './rtcp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RTCP writers produce the RFC 3550 wire format', () => {
  it('SR with one report block (vector computed by hand from §6.4.1)', () => {
    const out = Buffer.alloc(100);
    const block: ReportBlock = {
      ssrc: 0x01020304,
      fractionLost: 0x19,
      cumulativeLost: 10,
      highestSeq: 0x0001_0014,
      jitter: 37,
      lsr: 0xaabbccdd,
      dlsr: 0x00010000,
    };
    const end = writeSenderReport(
      out,
      0,
      0xdeadbeef,
      { ntpSec: 0xe0000000, ntpFrac: 0x80000000, rtpTimestamp: 160, packetCount: 50, octetCount: 8000 },
      [block],
    );
    expect(end).toBe(52);
    expect(out.subarray(0, end).toString('hex')).toBe(
      '81c8000c' + 'deadbeef' + 'e0000000' + '80000000' + '000000a0' + '00000032' + '00001f40' +
        '01020304' + '1900000a' + '00010014' + '00000025' + 'aabbccdd' + '00010000',
    );
  });

  it('negative cumulative loss is written as signed 24 bit', () => {
    const out = Buffer.alloc(64);
    const end = writeReceiverReport(out, 0, 1, [{ ...createReportBlock(), cumulativeLost: -2 }]);
    expect(out.subarray(0, end).toString('hex').slice(16, 32)).toBe('00000000' + '00fffffe');
    expect((parseRtcp(out, end)![0] as { reports: ReportBlock[] }).reports[0]!.cumulativeLost).toBe(-2);
  });

  it('SDES CNAME pads the chunk to 32 bits with at least one null', () => {
    const out = Buffer.alloc(64);
    const end = writeSdesCname(out, 0, 0x11223344, Buffer.from('ab'));
    // chunk = ssrc + 01 02 'a' 'b' + 00 00 (null + pad) = 12 bytes → length 3 words
    expect(out.subarray(0, end).toString('hex')).toBe('81ca0003' + '11223344' + '01026162' + '00000000'.slice(0, 8));
    const end2 = writeSdesCname(out, 0, 1, Buffer.from('abcd'));
    // 4 + 2 + 4 = 10 → + null → 11 → 12
    expect(end2).toBe(16);
    expect(out[end2 - 1]).toBe(0);
  });

  it('BYE with reason', () => {
    const out = Buffer.alloc(64);
    const end = writeBye(out, 0, [0xdeadbeef], Buffer.from('bye'));
    expect(out.subarray(0, end).toString('hex')).toBe('81cb0002' + 'deadbeef' + '03627965');
  });
});

describe('parseRtcp', () => {
  it('parses a compound RR + SDES + BYE', () => {
    const out = Buffer.alloc(200);
    let o = writeReceiverReport(out, 0, 7, [{ ...createReportBlock(), ssrc: 9, fractionLost: 64, highestSeq: 1000, jitter: 12 }]);
    o = writeSdesCname(out, o, 7, Buffer.from('switchboard@host'));
    o = writeBye(out, o, [7], Buffer.from('done'));
    const pkts = parseRtcp(out, o)!;
    expect(pkts.map((p) => p.type)).toEqual(['rr', 'sdes', 'bye']);
    expect(pkts[0]).toMatchObject({ ssrc: 7, reports: [{ ssrc: 9, fractionLost: 64, highestSeq: 1000, jitter: 12 }] });
    expect(pkts[1]).toEqual({ type: 'sdes', chunks: [{ ssrc: 7, cname: 'switchboard@host' }] });
    expect(pkts[2]).toEqual({ type: 'bye', ssrcs: [7], reason: 'done' });
  });

  it('parses an SR round trip and skips unknown packet types', () => {
    const out = Buffer.alloc(200);
    let o = writeSenderReport(out, 0, 5, { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 });
    hex('80cc0001 00000000').copy(out, o); // APP, 1 word
    o += 8;
    const pkts = parseRtcp(out, o)!;
    expect(pkts[0]).toEqual({ type: 'sr', ssrc: 5, sender: { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 }, reports: [] });
    expect(pkts[1]).toEqual({ type: 'other', packetType: 204 });
  });

  const bad: [string, Buffer][] = [
    ['too short', hex('80c9')],
    ['version 1', hex('40c90001 00000001')],
    ['length past end', hex('80c90005 00000001')],
    ['report block truncated', hex('81c90001 00000001')],
    ['SR sender info truncated', hex('80c80002 00000001 00000000')],
    ['padding in a non-last packet', hex('a0c90001 00000001 80c90001 00000001')],
    ['padding count 0', hex('a0c90002 00000001 00000000')],
    ['SDES item past end', hex('81ca0002 00000001 01100000')],
    ['trailing garbage', hex('80c90001 00000001 00')],
  ];
  it.each(bad)('rejects %s', (_n, pkt) => {
    expect(parseRtcp(pkt, pkt.length)).toBeNull();
  });

  it('never throws on random bytes', () => {
    const buf = Buffer.alloc(128);
    for (let i = 0; i < 20_000; i++) {
      const n = (i * 7919) % 128;
      for (let j = 0; j < n; j++) buf[j] = (Math.random() * 256) | 0;
      buf[0] = (buf[0]! & 0x3f) | 0x80;
      buf[1] = 200 + (i % 5);
      expect(() => parseRtcp(buf, n)).not.toThrow();
    }
  });
});

describe('RtpReceiverStats (RFC 3550 A.1, A.3, A.8)', () => {
  it('counts loss: 100 expected, 10 dropped → cumulative 10, fraction 25/256', () => {
    const s = new RtpReceiverStats(8000);
    for (let seq = 1000; seq < 1100; seq++) {
      if (seq % 10 === 5) continue;
      s.update(seq, seq * 160, seq * 20);
    }
    const b = createReportBlock();
    expect(s.fillReport(b, 0)).toBe(true);
    // A.1: the first packet is consumed by probation; base = 1001, so expected = 1099-1001+1 = 99,
    // received = 89 (1001..1099 minus 10 holes) → lost 10; fraction = floor(10*256/99) = 25.
    expect(b.cumulativeLost).toBe(10);
    expect(b.fractionLost).toBe(25);
    expect(b.highestSeq).toBe(1099);
    // Next interval: 20 more packets, none lost → fraction 0, cumulative unchanged.
    for (let seq = 1100; seq < 1120; seq++) s.update(seq, seq * 160, seq * 20);
    s.fillReport(b, 0);
    expect(b.fractionLost).toBe(0);
    expect(b.cumulativeLost).toBe(10);
  });

  it('extends the highest sequence across the 16-bit wrap', () => {
    const s = new RtpReceiverStats(8000);
    for (let i = 0; i < 40; i++) s.update((65520 + i) & 0xffff, i * 160, i * 20);
    const b = createReportBlock();
    s.fillReport(b, 0);
    expect(b.highestSeq).toBe(65536 + ((65520 + 39) & 0xffff));
    expect(b.cumulativeLost).toBe(0);
  });

  it('duplicates make cumulative loss negative; reordering is not loss', () => {
    const s = new RtpReceiverStats(8000);
    for (const seq of [1, 2, 3, 5, 4, 6, 6, 6]) s.update(seq, seq * 160, seq * 20);
    const b = createReportBlock();
    s.fillReport(b, 0);
    // base 2 (1 was probation), expected 2..6 = 5, received 2,3,5,4,6,6,6 = 7
    expect(b.cumulativeLost).toBe(-2);
    expect(b.fractionLost).toBe(0);
  });

  it('restarts after a large jump confirmed by two sequential packets', () => {
    const s = new RtpReceiverStats(8000);
    for (let seq = 10; seq < 20; seq++) s.update(seq, 0, 0);
    expect(s.update(40000, 0, 0)).toBe(false);
    expect(s.update(40001, 0, 0)).toBe(true);
    expect(s.extendedMaxSeq).toBe(40001);
  });

  it('jitter is 0 for perfectly paced packets and follows J += (|D|-J)/16 otherwise', () => {
    const s = new RtpReceiverStats(8000);
    for (let i = 0; i < 50; i++) s.update(i, i * 160, i * 20);
    expect(s.jitter).toBe(0);
    // Alternate arrivals 1 ms late/on time: |D| = 8 timestamp units every packet.
    const t = new RtpReceiverStats(8000);
    for (let i = 0; i < 50; i++) t.update(i, i * 160, i * 20 + (i % 2));
    const expected = 8 * (1 - (15 / 16) ** 49);
    expect(t.jitter).toBeCloseTo(expected, 6);
    const b = createReportBlock();
    t.fillReport(b, 0);
    expect(b.jitter).toBe(Math.floor(expected));
  });

  it('jitter survives a timestamp wrap', () => {
    const s = new RtpReceiverStats(8000);
    for (let i = 0; i < 50; i++) s.update(i, (0xffffff00 + i * 160) >>> 0, i * 20);
    expect(s.jitter).toBeCloseTo(0, 6);
  });

  it('reports LSR/DLSR and RTT comes out of A − LSR − DLSR', () => {
    const s = new RtpReceiverStats(8000);
    s.update(1, 0, 0);
    s.update(2, 160, 20);
    const sr = ntpNow(1_700_000_000_000);
    s.onSenderReport(sr.sec, sr.frac, 1000);
    const b = createReportBlock();
    s.fillReport(b, 1100); // 100 ms after the SR arrived
    expect(b.lsr).toBe(ntpMiddle(sr.sec, sr.frac));
    expect(b.dlsr).toBe(Math.floor(0.1 * 65536));
    // Our SR left at T; the peer held it 100 ms; the RR came back 150 ms after T → RTT ≈ 50 ms.
    const rtt = rttFromReport(b, ntpMiddleOfMs(1_700_000_000_000 + 150))!;
    expect(rtt).toBeGreaterThan(49.9);
    expect(rtt).toBeLessThan(50.1);
    expect(rttFromReport({ ...b, lsr: 0 }, 0)).toBeNull();
  });
});
