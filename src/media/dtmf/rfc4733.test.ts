// RFC 4733 receiver and sender: packet sequences as tables, the sender → receiver round trip.
import { describe, expect, it } from 'vitest';
import { Rfc4733EventSource, Rfc4733Receiver, Rfc4733Sender, MAX_SEGMENT_DURATION } from './rfc4733.js';
import type { DtmfEvent } from './types.js';

interface EvPkt {
  ts: number;
  ev: number;
  dur: number;
  end?: boolean;
  m?: boolean;
  at: number;
}

function payload(p: EvPkt): Uint8Array {
  return Uint8Array.of(p.ev, (p.end ? 0x80 : 0) | 10, p.dur >> 8, p.dur & 0xff);
}

/** The usual press: marker start, updates every 20 ms (+160), three ends. */
function press(ev: number, ts: number, units: number, at: number): EvPkt[] {
  const out: EvPkt[] = [];
  let t = at;
  for (let d = 160; d < units; d += 160, t += 20) out.push({ ts, ev, dur: d, m: d === 160, at: t });
  for (let i = 0; i < 3; i++, t += 20) out.push({ ts, ev, dur: units, end: true, at: t });
  return out;
}

function feed(pkts: EvPkt[], pollUntil?: number) {
  const got: DtmfEvent[] = [];
  const rx = new Rfc4733Receiver((e) => got.push(e));
  let last = 0;
  for (const p of pkts) {
    for (; last + 20 <= p.at; last += 20) rx.poll(last);
    rx.push({ timestamp: p.ts, marker: p.m ?? false }, payload(p), p.at);
  }
  if (pollUntil !== undefined) for (let t = last; t <= pollUntil; t += 20) rx.poll(t);
  return { got, rx, digits: got.map((e) => e.digit).join('') };
}

describe('Rfc4733Receiver', () => {
  it('emits one digit per press, at the end, with its duration; repeated ends counted once', () => {
    const { got, rx } = feed(press(5, 1000, 800, 0));
    expect(got).toEqual([{ digit: '5', durationMs: 100, method: 'rfc4733', at: -20 }]);
    expect(rx.stats.repeats).toBe(2);
  });

  it.each([
    ['all 16 events', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], '0123456789*#ABCD'],
    ['same digit twice (new timestamps)', [7, 7], '77'],
  ])('%s', (_n, events, expected) => {
    const pkts = events.flatMap((ev, i) => press(ev, 10000 + i * 4000, 640, i * 300));
    expect(feed(pkts).digits).toBe(expected);
  });

  it.each([
    {
      name: 'lost start packets (first seen is an update)',
      pkts: press(3, 500, 960, 0).slice(3),
      digits: '3',
      durationMs: 120,
    },
    {
      name: 'all end packets lost: emitted at the timeout',
      pkts: press(3, 500, 960, 0).slice(0, -3),
      digits: '3',
      durationMs: 100,
    },
    {
      name: 'ends lost but a new event starts: previous one emitted first',
      pkts: [...press(1, 500, 960, 0).slice(0, -3), ...press(2, 2000, 480, 120)],
      digits: '12',
      durationMs: 100,
    },
    {
      name: 'only an end packet arrives',
      pkts: [{ ts: 9000, ev: 9, dur: 400, end: true, at: 0 }],
      digits: '9',
      durationMs: 50,
    },
    {
      name: 'long press: many updates, counted once',
      pkts: press(0, 7000, 160 * 150, 0),
      digits: '0',
      durationMs: 3000,
    },
    {
      name: 'reordered update and end',
      pkts: (() => {
        const p = press(4, 100, 800, 0);
        [p[2], p[3]] = [p[3], p[2]];
        [p[4], p[5]] = [p[5], p[4]];
        return p;
      })(),
      digits: '4',
      durationMs: 100,
    },
    {
      name: 'retransmitted end long after the digit (and an old update) are not new digits',
      pkts: [...press(6, 100, 800, 0), { ts: 100, ev: 6, dur: 800, end: true, at: 1000 }, { ts: 100, ev: 6, dur: 480, at: 1020 }],
      digits: '6',
      durationMs: 100,
    },
    {
      name: 'update arriving after a timeout emission is not a new digit',
      pkts: [...press(8, 100, 800, 0).slice(0, 2), { ts: 100, ev: 8, dur: 800, end: true, at: 900 }],
      digits: '8',
      durationMs: 40,
    },
  ])('$name', ({ pkts, digits, durationMs }) => {
    const { got } = feed(pkts, 2000);
    expect(got.map((e) => e.digit).join('')).toBe(digits);
    expect(got[0].durationMs).toBe(durationMs);
  });

  it('joins RFC 4733 §2.5.1.3 long-duration segments into one press', () => {
    // 10 s press at 8 kHz = 80000 units: segment 1 (0xFFFF) then segment 2 at ts + 0xFFFF.
    const got: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e));
    const tx = new Rfc4733Sender();
    tx.start('#', 10_000, 4_000_000_000);
    const buf = new Uint8Array(4);
    const stamps = new Set<number>();
    let t = 0;
    while (tx.next(buf) > 0) {
      stamps.add(tx.timestamp);
      rx.push({ timestamp: tx.timestamp, marker: tx.marker }, buf, t);
      t += 20;
    }
    expect([...stamps]).toEqual([4_000_000_000, (4_000_000_000 + MAX_SEGMENT_DURATION) >>> 0]);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ digit: '#', durationMs: 10_000 });
    expect(rx.stats.segments).toBe(1);
  });

  it('ignores short payloads and non-DTMF events', () => {
    const got: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e));
    rx.push({ timestamp: 1, marker: true }, Uint8Array.of(1, 0), 0);
    rx.push({ timestamp: 2, marker: true }, Uint8Array.of(16, 0x80, 0, 160), 0); // flash
    expect(got).toEqual([]);
    expect(rx.stats).toMatchObject({ malformed: 1, ignoredEvents: 1 });
  });

  it('a throwing listener does not break the receiver', () => {
    const rx = new Rfc4733Receiver(() => {
      throw new Error('boom');
    });
    for (const p of press(1, 1, 480, 0)) rx.push({ timestamp: p.ts, marker: !!p.m }, payload(p), p.at);
    expect(rx.stats.digits).toBe(1);
  });
});

