// Recorder: tones recorded and read back (our reader and sox), stereo placement, pause as
// silence, bounded memory when the disk lags, and repair after a crash (a killed child process,
// and hand-corrupted headers).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidStateError } from '../lib/errors.js';
import { Recorder, repairRecordings, repairWav } from './recorder.js';
import { WavError, readWav } from './wav.js';

const tmp = mkdtempSync(join(tmpdir(), 'recorder-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const haveSox = spawnSync('sh', ['-c', 'command -v soxi'], { stdio: 'ignore' }).status === 0;
let fileNo = 0;
const nextPath = (): string => join(tmp, `rec-${++fileNo}.wav`);

function toneFrame(freq: number, frame: number, out: Int16Array, amp = 8000): Int16Array {
  for (let i = 0; i < 160; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * (frame * 160 + i)) / 8000));
  return out;
}
function tone(freq: number, frames: number, amp = 8000): Int16Array {
  const x = new Int16Array(frames * 160);
  for (let f = 0; f < frames; f++) x.set(toneFrame(freq, f, new Int16Array(160), amp), f * 160);
  return x;
}
function soxi(path: string, flag: string): string {
  return spawnSync('soxi', [flag, path], { encoding: 'utf8' }).stdout.trim();
}

describe('Recorder', () => {
  it('records a mono tone that reads back sample for sample (and soxi agrees)', async () => {
    const path = nextPath();
    // Written ~50× faster than real time: room for every chunk in flight (dropping under a slow
    // disk is the 'drops' test's subject, not this one's).
    const rec = await Recorder.open(path, { chunkMs: 100, maxQueuedChunks: 64 });
    const f = new Int16Array(160);
    for (let k = 0; k < 137; k++) {
      rec.write(toneFrame(440, k, f));
      if (k % 5 === 4) await new Promise((r) => setTimeout(r, 1)); // 100 ms chunks, written as they fill
    }
    await rec.close();
    await rec.close(); // idempotent
    const w = readWav(path);
    expect(w).toMatchObject({ sampleRate: 8000, channels: 1, format: 'pcm16', truncated: false, frames: 137 * 160 });
    expect(w.samples).toEqual(tone(440, 137));
    expect(statSync(path).size).toBe(44 + 137 * 320);
    expect(rec.stats).toMatchObject({ frames: 137 * 160, droppedFrames: 0, bytesOnDisk: 137 * 320, writeErrors: 0 });
    if (haveSox) {
      expect(soxi(path, '-r')).toBe('8000');
      expect(soxi(path, '-c')).toBe('1');
      expect(soxi(path, '-s')).toBe(String(137 * 160));
      expect(soxi(path, '-b')).toBe('16');
    }
    expect(() => rec.write(f)).toThrow(InvalidStateError);
  });

  it('puts the caller on the left and the other party on the right', async () => {
    const path = nextPath();
    const rec = await Recorder.open(path, { stereo: true });
    const l = new Int16Array(160);
    const r = new Int16Array(160);
    for (let k = 0; k < 60; k++) rec.write(toneFrame(440, k, l), toneFrame(1000, k, r, 3000));
    rec.write(toneFrame(440, 60, l)); // other party silent for this frame
    await rec.close();
    const w = readWav(path);
    expect(w.channels).toBe(2);
    expect(w.frames).toBe(61 * 160);
    const left = tone(440, 61);
    const right = tone(1000, 60, 3000);
    for (let i = 0; i < w.frames; i++) {
      expect(w.samples[2 * i]).toBe(left[i]);
      expect(w.samples[2 * i + 1]).toBe(i < 60 * 160 ? right[i] : 0);
    }
    if (haveSox) {
      expect(soxi(path, '-c')).toBe('2');
      // sox's own channel split: the left channel of the file is the 440 Hz caller.
      const out = spawnSync('sox', [path, '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-L', '-', 'remix', '1']);
      const b = out.stdout as Buffer;
      expect(b.length).toBe(61 * 320);
      for (let i = 0; i < 160; i++) expect(b.readInt16LE(i * 2)).toBe(left[i]);
    }
  });

  it('records silence while paused, keeping the timeline and both channels aligned', async () => {
    const path = nextPath();
    const rec = await Recorder.open(path, { stereo: true });
    const l = new Int16Array(160);
    const r = new Int16Array(160);
    for (let k = 0; k < 75; k++) {
      if (k === 25) rec.pause();
      if (k === 50) rec.resume();
      rec.write(toneFrame(440, k, l), toneFrame(700, k, r));
    }
    expect(rec.paused).toBe(false);
    await rec.close();
    const w = readWav(path);
    expect(w.frames).toBe(75 * 160);
    expect(rec.stats.pausedFrames).toBe(25 * 160);
    const left = tone(440, 75);
    const right = tone(700, 75);
    for (let i = 0; i < w.frames; i++) {
      const paused = i >= 25 * 160 && i < 50 * 160;
      expect(w.samples[2 * i]).toBe(paused ? 0 : left[i]);
      expect(w.samples[2 * i + 1]).toBe(paused ? 0 : right[i]);
    }
  });

  it('keeps memory bounded when the disk lags: drops and counts instead of queueing', async () => {
    const path = nextPath();
    // 20 ms chunks, at most 2 waiting: 3 chunks of memory in all.
    const rec = await Recorder.open(path, { chunkMs: 20, maxQueuedChunks: 2 });
    const f = new Int16Array(160).fill(1);
    // 100 frames in one synchronous burst: the first write cannot complete before the burst ends.
    for (let k = 0; k < 100; k++) rec.write(f);
    expect(rec.stats.droppedFrames).toBeGreaterThan(90 * 160);
    await rec.close();
    const w = readWav(path);
    expect(w.frames + rec.stats.droppedFrames).toBe(100 * 160);
    expect(w.frames).toBeLessThanOrEqual(3 * 160);
  });

  it('refuses to overwrite unless asked', async () => {
    const path = nextPath();
    await (await Recorder.open(path)).close();
    await expect(Recorder.open(path)).rejects.toMatchObject({ code: 'EEXIST' });
    await (await Recorder.open(path, { overwrite: true })).close();
  });

  it('staggers the first chunk of recordings started together (50–100 % of a chunk, whole sample frames)', async () => {
    const recs = await Promise.all(Array.from({ length: 20 }, () => Recorder.open(nextPath(), { stereo: true, chunkMs: 1000 })));
    const chunk = 8000 * 4;
    for (const r of recs) {
      expect(r.firstChunkBytes).toBeGreaterThanOrEqual(chunk / 2);
      expect(r.firstChunkBytes).toBeLessThanOrEqual(chunk);
      expect(r.firstChunkBytes % 4).toBe(0);
    }
    expect(new Set(recs.map((r) => r.firstChunkBytes)).size).toBeGreaterThan(10);
    // The audio is whole whatever the chunking.
    const f = new Int16Array(160);
    for (let i = 0; i < 160; i++) f[i] = i;
    for (let k = 0; k < 75; k++) for (const r of recs) r.write(f, f);
    await Promise.all(recs.map((r) => r.close()));
    for (const r of recs) {
      const w = readWav(r.path);
      expect(w.frames).toBe(75 * 160);
      expect(w.samples[2 * 159]).toBe(159);
    }
    const plain = await Recorder.open(nextPath(), { chunkMs: 1000, staggerFirstChunk: false });
    expect(plain.firstChunkBytes).toBe(8000 * 2);
    await plain.close();
  });

  it('leaves sizes 0 until close, which the reader tolerates', async () => {
    const path = nextPath();
    const rec = await Recorder.open(path, { chunkMs: 20, staggerFirstChunk: false });
    const f = new Int16Array(160).fill(5);
    rec.write(f);
    rec.write(f);
    while (rec.stats.bytesOnDisk < 640) await new Promise((r) => setTimeout(r, 2));
    const head = readFileSync(path);
    expect(head.readUInt32LE(40)).toBe(0);
    const w = readWav(path);
    expect(w.truncated).toBe(true);
    expect(w.frames).toBe(320);
    await rec.close();
    expect(readWav(path).truncated).toBe(false);
  });
});

