// MediaSession: one RTP audio stream of a call leg. It owns its RTP/RTCP sockets (from the
// PortAllocator), negotiates via SDP offer/answer, and on every tick of the shared media clock:
//   1. pops decoded inbound audio from the jitter buffer and hands it to the 'in' taps;
//   2. asks its AudioSource (Player, bridge/mixer feed) for the next 160-sample frame (or uses
//      silence), hands it to the 'out' taps, encodes it with the negotiated codec and sends it;
//   3. sends RTCP (SR/RR + SDES CNAME) every ~5 s (RFC 3550 §6.2, randomised 0.5–1.5) and checks
//      RTP inactivity.
// Receiving: symmetric RTP (latch to the first source that sends a negotiated payload type,
// ignore and count other sources, re-latch only after an SDP change), parse as views, SSRC
// changes reset the jitter buffer and the RTCP statistics, listeners (bridge pass-through, RFC
// 4733 receiver) see each accepted packet as views.
// Hot path: the tick and the packet handler allocate nothing of their own (reused header,
// buffers and scratch frames, a cached payload view; no closures per packet). With the native
// socket (udp-native.ts) a received datagram is not wrapped either; Node's dgram (the fallback)
// still allocates a Buffer per datagram.
// Parts (owned by the session, each in its own file): public types (session-types.ts), the
// symmetric-RTP latch and connected socket (session-latch.ts), the RTP send state
// (session-send.ts), RTCP reports and receive statistics (session-rtcp.ts), audio taps and RTP
// listeners (session-taps.ts), DTMF (session-dtmf.ts), prompts and recording (session-playback.ts).
import { InvalidStateError } from '../lib/errors.js';
import { moduleLogger, type Logger } from '../lib/log.js';
import type { MediaClock, MediaTickListener } from '../lib/media-clock.js';
import { defaultMediaClock } from './precise-timer.js';
import { ReusedView } from '../lib/reused-view.js';
import { createCodec } from './codec/index.js';
import { JitterBuffer } from './jitter.js';
import type { RtpReceiverStats } from './rtcp.js';
import { createRtpHeader, looksLikeRtcp, parseRtp, type RtpHeader } from './rtp.js';
import { answerOffer, applyAnswer, buildOffer, parseSdp, SdpError, SdpOriginState, type Direction, type LocalMedia, type NegotiatedMedia, type SessionDescription } from './sdp/index.js';
import { MediaEmitter } from './session-emitter.js';
import { SessionDtmf, type DtmfSendMethod } from './session-dtmf.js';
import { RtpLatch } from './session-latch.js';
import { SessionPlayback, type PlayInput, type SessionPlayOptions, type SessionRecordOptions } from './session-playback.js';
import { SessionRtcp } from './session-rtcp.js';
import { MAX_RTP_PAYLOAD, random32, RtpSender } from './session-send.js';
import { SessionTaps } from './session-taps.js';
import { createMediaSessionStats, type MediaSessionEvents, type MediaSessionOptions, type MediaSessionStats } from './session-types.js';
import type { Player } from './player.js';
import type { PortAllocator } from './ports.js';
import type { Recorder } from './recorder.js';
import type { DatagramSource, MediaSocket, MediaSocketHandlers } from './udp.js';
import { FRAME_SAMPLES, type AudioSource, type AudioTap, type Codec, type DtmfEvent, type RtpEventSource, type RtpListener, type TapDirection } from './types.js';

export { RTCP_INTERVAL_MS, type MediaSessionEvents, type MediaSessionOptions, type MediaSessionStats, type RtcpReport } from './session-types.js';

export class MediaSession extends MediaEmitter<MediaSessionEvents> implements MediaTickListener {
  readonly port: number;
  readonly address: string;
  readonly stats: MediaSessionStats = createMediaSessionStats();
  /** Our SSRC (random, RFC 3550 §8). */
  readonly ssrc = random32();

  readonly #allocator: PortAllocator;
  readonly #clock: MediaClock;
  readonly #rtpSocket: MediaSocket;
  readonly #rtcpSocket: MediaSocket;
  readonly #log: Logger;
  readonly #opts: MediaSessionOptions;
  readonly #origin = new SdpOriginState();
  #removeTick: (() => void) | null = null;
  #closed = false;

