import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { MediaClock, sharedMediaClock, type MediaTickListener } from './media-clock.js';

function recorder(): MediaTickListener & { ticks: number[]; times: number[] } {
  const r = {
    ticks: [] as number[],
    times: [] as number[],
    onMediaTick(tick: number, now: number) {
      r.ticks.push(tick);
      r.times.push(now);
    },
  };
  return r;
}

/**
 * A clock whose timers fire `fireAfter(ms)` after being armed (late, early or exact, as the test
 * scripts it); step() runs the oldest pending timer at its firing time.
 */
function scriptedClock(fireAfter: (ms: number) => number) {
  let t = 0;
  let timers = 0;
  const pending: { at: number; fn: () => void }[] = [];
  return {
    clock: {
      now: () => t,
      setTimeout: (fn: () => void, ms: number) => {
        timers++;
        pending.push({ at: t + fireAfter(ms), fn });
        return 0 as never;
      },
      clearTimeout: () => {},
    },
    get timers() {
      return timers;
    },
    step(): void {
      const p = pending.shift()!;
      t = p.at;
      p.fn();
    },
  };
}

describe('MediaClock (injected time)', () => {
  it('ticks at start + n*20 ms', () => {
    const clock = new ManualClock();
    const mc = new MediaClock({ clock });
    const r = recorder();
    mc.add(r);
    mc.start();
    clock.advance(100);
    expect(r.ticks).toEqual([1, 2, 3, 4, 5]);
    expect(r.times).toEqual([20, 40, 60, 80, 100]);
    expect(mc.skipped).toBe(0);
    expect(mc.lateness.max).toBe(0);
  });

  it('does not drift when every timer fires late: deadlines stay on the grid', () => {
    // The timer fires 3 ms late every time; a re-armed relative timer would drift 3 ms per tick.
    const sc = scriptedClock((ms) => ms + 3);
    const mc = new MediaClock({ clock: sc.clock });
    const r = recorder();
    mc.add(r);
    mc.start();
    for (let i = 0; i < 1000; i++) sc.step();
    expect(r.ticks.length).toBe(1000);
    // Tick 1000 ran 3 ms after its deadline 20_000, not 3_000 ms late.
    expect(r.times[999]).toBe(20_003);
    expect(mc.lateness.max).toBe(3);
    expect(mc.lateness.p99()).toBe(3);
  });

  it('re-arms instead of running when woken early', () => {
    const sc = scriptedClock((ms) => Math.max(0, ms - 2)); // fires 2 ms early
    const mc = new MediaClock({ clock: sc.clock });
    const r = recorder();
    mc.add(r);
    mc.start();
    for (let i = 0; i < 6; i++) sc.step();
    expect(r.times.every((x, i) => x >= (i + 1) * 20 - 0.5)).toBe(true);
  });

  it('skips missed ticks after a stall and re-aligns (no burst)', () => {
    const clock = new ManualClock();
    let stall = 0;
    const mc = new MediaClock({ clock, now: () => clock.now() + stall });
    const r = recorder();
    mc.add(r);
    mc.start();
    clock.advance(40); // ticks 1, 2
    stall = 107; // the event loop was blocked for 107 ms before tick 3's timer ran
    clock.advance(20);
    // now = 167: ticks 3..7 were due (60..140) + 8 is due at 160; only tick 8 runs.
    expect(r.ticks).toEqual([1, 2, 8]);
    expect(mc.skipped).toBe(5);
    expect(mc.lateness.max).toBe(7);
    // Back on the grid: tick 9 at 180, tick 10 at 200 (time source now 207).
    clock.advance(40);
    expect(r.ticks.slice(3)).toEqual([9, 10]);
    expect(r.times.slice(3)).toEqual([180, 200]);
  });

  it('isolates a throwing listener and counts it', () => {
    const clock = new ManualClock();
    const mc = new MediaClock({ clock });
    const r1 = recorder();
    const r2 = recorder();
    mc.add(r1);
    mc.add({
      onMediaTick() {
        throw new Error('boom');
      },
    });
    mc.add(r2);
    mc.start();
    clock.advance(60);
    expect(r1.ticks).toEqual([1, 2, 3]);
    expect(r2.ticks).toEqual([1, 2, 3]);
    expect(mc.errors).toBe(3);
  });

  it('remove() is idempotent and safe during a tick', () => {
    const clock = new ManualClock();
    const mc = new MediaClock({ clock });
    const r = recorder();
    let removeSelf: () => void = () => {};
    const self = {
      n: 0,
      onMediaTick() {
        self.n++;
        removeSelf();
        removeSelf();
      },
    };
    removeSelf = mc.add(self);
    mc.add(r);
    mc.start();
    clock.advance(60);
    expect(self.n).toBe(1);
    expect(r.ticks).toEqual([1, 2, 3]);
  });

  it('stop() cancels the timer; autoStart follows listeners', () => {
    const clock = new ManualClock();
    const mc = new MediaClock({ clock, autoStart: true });
    expect(mc.running).toBe(false);
    const r = recorder();
    const rm = mc.add(r);
    expect(mc.running).toBe(true);
    clock.advance(40);
    rm();
    expect(mc.running).toBe(false);
    expect(clock.pending).toBe(0);
    clock.advance(100);
    expect(r.ticks).toEqual([1, 2]);
  });

  it('setTimerSource() moves the pending timer to the new source without moving the grid', () => {
    const a = new ManualClock();
    const b = new ManualClock();
    const mc = new MediaClock({ clock: a });
    const r = recorder();
    mc.add(r);
    mc.start();
    a.advance(50); // ticks 1, 2; tick 3 pending on a
    expect(a.pending).toBe(1);
    mc.setTimerSource(b);
    expect(a.pending).toBe(0); // fails if the old timer is left armed (ticks would run twice)
    // b's now() is the time base from here on (it starts at 0): the next deadline stays at 60 on
    // the grid, so nothing runs before b passes 60, and then tick 3 runs once.
    b.advance(50);
    expect(r.ticks).toEqual([1, 2]);
    b.advance(20);
    expect(r.ticks).toEqual([1, 2, 3]);
    mc.stop();
    expect(b.pending).toBe(0);
  });

  it('sharedMediaClock() is one instance', () => {
    expect(sharedMediaClock()).toBe(sharedMediaClock());
    expect(sharedMediaClock().intervalMs).toBe(20);
  });
});

