// Outgoing DTMF for a MediaSession: queues of key presses sent one after another, either as
// RFC 4733 telephone-events (DtmfEventQueue, installed as the session's RtpEventSource) or as
// in-band dual tones written into the outgoing audio (DtmfToneQueue, called by the session's tick
// after the audio source and before the 'out' taps, so a recording hears what the peer hears).
//
// Both queues play each digit for its duration followed by a pause (gap) before the next one.
// In-band tones *replace* the outgoing audio while a tone or its pause plays, as a phone mutes
// its microphone while a key is held: the far end's detector rejects a tone pair carrying less
// than ~75 % of the signal's energy (talk-off protection), so tones mixed over a prompt or voice
// would go undetected. Audio resumes after the last pause.
//
// Allocation: one small record per queued press (at sendDtmf time); nothing per tick or packet.
import { COL_HZ, ROW_HZ } from './dtmf/goertzel.js';
import { Rfc4733Sender } from './dtmf/rfc4733.js';
import { dtmfEventCode } from './dtmf/types.js';
import type { RtpEventPacket, RtpEventSource } from './types.js';

/** Shortest press we send (ITU-T Q.24: receivers must accept ≥ 40 ms). */
export const MIN_DTMF_MS = 40;
/** Longest press we send. */
export const MAX_DTMF_MS = 10_000;
/** Presses waiting to be sent per session; sendDtmf beyond this throws RangeError. */
export const MAX_QUEUED_DIGITS = 64;
/** Level of each tone of an in-band pair, dBm0 (low group; the high group 2 dB louder, Q.23 practice). */
export const TONE_LEVEL_DBM0 = -9;

const RATE = 8000;
const TWO_PI = 2 * Math.PI;
const KEYPAD = '123A456B789C*0#D';

/** One press waiting in a queue. */
export interface QueuedDigit {
  digit: string;
  durationMs: number;
  gapMs: number;
}

/**
 * Validates a string of digits and returns the presses (upper-cased; durations clamped to
 * [MIN_DTMF_MS, MAX_DTMF_MS], gaps to [MIN_DTMF_MS, MAX_DTMF_MS]). Throws RangeError for an empty
 * string or a character that is not a DTMF digit.
 */
export function parseDigits(digits: string, durationMs: number, gapMs: number): QueuedDigit[] {
  if (digits.length === 0) throw new RangeError('no DTMF digits to send');
  const d = clamp(durationMs);
  const g = clamp(gapMs);
  const out: QueuedDigit[] = [];
  for (const ch of digits) {
    if (dtmfEventCode(ch) < 0) throw new RangeError(`not a DTMF digit: ${JSON.stringify(ch)}`);
    out.push({ digit: ch.toUpperCase(), durationMs: d, gapMs: g });
  }
  return out;
}

function clamp(ms: number): number {
  return Number.isFinite(ms) ? Math.min(MAX_DTMF_MS, Math.max(MIN_DTMF_MS, Math.round(ms))) : MIN_DTMF_MS;
}

/** Bounded FIFO of presses shared by both queues (head index instead of shift()). */
class DigitFifo {
  #items: QueuedDigit[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(list: QueuedDigit[]): void {
    if (this.length + list.length > MAX_QUEUED_DIGITS) {
      throw new RangeError(`more than ${MAX_QUEUED_DIGITS} DTMF digits queued`);
    }
    if (this.#head > 0 && this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    for (const d of list) this.#items.push(d);
  }

  shift(): QueuedDigit | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const d = this.#items[this.#head++];
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    }
    return d;
  }

  clear(): void {
    this.#items.length = 0;
    this.#head = 0;
  }
}

/**
 * RFC 4733 sender for a queue of presses, as the session's RtpEventSource: each press is an event
 * (start with marker, updates every tick, three end packets, one RTP timestamp: the media
 * timestamp of its first tick), then `gapMs` of ordinary audio, then the next press. Returns false
 * (the session drops it) once the queue is empty; enqueue() and re-install to send more.
 */
export class DtmfEventQueue implements RtpEventSource {
  readonly stats = { digits: 0, packets: 0 };
  readonly #fifo = new DigitFifo();
  #tx: Rfc4733Sender;
  #rate: number;
  #gapTicks = 0;

  constructor(clockRate = 8000) {
    this.#rate = clockRate;
    this.#tx = new Rfc4733Sender({ clockRate });
  }

  /** Presses queued or in progress. */
  get pending(): number {
    return this.#fifo.length + (this.#tx.active ? 1 : 0);
  }

