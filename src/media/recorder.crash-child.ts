// Test helper (not a test): a process that records a 440 Hz tone and is then killed mid-recording
// by recorder.test.ts. Usage: node --import tsx recorder.crash-child.ts OUT.wav SECONDS
// Prints "ready <bytesOnDisk>" once that much audio is on disk, then idles until killed.
import { Recorder } from './recorder.js';

// Never outlive a test that failed before killing us (a timed-out test leaves no one to do it).
setTimeout(() => process.exit(3), 60_000);

const [path, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? '3.5');
const rec = await Recorder.open(path!, { chunkMs: 1000, staggerFirstChunk: false });
const frame = new Int16Array(160);
const frames = Math.round(seconds * 50);
for (let f = 0; f < frames; f++) {
  for (let i = 0; i < 160; i++) frame[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (f * 160 + i)) / 8000));
  rec.write(frame);
  if (f % 25 === 24) await new Promise((r) => setTimeout(r, 5));
}
const full = Math.floor(seconds) * 16000;
while (rec.stats.bytesOnDisk < full) await new Promise((r) => setTimeout(r, 5));
process.stdout.write(`ready ${rec.stats.bytesOnDisk}\n`);
// Idles until killed (or the safety exit above).
