// The media clock's precise timer (native/rtp-io/media_timer.c behind src/media/precise-timer.ts)
// on the real event loop: order, cancellation, never early, and a shared media clock that uses it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MediaClock } from '../lib/media-clock.js';
import { defaultMediaClock, preciseTimerClock, preciseTimerLoadError } from './precise-timer.js';

const addonPath = fileURLToPath(new URL('../../native/rtp-io/build/Release/rtp_io.node', import.meta.url));

function clock() {
  const c = preciseTimerClock();
  if (c === null) throw preciseTimerLoadError() ?? new Error('precise timer off (SWITCHBOARD_MEDIA_TIMER=node)');
  return c;
}

describe('precise media timer', () => {
  it('is built and in use by default', () => {
    expect(preciseTimerLoadError()).toBeNull();
    expect(preciseTimerClock()).not.toBeNull();
  });

  it('runs many timers over the one native timer, in deadline order, and honours clearTimeout', async () => {
    const c = clock();
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      c.setTimeout(() => order.push('30'), 30);
      c.setTimeout(() => order.push('10'), 10);
      const cancelled = c.setTimeout(() => order.push('5 (cancelled)'), 5);
      c.setTimeout(() => order.push('20'), 20);
      c.clearTimeout(cancelled); // the earliest: the native timer is re-armed for the next
      c.setTimeout(() => resolve(), 45);
    });
    const keep = setInterval(() => undefined, 1000); // the timer itself does not keep Node alive
    await done;
    clearInterval(keep);
    expect(order).toEqual(['10', '20', '30']);
  });

  it('never fires before the deadline, fractional delays included (Node rounds them to whole ms)', async () => {
    const c = clock();
    const early: number[] = [];
    const keep = setInterval(() => undefined, 1000);
    for (let i = 0; i < 100; i++) {
      const delay = 0.3 + (i % 7) * 0.37;
      const due = performance.now() + delay;
      await new Promise<void>((resolve) =>
        c.setTimeout(() => {
          const d = performance.now() - due;
          if (d < -0.02) early.push(d); // the clock's documented slack
          resolve();
        }, delay),
      );
    }
    clearInterval(keep);
    expect(early).toEqual([]);
  });

  it('clearing every timer cancels the native one (nothing fires)', async () => {
    const c = clock();
    let fired = 0;
    const h1 = c.setTimeout(() => fired++, 5);
    const h2 = c.setTimeout(() => fired++, 6);
    c.clearTimeout(h2);
    c.clearTimeout(h1);
    c.clearTimeout(h1); // twice: a no-op
    c.clearTimeout(undefined);
    const before = c.stats().fired;
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(0);
    expect(c.stats().fired).toBe(before);
  });

  it('drives the process-wide media clock (sessions and mixers use it by default)', async () => {
    const mc = defaultMediaClock();
    expect(mc).toBe(defaultMediaClock());
    const before = clock().stats().fired;
    const ticks: number[] = [];
    const keep = setInterval(() => undefined, 1000);
    const remove = mc.add({ onMediaTick: (t) => void ticks.push(t) });
    await new Promise((r) => setTimeout(r, 130));
    remove();
    clearInterval(keep);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(clock().stats().fired).toBeGreaterThan(before); // fails if the shared clock is still on setTimeout
  });

  it('a private MediaClock on it keeps the 20 ms grid (no drift over 0.5 s)', async () => {
    const mc = new MediaClock({ clock: clock() });
    const times: number[] = [];
    mc.add({ onMediaTick: (_t, now) => void times.push(now) });
    const keep = setInterval(() => undefined, 1000);
    const t0 = performance.now();
    mc.start();
    await new Promise((r) => setTimeout(r, 510));
    mc.stop();
    clearInterval(keep);
    expect(times.length).toBeGreaterThanOrEqual(20);
    const n = times.length;
    // Each tick ran at or after its grid deadline (start + n*20), never before.
    for (let i = 0; i < n; i++) expect(times[i]! - (t0 + (i + 1) * 20)).toBeGreaterThan(-0.6);
  });

  it('the add-on timer: argument and order-of-use errors, and a pending timer never holds the process open', () => {
    const script = `
      const a = require(${JSON.stringify(addonPath)});
      const out = [];
      const t = (f) => { try { f(); out.push('ok'); } catch (e) { out.push(e.constructor.name + ': ' + e.message); } };
      t(() => a.timerArm(5));
      t(() => a.timerInit(42));
      t(() => a.timerInit(() => { out.push('fired'); }));
      t(() => a.timerInit(() => {}));
      t(() => a.timerArm('soon'));
      t(() => a.timerArm(0));
      setTimeout(() => {
        out.push('stats ' + JSON.stringify(a.timerStats()));
        a.timerArm(60_000); // must not keep the process alive for a minute
        console.log(JSON.stringify(out));
      }, 20);
    `;
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(JSON.parse(r.stdout)).toEqual([
      'Error: media timer: timerInit() has not been called in this environment',
      'TypeError: onTimer must be a function',
      'ok',
      'Error: media timer: timerInit() already called',
      'TypeError: delayMs must be a number',
      'ok',
      'fired',
      'stats {"fired":1,"spurious":0,"serviced":0}',
    ]);
  });
});
