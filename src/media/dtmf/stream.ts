// DtmfStream: one de-duplicated stream of key presses per media session, whatever the method —
// RFC 4733 telephone-events, in-band tones (Goertzel) and SIP INFO digits from the call layer.
//
// Many phones send RFC 4733 *and* leave the tones in the audio, and some gateways add SIP INFO,
// so one press can be reported two or three times. Rules (priority rfc4733 > info > inband):
//  - an in-band or INFO report that overlaps (± guardMs) a press already reported by another
//    method, or an RFC 4733 press in progress, is suppressed;
//  - while RFC 4733 is negotiated, in-band and INFO reports wait holdMs for an RFC 4733 report of
//    the same press (which then wins and the waiting one is dropped); otherwise they are emitted
//    when the hold expires (a peer that negotiated RFC 4733 but dials in-band still works);
//  - an RFC 4733 report overlapping a press already emitted by another method is suppressed.
// Times: RFC 4733 times are packet arrival; in-band times are of the audio handed to
// processAudio (after the jitter buffer, so up to its delay later) — guardMs covers the offset.
//
// Allocation: one DtmfEvent per press (from the detectors); nothing per packet or frame.
import type { RtpHeader } from '../rtp.js';
import { GoertzelDetector, type GoertzelOptions } from './goertzel.js';
import { Rfc4733Receiver } from './rfc4733.js';
import { dtmfEventCode, type DtmfEvent } from './types.js';

export interface DtmfStreamOptions {
  /** RFC 4733 negotiated for this session (telephone-event in the SDP answer). Default false. */
  rfc4733?: boolean;
  /** telephone-event RTP clock rate (default 8000). */
  clockRate?: number;
  /** Slack when comparing press windows, ms (default 200). */
  guardMs?: number;
  /** How long in-band/INFO reports wait for an RFC 4733 report while it is negotiated, ms (default 150). */
  holdMs?: number;
  /** RFC 4733 end timeout, ms (see Rfc4733Receiver). */
  endTimeoutMs?: number;
  goertzel?: GoertzelOptions;
}

const RECENT = 8;

function rank(m: DtmfEvent['method']): number {
  return m === 'rfc4733' ? 2 : m === 'info' ? 1 : 0;
}

export class DtmfStream {
  readonly stats = { emitted: 0, suppressed: 0, held: 0 };
  /** Feed RFC 4733 packets here (or use pushRtpEvent). */
  readonly rfc4733: Rfc4733Receiver;
  /** Feed decoded 8 kHz audio here (or use processAudio). */
  readonly inband: GoertzelDetector;

  readonly #onDigit: (e: DtmfEvent) => void;
  readonly #guard: number;
  readonly #hold: number;
  #negotiated: boolean;
  #now = 0;
  readonly #recent: DtmfEvent[] = [];
  readonly #pending: { e: DtmfEvent; deadline: number }[] = [];

  constructor(onDigit: (e: DtmfEvent) => void, opts: DtmfStreamOptions = {}) {
    this.#onDigit = onDigit;
    this.#guard = opts.guardMs ?? 200;
    this.#hold = opts.holdMs ?? 150;
    this.#negotiated = opts.rfc4733 ?? false;
    this.rfc4733 = new Rfc4733Receiver((e) => this.#offer(e), {
      clockRate: opts.clockRate ?? 8000,
      endTimeoutMs: opts.endTimeoutMs,
    });
    this.inband = new GoertzelDetector((e) => this.#offer(e), opts.goertzel);
  }

  /** After an SDP (re-)negotiation: whether telephone-event was agreed. */
  setRfc4733Negotiated(on: boolean): void {
    this.#negotiated = on;
  }

  /** One telephone-event packet (payload read in place, not kept). */
  pushRtpEvent(h: Pick<RtpHeader, 'timestamp' | 'marker'>, payload: Uint8Array, nowMs: number): void {
    this.#now = nowMs;
    this.rfc4733.push(h, payload, nowMs);
  }

  /** One frame of decoded 8 kHz audio starting at nowMs (read in place, not kept). */
  processAudio(frame: Int16Array, nowMs: number): void {
    this.#now = nowMs;
    this.inband.process(frame, nowMs);
  }

  /** A digit from a SIP INFO (application/dtmf-relay "Signal=5 Duration=160"); invalid ones are ignored. */
  pushInfo(digit: string, durationMs: number, nowMs: number): void {
    this.#now = nowMs;
    if (dtmfEventCode(digit) < 0) return;
    this.#offer({ digit: digit.toUpperCase(), durationMs, method: 'info', at: nowMs });
  }

  /** Call on each media tick: RFC 4733 end timeouts, and held reports whose wait is over. */
  tick(nowMs: number): void {
    this.#now = nowMs;
    this.rfc4733.poll(nowMs);
    while (this.#pending.length > 0 && this.#pending[0].deadline <= nowMs) this.#emit(this.#pending.shift()!.e);
  }

  /** End of session: reports a press still in progress and everything held. */
  close(): void {
    this.inband.flush();
    while (this.#pending.length > 0) this.#emit(this.#pending.shift()!.e);
  }

  #overlaps(a: DtmfEvent, b: DtmfEvent): boolean {
    return a.at <= b.at + b.durationMs + this.#guard && b.at <= a.at + a.durationMs + this.#guard;
  }

  #offer(e: DtmfEvent): void {
    for (const r of this.#recent) {
      if (r.method !== e.method && this.#overlaps(r, e)) {
        this.stats.suppressed++;
        return;
      }
    }
    if (e.method === 'rfc4733') {
      // It wins over held reports of the same press.
      for (let i = this.#pending.length - 1; i >= 0; i--) {
        if (this.#overlaps(this.#pending[i].e, e)) {
          this.#pending.splice(i, 1);
          this.stats.suppressed++;
        }
      }
      this.#emit(e);
      return;
    }
    const rx = this.rfc4733;
    if (rx.state === 'active' && e.at + e.durationMs + this.#guard >= rx.activeSince) {
      this.stats.suppressed++; // an RFC 4733 press is in progress: it will be reported
      return;
    }
    for (const p of this.#pending) {
      if (p.e.method !== e.method && this.#overlaps(p.e, e)) {
        // Two lower-priority reports of one press: keep the higher-ranked one.
        if (rank(e.method) > rank(p.e.method)) p.e = e;
        this.stats.suppressed++;
        return;
      }
    }
    if (this.#negotiated) {
      this.stats.held++;
      this.#pending.push({ e, deadline: this.#now + this.#hold });
      return;
    }
    this.#emit(e);
  }

  #emit(e: DtmfEvent): void {
    this.#recent.push(e);
    if (this.#recent.length > RECENT) this.#recent.shift();
    this.stats.emitted++;
    try {
      this.#onDigit(e);
    } catch {
      // A listener's exception must not unwind into the media path.
    }
  }
}
