// Mixer rules as a specification: every participant speaks a tone of its own frequency, and the
// level of each frequency in what a participant is sent (Goertzel over 5 frames) says whom it
// hears. No sockets: fake endpoints stand in for MediaSessions and the test drives the ticks.
import { describe, expect, it } from 'vitest';
import { MediaClock } from '../src/lib/media-clock.js';
import { Mixer, type MixMode, type MixerEndpoint } from '../src/media/mix.js';
import { toneAmplitude } from '../src/media/testing.js';
import type { AudioSource, AudioTap } from '../src/media/types.js';

const N = 160;
const TICKS = 5; // 800 samples: 10 Hz bins, so every tone below sits on a bin
const AMP = 6000;

class FakeEndpoint implements MixerEndpoint {
  tap: AudioTap | null = null;
  source: AudioSource | null;
  heard = new Int16Array(N * TICKS);
  #phase = 0;
  constructor(
    readonly name: string,
    readonly hz: number,
    original: AudioSource | null = null,
  ) {
    this.source = original;
  }
  addTap(tap: AudioTap): () => void {
    this.tap = tap;
    return () => {
      this.tap = null;
    };
  }
  setSource(s: AudioSource | null): AudioSource | null {
    const prev = this.source;
    this.source = s;
    return prev;
  }
  /** Delivers this tick's decoded frame (a tone, or silence). */
  speak(silent = false): void {
    const f = new Int16Array(N);
    if (!silent) for (let i = 0; i < N; i++) f[i] = Math.round(AMP * Math.sin((2 * Math.PI * this.hz * this.#phase++) / 8000));
    this.tap?.onAudio(f, silent ? 'silence' : 'audio', 'in');
  }
  /** What the session would send this tick. */
  listen(tick: number): void {
    this.source?.nextFrame(this.heard.subarray(tick * N, tick * N + N));
  }
}

function run(mixer: Mixer, eps: FakeEndpoint[], silent: Set<FakeEndpoint> = new Set()): void {
  for (let t = 0; t < TICKS; t++) {
    for (const e of eps) e.speak(silent.has(e));
    mixer.onMediaTick();
    for (const e of eps) e.listen(t);
  }
}

/** Who hears whom: for each listener, the names whose tone is present (> AMP/2) in what it is sent. */
function hearing(eps: FakeEndpoint[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of eps) {
    const names: string[] = [];
    for (const s of eps) {
      const a = toneAmplitude(l.heard, s.hz);
      if (a > AMP / 2) names.push(s.name);
      else expect(a).toBeLessThan(50); // absent means absent, not attenuated
    }
    out[l.name] = names.join('');
  }
  return out;
}

function setup(): { mixer: Mixer; agent: FakeEndpoint; customer: FakeEndpoint; sup: FakeEndpoint; eps: FakeEndpoint[] } {
  const mixer = new Mixer({ clock: new MediaClock() });
  const agent = new FakeEndpoint('A', 500);
  const customer = new FakeEndpoint('C', 900);
  const sup = new FakeEndpoint('S', 1300);
  return { mixer, agent, customer, sup, eps: [agent, customer, sup] };
}

describe('Mixer: who hears whom', () => {
  // [supervisor mode, expected hearing]; agent and customer are 'normal'.
  const table: [MixMode, Record<string, string>][] = [
    ['normal', { A: 'CS', C: 'AS', S: 'AC' }],
    ['barge', { A: 'CS', C: 'AS', S: 'AC' }],
    ['listen', { A: 'C', C: 'A', S: 'AC' }],
    ['whisper', { A: 'CS', C: 'A', S: 'AC' }],
  ];
  for (const [mode, expected] of table) {
    it(`supervisor in '${mode}' mode`, () => {
      const { mixer, agent, customer, sup, eps } = setup();
      mixer.add(agent);
      mixer.add(customer);
      mixer.add(sup, mode, mode === 'whisper' ? agent : undefined);
      run(mixer, eps);
      expect(hearing(eps)).toEqual(expected);
    });
  }

  it('N-1 mixing with five parties: each hears the four others, never itself', () => {
    const mixer = new Mixer({ clock: new MediaClock() });
    const eps = [300, 500, 700, 900, 1100].map((hz, i) => new FakeEndpoint(String.fromCharCode(65 + i), hz));
    for (const e of eps) mixer.add(e);
    run(mixer, eps);
    expect(hearing(eps)).toEqual({ A: 'BCDE', B: 'ACDE', C: 'ABDE', D: 'ABCE', E: 'ABCD' });
  });

  it('modes change at runtime, effective from the next tick', () => {
    const { mixer, agent, customer, sup, eps } = setup();
    mixer.add(agent);
    mixer.add(customer);
    mixer.add(sup, 'listen');
    run(mixer, eps);
    expect(hearing(eps)).toEqual({ A: 'C', C: 'A', S: 'AC' });
    mixer.setMode(sup, 'whisper', agent);
    expect(mixer.modeOf(sup)).toEqual({ mode: 'whisper', whisperTo: agent });
    run(mixer, eps);
    expect(hearing(eps)).toEqual({ A: 'CS', C: 'A', S: 'AC' });
    mixer.setMode(sup, 'barge');
    run(mixer, eps);
    expect(hearing(eps)).toEqual({ A: 'CS', C: 'AS', S: 'AC' });
    mixer.setMode(agent, 'listen'); // the agent goes silent for everyone
    run(mixer, eps);
    expect(hearing(eps)).toEqual({ A: 'CS', C: 'S', S: 'C' });
  });

  it('silence frames are not mixed, and a participant with no frame this tick is silent', () => {
    const { mixer, agent, customer, sup, eps } = setup();
    for (const e of eps) mixer.add(e);
    run(mixer, eps, new Set([customer]));
    expect(hearing(eps)).toEqual({ A: 'S', C: 'AS', S: 'A' });
    // Nothing arrives at all this round (e.g. not negotiated): nothing of it is replayed.
    for (let t = 0; t < TICKS; t++) {
      mixer.onMediaTick();
      for (const e of eps) e.listen(t);
    }
    expect(hearing(eps)).toEqual({ A: '', C: '', S: '' });
  });

  it('saturates instead of wrapping around', () => {
    const mixer = new Mixer({ clock: new MediaClock() });
    const loud = [1, 2, 3].map((i) => new FakeEndpoint(`L${i}`, 0));
    const ear = new FakeEndpoint('E', 0);
    for (const e of [...loud, ear]) mixer.add(e);
    const plus = new Int16Array(N).fill(20000);
    const minus = new Int16Array(N).fill(-20000);
    for (const e of loud) e.tap!.onAudio(plus, 'audio', 'in');
    ear.tap!.onAudio(new Int16Array(N), 'audio', 'in');
    mixer.onMediaTick();
    ear.listen(0);
    expect(Array.from(ear.heard.subarray(0, N)).every((v) => v === 32767)).toBe(true);
    for (const e of loud) e.tap!.onAudio(minus, 'audio', 'in');
    mixer.onMediaTick();
    ear.listen(1);
    expect(Array.from(ear.heard.subarray(N, 2 * N)).every((v) => v === -32768)).toBe(true);
    expect(mixer.stats.clipped).toBeGreaterThanOrEqual(2 * N);
  });

  it('remove() restores the previous source, and a whisper to a removed participant falls silent', () => {
    const { mixer, agent, customer, sup, eps } = setup();
    const original: AudioSource = { nextFrame: () => true };
    const c2 = new FakeEndpoint('C', 900, original);
    mixer.add(agent);
    mixer.add(c2);
    mixer.add(sup, 'whisper', agent);
    expect(c2.source).not.toBe(original);
    mixer.remove(agent);
    expect(mixer.modeOf(sup)).toEqual({ mode: 'whisper', whisperTo: null });
    run(mixer, [c2, sup]);
    expect(toneAmplitude(c2.heard, sup.hz)).toBeLessThan(50);
    mixer.remove(c2);
    expect(c2.source).toBe(original);
    expect(c2.tap).toBeNull();
    mixer.close();
    mixer.close();
    expect(sup.source).toBeNull();
    expect(mixer.size).toBe(0);
    void customer;
    void eps;
  });

  it('rejects bad whisper targets and unknown participants', () => {
    const { mixer, agent, sup } = setup();
    mixer.add(agent);
    expect(() => mixer.add(sup, 'whisper')).toThrow(RangeError);
    expect(() => mixer.add(agent, 'whisper', agent)).toThrow(RangeError);
    expect(() => mixer.add(sup, 'whisper', new FakeEndpoint('X', 1))).toThrow(/not a participant/);
    expect(() => mixer.setMode(sup, 'listen')).toThrow(/not a participant/);
  });

  it('reuses its frames: the tick path allocates nothing per participant', () => {
    const mixer = new Mixer({ clock: new MediaClock() });
    const eps = Array.from({ length: 50 }, (_, i) => new FakeEndpoint(`P${i}`, 200 + 20 * i));
    for (const e of eps) mixer.add(e);
    const frame = new Int16Array(N).fill(100);
    const out = new Int16Array(N);
    const sources = eps.map((e) => e.source!);
    // Warm-up, then many ticks: the heap must not grow in proportion.
    const tick = () => {
      for (const e of eps) e.tap!.onAudio(frame, 'audio', 'in');
      mixer.onMediaTick();
      for (const s of sources) s.nextFrame(out);
    };
    for (let i = 0; i < 200; i++) tick();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 5000; i++) tick();
    const grown = process.memoryUsage().heapUsed - before;
    expect(out[0]).toBe(49 * 100);
    expect(grown).toBeLessThan(10_000_000); // allocating 2 frames per party per tick would be 160 MB
  });
});