  /** The telephone-event clock rate changed (re-negotiation): applies from the next press. */
  setClockRate(rate: number): void {
    if (rate === this.#rate) return;
    this.#rate = rate;
    if (!this.#tx.active) this.#tx = new Rfc4733Sender({ clockRate: rate });
  }

  enqueue(list: QueuedDigit[]): void {
    this.#fifo.push(list);
  }

  /** Drops everything queued and abandons the press in progress (no end packets). */
  clear(): void {
    this.#fifo.clear();
    this.#tx.cancel();
    this.#gapTicks = 0;
  }

  nextEventPacket(nowTimestamp: number, out: RtpEventPacket): boolean {
    if (!this.#tx.active) {
      if (this.#gapTicks > 0) {
        this.#gapTicks--;
        out.length = 0; // audio this tick
        return true;
      }
      const d = this.#fifo.shift();
      if (d === undefined) return false;
      this.#tx.start(d.digit, d.durationMs, nowTimestamp);
      this.#gapTicks = Math.ceil(d.gapMs / 20);
      this.stats.digits++;
    }
    const n = this.#tx.next(out.payload, 0);
    if (n === 0) return false;
    out.length = n;
    out.marker = this.#tx.marker;
    out.timestamp = this.#tx.timestamp;
    this.stats.packets++;
    if (!this.#tx.active && this.#fifo.length === 0) this.#gapTicks = 0; // nothing follows
    return true;
  }
}

/**
 * In-band DTMF generator: writes the dual tone (and the pause after it) of each queued press
 * into the outgoing 8 kHz frame, replacing what the source produced for those samples.
 */
export class DtmfToneQueue {
  readonly stats = { digits: 0, frames: 0 };
  readonly #fifo = new DigitFifo();
  readonly #lowAmp: number;
  readonly #highAmp: number;
  #toneLeft = 0; // samples of tone still to write
  #gapLeft = 0; // samples of pause after it
  #w1 = 0;
  #w2 = 0;
  #p1 = 0;
  #p2 = 0;

  constructor(levelDbm0 = TONE_LEVEL_DBM0) {
    // G.711: +3.17 dBm0 is full scale (peak 32768).
    this.#lowAmp = 32768 * 10 ** ((levelDbm0 - 3.17) / 20);
    this.#highAmp = 32768 * 10 ** ((levelDbm0 + 2 - 3.17) / 20);
  }

  get pending(): number {
    return this.#fifo.length + (this.#toneLeft > 0 || this.#gapLeft > 0 ? 1 : 0);
  }

  enqueue(list: QueuedDigit[]): void {
    this.#fifo.push(list);
  }

  clear(): void {
    this.#fifo.clear();
    this.#toneLeft = 0;
    this.#gapLeft = 0;
  }

  /**
   * Per tick: overwrites `frame` (in place) with tone/pause samples while a press is playing;
   * returns true when it wrote anything (the frame must then be sent). Allocates nothing.
   */
  mixInto(frame: Int16Array): boolean {
    if (this.#toneLeft === 0 && this.#gapLeft === 0 && this.#fifo.length === 0) return false;
    const n = frame.length;
    let wrote = false;
    for (let i = 0; i < n; i++) {
      if (this.#toneLeft === 0 && this.#gapLeft === 0 && !this.#startNext()) break;
      wrote = true;
      if (this.#toneLeft > 0) {
        frame[i] = Math.round(this.#lowAmp * Math.sin(this.#p1) + this.#highAmp * Math.sin(this.#p2));
        this.#p1 += this.#w1;
        this.#p2 += this.#w2;
        if (this.#p1 > TWO_PI) this.#p1 -= TWO_PI;
        if (this.#p2 > TWO_PI) this.#p2 -= TWO_PI;
        this.#toneLeft--;
      } else {
        frame[i] = 0;
        this.#gapLeft--;
      }
    }
    if (wrote) this.stats.frames++;
    return wrote;
  }

  #startNext(): boolean {
    const d = this.#fifo.shift();
    if (d === undefined) return false;
    const k = KEYPAD.indexOf(d.digit);
    this.#w1 = (TWO_PI * ROW_HZ[k >> 2]) / RATE;
    this.#w2 = (TWO_PI * COL_HZ[k & 3]) / RATE;
    this.#p1 = 0;
    this.#p2 = 0;
    this.#toneLeft = Math.round((d.durationMs * RATE) / 1000);
    this.#gapLeft = Math.round((d.gapMs * RATE) / 1000);
    this.stats.digits++;
    return true;
  }
}
