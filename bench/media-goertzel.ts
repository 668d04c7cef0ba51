// In-band DTMF detector throughput on one core: GoertzelDetector.process() over 160-sample frames
// of a mixed signal (the speech fixture, then the 16 digits with pauses, with noise), looped for
// ~3 s after a warm-up. Also prints the cost per 20 ms frame (the per-call, per-tick figure).
// Prints `figure goertzel_samples_per_s <N>` last.
import { GoertzelDetector } from '../src/media/dtmf/goertzel.js';
import { digitFreqs, readPcm16Wav, render, type Segment } from '../src/media/dtmf/testing.js';

const speech = readPcm16Wav(new URL('../src/media/fixtures/speech-8k.wav', import.meta.url).pathname).samples;
const segs: Segment[] = Array.from('0123456789*#ABCD').flatMap((d) => [
  { freqs: digitFreqs(d), ms: 80, lowDbm0: -10, highDbm0: -12 },
  { freqs: null, ms: 80 },
]);
const tones = render(segs, { noiseDbm0: -40 });
const signal = new Int16Array(speech.length + tones.length);
signal.set(speech);
signal.set(tones, speech.length);
const frames = Math.floor(signal.length / 160);

let digits = 0;
const det = new GoertzelDetector(() => digits++);

function pass(): void {
  for (let k = 0; k < frames; k++) det.process(signal.subarray(k * 160, k * 160 + 160), k * 20);
}

// Warm-up (JIT).
for (let i = 0; i < 5; i++) pass();

let samples = 0;
const t0 = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < 3e9) {
  pass();
  samples += frames * 160;
  elapsed = Number(process.hrtime.bigint() - t0);
}
const perS = Math.round(samples / (elapsed / 1e9));
const usPerFrame = (elapsed / 1e3) / (samples / 160);
console.log(`signal: ${(signal.length / 8000).toFixed(1)} s (speech + 16 digits), ${samples} samples in ${(elapsed / 1e9).toFixed(2)} s`);
console.log(`digits detected per pass: ${digits / (samples / (frames * 160) + 5)}`);
console.log(`per 20 ms frame: ${usPerFrame.toFixed(2)} µs; real-time streams per core: ${Math.round(perS / 8000)}`);
console.log(`figure goertzel_samples_per_s ${perS}`);
