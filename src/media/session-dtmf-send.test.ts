// Outgoing DTMF queues without sockets: the RFC 4733 queue's packets read back through
// Rfc4733Receiver, the in-band tone queue's frames through GoertzelDetector, tick by tick.
import { describe, expect, it } from 'vitest';
import { GoertzelDetector } from './dtmf/goertzel.js';
import { Rfc4733Receiver } from './dtmf/rfc4733.js';
import type { DtmfEvent } from './dtmf/types.js';
import { DtmfEventQueue, DtmfToneQueue, MAX_QUEUED_DIGITS, MIN_DTMF_MS, parseDigits } from './session-dtmf-send.js';
import type { RtpEventPacket } from './types.js';

describe('parseDigits', () => {
  it.each([
    ['123', 100, 50, ['1', '2', '3'], 100, 50],
    ['a*#d', 5, 5, ['A', '*', '#', 'D'], MIN_DTMF_MS, MIN_DTMF_MS],
    ['0', Number.NaN, 100, ['0'], MIN_DTMF_MS, 100],
  ])('%j (%d ms, gap %d) → %j', (digits, dur, gap, want, wantDur, wantGap) => {
    const got = parseDigits(digits, dur, gap);
    expect(got.map((d) => d.digit)).toEqual(want);
    expect(got.every((d) => d.durationMs === wantDur && d.gapMs === wantGap)).toBe(true);
  });

  it.each(['', '1x', 'E', '12 3'])('refuses %j with RangeError', (digits) => {
    expect(() => parseDigits(digits, 100, 100)).toThrow(RangeError);
  });
});

/** Runs an event queue tick by tick (timestamp +160 each) until it reports done. */
function drive(q: DtmfEventQueue, maxTicks = 500): { ticks: number; packets: { ts: number; marker: boolean; payload: Buffer }[]; audioTicks: number } {
  const out: RtpEventPacket = { payload: new Uint8Array(64), length: 0, marker: false, timestamp: 0 };
  const packets: { ts: number; marker: boolean; payload: Buffer }[] = [];
  let audioTicks = 0;
  let ticks = 0;
  for (; ticks < maxTicks; ticks++) {
    out.length = 0;
    if (!q.nextEventPacket(ticks * 160, out)) break;
    if (out.length === 0) audioTicks++;
    else packets.push({ ts: out.timestamp, marker: out.marker, payload: Buffer.from(out.payload.subarray(0, out.length)) });
  }
  return { ticks, packets, audioTicks };
}

describe('DtmfEventQueue (RFC 4733)', () => {
  it('sends each press as one event, the gap as audio ticks, then reports done', () => {
    const q = new DtmfEventQueue();
    q.enqueue(parseDigits('4#', 100, 60));
    expect(q.pending).toBe(2);
    const { packets, audioTicks } = drive(q);
    const got: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e));
    packets.forEach((p, i) => rx.push({ timestamp: p.ts, marker: p.marker }, p.payload, i * 20));
    expect(got.map((e) => [e.digit, e.durationMs])).toEqual([
      ['4', 100],
      ['#', 100],
    ]);
    expect(packets.filter((p) => p.marker)).toHaveLength(2);
    expect(audioTicks).toBe(3); // 60 ms between the presses, none after the last
    expect(new Set(packets.map((p) => p.ts)).size).toBe(2);
    expect(q.pending).toBe(0);
    // Re-usable: more digits after it reported done.
    q.enqueue(parseDigits('7', 40, 40));
    expect(drive(q).packets.length).toBeGreaterThanOrEqual(4);
  });

  it('bounds its queue and clears', () => {
    const q = new DtmfEventQueue();
    q.enqueue(parseDigits('1'.repeat(MAX_QUEUED_DIGITS), 40, 40));
    expect(() => q.enqueue(parseDigits('2', 40, 40))).toThrow(RangeError);
    q.clear();
    expect(q.pending).toBe(0);
    expect(drive(q).ticks).toBe(0);
  });
});

describe('DtmfToneQueue (in-band)', () => {
  it('writes tone pairs a Goertzel detector reads back, with pauses; leaves frames alone when idle', () => {
    const q = new DtmfToneQueue();
    const frame = new Int16Array(160);
    frame.fill(123);
    expect(q.mixInto(frame)).toBe(false);
    expect(frame[0]).toBe(123);
    q.enqueue(parseDigits('8*D', 80, 60));
    const got: DtmfEvent[] = [];
    const det = new GoertzelDetector((e) => got.push(e));
    let wrote = 0;
    for (let t = 0; t < 100; t++) {
      frame.fill(500); // the source's audio: replaced while a tone or its pause plays
      if (q.mixInto(frame)) wrote++;
      det.process(frame, t * 20);
    }
    det.flush();
    expect(got.map((e) => e.digit).join('')).toBe('8*D');
    expect(wrote).toBe(Math.ceil((3 * (80 + 60) * 8) / 160));
    expect(q.pending).toBe(0);
  });
});
