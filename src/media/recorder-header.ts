// Header constants shared by the recorder and its crash repair (PCM16 WAV, 44-byte header).
export { writeWavHeader } from './wav.js';

/** Length of the canonical PCM WAV header the recorder writes. */
export const WAV_PCM_HEADER = 44;