  // Negotiation
  #local: LocalMedia;
  #lastOffer: SessionDescription | null = null;
  #media: NegotiatedMedia | null = null;
  #codec: Codec | null = null;
  #jitter: JitterBuffer | null = null;

  // Parts: where RTP/RTCP go, the RTP send state, RTCP, observers.
  readonly #latch: RtpLatch;
  readonly #sender: RtpSender;
  readonly #rtcp: SessionRtcp;
  readonly #taps: SessionTaps;

  // What the tick sends
  readonly #txFrame = new Int16Array(FRAME_SAMPLES);
  /** 'PCMU'/'PCMA' while that codec is negotiated (sources may hand pre-encoded payloads), else null. */
  #encodedName: 'PCMU' | 'PCMA' | null = null;
  #source: AudioSource | null = null;
  #sendSilence: boolean;
  #eventSource: RtpEventSource | null = null;

  // Receive state
  readonly #rxHeader: RtpHeader = createRtpHeader();
  /** The payload view handed on, reused while buffer, offset and length repeat (native sockets). */
  readonly #rxPayload = new ReusedView();
  #lastRxMs = 0;
  #inactiveFired = false;

  // Children (session-dtmf.ts, session-playback.ts): DTMF from the first negotiation on,
  // playback/recording from the first play()/record().
  #dtmf: SessionDtmf | null = null;
  #playback: SessionPlayback | null = null;

