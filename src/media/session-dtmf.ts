// SessionDtmf: the DTMF side of one MediaSession, created by the session when media is first
// negotiated (option `dtmf`, default on) and owned by it (closed by session.close()).
//
// Receiving — one DtmfStream merges and de-duplicates the three ways a press can arrive:
//   - RFC 4733 telephone-events: an RtpListener passes packets of the *negotiated*
//     telephone-event payload type (re-read after every offer/answer) to the stream;
//   - in-band tones: an 'in' tap runs the Goertzel detector over the decoded inbound audio;
//   - SIP INFO digits: the call layer calls pushInfo().
// The stream's digits come out as the session's 'dtmf' event (session.notifyDtmf). The 'in' tap
// also drives the stream's timers (RFC 4733 end timeouts, held in-band/INFO reports) each tick.
//
// Sending — send(): RFC 4733 events when the peer negotiated telephone-event, else in-band dual
// tones written into the outgoing audio by the session's tick (see session-dtmf-send.ts).
//
// Hot path: onRtp / onAudio / mixOutbound allocate nothing (one DtmfEvent per press, made by
// the detectors).
import type { Logger } from '../lib/log.js';
import { DtmfStream, type DtmfStreamOptions } from './dtmf/stream.js';
import type { RtpHeader } from './rtp.js';
import type { NegotiatedMedia } from './sdp/index.js';
import { DtmfEventQueue, DtmfToneQueue, parseDigits } from './session-dtmf-send.js';
import type { AudioFrameKind, AudioTap, DtmfEvent, RtpEventSource, RtpListener, TapDirection } from './types.js';

export type DtmfSendMethod = 'rfc4733' | 'inband';

export interface SessionDtmfOptions {
  /**
   * Run the in-band (Goertzel) detector on inbound audio: 'auto' (default) only while RFC 4733
   * telephone-event is NOT negotiated (a peer that negotiated it sends its digits as events; the
   * detector costs ≈2.5–3 µs per frame and, with nothing else consuming inbound audio, the whole
   * jitter-buffer decode too); true / 'always' also alongside telephone-event (the stream merges
   * both); false / 'never' not at all.
   */
  inband?: boolean | 'auto' | 'always' | 'never';
  /** DtmfStream tuning (guard/hold/end timeout, Goertzel thresholds). */
  stream?: Omit<DtmfStreamOptions, 'rfc4733' | 'clockRate'>;
  /** Default press length for send(), ms (default 100). */
  durationMs?: number;
  /** Default pause after each sent press, ms (default 100). */
  gapMs?: number;
}

/** What SessionDtmf needs of its session (MediaSession implements it). */
export interface DtmfHost {
  readonly negotiated: NegotiatedMedia | null;
  addTap(tap: AudioTap, direction: TapDirection | 'both'): () => void;
  addRtpListener(l: RtpListener): () => void;
  setEventSource(src: RtpEventSource | null): boolean;
  notifyDtmf(e: DtmfEvent): void;
}

export class SessionDtmf implements AudioTap, RtpListener {
  /** Digits queued for sending per method; INFO digits pushed. */
  readonly stats = { sentRfc4733: 0, sentInband: 0, info: 0 };
  readonly #host: DtmfHost;
  readonly #opts: SessionDtmfOptions;
  readonly #log: Logger;
  readonly #inbandMode: 'auto' | 'always' | 'never';
  /** In-band detection runs now (see SessionDtmfOptions.inband). */
  #inband: boolean;
  readonly #onDigit = (e: DtmfEvent): void => this.#host.notifyDtmf(e);
  #stream: DtmfStream;
  #clockRate = 8000;
  #pt = -1;
  readonly #events: DtmfEventQueue;
  readonly #tones = new DtmfToneQueue();
  /** Tones are queued or playing (kept here: the tick asks every 20 ms, the queue is three objects away). */
  #mixing = false;
  readonly #undo: (() => void)[] = [];
  #closed = false;

  constructor(host: DtmfHost, opts: SessionDtmfOptions, log: Logger) {
    this.#host = host;
    this.#opts = opts;
    this.#log = log;
    const ib = opts.inband ?? 'auto';
    this.#inbandMode = ib === true ? 'always' : ib === false ? 'never' : ib;
    this.#inband = this.#inbandMode === 'always' || (this.#inbandMode === 'auto' && !host.negotiated?.telephoneEvent);
    this.#stream = this.#makeStream();
    this.#events = new DtmfEventQueue(this.#clockRate);
    this.#undo.push(host.addTap(this, 'in'), host.addRtpListener(this));
  }

  /** The merged receive stream (statistics; tests). */
  get stream(): DtmfStream {
    return this.#stream;
  }

