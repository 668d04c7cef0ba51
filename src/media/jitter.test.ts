// JitterBuffer scenarios: a simulated sender (20 ms packets), a network (arrival times) and the
// 20 ms media tick calling pop(). A fake codec decodes a packet to 160 samples all equal to its
// sequence number, so the popped frames show exactly what was played, concealed or silent.
import { describe, expect, it } from 'vitest';
import { createCodec } from './codec/index.js';
import { JitterBuffer, type JitterBufferOptions, type PopKind } from './jitter.js';

const CONCEAL = -1;

/** decode(): 160 samples = the 16-bit value in payload[0..1]; conceal(): 160 × −1. */
function fakeCodec() {
  return {
    decode(payload: Uint8Array, out: Int16Array): number {
      const v = payload[0] | (payload[1] << 8);
      const n = payload.length >= 3 ? payload[2] * 8 : 160; // payload[2] = ptime in ms (optional)
      out.fill(v, 0, n);
      return n;
    },
    conceal(out: Int16Array): number {
      out.fill(CONCEAL, 0, 160);
      return 160;
    },
  };
}

interface Pkt {
  seq: number;
  ts: number;
  at: number;
  ssrc?: number;
  tag?: number;
}

/** Packet i of a 20 ms stream starting at seq0/ts0, sent at i*20 ms, arriving at i*20 + extra(i). */
function stream(n: number, extra: (i: number) => number = () => 5, seq0 = 1000, ts0 = 5000, ssrc = 1): Pkt[] {
  const out: Pkt[] = [];
  for (let i = 0; i < n; i++) out.push({ seq: (seq0 + i) & 0xffff, ts: (ts0 + i * 160) >>> 0, at: i * 20 + extra(i), ssrc, tag: i + 1 });
  return out;
}

/** Runs ticks at 0, 20, 40 ms … ; before each tick, pushes every packet with at ≤ tick time. */
function run(pkts: Pkt[], ticks: number, opts: Partial<JitterBufferOptions> = {}) {
  const jb = new JitterBuffer({ codec: fakeCodec(), clockRate: 8000, ...opts });
  const sorted = [...pkts].sort((a, b) => a.at - b.at);
  const played: number[] = [];
  const kinds: PopKind[] = [];
  const delays: number[] = [];
  const out = new Int16Array(160);
  const payload = new Uint8Array(2);
  let k = 0;
  for (let t = 0; t < ticks; t++) {
    const now = t * 20;
    while (k < sorted.length && sorted[k].at <= now) {
      const p = sorted[k++];
      payload[0] = p.tag! & 0xff;
      payload[1] = p.tag! >> 8;
      jb.push({ sequence: p.seq, timestamp: p.ts, ssrc: p.ssrc ?? 1 }, payload, p.at);
    }
    kinds.push(jb.pop(out));
    played.push(out[0]);
    delays.push(jb.stats.delayMs);
  }
  return { jb, played, kinds, delays, audio: played.filter((v) => v > 0) };
}