describe('Rfc4733Sender', () => {
  it('produces marker start, growing durations, 3 end packets, one timestamp', () => {
    const tx = new Rfc4733Sender();
    tx.start('7', 100, 123456);
    const buf = new Uint8Array(8);
    const rows: string[] = [];
    while (tx.next(buf, 2) > 0) {
      const dur = (buf[4] << 8) | buf[5];
      rows.push(`${tx.marker ? 'M' : '-'} ${tx.timestamp} ev=${buf[2]} ${tx.end ? 'E' : '-'} vol=${buf[3] & 0x3f} d=${dur}`);
    }
    expect(rows).toEqual([
      'M 123456 ev=7 - vol=10 d=160',
      '- 123456 ev=7 - vol=10 d=320',
      '- 123456 ev=7 - vol=10 d=480',
      '- 123456 ev=7 - vol=10 d=640',
      '- 123456 ev=7 E vol=10 d=800',
      '- 123456 ev=7 E vol=10 d=800',
      '- 123456 ev=7 E vol=10 d=800',
    ]);
    expect(tx.active).toBe(false);
  });

  it('round-trips every digit through the receiver with 48 kHz clock too', () => {
    for (const rate of [8000, 48000]) {
      const got: DtmfEvent[] = [];
      const rx = new Rfc4733Receiver((e) => got.push(e), { clockRate: rate });
      const tx = new Rfc4733Sender({ clockRate: rate });
      const buf = new Uint8Array(4);
      let t = 0;
      let ts = 0;
      for (const d of '0123456789*#ABCD') {
        tx.start(d, 120, ts);
        while (tx.next(buf)) {
          rx.push({ timestamp: tx.timestamp, marker: tx.marker }, buf, t);
          t += 20;
          ts += rate / 50;
        }
        t += 60;
        ts += (rate / 50) * 3;
      }
      expect(got.map((e) => e.digit).join('')).toBe('0123456789*#ABCD');
      expect(new Set(got.map((e) => e.durationMs))).toEqual(new Set([120]));
    }
  });

  it('rejects a non-digit', () => {
    expect(() => new Rfc4733Sender().start('x', 100, 0)).toThrow(RangeError);
  });
});

describe('Rfc4733EventSource (MediaSession hook)', () => {
  it('stamps the event with the first tick\'s timestamp and ends after 3 end packets', () => {
    const src = new Rfc4733EventSource('#', 60);
    const pkt = { payload: new Uint8Array(64), length: 0, marker: false, timestamp: 0 };
    const rows: string[] = [];
    for (let tick = 0, ts = 8000; src.nextEventPacket(ts, pkt); tick++, ts += 160) {
      rows.push(`${pkt.marker ? 'M' : '-'} ${pkt.timestamp} len=${pkt.length} ev=${pkt.payload[0]} ${pkt.payload[1] & 0x80 ? 'E' : '-'} d=${(pkt.payload[2] << 8) | pkt.payload[3]}`);
    }
    expect(rows).toEqual([
      'M 8000 len=4 ev=11 - d=160',
      '- 8000 len=4 ev=11 - d=320',
      '- 8000 len=4 ev=11 E d=480',
      '- 8000 len=4 ev=11 E d=480',
      '- 8000 len=4 ev=11 E d=480',
    ]);
    expect(() => new Rfc4733EventSource('Z', 100)).toThrow(RangeError);
  });
});
