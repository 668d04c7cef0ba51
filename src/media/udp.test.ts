// The MediaSocket contract in rtp-io's default mode ('off': every socket syscall on the JS
// thread), and the add-on's own smoke script in every mode. udp-recv.test.ts and
// udp-thread.test.ts run the contract in the two I/O-thread modes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mediaSocketContract } from './udp-contract.js';
import { nativeIoMode, nativeLoadError, setNativeIoMode } from './udp-native.js';

mediaSocketContract('off');

/** Runs smoke.cjs with `env`; resolves with its stdout and exit code. */
function smoke(env: Record<string, string>): Promise<{ out: string; code: number | null }> {
  const script = fileURLToPath(new URL('../../native/rtp-io/smoke.cjs', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ out, code });
    });
  });
}

describe('native rtp-io add-on', () => {
  it('is built (npm install runs node-gyp; the media path depends on it for capacity)', () => {
    expect(nativeLoadError()).toBeNull();
  });

  it('takes its I/O mode (config media.ioThread) only before it is set up', () => {
    expect(nativeIoMode()).toBe('off');
    setNativeIoMode('off'); // the mode in use: fine
    expect(() => setNativeIoMode('recv')).toThrow(/already set up in mode 'off'/);
  });

  it('passes its own checks in each mode, in fresh processes (native/rtp-io/smoke.cjs: argument errors, re-entrant calls from a batch, id reuse after close, ring overflow, worker refusal, exit when idle, the gathering window)', async () => {
    const runs = await Promise.all([
      smoke({ RTP_IO_THREAD: '0' }),
      smoke({ RTP_IO_THREAD: '1', RTP_IO_SEND_ON_THREAD: '0' }),
      smoke({ RTP_IO_THREAD: '1', RTP_IO_SEND_ON_THREAD: '1' }),
      // The I/O thread's gathering window (SWITCHBOARD_RTP_IO_COALESCE_US), in both thread modes.
      smoke({ RTP_IO_THREAD: '1', RTP_IO_SEND_ON_THREAD: '0', RTP_IO_COALESCE_US: '20000' }),
      smoke({ RTP_IO_THREAD: '1', RTP_IO_SEND_ON_THREAD: '1', RTP_IO_COALESCE_US: '20000' }),
    ]);
    for (const r of runs) {
      expect(r.out.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(r.out).toContain('all checks passed');
      expect(r.code).toBe(0);
    }
  }, 100_000);
});

