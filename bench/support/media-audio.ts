// The phones' audio for bench/media.ts, shared by both load generators (media-loadgen.ts in
// Node, media-phones.c in C): 2 s of G.711 speech-band noise with one DTMF '5' per loop, so the
// server's in-band detectors have something to find.
import { ulawEncode } from '../../src/media/codec/g711.js';
import { amplitudeForDbm0, digitFreqs, prng } from '../../src/media/dtmf/testing.js';

const PAYLOAD = 160;
const LOOP_FRAMES = 100; // 2 s
/** The loop's length: one '5' per loop per phone. */
export const PHONE_LOOP_MS = LOOP_FRAMES * 20;

/** 2 s of PCMU: a 100 ms '5' at −10 dBm0 per tone, then low noise. */
export function playLoop(): Buffer {
  const pcm = new Int16Array(LOOP_FRAMES * PAYLOAD);
  const [f1, f2] = digitFreqs('5');
  const a = amplitudeForDbm0(-10);
  const rnd = prng(7);
  for (let i = 0; i < pcm.length; i++) {
    const noise = (rnd() - 0.5) * 400;
    const tone = i < 800 ? a * (Math.sin((2 * Math.PI * f1 * i) / 8000) + Math.sin((2 * Math.PI * f2 * i) / 8000)) : 0;
    pcm[i] = Math.round(tone + noise);
  }
  const out = Buffer.alloc(pcm.length);
  ulawEncode(pcm, out);
  return out;
}