  // Socket handlers never throw: a bug or hostile packet becomes a counter and a log line.
  readonly #rtpHandlers: MediaSocketHandlers = {
    datagram: (msg: Buffer, len: number, from: DatagramSource): void => {
      try {
        this.#receiveRtp(msg, len, from);
      } catch (err) {
        this.#handlerError(err);
      }
    },
    error: (err: Error): void => this.#onSocketError(err),
  };
  readonly #rtcpHandlers: MediaSocketHandlers = {
    datagram: (msg: Buffer, len: number, from: DatagramSource): void => {
      try {
        this.#receiveRtcp(msg, len, from, false);
      } catch (err) {
        this.#handlerError(err);
      }
    },
    error: (err: Error): void => this.#onSocketError(err),
  };
  #handlerError(err: unknown): void {
    this.stats.malformed++;
    this.#log.error({ err }, 'media packet handler threw; packet dropped');
  }
  #onSocketError(err: Error): void {
    this.stats.sendErrors++;
    this.#log.debug({ err: err.message }, 'media socket error');
  }

  /** Allocates a port pair and joins the media clock. */
  static async create(opts: MediaSessionOptions): Promise<MediaSession> {
    const pair = await opts.allocator.allocate();
    return new MediaSession(opts, pair.port, pair.rtp, pair.rtcp);
  }

  private constructor(opts: MediaSessionOptions, port: number, rtp: MediaSocket, rtcp: MediaSocket) {
    const log = opts.logger ?? moduleLogger('media.session');
    super(log);
    this.#log = log.child({ rtpPort: port });
    this.#opts = opts;
    this.#allocator = opts.allocator;
    this.#clock = opts.clock ?? defaultMediaClock();
    this.port = port;
    this.address = opts.address ?? opts.allocator.address;
    if (this.address === '0.0.0.0' || this.address === '::') {
      opts.allocator.release(port);
      throw new InvalidStateError('MediaSession needs an advertised address when the allocator binds a wildcard');
    }
    this.#rtpSocket = rtp;
    this.#rtcpSocket = rtcp;
    this.#sendSilence = opts.sendSilence ?? true;
    this.on('ssrc-change', () => this.#dtmf?.resetRemote());
    this.#local = {
      address: this.address,
      port,
      codecs: opts.codecs ?? ['PCMU', 'PCMA', 'opus'],
      telephoneEvent: opts.telephoneEvent ?? true,
      ptime: 20,
      direction: 'sendrecv',
    };
    this.#latch = new RtpLatch(rtp, this.stats, opts);
    this.#sender = new RtpSender(rtp, this.#latch, this.stats, this.#log, this.ssrc);
    const cname = Buffer.from(opts.cname ?? `${random32().toString(16)}@${this.address}`);
    this.#rtcp = new SessionRtcp({ rtp, rtcp, latch: this.#latch, sender: this.#sender, stats: this.stats, ssrc: this.ssrc, cname, opts });
    this.#taps = new SessionTaps(this.stats, this.#log);
    rtp.setHandlers(this.#rtpHandlers);
    rtcp.setHandlers(this.#rtcpHandlers);
    this.#removeTick = this.#clock.add(this);
  }

  // ——— negotiation ———

  /** The outcome of the last offer/answer, or null before one completed. */
  get negotiated(): NegotiatedMedia | null {
    return this.#media;
  }
  get codec(): Codec | null {
    return this.#codec;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** Where RTP goes now: the latched source, else the SDP address. */
  get remote(): { address: string; port: number; latched: boolean } | null {
    const l = this.#latch;
    return l.port ? { address: l.address, port: l.port, latched: l.latched } : null;
  }
  /** The RTP socket is connect()ed to the latched peer (see MediaSessionOptions.connect). */
  get rtpConnected(): boolean {
    return this.#latch.connected;
  }
  /** Jitter buffer statistics (null before negotiation). */
  get jitterStats(): JitterBuffer['stats'] | null {
    return this.#jitter?.stats ?? null;
  }
  /** RFC 3550 receiver statistics of the current remote source. */
  get receiverStats(): RtpReceiverStats | null {
    return this.#rtcp.receiverStats;
  }

  /**
   * Our SDP offer (initial or re-offer). `direction` puts the peer on hold ('sendonly') or
   * resumes ('sendrecv'); the o= id stays, the version moves only if the body changed.
   */
  createOffer(direction?: Direction): string {
    this.#assertOpen();
    if (direction) this.#local = { ...this.#local, direction };
    this.#lastOffer = buildOffer(this.#local);
    return this.#origin.format(this.#lastOffer);
  }

  /**
   * Answers the peer's offer (initial or re-INVITE) and applies it. Throws SdpError (status 488)
   * when the offer is malformed or unusable; the session is then unchanged.
   */
  answer(offerSdp: string, direction?: Direction): string {
    this.#assertOpen();
    const offer = parseSdp(offerSdp);
    const local = direction ? { ...this.#local, direction } : this.#local;
    const { answer, media } = answerOffer(offer, local);
    this.#local = local;
    this.#apply(media);
    return this.#origin.format(answer);
  }

  /** Applies the peer's answer to our last offer. Throws SdpError (488) when it does not fit. */
  applyAnswer(answerSdp: string): void {
    this.#assertOpen();
    if (!this.#lastOffer) throw new SdpError('bad-answer', 'no offer outstanding');
    const media = applyAnswer(this.#lastOffer, parseSdp(answerSdp), this.#local);
    this.#apply(media);
  }

  #apply(m: NegotiatedMedia): void {
    const prev = this.#media;
    this.#media = m;
    if (!prev || prev.codec.name !== m.codec.name || prev.codec.clockRate !== m.codec.clockRate) {
      this.#codec?.close();
      const codec = createCodec(m.codec.name, m.codec.name === 'opus' ? { fec: m.codec.params.get('useinbandfec') === '1' } : {});
      this.#codec = codec;
      this.#encodedName = codec.name === 'PCMU' || codec.name === 'PCMA' ? codec.name : null;
      this.#jitter = new JitterBuffer({ codec, clockRate: codec.clockRate, ...this.#opts.jitter });
      this.#rtcp.resetReceiver(codec.clockRate);
    }
    const changed =
      !prev ||
      prev.remoteAddress !== m.remoteAddress ||
      prev.remotePort !== m.remotePort ||
      prev.remoteRtcpPort !== m.remoteRtcpPort ||
      prev.remoteSessionId !== m.remoteSessionId ||
      prev.remoteSessionVersion !== m.remoteSessionVersion;
    if (changed) {
      // Re-latch only after an SDP change (a new remote description): the peer may have moved.
      this.#latch.reset(m);
    }
    if (this.#opts.dtmf !== false) {
      this.#dtmf ??= new SessionDtmf(this, typeof this.#opts.dtmf === 'object' ? this.#opts.dtmf : {}, this.#log);
      this.#dtmf.update(m); // the telephone-event payload type may change with every offer/answer
    }
    const now = performance.now();
    this.#lastRxMs = now;
    this.#inactiveFired = false;
    this.#rtcp.start(now);
  }

  // ——— audio in/out ———

  /** The current source, or null. */
  get source(): AudioSource | null {
    return this.#source;
  }

  /**
   * Sets what the session sends from the next tick on (null: silence or nothing per
   * `sendSilence`). Sequence numbers and timestamps continue across changes; returns the previous.
   */
  setSource(source: AudioSource | null): AudioSource | null {
    const prev = this.#source;
    this.#source = source;
    return prev;
  }

  /**
   * Sets the RFC 4733 event sender (DTMF). Ignored (returns false) when no telephone-event was
   * negotiated. While it produces packets the session sends them instead of audio.
   */
  setEventSource(src: RtpEventSource | null): boolean {
    if (src && !this.#media?.telephoneEvent) return false;
    this.#eventSource = src;
    return true;
  }

  set sendSilence(on: boolean) {
    this.#sendSilence = on;
  }
  get sendSilence(): boolean {
    return this.#sendSilence;
  }

  /** Subscribes a tap to inbound ('in'), outbound ('out') or both directions' frames. Returns remove(). */
  addTap(tap: AudioTap, direction: TapDirection | 'both' = 'both'): () => void {
    return this.#taps.add(tap, direction, this.#jitter);
  }

  /** Subscribes to each accepted inbound RTP packet (views). Returns remove(). */
  addRtpListener(l: RtpListener): () => void {
    return this.#taps.addRtpListener(l);
  }

  /** Emits a 'dtmf' event (the DTMF stream calls this after de-duplicating its sources). */
  notifyDtmf(e: DtmfEvent): void {
    if (!this.#closed) this.safeEmit('dtmf', e);
  }

  /**
   * Pass-through send for a bridge relaying raw payloads between legs with matching codecs:
   * writes our header (our SSRC, our continuous sequence; timestamp advanced by
   * `timestampDelta`) and copies `payload` into the session's send buffer. While a relay is
   * active (a call within the last 2 ticks) the tick path does not send. Returns false when the
   * session cannot send (closed, not negotiated, not sending, payload too large).
   */
  sendRtpPayload(payloadType: number, payload: Uint8Array, timestampDelta: number, marker: boolean): boolean {
    const m = this.#media;
    if (this.#closed || !m || !m.send || this.#latch.port === 0 || payload.length > MAX_RTP_PAYLOAD) return false;
    this.#sender.relay(payloadType, payload, timestampDelta, marker);
    return true;
  }

  // ——— DTMF, prompts, recording (session-dtmf.ts, session-playback.ts) ———

  /** The DTMF attachment (null before negotiation or with `dtmf: false`). */
  get dtmf(): SessionDtmf | null {
    return this.#dtmf;
  }

  /**
   * Sends `digits` (one or more of 0-9 * # A-D) one after another, each `durationMs` long
   * (default 100) followed by `gapMs` (default 100): RFC 4733 events when the peer negotiated
   * telephone-event, else in-band tones replacing the outgoing audio. Returns the method.
   * Throws InvalidStateError before negotiation / with DTMF off, RangeError for a bad digit.
   */
  sendDtmf(digits: string, durationMs?: number, gapMs?: number): DtmfSendMethod {
    this.#assertOpen();
    if (!this.#dtmf) throw new InvalidStateError('sendDtmf: no media negotiated (or DTMF disabled)');
    return this.#dtmf.send(digits, durationMs, gapMs);
  }

  /** A digit the call layer took from a SIP INFO: merged (de-duplicated) into 'dtmf'. */
  pushInfoDtmf(digit: string, durationMs: number): void {
    this.#dtmf?.pushInfo(digit, durationMs);
  }

  /**
   * Plays prompts (WAV paths through the shared PromptCache, Prompts or Player items) from the
   * next tick, replacing the current playback; the source it displaces (e.g. a bridge feed)
   * resumes when it ends. `bargeIn`: the next 'dtmf' digit stops it. Sequence numbers and
   * timestamps continue across prompts.
   */
  play(items: readonly PlayInput[], opts?: SessionPlayOptions): Player {
    this.#assertOpen();
    return this.#playbackHelper().play(items, opts);
  }

  /** Stops the current playback, if any. */
  stopPlayback(): void {
    this.#playback?.stopPlayback();
  }

  /** The player playing now, or null. */
  get player(): Player | null {
    return this.#playback?.player ?? null;
  }

  /**
   * Records into a new WAV file (8 kHz 16-bit): mono = the peer's audio; stereo = peer left,
   * what we send right. Closed with the session (or by the caller: recorder.close()).
   */
  record(path: string, opts?: SessionRecordOptions): Promise<Recorder> {
    if (this.#closed) return Promise.reject(new InvalidStateError('MediaSession is closed'));
    return this.#playbackHelper().record(path, opts);
  }

  /** Closes this session's recordings. */
  stopRecording(): Promise<void> {
    return this.#playback?.stopRecording() ?? Promise.resolve();
  }

  #playbackHelper(): SessionPlayback {
    this.#playback ??= new SessionPlayback(this, this.#opts.prompts, this.#log);
    return this.#playback;
  }

  // ——— the media tick ———

  /**
   * MediaTickListener, first pass: this tick's outbound packet. The clock runs every session's
   * send before any session's receive-side work (afterMediaTick), so sends are not delayed by
   * decoding and detection. Allocates nothing.
   */
  onMediaTick(tick: number): void {
    if (this.#closed) return;
    const m = this.#media;
    const codec = this.#codec;
    const sender = this.#sender;
    sender.beginTick(tick, m !== null && codec !== null);
    if (!m || !codec) return;

    // A pass-through bridge is relaying into this session (it sends from the packet path): a
    // source that is only that bridge's filler has nothing to say, and with no 'out' tap nobody
    // needs the frame — skip the tick's audio work altogether.
    const relaying = sender.relaying(tick);
    const tapsOut = this.#taps.hasOutbound;
    if (relaying && this.#source?.idleWhileRelaying === true && !tapsOut) {
      sender.sentLastTick = true;
      return;
    }
    // Pre-encoded fast path (a Player of cached G.711 prompts): the prompt's payload bytes go
    // straight into the send buffer — no PCM copy, no encoding — unless something needs the PCM.
    const encoded = this.#encodedName;
    let encodedLength = 0;
    let produced = false;
    if (encoded !== null && this.#source?.nextPayloadInto !== undefined && !tapsOut && !(this.#dtmf?.mixingOutbound ?? false)) {
      encodedLength = this.#pullEncoded(encoded);
      produced = encodedLength > 0;
    }
    if (!produced) {
      produced = this.#pull();
      // A 'source-ended' listener may chain the next prompt: ask it in the same tick (no gap).
      if (!produced && this.#source) produced = this.#pull();
      if (!produced) this.#txFrame.fill(0);
      // In-band DTMF we send replaces the audio while a tone plays (session-dtmf-send.ts).
      if (this.#dtmf !== null && this.#dtmf.mixOutbound(this.#txFrame)) produced = true;
      this.#taps.tapOutbound(this.#txFrame, produced ? 'audio' : 'silence');
    }
    if (!relaying && m.send && this.#latch.port !== 0 && (produced || this.#sendSilence || this.#eventSource)) {
      sender.advance(tick, codec.timestampStep);
      if (this.#eventSource && m.telephoneEvent && this.#sendEvent(m.telephoneEvent.payloadType)) {
        sender.sentLastTick = true;
        return;
      }
      if (!produced && !this.#sendSilence) {
        sender.sentLastTick = false;
        return;
      }
      if (encodedLength > 0) sender.sendEncoded(encodedLength, m.codec.payloadType);
      else sender.sendAudio(codec, this.#txFrame, m.codec.payloadType);
    } else {
      sender.sentLastTick = relaying;
    }
  }

  /**
   * MediaTickListener, second pass: one frame from the jitter buffer to the 'in' taps
   * (session-taps.ts: recorders, detectors, mixers, transcoding bridges), then inactivity and RTCP.
   */
  afterMediaTick(_tick: number, nowMs: number): void {
    if (this.#closed) return;
    const m = this.#media;
    if (!m || !this.#codec) return;
    this.#taps.tickInbound(this.#jitter!);
    this.#checkTimers(m, nowMs);
  }

  /** The fast path's pull: the source writes its payload into the send buffer; 0 when it is done. */
  #pullEncoded(codec: 'PCMU' | 'PCMA'): number {
    const src = this.#source!;
    let n = 0;
    try {
      n = src.nextPayloadInto!(codec, this.#sender.payloadBuffer, 0);
    } catch (err) {
      this.#log.error({ err }, 'audio source threw; dropped');
    }
    if (n > 0) return n;
    if (this.#source === src) this.#source = null;
    this.safeEmit('source-ended', src);
    return 0;
  }

  /** Sends this tick's RFC 4733 packet if the event source has one; true when it did. */
  #sendEvent(pt: number): boolean {
    const src = this.#eventSource!;
    const r = this.#sender.sendEvent(src, pt);
    if (r === 'ended') {
      if (this.#eventSource === src) this.#eventSource = null;
      this.safeEmit('event-ended', src);
    }
    return r === 'sent';
  }

  // 3. inactivity and RTCP
  #checkTimers(m: NegotiatedMedia, nowMs: number): void {
    const limit = this.#opts.inactivityMs ?? 30_000;
    if (limit > 0 && m.recv && !this.#inactiveFired && nowMs - this.#lastRxMs >= limit) {
      this.#inactiveFired = true;
      this.safeEmit('inactive', { silentMs: nowMs - this.#lastRxMs });
    }
    this.#rtcp.onTick(m, this.#codec?.clockRate ?? 8000, nowMs);
  }

  /** Asks the current source for a frame; drops it (emitting 'source-ended') when it is done. */
  #pull(): boolean {
    const src = this.#source;
    if (!src) return false;
    let ok = false;
    try {
      ok = src.nextFrame(this.#txFrame);
    } catch (err) {
      this.#log.error({ err }, 'audio source threw; dropped');
    }
    if (ok) return true;
    if (this.#source === src) this.#source = null;
    this.safeEmit('source-ended', src);
    return false;
  }

  // ——— receive ———

  #receiveRtp(msg: Buffer, len: number, rinfo: DatagramSource): void {
    if (this.#closed) return;
    if (looksLikeRtcp(msg, len)) {
      this.#receiveRtcp(msg, len, rinfo, true);
      return;
    }
    const h = this.#rxHeader;
    if (!parseRtp(msg, len, h)) {
      this.stats.malformed++;
      return;
    }
    const m = this.#media;
    if (!m) {
      this.stats.unknownPayloadType++;
      return;
    }
    const pt = h.payloadType;
    const isAudio = pt === m.codec.payloadType;
    const isEvent = m.telephoneEvent !== null && pt === m.telephoneEvent.payloadType;
    if (!this.#latch.accept(rinfo, m, isAudio || isEvent)) return;
    const now = performance.now();
    const rtcp = this.#rtcp;
    if (h.ssrc !== rtcp.remoteSsrc) {
      const previous = rtcp.remoteSsrc;
      rtcp.newSource(h.ssrc);
      if (previous !== -1) {
        // RFC 3550 §8.2: a new SSRC is a new source; its sequence/timestamp spaces are unrelated.
        this.stats.ssrcChanges++;
        this.#jitter!.reset();
        this.safeEmit('ssrc-change', { previous, current: h.ssrc });
      }
    }
    this.stats.rtpReceived++;
    this.stats.octetsReceived += h.payloadLength;
    this.#lastRxMs = now;
    this.#inactiveFired = false;
    rtcp.onRtp(h.sequence, h.timestamp, now);
    const payload = this.#rxPayload.of(msg, h.payloadOffset, h.payloadLength);
    if (isAudio) {
      if (this.#taps.inboundActive) this.#jitter!.push(h, payload, now);
    } else if (!isEvent) this.stats.unknownPayloadType++;
    this.#taps.dispatchRtp(h, payload, now);
  }

  #receiveRtcp(msg: Buffer, len: number, rinfo: DatagramSource, muxed: boolean): void {
    if (this.#closed) return;
    const report = this.#rtcp.receive(msg, len, rinfo, muxed);
    if (report) this.safeEmit('rtcp', report);
  }

  // ——— lifecycle ———

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('MediaSession is closed');
  }

  /** Sends an RTCP BYE, leaves the clock, closes the codec and releases the ports. Idempotent. */
  close(): void {
    if (this.#closed) return;
    // Children first: held digits are still reported, recordings get their final header.
    this.#dtmf?.close();
    this.#playback?.close();
    try {
      this.#rtcp.send(this.#media, this.#codec?.clockRate ?? 8000, performance.now(), true);
    } catch {
      // best effort
    }
    this.#closed = true;
    this.#latch.close();
    this.#removeTick?.();
    this.#removeTick = null;
    this.#rtpSocket.setHandlers(null);
    this.#rtcpSocket.setHandlers(null);
    this.#allocator.release(this.port);
    this.#codec?.close();
    this.#codec = null;
    this.#encodedName = null;
    this.#source = null;
    this.#taps.clear();
    this.safeEmit('closed');
    this.removeAllListeners();
  }
}
