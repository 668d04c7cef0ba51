// Start-up work on the media side that must happen before any call: the recordings directory
// exists, and a recording left half-written by a crash gets a correct WAV header (its RIFF and
// data sizes are rebuilt from the file length) so that no stored audio is lost. It also says
// (once, at start) when the native RTP socket add-on is not built: media then runs on Node's
// dgram, which carries several times fewer calls per core. And it sets the media threads up as
// configured: where socket syscalls run, and realtime scheduling (reported when refused).
import { mkdirSync } from 'node:fs';
import type { MediaConfig } from '../config/types.js';
import type { Logger } from '../lib/log.js';
import { repairRecordings } from '../media/recorder-repair.js';
import { setMediaRealtime } from '../media/realtime.js';
import { nativeLoadError, setNativeIoMode } from '../media/udp-native.js';

export function prepareMedia(media: MediaConfig, log: Logger): { repaired: string[] } {
  mkdirSync(media.recordingsDir, { recursive: true });
  const r = repairRecordings(media.recordingsDir);
  if (r.repaired.length > 0) log.warn({ repaired: r.repaired }, 'recordings left half-written were repaired');
  for (const f of r.failed) log.error({ path: f.path, err: f.error.message }, 'recording could not be repaired');
  setNativeIoMode(media.ioThread);
  const native = nativeLoadError();
  if (native) log.warn({ err: native.message }, 'native RTP sockets unavailable (npm run build:native); media uses Node dgram');
  if (media.realtimePriority > 0) {
    const rt = setMediaRealtime(media.realtimePriority);
    if (rt.ok) log.info({ priority: media.realtimePriority }, 'media threads on realtime scheduling (SCHED_FIFO)');
    else log.warn({ reason: rt.reason }, 'realtime scheduling refused; media threads keep normal scheduling');
  }
  return { repaired: r.repaired };
}
