// RFC 4733 telephone-events (DTMF) over RTP: a receiver that turns event packets into one
// DtmfEvent per key press, and a sender that produces the packet sequence for a press.
//
// Payload (§2.3): | event (8) | E (1) R (1) volume (6) | duration (16) |, duration in RTP
// timestamp units since the event's RTP timestamp. All packets of one event share that timestamp
// (§2.5.1.1), so the receiver keys events by timestamp: updates, the three retransmitted end
// packets (§2.5.1.4) and anything late for a finished event are recognised and ignored.
//
// Hot path: push() reads the payload in place (keeps no view) and allocates nothing except the
// DtmfEvent handed to onDigit once per press. The sender writes into caller-owned buffers.
import type { RtpHeader } from '../rtp.js';
import type { RtpEventPacket, RtpEventSource } from '../types.js';
import { DTMF_DIGITS, dtmfEventCode, type DtmfEvent } from './types.js';

/** §2.3.5: the 16-bit duration field saturates here; longer events are split into segments. */
export const MAX_SEGMENT_DURATION = 0xffff;
/** §2.5.1.4: the end packet is sent this many times in total. */
export const END_PACKET_REPEATS = 3;
/** Emit an event whose end packets never arrived this long after its last packet (default). */
export const DEFAULT_END_TIMEOUT_MS = 300;
/** Timestamps of finished events remembered to recognise their late/retransmitted packets. */
const RECENT = 8;

export interface Rfc4733ReceiverOptions {
  /** RTP clock rate of the telephone-event payload type (8000, or 48000 beside opus). */
  clockRate?: number;
  /** Default 300 ms. */
  endTimeoutMs?: number;
}

export type Rfc4733ReceiverState = 'idle' | 'active';

export class Rfc4733Receiver {
  readonly stats = {
    /** Event packets handed to push(). */
    packets: 0,
    /** Payloads shorter than 4 bytes. */
    malformed: 0,
    /** Events 16–255 (flash, tones …): not DTMF, ignored. */
    ignoredEvents: 0,
    /** Digits emitted. */
    digits: 0,
    /** Packets of an already finished event (retransmitted ends, late updates). */
    repeats: 0,
    /** Packets with a timestamp older than the press in progress (and not a finished one). */
    stale: 0,
    /** Digits emitted without an end packet: by timeout, or because a newer event started. */
    missingEnds: 0,
    /** §2.5.1.3 long-duration continuation segments joined to their event. */
    segments: 0,
  };

  readonly #onDigit: (e: DtmfEvent) => void;
  readonly #rate: number;
  readonly #timeoutMs: number;

  #state: Rfc4733ReceiverState = 'idle';
  #event = 0;
  #ts = 0; // RTP timestamp of the current segment
  #segDur = 0; // duration within the current segment (units)
  #baseDur = 0; // duration of earlier segments (units)
  #startMs = 0;
  #lastMs = 0;

  readonly #recent = new Uint32Array(RECENT);
  #recentCount = 0;
  #recentNext = 0;

  constructor(onDigit: (e: DtmfEvent) => void, opts: Rfc4733ReceiverOptions = {}) {
    this.#onDigit = onDigit;
    this.#rate = opts.clockRate ?? 8000;
    this.#timeoutMs = opts.endTimeoutMs ?? DEFAULT_END_TIMEOUT_MS;
  }

  get state(): Rfc4733ReceiverState {
    return this.#state;
  }

  /** The digit being pressed now (start seen, end not yet), or undefined. */
  get activeDigit(): string | undefined {
    return this.#state === 'active' ? DTMF_DIGITS[this.#event] : undefined;
  }

  /** Start time (ms) of the press in progress; meaningful while state is 'active'. */
  get activeSince(): number {
    return this.#startMs;
  }

