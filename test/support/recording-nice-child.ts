// Child process of media-recording-nice.test.ts: the media thread at nice −4 on SCHED_FIFO (as
// media.realtimePriority makes it), then the first offloaded recording starts the worker. Prints
// the worker thread's nice value and scheduling policy, read from /proc, as JSON.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setMediaRealtime } from '../../src/media/realtime.js';
import { OffloadedRecorder } from '../../src/media/offloaded-recorder.js';

setPriority(-4);
const rt = setMediaRealtime(5);
const dir = mkdtempSync(join(tmpdir(), 'rec-nice-'));
try {
  const rec = await OffloadedRecorder.open(join(dir, 'a.wav'), { stereo: true });
  const info = await OffloadedRecorder.workerThread()!;
  // /proc/<pid>/task/<tid>/stat after the comm: field 19 is nice, field 41 the policy.
  const f = readFileSync(`/proc/${process.pid}/task/${info.tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  await rec.close();
  setMediaRealtime(0);
  console.log(JSON.stringify({ realtime: rt.ok, reported: info.nice, nice: Number(f[16]), policy: Number(f[38]) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