describe('MediaClock slots', () => {
  it('spreads listeners over the slots and ticks each once per interval at its offset', () => {
    const clock = new ManualClock();
    const mc = new MediaClock({ clock, slots: 4 });
    const rs = [recorder(), recorder(), recorder(), recorder(), recorder()];
    for (const r of rs) mc.add(r);
    expect(mc.slotSizes()).toEqual([2, 1, 1, 1]);
    expect(rs.map((r) => mc.slotOf(r))).toEqual([0, 1, 2, 3, 0]);
    mc.start();
    clock.advance(60);
    expect(rs[0]!.times).toEqual([20, 40, 60]);
    expect(rs[1]!.times).toEqual([25, 45]);
    expect(rs[3]!.times).toEqual([35, 55]);
    expect(rs[4]!.ticks).toEqual([1, 2, 3]);
    expect(rs[3]!.ticks).toEqual([1, 2]);
    clock.advance(20);
    expect(rs[3]!.ticks).toEqual([1, 2, 3]);
    expect(mc.lateness.max).toBe(0);
  });

  it('fills the least-used slot after removals; an explicit slot is honoured and checked', () => {
    const mc = new MediaClock({ clock: new ManualClock(), slots: 3 });
    const a = recorder();
    const b = recorder();
    const c = recorder();
    const rmA = mc.add(a);
    mc.add(b);
    mc.add(c);
    rmA();
    expect(mc.slotSizes()).toEqual([0, 1, 1]);
    const d = recorder();
    mc.add(d);
    expect(mc.slotOf(d)).toBe(0);
    const e = recorder();
    mc.add(e, 2);
    expect(mc.slotOf(e)).toBe(2);
    mc.add(e, 0); // already registered: keeps its slot
    expect(mc.slotOf(e)).toBe(2);
    expect(() => mc.add(recorder(), 3)).toThrow(RangeError);
    expect(mc.listenerCount).toBe(4);
  });

  it('runs every onMediaTick of a slot before its afterMediaTick pass', () => {
    const clock = new ManualClock();
    const mc = new MediaClock({ clock, slots: 2 });
    const order: string[] = [];
    const mk = (name: string) => ({
      onMediaTick: (t: number) => void order.push(`${name}.send${t}`),
      afterMediaTick: (t: number) => void order.push(`${name}.recv${t}`),
    });
    mc.add(mk('a'), 0);
    mc.add(mk('b'), 0);
    mc.add(mk('c'), 1);
    mc.start();
    clock.advance(30);
    expect(order).toEqual(['a.send1', 'b.send1', 'a.recv1', 'b.recv1', 'c.send1', 'c.recv1']);
  });

  it('wakes only for slots that have listeners', () => {
    const sc = scriptedClock((ms) => ms);
    const mc = new MediaClock({ clock: sc.clock, slots: 10 });
    const r = recorder();
    mc.add(r, 3);
    mc.start();
    for (let i = 0; i < 5; i++) sc.step();
    expect(r.times).toEqual([26, 46, 66, 86, 106]);
    expect(sc.timers).toBe(6); // start + one re-arm per tick: no wake-ups for the nine empty slots
  });

  it('after a stall runs each slot once for its latest due tick (no burst) and re-aligns', () => {
    const clock = new ManualClock();
    let stall = 0;
    const mc = new MediaClock({ clock, slots: 4, now: () => clock.now() + stall });
    const rs = [recorder(), recorder(), recorder(), recorder()];
    for (const r of rs) mc.add(r);
    mc.start();
    clock.advance(40); // positions up to tick 2 of slot 0 (t=40)
    expect(rs.map((r) => r.ticks.length)).toEqual([2, 1, 1, 1]);
    stall = 100;
    clock.advance(5); // the 45 ms timer ran at 145: the latest due are tick 6 of slots 2, 3 (130, 135) and tick 7 of slots 0, 1 (140, 145)
    expect(rs.map((r) => r.ticks.at(-1))).toEqual([7, 7, 6, 6]);
    expect(rs.map((r) => r.ticks.length)).toEqual([3, 2, 2, 2]); // one run each
    expect(mc.skipped).toBe(4); // 17 slot runs
    clock.advance(20); // back on the grid: 150, 155, 160, 165
    expect(rs.map((r) => r.ticks.at(-1))).toEqual([8, 8, 7, 7]);
    expect(rs[1]!.times.slice(-2)).toEqual([145, 165]);
  });

  it('remove() during a slot run is safe; a throwing listener is isolated in both passes', () => {
    const clock = new ManualClock();
    const mc = new MediaClock({ clock, slots: 2 });
    const r = recorder();
    let removeSelf: () => void = () => {};
    const self = {
      n: 0,
      onMediaTick() {
        self.n++;
        removeSelf();
      },
      afterMediaTick() {
        throw new Error('after');
      },
    };
    removeSelf = mc.add(self, 0);
    mc.add(r, 0);
    mc.add(
      {
        onMediaTick() {
          throw new Error('boom');
        },
      },
      1,
    );
    mc.start();
    clock.advance(60);
    expect(self.n).toBe(1);
    expect(r.ticks).toEqual([1, 2, 3]);
    expect(mc.errors).toBe(1 + 2); // 'after' once (in the run it was removed from), 'boom' in ticks 1 and 2 (slot 1: 30, 50)
  });

  it('sharedMediaClock() has slots', () => {
    expect(sharedMediaClock().slots).toBeGreaterThan(1);
  });
});

describe('MediaClock (real time)', () => {
  it('runs ~1 s with no drift and small lateness', async () => {
    const mc = new MediaClock();
    const r = recorder();
    mc.add(r);
    const t0 = performance.now();
    mc.start();
    await new Promise((res) => setTimeout(res, 1010));
    mc.stop();
    // 50 ticks in 1 s; a loaded CI box may skip a few, but the count never exceeds the grid.
    const last = r.ticks[r.ticks.length - 1]!;
    expect(last).toBeGreaterThanOrEqual(48);
    expect(last).toBeLessThanOrEqual(51);
    // Drift: the last tick ran close to its grid deadline.
    const drift = r.times[r.times.length - 1]! - (t0 + last * 20);
    expect(drift).toBeGreaterThanOrEqual(-1);
    expect(drift).toBeLessThan(15);
    expect(mc.lateness.p99()).toBeLessThan(15);
    console.log(
      `media clock 1 s: ticks=${r.ticks.length} skipped=${mc.skipped} drift=${drift.toFixed(2)} ms ` +
        `p99=${mc.lateness.p99().toFixed(2)} ms max=${mc.lateness.max.toFixed(2)} ms`,
    );
  });
});
