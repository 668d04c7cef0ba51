// Media codec throughput on real speech (src/media/fixtures/speech-8k.wav), frame by frame as the
// 20 ms tick does it: G.711 encode+decode through the Codec objects (PCMU and PCMA alternately),
// plus Opus encode/decode frames per second and 48 kHz → 8 kHz resampling, for information.
// Prints `figure g711_samples_per_s <N>` last (samples through one encode and one decode per second).
import { fileURLToPath } from 'node:url';
import { Resampler, createCodec, type Codec } from '../src/media/codec/index.js';
import { readWav } from '../src/media/wav.js';

const speech = readWav(fileURLToPath(new URL('../src/media/fixtures/speech-8k.wav', import.meta.url))).samples;
const frames = Math.floor(speech.length / 160);
const budgetMs = Number(process.env.BENCH_MS ?? 2000);

function timed(label: string, round: () => number): number {
  round(); // warm-up
  let units = 0;
  const t0 = process.hrtime.bigint();
  let ms = 0;
  while (ms < budgetMs) {
    units += round();
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  const perS = Math.round((units * 1000) / ms);
  console.log(`${label}: ${perS.toLocaleString('en-US')} per s (${units} in ${ms.toFixed(0)} ms)`);
  return perS;
}

let sink = 0;
const pcmu = createCodec('PCMU');
const pcma = createCodec('PCMA');
const payload = Buffer.alloc(1500);
const out = new Int16Array(960);
function g711Round(c: Codec): number {
  for (let f = 0; f < frames; f++) {
    const n = c.encode(speech.subarray(f * 160, f * 160 + 160), payload);
    sink += c.decode(payload.subarray(0, n), out) + out[7];
  }
  return frames * 160;
}
const g711 = timed('G.711 encode+decode samples', () => g711Round(pcmu) + g711Round(pcma));

const opusEnc = createCodec('opus');
const opusDec = createCodec('opus');
const opusFrames = Math.min(frames, 250);
const packets: Buffer[] = [];
for (let f = 0; f < opusFrames; f++) {
  const n = opusEnc.encode(speech.subarray(f * 160, f * 160 + 160), payload);
  packets.push(Buffer.from(payload.subarray(0, n)));
}
timed('opus encode frames (20 ms, 8 kHz in)', () => {
  for (let f = 0; f < opusFrames; f++) sink += opusEnc.encode(speech.subarray(f * 160, f * 160 + 160), payload);
  return opusFrames;
});
timed('opus decode frames (20 ms, 8 kHz out)', () => {
  for (let f = 0; f < opusFrames; f++) sink += opusDec.decode(packets[f], out);
  return opusFrames;
});
const bytes = packets.reduce((s, p) => s + p.length, 0);
console.log(`opus mean payload: ${(bytes / opusFrames).toFixed(1)} bytes (${((bytes * 8) / (opusFrames * 0.02) / 1000).toFixed(1)} kbit/s)`);

const up = new Int16Array(48000);
for (let i = 0; i < up.length; i++) up[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
const rs = new Resampler(48000, 8000);
timed('resample 48 kHz → 8 kHz input samples (960-sample frames)', () => {
  for (let off = 0; off < up.length; off += 960) sink += rs.process(up.subarray(off, off + 960), out);
  return up.length;
});

opusEnc.close();
opusDec.close();
console.log(`(checksum ${sink % 1000})`);
console.log(`figure g711_samples_per_s ${g711}`);