  /**
   * One telephone-event packet (the caller has matched the payload type). Reads `payload` in
   * place; keeps no reference to it or to `h`.
   */
  push(h: Pick<RtpHeader, 'timestamp' | 'marker'>, payload: Uint8Array, nowMs: number): void {
    this.stats.packets++;
    if (payload.length < 4) {
      this.stats.malformed++;
      return;
    }
    const event = payload[0];
    const end = (payload[1] & 0x80) !== 0;
    const dur = (payload[2] << 8) | payload[3];
    const ts = h.timestamp >>> 0;
    if (event > 15) {
      this.stats.ignoredEvents++; // §3.2 lists 0–15 as DTMF; others are not digits
      return;
    }

    if (this.#state === 'active') {
      if (ts === this.#ts) {
        // §2.5.1.2 update (or §2.5.1.4 end) of the current event; durations may arrive reordered.
        if (dur > this.#segDur) this.#segDur = dur;
        this.#lastMs = nowMs;
        if (end) this.#finish(false);
        return;
      }
      const ahead = (ts - this.#ts) | 0;
      if (
        ahead > 0 &&
        event === this.#event &&
        !h.marker &&
        this.#segDur >= MAX_SEGMENT_DURATION - this.#rate / 5 &&
        ahead <= MAX_SEGMENT_DURATION + this.#rate / 5
      ) {
        // §2.5.1.3: a long event continues in a new segment whose timestamp is the old one plus
        // the old segment's duration; the marker is not set. Same press, not a new digit.
        this.stats.segments++;
        this.#remember(this.#ts);
        this.#baseDur += ahead;
        this.#ts = ts;
        this.#segDur = dur;
        this.#lastMs = nowMs;
        if (end) this.#finish(false);
        return;
      }
      if (ahead > 0) {
        // §2.5.1.4 ends were all lost and a newer event began: the previous press is over.
        this.#finish(true);
      } else {
        this.stats.stale++;
        return;
      }
    }

    // Idle (or just finished): a packet of a finished event, or a new event. A timestamp that
    // is older but unknown is a new event too (a sender that restarted its timestamps).
    if (this.#isRecent(ts)) {
      this.stats.repeats++;
      return;
    }
    // A new event. The marker (§2.5.1.1) is expected on its first packet, but the first packet
    // *seen* for a new timestamp starts it even when the start was lost (its duration tells
    // how long ago the press began).
    this.#state = 'active';
    this.#event = event;
    this.#ts = ts;
    this.#segDur = dur;
    this.#baseDur = 0;
    this.#startMs = nowMs - (dur * 1000) / this.#rate;
    this.#lastMs = nowMs;
    if (end) this.#finish(false);
  }

  /** Call on each media tick: emits a press whose end never came after endTimeoutMs. */
  poll(nowMs: number): void {
    if (this.#state === 'active' && nowMs - this.#lastMs >= this.#timeoutMs) this.#finish(true);
  }

  /** Forgets the event in progress and the remembered timestamps (new SSRC / re-INVITE). */
  reset(): void {
    this.#state = 'idle';
    this.#recentCount = 0;
  }

  #finish(missingEnd: boolean): void {
    this.#state = 'idle';
    this.#remember(this.#ts);
    if (missingEnd) this.stats.missingEnds++;
    this.stats.digits++;
    const e: DtmfEvent = {
      digit: DTMF_DIGITS[this.#event],
      durationMs: Math.round(((this.#baseDur + this.#segDur) * 1000) / this.#rate),
      method: 'rfc4733',
      at: this.#startMs,
    };
    try {
      this.#onDigit(e);
    } catch {
      // A listener's exception must not unwind into the packet path.
    }
  }

  #remember(ts: number): void {
    this.#recent[this.#recentNext] = ts;
    this.#recentNext = (this.#recentNext + 1) % RECENT;
    if (this.#recentCount < RECENT) this.#recentCount++;
  }

  #isRecent(ts: number): boolean {
    for (let i = 0; i < this.#recentCount; i++) if (this.#recent[i] === ts) return true;
    return false;
  }
}

export interface Rfc4733SenderOptions {
  /** RTP clock rate of the negotiated telephone-event payload type (default 8000). */
  clockRate?: number;
  /** §2.3.4 volume, 0–63 meaning 0 to −63 dBm0 (default 10). */
  volume?: number;
  /** Interval between packets, ms (default 20: one per media tick). */
  packetMs?: number;
}

/**
 * Builds the packets of one press, one per media tick (§2.5.1): the first with the marker bit,
 * all with the event's RTP timestamp, the duration growing by one packet interval (160 units per
 * 20 ms at 8 kHz), then the end packet (E bit, final duration) three times (§2.5.1.4). Presses
 * longer than 0xFFFF units are split into segments (§2.5.1.3). The caller writes the RTP header
 * from `marker` and `timestamp` (its own sequence numbers and SSRC) and the payload with next().
 */
export class Rfc4733Sender {
  /** Describe the packet produced by the last next() call. */
  marker = false;
  timestamp = 0;
  end = false;

  readonly #rate: number;
  readonly #volume: number;
  readonly #step: number;
  #event = -1;
  #total = 0; // remaining duration units across segments, from the current segment's start
  #segTs = 0;
  #segDur = 0;
  #first = false;
  #endsLeft = 0;

  constructor(opts: Rfc4733SenderOptions = {}) {
    this.#rate = opts.clockRate ?? 8000;
    this.#volume = (opts.volume ?? 10) & 0x3f;
    this.#step = Math.round(((opts.packetMs ?? 20) * this.#rate) / 1000);
  }

  /** True while a press still has packets to send. */
  get active(): boolean {
    return this.#event >= 0;
  }

  /**
   * Starts a press of `digit` lasting `durationMs` (at least one packet interval), with RTP
   * timestamp `timestamp` (the media timestamp when the key went down). Replaces any press in
   * progress. Throws RangeError for a character that is not a DTMF digit.
   */
  start(digit: string, durationMs: number, timestamp: number): void {
    const code = dtmfEventCode(digit);
    if (code < 0) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
    this.#event = code;
    this.#total = Math.max(this.#step, Math.round((durationMs * this.#rate) / 1000));
    this.#segTs = timestamp >>> 0;
    this.#segDur = 0;
    this.#first = true;
    this.#endsLeft = END_PACKET_REPEATS;
  }

  /** Abandons the press in progress (no end packets are sent). */
  cancel(): void {
    this.#event = -1;
  }

  /**
   * Writes the next 4-byte payload at out[offset] (copies) and sets marker / timestamp / end;
   * returns 4, or 0 when the press is finished (nothing written).
   */
  next(out: Uint8Array, offset = 0): number {
    if (this.#event < 0) return 0;
    if (out.length - offset < 4) throw new RangeError('payload buffer too small');
    let dur: number;
    let end = false;
    if (this.#segDur + this.#step < this.#total && this.#segDur + this.#step <= MAX_SEGMENT_DURATION) {
      dur = this.#segDur += this.#step; // §2.5.1.2 update
    } else if (this.#total > MAX_SEGMENT_DURATION && this.#segDur < MAX_SEGMENT_DURATION) {
      dur = this.#segDur = MAX_SEGMENT_DURATION; // last packet of a full segment (no E bit)
    } else if (this.#total > MAX_SEGMENT_DURATION) {
      // §2.5.1.3: the next segment starts at the old timestamp + 0xFFFF, marker not set.
      this.#total -= MAX_SEGMENT_DURATION;
      this.#segTs = (this.#segTs + MAX_SEGMENT_DURATION) >>> 0;
      this.#segDur = 0;
      return this.next(out, offset);
    } else {
      dur = this.#segDur = this.#total; // §2.5.1.4 end packet, sent three times
      end = true;
    }
    out[offset] = this.#event;
    out[offset + 1] = (end ? 0x80 : 0) | this.#volume;
    out[offset + 2] = dur >> 8;
    out[offset + 3] = dur & 0xff;
    this.marker = this.#first;
    this.#first = false;
    this.timestamp = this.#segTs;
    this.end = end;
    if (end && --this.#endsLeft === 0) this.#event = -1;
    return 4;
  }
}

/**
 * Adapts one press to MediaSession's RtpEventSource hook (src/media/types.ts): the event's RTP
 * timestamp is the media timestamp of the tick that sends its first packet; one packet per tick
 * is written into the session's send buffer (copies); false once the three end packets are out.
 */
export class Rfc4733EventSource implements RtpEventSource {
  readonly #tx: Rfc4733Sender;
  readonly #digit: string;
  readonly #durationMs: number;
  #started = false;

  /** Throws RangeError for a character that is not a DTMF digit. */
  constructor(digit: string, durationMs: number, opts: Rfc4733SenderOptions = {}) {
    if (dtmfEventCode(digit) < 0) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
    this.#tx = new Rfc4733Sender(opts);
    this.#digit = digit;
    this.#durationMs = durationMs;
  }

  nextEventPacket(nowTimestamp: number, out: RtpEventPacket): boolean {
    if (!this.#started) {
      this.#tx.start(this.#digit, this.#durationMs, nowTimestamp);
      this.#started = true;
    }
    const n = this.#tx.next(out.payload, 0);
    if (n === 0) return false;
    out.length = n;
    out.marker = this.#tx.marker;
    out.timestamp = this.#tx.timestamp;
    return true;
  }
}