  /** Payload type of the negotiated telephone-event, or −1. */
  get payloadType(): number {
    return this.#pt;
  }

  /** Presses queued or in progress for sending (both methods). */
  get sending(): number {
    return this.#events.pending + this.#tones.pending;
  }

  /** After each offer/answer: which payload type carries telephone-events now (if any). */
  update(m: NegotiatedMedia): void {
    const te = m.telephoneEvent;
    this.#pt = te ? te.payloadType : -1;
    if (te && te.clockRate !== this.#clockRate) {
      // A telephone-event clock other than 8 kHz (beside opus): the receiver measures durations in it.
      this.#clockRate = te.clockRate;
      this.#stream.close();
      this.#stream = this.#makeStream();
      this.#events.setClockRate(te.clockRate);
    }
    this.#stream.setRfc4733Negotiated(te !== null);
    this.#inband = this.#inbandMode === 'always' || (this.#inbandMode === 'auto' && te === null);
    // Presses queued as events can no longer go out that way (the session stops asking for them).
    if (!te) this.#events.clear();
  }

  /** The peer's SSRC changed: its event timestamps start over. */
  resetRemote(): void {
    this.#stream.rfc4733.reset();
  }

  /** RtpListener: telephone-event packets of the negotiated payload type go to the stream. */
  onRtp(h: RtpHeader, payload: Uint8Array, arrivalMs: number): void {
    if (h.payloadType === this.#pt) this.#stream.pushRtpEvent(h, payload, arrivalMs);
  }

  /** AudioTap: decoded inbound audio only while in-band detection runs (else just the timers). */
  get needsAudio(): boolean {
    return this.#inband;
  }

  /** Whether the in-band detector runs now (option `inband`, telephone-event negotiated or not). */
  get inbandActive(): boolean {
    return this.#inband;
  }

  /** AudioTap ('in'): decoded inbound audio through the in-band detector; the stream's timers. */
  onAudio(frame: Int16Array, kind: AudioFrameKind, _direction: TapDirection): void {
    const now = performance.now();
    // No audio and no tone in progress: nothing to detect (saves the Goertzel work on silent legs).
    if (this.#inband && (kind !== 'silence' || this.#stream.inband.state !== 'idle')) this.#stream.processAudio(frame, now);
    this.#stream.tick(now);
  }

  /** A digit from a SIP INFO (application/dtmf-relay or application/dtmf); invalid digits are ignored. */
  pushInfo(digit: string, durationMs: number): void {
    if (this.#closed) return;
    this.stats.info++;
    this.#stream.pushInfo(digit, durationMs, performance.now());
  }

  /**
   * Queues `digits` for sending: RFC 4733 when telephone-event was negotiated, else in-band
   * tones. Returns the method used. Throws RangeError for invalid digits or a full queue.
   */
  send(digits: string, durationMs?: number, gapMs?: number): DtmfSendMethod {
    const list = parseDigits(digits, durationMs ?? this.#opts.durationMs ?? 100, gapMs ?? this.#opts.gapMs ?? 100);
    if (this.#pt >= 0) {
      this.#events.enqueue(list);
      // (Re-)install: the session drops an event source once it reports it is done.
      if (this.#host.setEventSource(this.#events)) {
        this.stats.sentRfc4733 += list.length;
        return 'rfc4733';
      }
      this.#events.clear();
    }
    this.#tones.enqueue(list);
    this.#mixing = true;
    this.stats.sentInband += list.length;
    return 'inband';
  }

  /** Drops digits not yet sent (both methods). */
  cancelSend(): void {
    this.#events.clear();
    this.#tones.clear();
    this.#mixing = false;
  }

  /** In-band tones are queued or playing: the next ticks' audio must go through mixOutbound. */
  get mixingOutbound(): boolean {
    return this.#mixing;
  }

  /** Called by the session's tick after the audio source: writes in-band tones; true when it did. */
  mixOutbound(frame: Int16Array): boolean {
    if (!this.#mixing) return false;
    const wrote = this.#tones.mixInto(frame);
    if (!wrote && this.#tones.pending === 0) this.#mixing = false;
    return wrote;
  }

  /** End of the session: reports held digits (through notifyDtmf) and detaches. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#stream.close();
    } catch (err) {
      this.#log.error({ err }, 'DTMF stream close threw');
    }
    this.cancelSend();
    for (const u of this.#undo.splice(0)) u();
  }

  #makeStream(): DtmfStream {
    return new DtmfStream(this.#onDigit, { ...this.#opts.stream, clockRate: this.#clockRate, rfc4733: this.#pt >= 0 });
  }
}
