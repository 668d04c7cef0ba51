// Realtime scheduling for the media threads: the JS thread (media clock, sockets, relays) and
// rtp-io's I/O thread go on SCHED_FIFO at the given priority (native/rtp-io/realtime.c).
//
// Why: on a busy host the media threads otherwise wait behind other processes for milliseconds,
// which is exactly what RTP timing cannot absorb (bench:media on 2 vCPUs with its load generator:
// 500 bridged pairs added 3–6 ms of relay delay variation at p99 without, 0.6–1.8 ms with it).
// It needs root or CAP_SYS_NICE; without, the server runs on as before and says so once.
// Threads started later by these (libuv's pool, the recording worker) keep normal scheduling.
import { errnoName, requireRtpIo } from './rtp-io-addon.js';

interface RealtimeAddon {
  setRealtime(priority: number): { main: number; io: number | null };
}

export interface RealtimeResult {
  /** Both threads (or the JS thread, the I/O thread taking it when it starts) now run at it. */
  ok: boolean;
  /** Why not, e.g. "EPERM (needs root or CAP_SYS_NICE)"; undefined when ok. */
  reason?: string;
}

/** Puts the media threads on SCHED_FIFO `priority` (1–99), or back to normal scheduling (0). */
export function setMediaRealtime(priority: number): RealtimeResult {
  let addon: RealtimeAddon;
  try {
    addon = requireRtpIo<RealtimeAddon>();
  } catch (err) {
    return { ok: false, reason: `native add-on not built: ${(err as Error).message}` };
  }
  const r = addon.setRealtime(priority);
  const bad = r.main !== 0 ? r.main : r.io !== null && r.io !== 0 ? r.io : 0;
  if (bad === 0) return { ok: true };
  const name = errnoName(bad);
  return { ok: false, reason: name === 'EPERM' ? 'EPERM (needs root or CAP_SYS_NICE)' : name };
}