describe('crash repair', () => {
  it('repairs a recording whose writer process was killed', async () => {
    const path = nextPath();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'recorder.crash-child.ts'), path, '3.5'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    let onDisk: number;
    try {
      onDisk = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /ready (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
      });
    } finally {
      // Killed whatever happened: a failed wait must not leave it running (it competes for the CPU).
      child.kill('SIGKILL');
      await exited;
    }
    // What a crash leaves: 3 s on disk, header sizes still 0, the last 0.5 s lost with the process.
    expect(onDisk).toBe(3 * 16000);
    const before = readFileSync(path);
    expect(before.length).toBe(44 + onDisk);
    expect(before.readUInt32LE(4)).toBe(36); // provisional: header only
    expect(before.readUInt32LE(40)).toBe(0);

    expect(repairWav(path)).toBe(true);
    expect(repairWav(path)).toBe(false);
    const after = readFileSync(path);
    expect(after.readUInt32LE(4)).toBe(36 + onDisk);
    expect(after.readUInt32LE(40)).toBe(onDisk);
    const w = readWav(path);
    expect(w.truncated).toBe(false);
    expect(w.samples).toEqual(tone(440, 150));
    if (haveSox) expect(soxi(path, '-s')).toBe(String(3 * 8000));
  });

  it('repairs wrong sizes and a half-written last sample across a directory', async () => {
    const dir = join(tmp, 'recordings');
    mkdirSync(join(dir, '2024-05-01'), { recursive: true });
    const good = join(dir, 'good.wav');
    const zero = join(dir, '2024-05-01', 'zero.wav');
    const wrong = join(dir, '2024-05-01', 'wrong.wav');
    const broken = join(dir, 'broken.wav');
    for (const p of [good, zero, wrong]) {
      const rec = await Recorder.open(p, { stereo: true });
      const f = new Int16Array(160);
      for (let k = 0; k < 10; k++) rec.write(toneFrame(300, k, f), f);
      await rec.close();
    }
    const z = readFileSync(zero);
    z.writeUInt32LE(0, 4);
    z.writeUInt32LE(0, 40);
    writeFileSync(zero, Buffer.concat([z, Buffer.from([1, 2, 3])])); // and a partial stereo frame
    const w = readFileSync(wrong);
    w.writeUInt32LE(0xffffffff, 4);
    w.writeUInt32LE(123457, 40);
    writeFileSync(wrong, w);
    writeFileSync(broken, Buffer.from('RIFF\0\0\0\0WAVEfm')); // died inside the header
    writeFileSync(join(dir, 'notes.txt'), 'not audio');

    const res = repairRecordings(dir);
    expect(res.repaired.sort()).toEqual([wrong, zero].sort());
    expect(res.ok).toBe(1);
    expect(res.failed.map((f) => f.path)).toEqual([broken]);
    expect(res.failed[0].error).toBeInstanceOf(WavError);

    const expected = readWav(good).samples;
    for (const p of [zero, wrong]) {
      const r = readWav(p);
      expect(r.truncated).toBe(false);
      expect(r.samples).toEqual(expected);
      expect(statSync(p).size).toBe(44 + 10 * 640);
    }
  });

  it('reports a file with no header at all', () => {
    const p = join(tmp, 'empty.wav');
    writeFileSync(p, '');
    expect(() => repairWav(p)).toThrow(WavError);
    truncateSync(p, 0);
  });
});
