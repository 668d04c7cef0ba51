// Server side of bench/media.ts: builds one load step's media sessions the way the call layer
// would — MediaSession per leg on the media clock, answered against the load generator's SDP —
// and either plays a prompt with in-band DTMF detection on each ('play') or bridges them in
// pairs, optionally recording each pair to a stereo WAV ('bridge').
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MediaClock } from '../../src/lib/media-clock.js';
import { Bridge } from '../../src/media/bridge.js';
import { preciseTimerClock } from '../../src/media/precise-timer.js';
import { Player } from '../../src/media/player.js';
import type { PortAllocator } from '../../src/media/ports.js';
import type { Prompt } from '../../src/media/prompts.js';
import { OffloadedRecorder } from '../../src/media/offloaded-recorder.js';
import { Recorder } from '../../src/media/recorder.js';
import { MediaSession } from '../../src/media/session.js';

/** The load generator's side of the SDP: PCMU only, RTCP muxed (it owns no RTCP port). */
export function phoneSdp(port: number): string {
  return (
    `v=0\r\no=loadgen ${port} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
    `m=audio ${port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp-mux\r\na=sendrecv\r\n`
  );
}

/**
 * The server's media clock, as the shared one is built (src/lib/media-clock.ts): one timer, the
 * 20 ms interval cut into `slots` sub-slots, each session in the least used. MEDIA_SLOTS=1 puts
 * every session on one deadline (the old single burst, for A/B).
 */
export class BenchClock {
  readonly clock: MediaClock;
  constructor(slots: number, intervalMs = 20) {
    // The precise timer, as the shared clock uses it (SWITCHBOARD_MEDIA_TIMER=node: Node's timers).
    this.clock = new MediaClock({ intervalMs, slots, clock: preciseTimerClock() ?? undefined });
  }
  start(): void {
    this.clock.start();
  }
  stop(): void {
    this.clock.stop();
  }
  resetStats(): void {
    this.clock.resetStats();
  }
  get skipped(): number {
    return this.clock.skipped;
  }
  /** p99 lateness of slot runs, ms. */
  lateP99(): number {
    return this.clock.lateness.p99();
  }
}

/**
 * MEDIA_LEGACY=1 (A/B experiments): sessions as before the connected-socket / in-band-off
 * changes — unconnected RTP socket, in-band Goertzel (hence inbound decoding) always on.
 */
const LEGACY = process.env.MEDIA_LEGACY === '1' ? ({ connect: false, dtmf: { inband: 'always' } } as const) : {};

/**
 * 'play' sessions run the in-band (Goertzel) DTMF detector on the audio they receive, as the issue
 * asks — decoding every inbound frame through the jitter buffer — even though the phones also
 * negotiate telephone-event (by default a session then listens for RFC 4733 events only).
 * MEDIA_PLAY_DTMF=rfc4733 measures that default instead.
 */
const PLAY_DTMF = process.env.MEDIA_PLAY_DTMF === 'rfc4733' ? {} : ({ dtmf: { inband: 'always' } } as const);
/** Play sessions detect the phones' in-band digits (so their count is checked). */
export const PLAY_INBAND = process.env.MEDIA_PLAY_DTMF !== 'rfc4733' || process.env.MEDIA_LEGACY === '1';

export interface StepWorld {
  allocator: PortAllocator;
  clocks: BenchClock;
  prompt: Prompt;
  recordDir: string;
}

/**
 * Diagnostic: the server-side view of send timing — an 'out' tap per session (called in the tick
 * just before the packet is encoded and sent) histograms |Δt − 20 ms| per session (50 µs bins).
 */
export class SendTimingProbe {
  readonly hist = new Uint32Array(4000);
  readonly #last: Float64Array;
  constructor(n: number) {
    this.#last = new Float64Array(n);
  }
  tapFor(i: number): { onAudio(): void } {
    return {
      onAudio: () => {
        const now = performance.now();
        const prev = this.#last[i];
        this.#last[i] = now;
        if (prev > 0) {
          const d = Math.abs(now - prev - 20) / 0.05;
          this.hist[d < 4000 ? d | 0 : 3999]++;
        }
      },
    };
  }
  reset(): void {
    this.hist.fill(0);
  }
  summary(): string {
    const out: string[] = [];
    for (const q of [0.5, 0.9, 0.95, 0.98, 0.99, 0.999]) out.push(`p${q * 100}=${this.p(q).toFixed(2)}`);
    return out.join(' ');
  }
  p(q: number): number {
    let total = 0;
    for (const v of this.hist) total += v;
    let acc = 0;
    for (let k = 0; k < this.hist.length; k++) {
      acc += this.hist[k];
      if (acc >= total * q) return (k + 1) * 0.05;
    }
    return 0;
  }
}

/**
 * Diagnostic (MEDIA_GAPS=1): when did the server's JavaScript see packets? Every accepted RTP
 * packet's callback time goes into a ring; after the window, the longest silences (no packet
 * handled at all, though ~N/2 ms worth arrive each ms) and the worst per-stream arrival jitter are
 * printed — a silence means the event loop was not running our code (GC, a long task, or the
 * process not scheduled), back-to-back handling after it means catching up.
 */
export class GapProbe {
  readonly #t = new Float64Array(1 << 20);
  #n = 0;
  on = false;
  listener(): { onRtp(): void } {
    return {
      onRtp: () => {
        if (this.on && this.#n < this.#t.length) this.#t[this.#n++] = performance.now();
      },
    };
  }
  reset(): void {
    this.#n = 0;
    this.on = true;
  }
  report(): string {
    this.on = false;
    const gaps: [number, number][] = [];
    for (let i = 1; i < this.#n; i++) gaps.push([this.#t[i]! - this.#t[i - 1]!, this.#t[i - 1]!]);
    gaps.sort((a, b) => b[0] - a[0]);
    const t0 = this.#t[0] ?? 0;
    // CLOCK_MONOTONIC of the window's first packet (lines up with perf --clockid monotonic).
    const mono0 = Number(process.hrtime.bigint()) / 1e6 - (performance.now() - t0);
    return `${this.#n} packets handled from ${t0.toFixed(0)} ms (process clock; monotonic ${(mono0 / 1000).toFixed(4)} s); longest silences (ms @ ms into window): ` + gaps.slice(0, 8).map(([g, at]) => `${g.toFixed(1)}@${(at - t0).toFixed(0)}`).join(' ');
  }
}

export class LoadStep {
  readonly sessions: MediaSession[] = [];
  readonly bridges: Bridge[] = [];
  readonly recorders: (Recorder | OffloadedRecorder)[] = [];
  digits = 0;
  /** Digits per session (play), and what each digit was. */
  perSession = new Uint32Array(0);
  wrongDigits = 0;
  shortDigits = 0;
  probe: SendTimingProbe | null = null;
  gaps: GapProbe | null = process.env.MEDIA_GAPS === '1' ? new GapProbe() : null;

  /** Sessions 2i and 2i+1 will be bridged (they share a clock phase). */
  constructor(
    readonly world: StepWorld,
    readonly pairs = false,
  ) {}

  /** Allocates `count` sessions (50 binds in flight at a time). */
  async create(count: number): Promise<number[]> {
    const { allocator, clocks } = this.world;
    for (let i = 0; i < count; i += 50) {
      const batch: Promise<MediaSession>[] = [];
      for (let j = i; j < Math.min(count, i + 50); j++) {
        batch.push(MediaSession.create({ allocator, clock: clocks.clock, address: '127.0.0.1', codecs: ['PCMU'], inactivityMs: 0, ...(this.pairs ? {} : PLAY_DTMF), ...LEGACY }));
      }
      this.sessions.push(...(await Promise.all(batch)));
    }
    return this.sessions.map((s) => s.port);
  }

  /** Answers each session against its phone's port. */
  negotiate(phonePorts: number[]): void {
    this.sessions.forEach((s, i) => s.answer(phoneSdp(phonePorts[i])));
    if (this.gaps) for (const s of this.sessions) s.addRtpListener(this.gaps.listener());
    if (process.env.MEDIA_PROBE === '1') {
      const probe = (this.probe = new SendTimingProbe(this.sessions.length));
      this.sessions.forEach((s, i) => s.addTap(probe.tapFor(i), 'out'));
    }
  }

  /**
   * 'play': a looping prompt out; DTMF detection on what comes in is the session's own (its
   * SessionDtmf: DtmfStream → Goertzel on the decoded audio, RFC 4733), reported as 'dtmf'.
   */
  startPlay(): void {
    this.perSession = new Uint32Array(this.sessions.length);
    for (const s of this.sessions) {
      s.setSource(new Player([{ prompt: this.world.prompt }], { loop: true }));
      const i = this.sessions.indexOf(s);
      s.on('dtmf', (e: { digit: string; durationMs: number }) => {
        this.digits++;
        this.perSession[i]++;
        if (e.digit !== '5') this.wrongDigits++;
        // The phones' tones last 100 ms: a much shorter press is a tone split by a gap.
        if (e.durationMs < 70) this.shortDigits++;
      });
    }
  }

  /**
   * 'bridge': sessions 2i and 2i+1 bridged, each pair optionally recorded — on the recording
   * worker (OffloadedRecorder), or with MEDIA_RECORD=thread on the media thread (Recorder).
   */
  async startBridges(record: boolean): Promise<void> {
    for (let i = 0; i + 1 < this.sessions.length; i += 2) {
      const path = join(this.world.recordDir, `pair-${i / 2}.wav`);
      const opts = { stereo: true, overwrite: true } as const;
      const rec = !record ? null : process.env.MEDIA_RECORD === 'thread' ? await Recorder.open(path, opts) : await OffloadedRecorder.open(path, opts);
      if (rec) this.recorders.push(rec);
      this.bridges.push(new Bridge(this.sessions[i], this.sessions[i + 1], { record: rec }));
    }
  }

  /** Packets the sessions counted as lost on the way in (RFC 3550 A.3), summed. */
  receiveLoss(): number {
    let lost = 0;
    for (const s of this.sessions) lost += Math.max(0, s.receiverStats?.cumulativeLost ?? 0);
    return lost;
  }

  /** Jitter buffers summed (play, in-band detection): what the detectors were fed. */
  jitterSummary(): string {
    let late = 0, concealed = 0, stretched = 0, shrunk = 0, delay = 0, n = 0;
    for (const s of this.sessions) {
      const j = s.jitterStats;
      if (!j) continue;
      late += j.late;
      concealed += j.concealed;
      stretched += j.stretched;
      shrunk += j.shrunk;
      delay += j.delayMs;
      n++;
    }
    return n ? `jitter: late ${late} concealed ${concealed} stretched ${stretched} shrunk ${shrunk} mean delay ${(delay / n).toFixed(0)} ms` : '';
  }

  /**
   * Audio the jitter buffers consumed beyond real time, ms, summed over the sessions: a shrink
   * skips a 20 ms frame (the detectors hear 20 ms more of the phones' loop than the clock ran),
   * a stretch inserts one (20 ms less).
   */
  jitterAdvanceMs(): number {
    let frames = 0;
    for (const s of this.sessions) {
      const j = s.jitterStats;
      if (j) frames += j.shrunk - j.stretched;
    }
    return frames * 20;
  }

  /**
   * Closes the recordings (the window is over) and returns what they dropped — frames the disk
   * could not take, and packets the recording worker's ring could not take (should stay 0).
   */
  async closeRecordings(): Promise<number> {
    let d = 0;
    for (const r of this.recorders) {
      const stats = await r.close().catch(() => null);
      d += r instanceof OffloadedRecorder ? r.stats.dropped + (stats?.droppedFrames ?? 0) : r.stats.droppedFrames;
    }
    return d;
  }

  async teardown(): Promise<void> {
    for (const b of this.bridges) b.close();
    await Promise.all(this.recorders.map((r) => r.close().catch(() => undefined)));
    for (const r of this.recorders) rmSync(r.path, { force: true });
    for (const s of this.sessions) s.close();
    this.bridges.length = 0;
    this.recorders.length = 0;
    this.sessions.length = 0;
  }
}
