// Crash repair for recordings: a recorder that died before close() leaves a WAV whose RIFF and
// data sizes are 0 (or stale). At the next start, `repairRecordings(dir)` walks the recordings
// directory and `repairWav(path)` rewrites both sizes from the file length, dropping a trailing
// partial sample frame. A file whose header is itself incomplete (the process died within the
// first write) cannot be repaired and is reported, never deleted.
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { WavError, parseWavHeader } from './wav.js';

/** Bytes read to find the fmt and data chunk headers. */
const HEAD_BYTES = 4096;

/**
 * Fixes the RIFF and data chunk sizes of a WAV file from its length when they are 0, 0xFFFFFFFF,
 * past the end of the file, or disagree with the file length; truncates a partial trailing sample
 * frame. Assumes the data chunk is the last chunk (as the recorder writes it). Returns true when
 * it changed the file, false when the file was already consistent. Throws WavError when the file
 * is not a WAV whose header can be read.
 */
export function repairWav(path: string): boolean {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    readSync(fd, head, 0, head.length, 0);
    const info = parseWavHeader(head, path, size);
    const riffSize = head.readUInt32LE(4);
    const dataSizeAt = info.dataOffset - 4;
    const dataSize = head.readUInt32LE(dataSizeAt);
    const consistent =
      dataSize !== 0 &&
      dataSize !== 0xffffffff &&
      info.dataOffset + dataSize <= size &&
      riffSize + 8 === size &&
      dataSize % info.blockAlign === 0;
    if (consistent) return false;
    const avail = size - info.dataOffset;
    const whole = avail - (avail % info.blockAlign);
    if (whole !== avail) ftruncateSync(fd, info.dataOffset + whole);
    const fields = Buffer.alloc(4);
    fields.writeUInt32LE(info.dataOffset + whole - 8, 0);
    writeSync(fd, fields, 0, 4, 4);
    fields.writeUInt32LE(whole, 0);
    writeSync(fd, fields, 0, 4, dataSizeAt);
    return true;
  } finally {
    closeSync(fd);
  }
}

export interface RepairResult {
  /** Files whose header was fixed. */
  repaired: string[];
  /** Files already consistent. */
  ok: number;
  /** Files that could not be read as WAV or repaired, with the reason. */
  failed: { path: string; error: Error }[];
}

/** Repairs every `*.wav` under `dir` (recursively by default). Run at start-up, before new recordings open. */
export function repairRecordings(dir: string, opts: { recursive?: boolean } = {}): RepairResult {
  const result: RepairResult = { repaired: [], ok: 0, failed: [] };
  const names = readdirSync(dir, { recursive: opts.recursive ?? true, encoding: 'utf8' });
  for (const name of names) {
    if (!name.toLowerCase().endsWith('.wav')) continue;
    const path = join(dir, name);
    try {
      if (repairWav(path)) result.repaired.push(path);
      else result.ok++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EISDIR') continue;
      result.failed.push({ path, error: e instanceof WavError || e instanceof Error ? e : new Error(String(e)) });
    }
  }
  return result;
}
