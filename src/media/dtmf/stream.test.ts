// DtmfStream: one report per press whatever mix of RFC 4733, in-band audio and SIP INFO arrives.
import { describe, expect, it } from 'vitest';
import { Rfc4733Sender } from './rfc4733.js';
import { DtmfStream, type DtmfStreamOptions } from './stream.js';
import { digitFreqs, render, type Segment } from './testing.js';
import type { DtmfEvent } from './types.js';

interface Press {
  digit: string;
  startMs: number;
  ms: number;
}

/**
 * Simulates a session on 20 ms ticks: the peer presses keys; `audio` puts the tones in the audio
 * (delivered `audioLagMs` late, as after a jitter buffer), `rfc4733` sends telephone-events.
 */
function simulate(presses: Press[], how: { audio: boolean; rfc4733: boolean; audioLagMs?: number; infoAtStart?: boolean }, opts: DtmfStreamOptions) {
  const got: DtmfEvent[] = [];
  const s = new DtmfStream((e) => got.push(e), opts);
  const endMs = Math.max(...presses.map((p) => p.startMs + p.ms)) + 600;
  const segs: Segment[] = [];
  let t = 0;
  for (const p of presses) {
    segs.push({ freqs: null, ms: p.startMs - t }, { freqs: digitFreqs(p.digit), ms: p.ms, lowDbm0: -10, highDbm0: -10 });
    t = p.startMs + p.ms;
  }
  segs.push({ freqs: null, ms: endMs - t });
  const pcm = render(segs, { noiseDbm0: -45 });
  const tx = new Rfc4733Sender();
  const buf = new Uint8Array(4);
  const frame = new Int16Array(160);
  const lag = how.audioLagMs ?? 60;
  for (let now = 0; now < endMs + lag; now += 20) {
    const starting = presses.find((p) => p.startMs === now);
    if (starting && how.rfc4733) tx.start(starting.digit, starting.ms, now * 8);
    if (starting && how.infoAtStart) s.pushInfo(starting.digit, starting.ms, now);
    if (how.rfc4733 && tx.next(buf) > 0) s.pushRtpEvent({ timestamp: tx.timestamp, marker: tx.marker }, buf, now + 20);
    const audioMs = now - lag;
    if (how.audio && audioMs >= 0) {
      const k = (audioMs / 20) * 160;
      frame.fill(0);
      if (k < pcm.length) frame.set(pcm.subarray(k, Math.min(pcm.length, k + 160)));
      s.processAudio(frame, audioMs);
    }
    s.tick(now);
  }
  s.close();
  return { got, s, digits: got.map((e) => e.digit).join(''), methods: [...new Set(got.map((e) => e.method))] };
}

const PRESSES: Press[] = Array.from('147*2580369#', (digit, i) => ({ digit, startMs: 200 + i * 200, ms: 100 }));

describe('DtmfStream', () => {
  it.each([
    { name: 'RFC 4733 only', how: { audio: false, rfc4733: true }, neg: true, methods: ['rfc4733'] },
    { name: 'in-band only, RFC 4733 not negotiated', how: { audio: true, rfc4733: false }, neg: false, methods: ['inband'] },
    { name: 'in-band only although RFC 4733 negotiated (held, then emitted)', how: { audio: true, rfc4733: false }, neg: true, methods: ['inband'] },
    { name: 'both (audio 60 ms behind): one digit per press, RFC 4733 preferred', how: { audio: true, rfc4733: true }, neg: true, methods: ['rfc4733'] },
    { name: 'both, audio 0 ms behind', how: { audio: true, rfc4733: true, audioLagMs: 0 }, neg: true, methods: ['rfc4733'] },
    { name: 'both, audio 180 ms behind', how: { audio: true, rfc4733: true, audioLagMs: 180 }, neg: true, methods: ['rfc4733'] },
    { name: 'SIP INFO + RFC 4733 + in-band', how: { audio: true, rfc4733: true, infoAtStart: true }, neg: true, methods: ['rfc4733'] },
    { name: 'SIP INFO only', how: { audio: false, rfc4733: false, infoAtStart: true }, neg: false, methods: ['info'] },
  ])('$name', ({ how, neg, methods }) => {
    const r = simulate(PRESSES, how, { rfc4733: neg });
    expect(r.digits).toBe('147*2580369#');
    expect(r.methods).toEqual(methods);
  });

  it('events carry method and timing', () => {
    const { got } = simulate([{ digit: '5', startMs: 200, ms: 120 }], { audio: false, rfc4733: true }, { rfc4733: true });
    expect(got).toEqual([{ digit: '5', durationMs: 120, method: 'rfc4733', at: 200 }]);
  });

  it('in-band and INFO (no RFC 4733) for one press: one digit', () => {
    const r = simulate(PRESSES.slice(0, 4), { audio: true, rfc4733: false, infoAtStart: true }, { rfc4733: false });
    expect(r.digits).toBe('147*');
    expect(r.s.stats.suppressed).toBe(4);
  });

  it('ignores invalid INFO digits', () => {
    const got: DtmfEvent[] = [];
    const s = new DtmfStream((e) => got.push(e));
    s.pushInfo('x', 100, 0);
    s.pushInfo('a', 100, 500);
    expect(got.map((e) => e.digit)).toEqual(['A']);
  });
});
