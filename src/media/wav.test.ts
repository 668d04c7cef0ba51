// WAV reader/writer: the committed fixtures (made by sox), hand-built edge cases, and sox as an
// independent decoder where it is installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WavError, parseWav, parseWavHeader, readWav, readWavFile, wavHeader, writeWav, writeWavHeader } from './wav.js';

const FIX = join(import.meta.dirname, 'fixtures');
const haveSox = spawnSync('sh', ['-c', 'command -v sox && command -v soxi'], { stdio: 'ignore' }).status === 0;
const tmp = mkdtempSync(join(tmpdir(), 'wav-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** sox's own decoding of a file to interleaved 16-bit samples. */
function soxSamples(path: string): Int16Array {
  const r = spawnSync('sox', [path, '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-L', '-'], { maxBuffer: 1 << 26 });
  expect(r.status).toBe(0);
  const b = r.stdout as Buffer;
  const out = new Int16Array(b.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = b.readInt16LE(i * 2);
  return out;
}

/** A RIFF file from chunks: [id, body][]. */
function riff(chunks: [string, Buffer][], form = 'WAVE'): Buffer {
  const parts: Buffer[] = [];
  for (const [id, body] of chunks) {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(body.length, 4);
    parts.push(h, body);
    if (body.length & 1) parts.push(Buffer.alloc(1));
  }
  const inner = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(inner.length + 4, 4);
  head.write(form, 8, 'latin1');
  return Buffer.concat([head, inner]);
}
function fmtBody(tag: number, channels: number, rate: number, bits: number, extra?: Buffer): Buffer {
  const b = Buffer.alloc(16);
  const align = (channels * bits) / 8;
  b.writeUInt16LE(tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE(rate * align, 8);
  b.writeUInt16LE(align, 12);
  b.writeUInt16LE(bits, 14);
  return extra ? Buffer.concat([b, extra]) : b;
}
function extensible(subTag: number, bits: number): Buffer {
  const e = Buffer.alloc(24);
  e.writeUInt16LE(22, 0); // cbSize
  e.writeUInt16LE(bits, 2); // valid bits
  e.writeUInt32LE(4, 4); // channel mask: front centre
  e.writeUInt16LE(subTag, 8);
  Buffer.from([0, 0, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(e, 10);
  return e;
}
function pcmBody(samples: number[]): Buffer {
  const b = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => b.writeInt16LE(s, i * 2));
  return b;
}
function expectWavError(fn: () => unknown, kind: 'malformed' | 'unsupported'): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WavError);
    expect((e as WavError).kind).toBe(kind);
    return;
  }
  throw new Error('expected a WavError');
}

describe('readWav on the fixtures', () => {
  it.each([
    ['speech-8k.wav', 8000, 1, 'pcm16'],
    ['music-8k.wav', 8000, 1, 'pcm16'],
    ['prompt-16k-stereo.wav', 16000, 2, 'pcm16'],
    ['prompt-44k1-stereo.wav', 44100, 2, 'pcm16'],
    ['prompt-48k-stereo.wav', 48000, 2, 'pcm16'],
    ['prompt-8k-ulaw.wav', 8000, 1, 'ulaw'],
    ['prompt-8k-alaw.wav', 8000, 1, 'alaw'],
  ])('%s: %i Hz, %i channel(s), %s', (file, rate, channels, format) => {
    const w = readWav(join(FIX, file));
    expect(w.sampleRate).toBe(rate);
    expect(w.channels).toBe(channels);
    expect(w.format).toBe(format);
    expect(w.truncated).toBe(false);
    expect(w.samples.length).toBe(w.frames * channels);
    if (haveSox) expect(Array.from(w.samples)).toEqual(Array.from(soxSamples(join(FIX, file))));
  });

  it('puts left and right where they belong in a stereo file (440 Hz left, 660 Hz right)', () => {
    const w = readWav(join(FIX, 'prompt-48k-stereo.wav'));
    // Zero crossings over 0.2 s: 2 per cycle.
    const crossings = (ch: number): number => {
      let c = 0;
      for (let i = 1; i < w.frames; i++) if ((w.samples[(i - 1) * 2 + ch] < 0) !== (w.samples[i * 2 + ch] < 0)) c++;
      return c;
    };
    expect(Math.abs(crossings(0) - 176)).toBeLessThanOrEqual(2);
    expect(Math.abs(crossings(1) - 264)).toBeLessThanOrEqual(2);
  });

  it('reads asynchronously the same samples', async () => {
    const a = await readWavFile(join(FIX, 'prompt-8k-alaw.wav'));
    expect(a.samples).toEqual(readWav(join(FIX, 'prompt-8k-alaw.wav')).samples);
  });
});

describe('parseWav edge cases', () => {
  it('reads WAVE_FORMAT_EXTENSIBLE PCM and µ-law', () => {
    const w = parseWav(riff([['fmt ', fmtBody(0xfffe, 1, 8000, 16, extensible(1, 16))], ['data', pcmBody([1, -2, 3])]]));
    expect(w.format).toBe('pcm16');
    expect(Array.from(w.samples)).toEqual([1, -2, 3]);
    const u = parseWav(riff([['fmt ', fmtBody(0xfffe, 1, 8000, 8, extensible(7, 8))], ['data', Buffer.from([0xff, 0x80])]]));
    expect(u.format).toBe('ulaw');
    expect(Array.from(u.samples)).toEqual([0, 32124]);
  });

  it('skips unknown chunks, including odd-sized ones with their pad byte', () => {
    const w = parseWav(
      riff([
        ['LIST', Buffer.from('INFOjunk!')],
        ['fmt ', fmtBody(1, 2, 16000, 16)],
        ['fact', Buffer.alloc(4)],
        ['data', pcmBody([10, 20, 30, 40])],
        ['cue ', Buffer.alloc(3)],
      ]),
    );
    expect(w.channels).toBe(2);
    expect(w.frames).toBe(2);
    expect(Array.from(w.samples)).toEqual([10, 20, 30, 40]);
  });

  it('reads to the end of the file and flags truncation when the data size is 0 or too large', () => {
    const good = riff([['fmt ', fmtBody(1, 1, 8000, 16)], ['data', pcmBody([5, 6, 7])]]);
    const zero = Buffer.from(good);
    zero.writeUInt32LE(0, 40);
    const big = Buffer.from(good);
    big.writeUInt32LE(1_000_000, 40);
    for (const b of [zero, big]) {
      const w = parseWav(b);
      expect(w.truncated).toBe(true);
      expect(Array.from(w.samples)).toEqual([5, 6, 7]);
    }
    // A half sample frame at the end is dropped.
    const odd = Buffer.concat([zero, Buffer.from([1])]);
    expect(parseWav(odd).frames).toBe(3);
  });

  it('parses a header given only the head of a file and the file size', () => {
    const b = riff([['fmt ', fmtBody(1, 1, 8000, 16)], ['data', pcmBody(new Array(1000).fill(0))]]);
    const info = parseWavHeader(b.subarray(0, 64), 'x.wav', b.length);
    expect(info.dataOffset).toBe(44);
    expect(info.frames).toBe(1000);
    expect(info.truncated).toBe(false);
  });

  it.each([
    ['not RIFF', Buffer.from('RIFX\0\0\0\0WAVE'), 'unsupported'],
    ['garbage', Buffer.from('hello world, this is not audio'), 'malformed'],
    ['too short', Buffer.from('RIFF'), 'malformed'],
    ['not WAVE', riff([], 'AVI '), 'malformed'],
    ['no fmt', riff([['data', pcmBody([1])]]), 'malformed'],
    ['no data', riff([['fmt ', fmtBody(1, 1, 8000, 16)]]), 'malformed'],
    ['short fmt', riff([['fmt ', Buffer.alloc(10)], ['data', pcmBody([1])]]), 'malformed'],
    ['IEEE float', riff([['fmt ', fmtBody(3, 1, 8000, 32)], ['data', Buffer.alloc(8)]]), 'unsupported'],
    ['24-bit PCM', riff([['fmt ', fmtBody(1, 1, 8000, 24)], ['data', Buffer.alloc(6)]]), 'unsupported'],
    ['8-bit PCM', riff([['fmt ', fmtBody(1, 1, 8000, 8)], ['data', Buffer.alloc(6)]]), 'unsupported'],
    ['GSM', riff([['fmt ', fmtBody(0x31, 1, 8000, 0)], ['data', Buffer.alloc(6)]]), 'unsupported'],
    ['3 channels', riff([['fmt ', fmtBody(1, 3, 8000, 16)], ['data', Buffer.alloc(6)]]), 'unsupported'],
    ['extensible float', riff([['fmt ', fmtBody(0xfffe, 1, 8000, 32, extensible(3, 32))], ['data', Buffer.alloc(8)]]), 'unsupported'],
  ] as [string, Buffer, 'malformed' | 'unsupported'][])('rejects %s as %s', (_name, buf, kind) => {
    expectWavError(() => parseWav(buf, 'bad.wav'), kind);
  });

  it('rejects a block align that does not match the format', () => {
    const f = fmtBody(1, 2, 8000, 16);
    f.writeUInt16LE(2, 12);
    expectWavError(() => parseWav(riff([['fmt ', f], ['data', Buffer.alloc(8)]])), 'malformed');
  });

  it('names the file in the message', () => {
    expect(() => readWav(join(FIX, 'VECTOR_SOURCE.md'))).toThrow(/VECTOR_SOURCE\.md/);
  });
});

describe('WAV writing', () => {
  it('writes a 44-byte PCM header that reads back', () => {
    const h = wavHeader({ sampleRate: 8000, channels: 2, dataBytes: 640 });
    expect(h.length).toBe(44);
    const info = parseWavHeader(Buffer.concat([h, Buffer.alloc(640)]));
    expect(info).toMatchObject({ sampleRate: 8000, channels: 2, format: 'pcm16', frames: 160, truncated: false });
  });

  it.each(['ulaw', 'alaw'] as const)('writes a %s header with fact chunk', (format) => {
    const h = Buffer.alloc(80);
    const n = writeWavHeader(h, { sampleRate: 8000, channels: 1, format, dataBytes: 160 }, 4);
    expect(n).toBe(58);
    const info = parseWavHeader(Buffer.concat([h.subarray(4, 4 + n), Buffer.alloc(160)]));
    expect(info).toMatchObject({ format, frames: 160, dataOffset: 58 });
  });

  it.skipIf(!haveSox)('writes files sox agrees with', () => {
    const p = join(tmp, 'w.wav');
    const s = Int16Array.from({ length: 800 }, (_, i) => (i * 37) % 30000 - 15000);
    writeWav(p, s, 16000, 2);
    const info = spawnSync('soxi', [p], { encoding: 'utf8' }).stdout;
    expect(info).toMatch(/Channels\s*:\s*2/);
    expect(info).toMatch(/Sample Rate\s*:\s*16000/);
    expect(info).toMatch(/Precision\s*:\s*16-bit/);
    expect(info).toMatch(/= 400 samples/);
    expect(Array.from(soxSamples(p))).toEqual(Array.from(s));
    expect(Array.from(readWav(p).samples)).toEqual(Array.from(s));
    expect(readFileSync(p).length).toBe(44 + 1600);
  });
});
