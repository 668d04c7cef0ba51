// Realtime scheduling of the media threads (native/rtp-io/realtime.c), in child processes so the
// test runner's own threads keep normal scheduling. As root (CI, this machine) the threads must
// really be on SCHED_FIFO; without the privilege the call must report EPERM and change nothing.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const addonPath = fileURLToPath(new URL('../../native/rtp-io/build/Release/rtp_io.node', import.meta.url));
const privileged = process.getuid?.() === 0;

function run(script: string): unknown {
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

// Scheduling policy of a thread (/proc stat field 41: 0 normal, 1 SCHED_FIFO).
const policyOf = `
  const fs = require('fs');
  const policyOf = (tid) => Number(fs.readFileSync('/proc/' + process.pid + '/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[38]);
  const threads = () => fs.readdirSync('/proc/' + process.pid + '/task').map((t) => ({ tid: t, name: fs.readFileSync('/proc/' + process.pid + '/task/' + t + '/comm', 'utf8').trim() }));
`;

describe('media realtime scheduling', () => {
  it('puts the JS thread and the I/O thread on SCHED_FIFO and back; what they start later does not inherit it', () => {
    const out = run(`
      ${policyOf}
      const a = require(${JSON.stringify(addonPath)});
      a.init(new Int32Array(64), () => {}, { thread: true, sendOnThread: false });
      const id = a.open(false, '127.0.0.1', 0, Buffer.alloc(2048), 0, 0); // the I/O thread runs now
      const io = () => threads().find((t) => t.name === 'rtp-io');
      const res = { before: policyOf(process.pid) };
      for (let i = 0; i < 100 && !io(); i++) require('child_process').execSync('sleep 0.01');
      res.set = a.setRealtime(10);
      res.main = policyOf(process.pid);
      res.io = policyOf(io().tid);
      // A child process (and any thread) made now starts on the normal scheduler (SCHED_RESET_ON_FORK).
      res.child = Number(require('child_process').execSync('cat /proc/self/stat').toString().split(') ')[1].split(' ')[38]);
      res.reset = a.setRealtime(0);
      res.mainAfter = policyOf(process.pid);
      res.ioAfter = policyOf(io().tid);
      try { a.setRealtime(100); } catch (e) { res.error = e.constructor.name + ': ' + e.message; }
      a.close(id);
      console.log(JSON.stringify(res));
    `);
    if (privileged) {
      expect(out).toEqual({ before: 0, set: { main: 0, io: 0 }, main: 1, io: 1, child: 0, reset: { main: 0, io: 0 }, mainAfter: 0, ioAfter: 0, error: 'RangeError: priority must be an integer 0..99' });
    } else {
      expect(out).toMatchObject({ before: 0, set: { main: -1 /* EPERM */, io: null }, main: 0, io: 0 });
    }
  });

  it('an I/O thread started after the JS thread went realtime takes the priority itself', () => {
    const out = run(`
      ${policyOf}
      const a = require(${JSON.stringify(addonPath)});
      const set = a.setRealtime(7);
      a.init(new Int32Array(64), () => {}, { thread: true, sendOnThread: false });
      const id = a.open(false, '127.0.0.1', 0, Buffer.alloc(2048), 0, 0);
      let io;
      for (let i = 0; i < 100 && !(io = threads().find((t) => t.name === 'rtp-io')); i++) require('child_process').execSync('sleep 0.01');
      const res = { set, io: policyOf(io.tid) };
      a.close(id);
      console.log(JSON.stringify(res));
    `);
    if (privileged) expect(out).toEqual({ set: { main: 0, io: null }, io: 1 });
    else expect(out).toEqual({ set: { main: -1, io: null }, io: 0 });
  });
});
