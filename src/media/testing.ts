// Test helper for audio (not on any hot path): how strong one frequency is in a stretch of
// samples, measured with a single Goertzel bin. Shared by the codec, resampler, prompt, mixer and
// bridge tests.

/**
 * Amplitude of the `hz` component of x[from, to) at `rate` (a sine of amplitude A gives ≈ A when
 * `hz` sits on a bin of the stretch, i.e. (to − from)·hz/rate is a whole number).
 */
export function toneAmplitude(x: ArrayLike<number>, hz: number, opts: { from?: number; to?: number; rate?: number } = {}): number {
  const from = opts.from ?? 0;
  const to = opts.to ?? x.length;
  const c = 2 * Math.cos((2 * Math.PI * hz) / (opts.rate ?? 8000));
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = x[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - c * s1 * s2))) / (to - from);
}
