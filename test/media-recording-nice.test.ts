// The recording worker runs at the media thread's nice value, also when the media thread is
// realtime: SCHED_RESET_ON_FORK would otherwise put a negative nice back to 0 for the worker, and
// on a busy host it then fell behind and dropped frames (bench:media, 500 recorded pairs). In a
// child process, so the test runner's threads keep their scheduling; needs root (CI, this machine).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./support/recording-nice-child.ts', import.meta.url));
const privileged = process.getuid?.() === 0;

describe('recording worker scheduling', () => {
  it.skipIf(!privileged)('takes the realtime media thread\'s negative nice value, on the normal scheduler', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, LOG_LEVEL: 'warn' } });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { realtime: boolean; reported: number; nice: number; policy: number };
    expect(out.realtime).toBe(true);
    expect(out.nice).toBe(-4);
    expect(out.reported).toBe(-4);
    expect(out.policy).toBe(0); // SCHED_OTHER: recording needs no realtime
  }, 40_000);
});
