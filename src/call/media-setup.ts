// Start-up work on the media side that must happen before any call: the recordings directory
// exists, and a recording left half-written by a crash gets a correct WAV header (its RIFF and
// data sizes are rebuilt from the file length) so that no stored audio is lost. It also says
// (once, at start) when the native RTP socket add-on is not built: media then runs on Node's
// dgram, which carries several times fewer calls per core.
import { mkdirSync } from 'node:fs';
import type { MediaConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';
import { repairRecordings } from '../media/recorder-repair.js';
import { nativeLoadError } from '../media/udp-native.js';

export function prepareMedia(media: MediaConfig, log: Logger): { repaired: string[] } {
  mkdirSync(media.recordingsDir, { recursive: true });
  const r = repairRecordings(media.recordingsDir);
  if (r.repaired.length > 0) log.warn({ repaired: r.repaired }, 'recordings left half-written were repaired');
  for (const f of r.failed) log.error({ path: f.path, err: f.error.message }, 'recording could not be repaired');
  const native = nativeLoadError();
  if (native) log.warn({ err: native.message }, 'native RTP sockets unavailable (npm run build:native); media uses Node dgram');
  return { repaired: r.repaired };
}
