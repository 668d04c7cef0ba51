// Player: playlists, gaps, looping, barge-in, stop, events, and the three per-tick outputs.
import { describe, expect, it } from 'vitest';
import { Player } from './player.js';
import { makePrompt, type Prompt } from './prompts.js';

/** A prompt of `frames` frames where frame k holds the value k + base in every sample. */
function ramp(frames: number, base = 1): Prompt {
  const pcm = new Int16Array(frames * 160);
  for (let k = 0; k < frames; k++) pcm.fill((k + base) * 100, k * 160, k * 160 + 160);
  return makePrompt(`ramp${base}`, pcm, 8000);
}
/** Plays until finished (or `max` frames) and returns the first sample of each frame. */
function drain(p: Player, max = 1000): number[] {
  const out = new Int16Array(160);
  const seen: number[] = [];
  while (seen.length < max && p.nextFrame(out)) seen.push(out[0]);
  return seen;
}

describe('Player', () => {
  it('plays a prompt frame by frame, then reports done right after the last frame', () => {
    const prompt = ramp(3);
    const p = new Player([{ prompt }]);
    const events: string[] = [];
    p.on('done', () => events.push('done'));
    const out = new Int16Array(160);
    expect(p.nextFrame(out)).toBe(true);
    expect(out).toEqual(prompt.pcm.subarray(0, 160));
    expect(p.nextFrame(out)).toBe(true);
    expect(events).toEqual([]);
    expect(p.nextFrame(out)).toBe(true);
    expect(out[159]).toBe(300);
    expect(events).toEqual(['done']);
    expect(p.state).toBe('done');
    out.fill(7);
    expect(p.nextFrame(out)).toBe(false);
    expect(out.every((v) => v === 0)).toBe(true);
    expect(events).toEqual(['done']);
  });

  it('plays silences and puts gapMs between items', () => {
    const p = new Player([{ prompt: ramp(2) }, { silenceMs: 40 }, { prompt: ramp(1, 9) }], { gapMs: 20 });
    expect(drain(p)).toEqual([100, 200, 0, 0, 0, 0, 900]);
    expect(p.framesPlayed).toBe(7);
  });

  it('rounds silence up to whole frames and skips empty items; an empty list is done at once', () => {
    expect(drain(new Player([{ silenceMs: 30 }, { silenceMs: 0 }, { prompt: ramp(1) }]))).toEqual([0, 0, 100]);
    const empty = new Player([]);
    let done = 0;
    empty.on('done', () => done++);
    expect(drain(empty)).toEqual([]);
    expect(done).toBe(1);
  });

  it('loops (music on hold) with the gap between rounds until stopped', () => {
    const p = new Player([{ prompt: ramp(2) }], { loop: true, gapMs: 20 });
    const reasons: string[] = [];
    p.on('done', () => reasons.push('done'));
    p.on('stopped', (r) => reasons.push(r));
    expect(drain(p, 9)).toEqual([100, 200, 0, 100, 200, 0, 100, 200, 0]);
    p.stop();
    p.stop();
    expect(reasons).toEqual(['stop']);
    expect(p.state).toBe('stopped');
    expect(p.nextFrame(new Int16Array(160))).toBe(false);
  });

  it('barges in only on items that allow it', () => {
    const p = new Player([{ prompt: ramp(2), bargeIn: false }, { prompt: ramp(2, 5) }], { gapMs: 20 });
    const reasons: string[] = [];
    p.on('stopped', (r) => reasons.push(r));
    const out = new Int16Array(160);
    p.nextFrame(out);
    expect(p.bargeIn()).toBe(false); // welcome message: must be heard
    p.nextFrame(out);
    expect(p.bargeIn()).toBe(true); // in the gap before the menu, which allows barge-in
    expect(reasons).toEqual(['barge-in']);
    expect(p.bargeIn()).toBe(false);
    expect(p.nextFrame(out)).toBe(false);
  });

  it('honours bargeIn: false as the player default', () => {
    const p = new Player([{ prompt: ramp(2) }], { bargeIn: false });
    p.nextFrame(new Int16Array(160));
    expect(p.bargeIn()).toBe(false);
    expect(p.state).toBe('playing');
  });

  it('hands out pre-encoded G.711 views and copies, silence included, reusing one view object', () => {
    const prompt = ramp(2);
    const p = new Player([{ prompt }, { silenceMs: 20 }]);
    const v1 = p.nextPayload('PCMU')!;
    expect(v1.data).toBe(prompt.payloads.PCMU);
    expect(v1.offset).toBe(0);
    expect(v1.length).toBe(160);
    const v2 = p.nextPayload('PCMU')!;
    expect(v2).toBe(v1);
    expect(v2.offset).toBe(160);
    const buf = Buffer.alloc(12 + 160, 1);
    expect(p.nextPayloadInto('PCMA', buf, 12)).toBe(160);
    expect(buf[11]).toBe(1);
    expect(buf.subarray(12).every((b) => b === 0xd5)).toBe(true);
    expect(p.nextPayload('PCMU')).toBeNull();
    expect(p.nextPayloadInto('PCMU', buf)).toBe(0);
  });

  it('lets many players share one prompt with independent cursors', () => {
    const prompt = ramp(3);
    const a = new Player([{ prompt }]);
    const b = new Player([{ prompt }]);
    const out = new Int16Array(160);
    a.nextFrame(out);
    a.nextFrame(out);
    b.nextFrame(out);
    expect(out[0]).toBe(100);
    a.nextFrame(out);
    expect(out[0]).toBe(300);
  });

  it('isolates a listener that throws', () => {
    const p = new Player([{ prompt: ramp(1) }]);
    let after = 0;
    p.on('done', () => {
      throw new Error('boom');
    });
    p.on('done', () => after++);
    expect(() => p.nextFrame(new Int16Array(160))).not.toThrow();
    expect(after).toBe(1);
    expect(p.listenerErrors).toBe(1);
  });
});