describe('JitterBuffer', () => {
  it('plays an in-order stream after the initial delay, nothing lost', () => {
    const { jb, played, audio } = run(stream(50), 60);
    expect(played[0]).toBe(0); // silence before start
    expect(audio).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(jb.stats).toMatchObject({ received: 50, lost: 0, late: 0, duplicates: 0, reordered: 0 });
  });

  it.each([
    ['swapped pair', [3, 2]],
    ['three reversed', [6, 5, 4]],
  ])('reorders by sequence number: %s', (_name, swap) => {
    const pkts = stream(20);
    // Deliver the listed packets (tags) in the listed order, when the last of them is due.
    const at = Math.max(...swap.map((s) => pkts[s - 1].at));
    swap.forEach((tag, j) => (pkts[tag - 1].at = at + j * 0.1));
    const { jb, audio } = run(pkts, 40, { initialDelayMs: 80 });
    expect(audio).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(jb.stats.reordered).toBe(swap.length - 1);
    expect(jb.stats.lost).toBe(0);
  });

  it('drops duplicates (whether still buffered or already played)', () => {
    const pkts = stream(20);
    pkts.push({ ...pkts[4], at: pkts[4].at + 1 }); // buffered duplicate
    pkts.push({ ...pkts[2], at: pkts[2].at + 60 }); // duplicate of an already played packet
    const { jb, audio } = run(pkts, 40);
    expect(audio).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(jb.stats.duplicates).toBe(2);
  });

  it.each([
    { name: 'single loss', drop: [10], concealed: 1, silent: 0 },
    { name: 'burst of 3', drop: [10, 11, 12], concealed: 3, silent: 0 },
    { name: 'burst of 6 (conceal 3, then silence)', drop: [10, 11, 12, 13, 14, 15], concealed: 3, silent: 3 },
  ])('conceals loss: $name', ({ drop, concealed, silent }) => {
    const pkts = stream(30).filter((p) => !drop.includes(p.tag!));
    const { jb, played, kinds } = run(pkts, 40);
    const start = played.indexOf(1);
    const window = played.slice(start, start + 30);
    expect(window.filter((v) => v === CONCEAL)).toHaveLength(concealed);
    // silence inside the stream = 0 after start
    expect(window.filter((v) => v === 0)).toHaveLength(silent);
    expect(window.filter((v) => v > 0)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1).filter((t) => !drop.includes(t)));
    expect(jb.stats.lost).toBe(drop.length);
    expect(jb.stats.concealed).toBe(concealed + 3); // + 3 for the underrun after the stream ends
    expect(kinds[start + drop[0] - 1]).toBe('concealed');
  });

  it('handles the sequence wrap at 65535 and the 32-bit timestamp wrap', () => {
    const pkts = stream(40, () => 5, 65520, 0xffffffff - 160 * 10);
    expect(pkts[15].seq).toBe(65535);
    pkts[15].at = pkts[16].at + 0.5; // 65535 arrives after 0
    const { jb, audio } = run(pkts.filter((p) => p.tag !== 25), 60);
    expect(audio).toEqual(Array.from({ length: 40 }, (_, i) => i + 1).filter((t) => t !== 25));
    expect(jb.stats).toMatchObject({ lost: 1, reordered: 1, resyncs: 0, late: 0 });
  });

  it('drops a packet that arrives after its playout time, counts it late and grows the delay', () => {
    const pkts = stream(60);
    pkts[20].at += 70; // 70 ms late with a 40 ms delay
    const { jb, audio, delays } = run(pkts, 80);
    expect(jb.stats.late).toBe(1);
    expect(jb.stats.lost).toBe(1);
    expect(audio).not.toContain(21);
    expect(Math.max(...delays)).toBeGreaterThan(40);
  });

  it('jitter spikes grow the delay; it comes back down after stable periods', () => {
    // 30 s stream; spikes of +120 ms on packets 100–104 and 300–304; stable afterwards.
    const spike = (i: number) => ((i >= 100 && i < 105) || (i >= 300 && i < 305) ? 120 : 5);
    const { jb, delays } = run(stream(1500, spike), 1510);
    const lateAfterFirst = jb.stats.late;
    expect(Math.max(...delays.slice(100, 140))).toBeGreaterThanOrEqual(120);
    expect(Math.max(...delays)).toBeLessThanOrEqual(200);
    // It shrinks slowly: still high 1 s after the spike, back to the minimum long after.
    expect(delays[160]).toBeGreaterThanOrEqual(100);
    expect(delays[1500]).toBeLessThanOrEqual(40);
    expect(jb.stats.shrunk).toBeGreaterThan(0);
    expect(lateAfterFirst).toBeGreaterThan(0);
    expect(jb.stats.lost).toBe(jb.stats.late); // only the late ones went missing
  });

  it('a second spike soon after the first is absorbed (no more late packets)', () => {
    const spike = (i: number) => ((i >= 100 && i < 105) || (i >= 150 && i < 155) ? 100 : 5);
    const first = run(stream(160, (i) => (i >= 100 && i < 105 ? 100 : 5)), 170).jb.stats.late;
    const both = run(stream(160, spike), 170).jb.stats.late;
    expect(first).toBeGreaterThan(0);
    expect(both).toBe(first);
  });

  it('changes its delay only after a quiet frame (never inside a tone or a word), at most 25 frames late', () => {
    // 7 loud frames (a tone: |sample| 5000+), 7 quiet ones (< 256), repeated; the initial delay is
    // 100 ms, so the buffer shrinks step by step towards 20 ms on this steady stream.
    const pkts = stream(300).map((p, i) => ({ ...p, tag: Math.floor(i / 7) % 2 === 0 ? 5000 + i : 1 + (i % 200) }));
    const jb = new JitterBuffer({ codec: fakeCodec(), clockRate: 8000, initialDelayMs: 100 });
    const out = new Int16Array(160);
    const payload = new Uint8Array(2);
    let k = 0;
    let prev = 0;
    let shrinks = 0;
    const afterLoud: number[] = [];
    for (let t = 0; t < 310; t++) {
      while (k < pkts.length && pkts[k]!.at <= t * 20) {
        const p = pkts[k++]!;
        payload[0] = p.tag & 0xff;
        payload[1] = p.tag >> 8;
        jb.push({ sequence: p.seq, timestamp: p.ts, ssrc: 1 }, payload, p.at);
      }
      const before = jb.stats.shrunk;
      jb.pop(out);
      if (jb.stats.shrunk > before) {
        shrinks++;
        if (Math.abs(prev) >= 256) afterLoud.push(t);
      }
      prev = out[0]!;
    }
    expect(shrinks).toBeGreaterThanOrEqual(3);
    expect(afterLoud).toEqual([]);
    expect(jb.stats.deferred).toBeGreaterThan(0);
    expect(jb.stats.delayMs).toBeLessThan(100);

    // A stream that is never quiet still adapts, 25 frames late at most.
    const loud = stream(200).map((p, i) => ({ ...p, tag: 5000 + i }));
    const r = run(loud, 210, { initialDelayMs: 100 });
    expect(r.jb.stats.shrunk).toBeGreaterThanOrEqual(1);
  });

  it('sustained random jitter raises the delay from the RFC 3550 estimate', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const { jb } = run(stream(500, () => 5 + rnd() * 60), 510);
    expect(jb.stats.jitterMs).toBeGreaterThan(10);
    expect(jb.stats.delayMs).toBeGreaterThanOrEqual(60);
    expect(jb.stats.late / 500).toBeLessThan(0.05);
  });

  it('restarts on an SSRC change and on a sequence jump (after probation)', () => {
    const a = stream(20);
    const b = stream(20, () => 5, 40000, 999999, 2).map((p) => ({ ...p, at: p.at + 400, tag: p.tag! + 100 }));
    const c = stream(20, () => 5, 20000, 123, 2).map((p) => ({ ...p, at: p.at + 800, tag: p.tag! + 200 }));
    const { jb, audio } = run([...a, ...b, ...c], 70);
    expect(jb.stats.ssrcChanges).toBe(1);
    expect(jb.stats.resyncs).toBe(1);
    expect(jb.stats.dropped).toBe(1); // first packet of the jump, on probation
    expect(audio.filter((v) => v > 100 && v < 200)).toHaveLength(20);
    expect(audio.filter((v) => v > 200)).toHaveLength(19);
  });

  it('restarts on a timestamp jump with continuous sequence numbers', () => {
    const a = stream(20);
    const b = stream(20, () => 5, 1020, 5000 + 8000 * 60).map((p) => ({ ...p, at: p.at + 400, tag: p.tag! + 100 }));
    const { jb, audio } = run([...a, ...b], 50);
    expect(jb.stats.resyncs).toBe(1);
    expect(audio.filter((v) => v > 100)).toHaveLength(20);
  });

  it('treats a timestamp gap without a sequence gap as silence (DTX), not loss', () => {
    const a = stream(10);
    const b = stream(10, () => 5, 1010, 5000 + 160 * 60).map((p) => ({ ...p, at: p.at + 1200, tag: p.tag! + 100 }));
    const { jb, played } = run([...a, ...b], 90);
    expect(jb.stats.lost).toBe(0);
    expect(played.filter((v) => v > 100)).toHaveLength(10);
    // Underrun concealment (3 frames) in the pause and after the end, silence otherwise.
    expect(jb.stats.concealed).toBe(6);
  });

  it('splits 30 ms packets into 20 ms frames', () => {
    const jb = new JitterBuffer({ codec: fakeCodec(), clockRate: 8000 });
    const out = new Int16Array(160);
    const seen: number[] = [];
    for (let t = 0, i = 0; t < 40; t++) {
      if (t * 20 >= i * 30 && i < 20) {
        jb.push({ sequence: i, timestamp: i * 240, ssrc: 9 }, Uint8Array.of(i + 1, 0, 30), t * 20);
        i++;
      }
      jb.pop(out);
      seen.push(out[0], out[80], out[159]);
    }
    expect(jb.stats.lost).toBe(0);
    const firsts = seen.filter((v) => v > 0);
    expect(new Set(firsts).size).toBe(20);
  });

  /** Plays packets of `sizes` bytes (G.711, one byte per sample) through; the audio must come out sample for sample. */
  function playsBackGapless(sizes: number[], minDelayMs: number): void {
    const codec = createCodec('PCMU');
    const ref = createCodec('PCMU');
    const jb = new JitterBuffer({ codec, clockRate: 8000, minDelayMs, initialDelayMs: Math.max(40, minDelayMs) });
    const expected: number[] = [];
    const pkts: { seq: number; ts: number; payload: Uint8Array }[] = [];
    let ts = 1000;
    sizes.forEach((n, i) => {
      const payload = new Uint8Array(n);
      for (let k = 0; k < n; k++) payload[k] = (i * 37 + k) & 0x7f;
      const pcm = new Int16Array(n);
      ref.decode(payload, pcm);
      expected.push(...pcm);
      pkts.push({ seq: 500 + i, ts, payload });
      ts += n;
    });
    const got: number[] = [];
    const out = new Int16Array(160);
    let sent = 0;
    let clockTs = 1000;
    for (let tick = 0; got.length < expected.length && tick < 200; tick++) {
      // Send whatever the sender's clock has produced by now (a packet leaves once its audio exists).
      while (sent < pkts.length && pkts[sent]!.ts + pkts[sent]!.payload.length <= clockTs + 160) {
        jb.push({ sequence: pkts[sent]!.seq, timestamp: pkts[sent]!.ts, ssrc: 9 }, pkts[sent]!.payload, tick * 20);
        sent++;
      }
      clockTs += 160;
      if (jb.pop(out) === 'audio') got.push(...out);
    }
    expect(jb.stats.lost).toBe(0);
    // Whatever delay the buffer chose, the audio it played is the senders' audio, sample for sample.
    const start = got.findIndex((v, i) => v === expected[0] && got[i + 1] === expected[1]);
    expect(start).toBeGreaterThanOrEqual(0);
    const played = got.slice(start, start + expected.length - 160);
    expect(played).toEqual(expected.slice(0, played.length));
    expect(played.length).toBeGreaterThan(expected.length - 480);
  }

  it('G.711: whole frames decode straight to the output and mixed 20/30 ms packets play back gapless, in order', () => {
    // Packets: 20 ms, 20 ms, 30 ms, 20 ms, 30 ms, 20 ms … each byte distinct per packet.
    playsBackGapless([160, 160, 240, 160, 240, 160, 160, 240, 160, 160], 20);
  });

  it('a packet longer than its slots (60 ms) grows every slot and keeps what is buffered', () => {
    // 100 ms of delay: several packets are buffered when the first 480-byte packet arrives.
    playsBackGapless([160, 160, 160, 160, 160, 160, 480, 160, 160, 480, 160, 160, 160, 160, 160, 160], 100);
  });

  it('allocates no slot buffers after warm-up and works with the real G.711 codec', () => {
    const codec = createCodec('PCMU');
    const jb = new JitterBuffer({ codec, clockRate: 8000 });
    const payload = new Uint8Array(160).fill(0x80);
    const out = new Int16Array(160);
    for (let i = 0; i < 200; i++) {
      jb.push({ sequence: i, timestamp: i * 160, ssrc: 3 }, payload, i * 20);
      jb.pop(out);
    }
    expect(jb.stats.lost).toBe(0);
    expect(Math.abs(out[0])).toBeGreaterThan(5000);
  });
});
