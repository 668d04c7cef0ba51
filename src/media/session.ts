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
// buffers and scratch frames; no closures per packet). Node's dgram still wraps each received
// datagram in a Buffer.
import type { Socket, RemoteInfo } from 'node:dgram';
import { InvalidStateError } from '../lib/errors.js';
import { moduleLogger, type Logger } from '../lib/log.js';
import { sharedMediaClock, type MediaClock, type MediaTickListener } from '../lib/media-clock.js';
import { createCodec } from './codec/index.js';
import { JitterBuffer, type JitterBufferOptions } from './jitter.js';
import type { PortAllocator } from './ports.js';
import {
  createReportBlock,
  ntpMiddleOfMs,
  parseRtcp,
  rttFromReport,
  RtpReceiverStats,
  writeBye,
  writeReceiverReport,
  writeSdesCname,
  writeSenderReport,
  type ReportBlock,
  type RtcpPacket,
} from './rtcp.js';
import { createRtpHeader, looksLikeRtcp, parseRtp, writeRtpHeader, type RtpHeader, type RtpHeaderInit } from './rtp.js';
import { answerOffer, applyAnswer, buildOffer, parseSdp, SdpError, SdpOriginState, type CodecName, type Direction, type LocalMedia, type NegotiatedMedia, type SessionDescription } from './sdp/index.js';
import { MediaEmitter } from './session-emitter.js';
import { SessionDtmf, type DtmfSendMethod, type SessionDtmfOptions } from './session-dtmf.js';
import { SessionPlayback, type PlayInput, type SessionPlayOptions, type SessionRecordOptions } from './session-playback.js';
import type { Player } from './player.js';
import type { PromptCache } from './prompts.js';
import type { Recorder } from './recorder.js';
import {
  FRAME_SAMPLES,
  type AudioFrameKind,
  type AudioSource,
  type AudioTap,
  type Codec,
  type DtmfEvent,
  type RtpEventPacket,
  type RtpEventSource,
  type RtpListener,
  type TapDirection,
} from './types.js';

/** RFC 3550 §6.2: the minimum RTCP interval is 5 s. */
export const RTCP_INTERVAL_MS = 5000;
/** Largest datagram we accept/produce. */
const MAX_PACKET = 1500;
const RTP_HEADER = 12;

export interface MediaSessionOptions {
  allocator: PortAllocator;
  /** Defaults to the process-wide sharedMediaClock(). */
  clock?: MediaClock;
  /** Address advertised in SDP c= (defaults to the allocator's bind address, which must then not be a wildcard). */
  address?: string;
  /** Codecs in our preference order (default PCMU, PCMA, opus). */
  codecs?: CodecName[];
  /** Offer/accept RFC 4733 telephone-event (default true). */
  telephoneEvent?: boolean;
  /**
   * connect() the RTP socket to the peer once latched to the address its SDP names, and send
   * without an address (≈20% cheaper per packet). The kernel then filters every other source, so
   * `stats.foreignSource` no longer sees them (default true; false: always unconnected).
   */
  connect?: boolean;
  /** Emit 'inactive' after this long without RTP while we expect some (default 30 000; 0 = off). */
  inactivityMs?: number;
  /** Send encoded silence when there is no source, keeping NAT bindings and peer RTP timeouts alive (default true). */
  sendSilence?: boolean;
  /** RTCP report interval (mean), ms; default 5000. */
  rtcpIntervalMs?: number;
  /** SDES CNAME (RFC 3550 §6.5.1); default a random id @ address. */
  cname?: string;
  /** Jitter buffer tuning. */
  jitter?: Pick<JitterBufferOptions, 'minDelayMs' | 'maxDelayMs' | 'initialDelayMs' | 'capacity'>;
  /**
   * DTMF receive/send (session-dtmf.ts), attached when media is first negotiated: RFC 4733,
   * in-band and SIP INFO digits merged into 'dtmf'; sendDtmf(). Default true; false = none.
   */
  dtmf?: boolean | SessionDtmfOptions;
  /** Prompt cache for play() (default: the process-wide sharedPromptCache()). */
  prompts?: PromptCache;
  logger?: Logger;
}

export interface RtcpReport {
  packets: RtcpPacket[];
  /** Round-trip time from a report block about our stream (ms), when present. */
  rttMs: number | null;
  /** The block the peer reports about our stream (loss/jitter it sees), when present. */
  aboutUs: ReportBlock | null;
}

export interface MediaSessionEvents {
  /** The peer's SSRC changed (the jitter buffer and receive statistics were reset). */
  'ssrc-change': [{ previous: number; current: number }];
  /** No RTP for `silentMs` while we expect to receive (fires once until RTP resumes). */
  inactive: [{ silentMs: number }];
  /** An RTCP compound packet arrived. */
  rtcp: [RtcpReport];
  /** The audio source returned false and was dropped. */
  'source-ended': [AudioSource];
  /** The RFC 4733 event source returned false and was dropped. */
  'event-ended': [RtpEventSource];
  /** A DTMF digit (emitted through notifyDtmf() by the DTMF stream). */
  dtmf: [DtmfEvent];
  /** close() ran; the ports are released. */
  closed: [];
}

/** Counters; the object is live and reused. */
export interface MediaSessionStats {
  rtpSent: number;
  octetsSent: number;
  rtpReceived: number;
  octetsReceived: number;
  /** Datagrams that were not valid RTP/RTCP. */
  malformed: number;
  /** Packets from a source other than the latched one (ignored). */
  foreignSource: number;
  /** Packets with a payload type not negotiated. */
  unknownPayloadType: number;
  rtcpSent: number;
  rtcpReceived: number;
  ssrcChanges: number;
  relayedSent: number;
  sendErrors: number;
  tapErrors: number;
  latches: number;
}

function random32(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

export class MediaSession extends MediaEmitter<MediaSessionEvents> implements MediaTickListener {
  readonly port: number;
  readonly address: string;
  readonly stats: MediaSessionStats = {
    rtpSent: 0,
    octetsSent: 0,
    rtpReceived: 0,
    octetsReceived: 0,
    malformed: 0,
    foreignSource: 0,
    unknownPayloadType: 0,
    rtcpSent: 0,
    rtcpReceived: 0,
    ssrcChanges: 0,
    relayedSent: 0,
    sendErrors: 0,
    tapErrors: 0,
    latches: 0,
  };
  /** Our SSRC (random, RFC 3550 §8). */
  readonly ssrc = random32();

  readonly #allocator: PortAllocator;
  readonly #clock: MediaClock;
  readonly #rtp: Socket;
  readonly #rtcp: Socket;
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
  #rxStats: RtpReceiverStats | null = null;

  // Symmetric RTP latch and destinations
  #latched = false;
  #latchedToSdp = false;
  #dstAddress = '';
  #dstPort = 0;
  /** The RTP socket is connect()ed to #dstAddress:#dstPort (send without an address). */
  #rtpConnected = false;
  /** A connect() is in flight (non-literal address): sends go with an address meanwhile. */
  #rtpConnecting = false;
  #rtcpLatched = false;
  #rtcpAddress = '';
  #rtcpPort = 0;

  // Send state (RFC 3550 §5.1: random initial sequence and timestamp)
  #seq = random32() & 0xffff;
  #ts = random32();
  #tsTick = -1;
  #lastTick = -1;
  #sentLastTick = false;
  #lastRelayTick = -1000;
  #packetCount = 0;
  #octetCount = 0;
  #lastRtpTs = 0;
  #lastRtpSentMs = 0;
  readonly #txBuf = Buffer.alloc(MAX_PACKET);
  readonly #txPayload = this.#txBuf.subarray(RTP_HEADER);
  #txView = this.#txBuf.subarray(0, 0);
  readonly #txHeader: RtpHeaderInit = { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0 };
  readonly #txFrame = new Int16Array(FRAME_SAMPLES);
  #source: AudioSource | null = null;
  #sendSilence: boolean;
  #eventSource: RtpEventSource | null = null;
  readonly #eventPacket: RtpEventPacket = { payload: this.#txBuf.subarray(RTP_HEADER, RTP_HEADER + 64), length: 0, marker: false, timestamp: 0 };

  // Receive state
  readonly #rxHeader: RtpHeader = createRtpHeader();
  readonly #rxFrame = new Int16Array(FRAME_SAMPLES);
  /** Handed to 'in' taps that do not need audio while nothing needs it (zeroed each time). */
  readonly #rxSilence = new Int16Array(FRAME_SAMPLES);
  /** Some 'in' tap needs decoded inbound audio: packets go to the jitter buffer, the tick decodes. */
  #inboundActive = false;
  #rxSsrc = -1;
  #lastRxMs = 0;
  #inactiveFired = false;

  // Observers (copy-on-write arrays: iterate without allocation)
  #inTaps: AudioTap[] = [];
  #outTaps: AudioTap[] = [];
  #rtpListeners: RtpListener[] = [];

  // Children (session-dtmf.ts, session-playback.ts): DTMF from the first negotiation on,
  // playback/recording from the first play()/record().
  #dtmf: SessionDtmf | null = null;
  #playback: SessionPlayback | null = null;

  // RTCP
  readonly #rtcpBuf = Buffer.alloc(MAX_PACKET);
  readonly #block: ReportBlock = createReportBlock();
  readonly #cname: Buffer;
  #nextRtcpMs = 0;

  // Socket handlers never throw: a bug or hostile packet becomes a counter and a log line.
  readonly #onRtpMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    try {
      this.#receiveRtp(msg, rinfo);
    } catch (err) {
      this.#handlerError(err);
    }
  };
  readonly #onRtcpMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    try {
      this.#receiveRtcp(msg, rinfo, false);
    } catch (err) {
      this.#handlerError(err);
    }
  };
  #handlerError(err: unknown): void {
    this.stats.malformed++;
    this.#log.error({ err }, 'media packet handler threw; packet dropped');
  }
  readonly #onSocketError = (err: Error): void => {
    this.stats.sendErrors++;
    this.#log.debug({ err: err.message }, 'media socket error');
  };

  /** Allocates a port pair and joins the media clock. */
  static async create(opts: MediaSessionOptions): Promise<MediaSession> {
    const pair = await opts.allocator.allocate();
    return new MediaSession(opts, pair.port, pair.rtp, pair.rtcp);
  }

  private constructor(opts: MediaSessionOptions, port: number, rtp: Socket, rtcp: Socket) {
    const log = opts.logger ?? moduleLogger('media.session');
    super(log);
    this.#log = log.child({ rtpPort: port });
    this.#opts = opts;
    this.#allocator = opts.allocator;
    this.#clock = opts.clock ?? sharedMediaClock();
    this.port = port;
    this.address = opts.address ?? opts.allocator.address;
    if (this.address === '0.0.0.0' || this.address === '::') {
      opts.allocator.release(port);
      throw new InvalidStateError('MediaSession needs an advertised address when the allocator binds a wildcard');
    }
    this.#rtp = rtp;
    this.#rtcp = rtcp;
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
    this.#cname = Buffer.from(opts.cname ?? `${random32().toString(16)}@${this.address}`);
    rtp.on('message', this.#onRtpMessage);
    rtcp.on('message', this.#onRtcpMessage);
    rtp.on('error', this.#onSocketError);
    rtcp.on('error', this.#onSocketError);
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
    return this.#dstPort ? { address: this.#dstAddress, port: this.#dstPort, latched: this.#latched } : null;
  }
  /** The RTP socket is connect()ed to the latched peer (see MediaSessionOptions.connect). */
  get rtpConnected(): boolean {
    return this.#rtpConnected;
  }
  /** Jitter buffer statistics (null before negotiation). */
  get jitterStats(): JitterBuffer['stats'] | null {
    return this.#jitter?.stats ?? null;
  }
  /** RFC 3550 receiver statistics of the current remote source. */
  get receiverStats(): RtpReceiverStats | null {
    return this.#rxStats;
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
      this.#jitter = new JitterBuffer({ codec, clockRate: codec.clockRate, ...this.#opts.jitter });
      this.#rxStats = new RtpReceiverStats(codec.clockRate);
      this.#rxSsrc = -1;
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
      this.#latched = false;
      this.#rtcpLatched = false;
      this.#disconnectRtp();
      this.#dstAddress = m.remoteAddress;
      this.#dstPort = m.remotePort;
      this.#rtcpAddress = m.remoteAddress;
      this.#rtcpPort = m.remoteRtcpPort;
    }
    if (this.#opts.dtmf !== false) {
      this.#dtmf ??= new SessionDtmf(this, typeof this.#opts.dtmf === 'object' ? this.#opts.dtmf : {}, this.#log);
      this.#dtmf.update(m); // the telephone-event payload type may change with every offer/answer
    }
    const now = performance.now();
    this.#lastRxMs = now;
    this.#inactiveFired = false;
    // First report after half an interval (RFC 3550 §6.2 initial interval), randomised.
    if (this.#nextRtcpMs === 0) this.#nextRtcpMs = now + this.#rtcpInterval() / 2;
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
    if (direction !== 'out' && !this.#inTaps.includes(tap)) {
      this.#inTaps = [...this.#inTaps, tap];
      // Audio from now on, not from the next tick (the tick re-checks every 'in' tap).
      if (tap.needsAudio !== false && !this.#inboundActive) {
        this.#inboundActive = true;
        this.#jitter?.reset();
      }
    }
    if (direction !== 'in' && !this.#outTaps.includes(tap)) this.#outTaps = [...this.#outTaps, tap];
    return () => {
      this.#inTaps = this.#inTaps.filter((t) => t !== tap);
      this.#outTaps = this.#outTaps.filter((t) => t !== tap);
    };
  }

  /** Subscribes to each accepted inbound RTP packet (views). Returns remove(). */
  addRtpListener(l: RtpListener): () => void {
    if (!this.#rtpListeners.includes(l)) this.#rtpListeners = [...this.#rtpListeners, l];
    return () => {
      this.#rtpListeners = this.#rtpListeners.filter((x) => x !== l);
    };
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
    if (this.#closed || !m || !m.send || this.#dstPort === 0 || payload.length > MAX_PACKET - RTP_HEADER) return false;
    this.#ts = (this.#ts + timestampDelta) >>> 0;
    this.#tsTick = this.#lastTick;
    this.#lastRelayTick = this.#lastTick;
    this.#txPayload.set(payload, 0);
    this.#sendPacket(payloadType, marker, payload.length);
    this.stats.relayedSent++;
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

  /** MediaTickListener: called by the shared clock every 20 ms. Allocates nothing. */
  onMediaTick(tick: number, nowMs: number): void {
    if (this.#closed) return;
    this.#lastTick = tick;
    const m = this.#media;
    const codec = this.#codec;
    if (!m || !codec) return;
    if (this.#tsTick < 0) this.#tsTick = tick;

    // 1. inbound: one frame from the jitter buffer to the taps — only when a tap needs the audio
    //    (no consumer: packets skip the jitter buffer and nothing is decoded).
    const inTaps = this.#inTaps;
    if (inTaps.length) {
      let need = false;
      for (let i = 0; i < inTaps.length; i++) if (inTaps[i]!.needsAudio !== false) need = true;
      if (need !== this.#inboundActive) {
        // Start (or stop) filling the jitter buffer afresh: nothing stale from before.
        this.#inboundActive = need;
        this.#jitter!.reset();
      }
      if (need) this.#tap(inTaps, this.#rxFrame, this.#jitter!.pop(this.#rxFrame), 'in');
      else {
        this.#rxSilence.fill(0);
        this.#tap(inTaps, this.#rxSilence, 'silence', 'in');
      }
    } else if (this.#inboundActive) {
      this.#inboundActive = false;
      this.#jitter!.reset();
    }

    // 2. outbound
    let produced = this.#pull();
    // A 'source-ended' listener may chain the next prompt: ask it in the same tick (no gap).
    if (!produced && this.#source) produced = this.#pull();
    if (!produced) this.#txFrame.fill(0);
    // In-band DTMF we send replaces the audio while a tone plays (session-dtmf-send.ts).
    if (this.#dtmf !== null && this.#dtmf.mixOutbound(this.#txFrame)) produced = true;
    if (this.#outTaps.length) this.#tap(this.#outTaps, this.#txFrame, produced ? 'audio' : 'silence', 'out');
    const relaying = tick - this.#lastRelayTick <= 2;
    if (!relaying && m.send && this.#dstPort !== 0 && (produced || this.#sendSilence || this.#eventSource)) {
      // Timestamps follow the clock, not the packets sent (RFC 3550 §5.1): a gap advances them.
      const ticks = tick - this.#tsTick;
      this.#ts = (this.#ts + ticks * codec.timestampStep) >>> 0;
      this.#tsTick = tick;
      if (this.#eventSource && m.telephoneEvent && this.#sendEvent(m.telephoneEvent.payloadType)) {
        this.#sentLastTick = true;
        this.#checkTimers(m, nowMs);
        return;
      }
      if (!produced && !this.#sendSilence) {
        this.#sentLastTick = false;
        this.#checkTimers(m, nowMs);
        return;
      }
      const n = codec.encode(this.#txFrame, this.#txPayload);
      // RFC 3551 §4.1: marker on the first packet of a talkspurt (after we sent nothing).
      // (A clock skip after a stall is not a talkspurt: the timestamp jump tells the receiver.)
      const marker = !this.#sentLastTick;
      this.#sendPacket(m.codec.payloadType, marker, n);
      this.#sentLastTick = true;
    } else {
      this.#sentLastTick = relaying;
    }

    this.#checkTimers(m, nowMs);
  }

  /** Sends this tick's RFC 4733 packet if the event source has one; true when it did. */
  #sendEvent(pt: number): boolean {
    const src = this.#eventSource!;
    const pkt = this.#eventPacket;
    pkt.length = 0;
    pkt.marker = false;
    pkt.timestamp = this.#ts;
    let more = false;
    try {
      more = src.nextEventPacket(this.#ts, pkt);
    } catch (err) {
      this.#log.error({ err }, 'event source threw; dropped');
    }
    if (!more) {
      if (this.#eventSource === src) this.#eventSource = null;
      this.safeEmit('event-ended', src);
      return false;
    }
    if (pkt.length <= 0 || pkt.length > 64) return false;
    const audioTs = this.#ts;
    this.#ts = pkt.timestamp >>> 0;
    this.#sendPacket(pt, pkt.marker, pkt.length);
    this.#ts = audioTs;
    return true;
  }

  // 3. inactivity and RTCP
  #checkTimers(m: NegotiatedMedia, nowMs: number): void {
    const limit = this.#opts.inactivityMs ?? 30_000;
    if (limit > 0 && m.recv && !this.#inactiveFired && nowMs - this.#lastRxMs >= limit) {
      this.#inactiveFired = true;
      this.safeEmit('inactive', { silentMs: nowMs - this.#lastRxMs });
    }
    if (nowMs >= this.#nextRtcpMs) {
      this.#nextRtcpMs = nowMs + this.#rtcpInterval();
      this.#sendRtcp(nowMs, false);
    }
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

  #tap(taps: AudioTap[], frame: Int16Array, kind: AudioFrameKind, dir: TapDirection): void {
    for (let i = 0; i < taps.length; i++) {
      try {
        taps[i]!.onAudio(frame, kind, dir);
      } catch (err) {
        this.stats.tapErrors++;
        if (this.stats.tapErrors === 1) this.#log.error({ err }, 'audio tap threw; isolated');
      }
    }
  }

  #sendPacket(payloadType: number, marker: boolean, payloadLength: number): void {
    const h = this.#txHeader;
    h.marker = marker;
    h.payloadType = payloadType;
    h.sequence = this.#seq;
    h.timestamp = this.#ts;
    h.ssrc = this.ssrc;
    writeRtpHeader(this.#txBuf, h, 0);
    this.#seq = (this.#seq + 1) & 0xffff;
    const len = RTP_HEADER + payloadLength;
    if (this.#rtpConnected) {
      // A view per length, reused (G.711 packets are all one length): dgram then sends it as is
      // instead of allocating a slice of #txBuf per packet.
      let v = this.#txView;
      if (v.length !== len) this.#txView = v = this.#txBuf.subarray(0, len);
      this.#rtp.send(v);
    } else this.#rtp.send(this.#txBuf, 0, len, this.#dstPort, this.#dstAddress);
    this.stats.rtpSent++;
    this.stats.octetsSent += payloadLength;
    this.#packetCount++;
    this.#octetCount += payloadLength;
    this.#lastRtpTs = this.#ts;
    this.#lastRtpSentMs = performance.now();
  }

  // ——— connected RTP socket ———
  //
  // Once latched to the address the SDP names, the RTP socket is connect()ed to it: sends then go
  // without an address (≈20% cheaper per packet, /work/shared/DEPENDENCIES.md). Trade-off: the
  // kernel then drops datagrams from any other source before we see them, so `foreignSource`
  // counts only what arrives while unconnected (before the latch, or latched to a non-SDP source
  // — NAT — where we stay unconnected so that the SDP address can still win once it sends).
  // An SDP change disconnects (the peer may have moved) and the latch starts over.

  #connectRtp(): void {
    const port = this.#dstPort;
    const address = this.#dstAddress;
    this.#rtpConnecting = true;
    try {
      this.#rtp.connect(port, address, (err?: Error) => {
        if (!this.#rtpConnecting || this.#dstPort !== port || this.#dstAddress !== address) {
          // Superseded while the lookup ran (SDP change): undo it unless a newer connect is live.
          if (!err) this.#tryDisconnect();
          return;
        }
        this.#rtpConnecting = false;
        if (err) this.#log.debug({ err: err.message }, 'RTP connect failed; sending unconnected');
        else this.#rtpConnected = !this.#closed;
      });
    } catch (err) {
      this.#rtpConnecting = false;
      this.#log.debug({ err }, 'RTP connect failed; sending unconnected');
      return;
    }
    // With an IP literal and the allocator's synchronous lookup the socket is connected now.
    if (this.#isConnected()) {
      this.#rtpConnecting = false;
      this.#rtpConnected = true;
    }
  }

  #isConnected(): boolean {
    try {
      this.#rtp.remoteAddress();
      return true;
    } catch {
      return false;
    }
  }

  #disconnectRtp(): void {
    const wasConnecting = this.#rtpConnecting;
    this.#rtpConnecting = false;
    if (!this.#rtpConnected && !wasConnecting) return;
    this.#rtpConnected = false;
    try {
      this.#rtp.disconnect();
    } catch {
      // still connecting (its callback undoes it) or already closed
    }
  }

  #tryDisconnect(): void {
    if (this.#rtpConnected || this.#rtpConnecting) return;
    try {
      this.#rtp.disconnect();
    } catch {
      // best effort
    }
  }

  // ——— receive ———

  #receiveRtp(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#closed) return;
    const len = msg.length;
    if (looksLikeRtcp(msg, len)) {
      this.#receiveRtcp(msg, rinfo, true);
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
    if (!this.#latched) {
      // Symmetric RTP: latch to the first source that sends something we negotiated.
      if (!isAudio && !isEvent) {
        this.stats.unknownPayloadType++;
        return;
      }
      this.#latched = true;
      this.#dstAddress = rinfo.address;
      this.#dstPort = rinfo.port;
      this.stats.latches++;
    } else if (rinfo.port !== this.#dstPort || rinfo.address !== this.#dstAddress) {
      // Latched to a source other than the SDP one (NAT, or a stale packet from before a
      // re-INVITE): the address the SDP names wins once it actually sends. Anything else is ignored.
      if (this.#latchedToSdp || rinfo.port !== m.remotePort || rinfo.address !== m.remoteAddress || (!isAudio && !isEvent)) {
        this.stats.foreignSource++;
        return;
      }
      this.#dstAddress = rinfo.address;
      this.#dstPort = rinfo.port;
      this.stats.latches++;
    }
    this.#latchedToSdp = rinfo.port === m.remotePort && rinfo.address === m.remoteAddress;
    if (this.#latchedToSdp && !this.#rtpConnected && !this.#rtpConnecting && this.#opts.connect !== false) this.#connectRtp();
    const now = performance.now();
    if (h.ssrc !== this.#rxSsrc) {
      const previous = this.#rxSsrc;
      this.#rxSsrc = h.ssrc;
      this.#rxStats!.reset(h.ssrc);
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
    this.#rxStats!.update(h.sequence, h.timestamp, now);
    const payload = msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength);
    if (isAudio) {
      if (this.#inboundActive) this.#jitter!.push(h, payload, now);
    } else if (!isEvent) this.stats.unknownPayloadType++;
    const ls = this.#rtpListeners;
    for (let i = 0; i < ls.length; i++) {
      try {
        ls[i]!.onRtp(h, payload, now);
      } catch (err) {
        this.stats.tapErrors++;
        this.#log.error({ err }, 'RTP listener threw; isolated');
      }
    }
  }

  #receiveRtcp(msg: Buffer, rinfo: RemoteInfo, muxed: boolean): void {
    if (this.#closed) return;
    const packets = parseRtcp(msg, msg.length);
    if (!packets) {
      this.stats.malformed++;
      return;
    }
    if (!muxed && !this.#rtcpLatched) {
      this.#rtcpLatched = true;
      this.#rtcpAddress = rinfo.address;
      this.#rtcpPort = rinfo.port;
    }
    this.stats.rtcpReceived++;
    const now = performance.now();
    let rttMs: number | null = null;
    let aboutUs: ReportBlock | null = null;
    for (const p of packets) {
      if (p.type === 'sr' && this.#rxStats && p.ssrc === this.#rxSsrc) {
        this.#rxStats.onSenderReport(p.sender.ntpSec, p.sender.ntpFrac, now);
      }
      if (p.type === 'sr' || p.type === 'rr') {
        for (const b of p.reports) {
          if (b.ssrc === this.ssrc) {
            aboutUs = b;
            rttMs = rttFromReport(b, ntpMiddleOfMs(performance.timeOrigin + now));
          }
        }
      }
    }
    this.safeEmit('rtcp', { packets, rttMs, aboutUs });
  }

  // ——— RTCP send ———

  #rtcpInterval(): number {
    // RFC 3550 §6.3.1: randomise the interval over [0.5, 1.5] × the mean.
    return (this.#opts.rtcpIntervalMs ?? RTCP_INTERVAL_MS) * (0.5 + Math.random());
  }

  /** Builds and sends SR (if we sent RTP since the last report) or RR, + SDES CNAME (+ BYE). */
  #sendRtcp(nowMs: number, bye: boolean): void {
    const m = this.#media;
    if (!m || this.#dstPort === 0) return;
    const buf = this.#rtcpBuf;
    const haveBlock = this.#rxStats !== null && this.#rxStats.fillReport(this.#block, nowMs);
    const blocks = haveBlock ? 1 : 0;
    let o: number;
    if (this.#packetCount > 0) {
      const unixMs = performance.timeOrigin + nowMs;
      const sec = Math.floor(unixMs / 1000);
      // SR timestamp: the RTP time corresponding to now (last packet's + elapsed), RFC 3550 §6.4.1.
      const rate = this.#codec?.clockRate ?? 8000;
      const rtpNow = (this.#lastRtpTs + Math.round(((nowMs - this.#lastRtpSentMs) * rate) / 1000)) >>> 0;
      o = writeSenderReport(
        buf,
        0,
        this.ssrc,
        {
          ntpSec: (sec + 2208988800) >>> 0,
          ntpFrac: Math.floor(((unixMs - sec * 1000) / 1000) * 0x100000000) >>> 0,
          rtpTimestamp: rtpNow,
          packetCount: this.#packetCount >>> 0,
          octetCount: this.#octetCount >>> 0,
        },
        [this.#block],
        blocks,
      );
    } else {
      o = writeReceiverReport(buf, 0, this.ssrc, [this.#block], blocks);
    }
    o = writeSdesCname(buf, o, this.ssrc, this.#cname);
    if (bye) o = writeBye(buf, o, [this.ssrc]);
    const sock = m.rtcpMux ? this.#rtp : this.#rtcp;
    const port = m.rtcpMux ? this.#dstPort : this.#rtcpPort;
    const addr = m.rtcpMux ? this.#dstAddress : this.#rtcpAddress;
    if (port === 0) return;
    try {
      if (m.rtcpMux && this.#rtpConnected) sock.send(buf, 0, o);
      else sock.send(buf, 0, o, port, addr);
      this.stats.rtcpSent++;
    } catch (err) {
      this.stats.sendErrors++;
      this.#log.debug({ err }, 'RTCP send failed');
    }
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
      this.#sendRtcp(performance.now(), true);
    } catch {
      // best effort
    }
    this.#closed = true;
    this.#removeTick?.();
    this.#removeTick = null;
    this.#rtp.off('message', this.#onRtpMessage);
    this.#rtcp.off('message', this.#onRtcpMessage);
    // Keep the error listeners: a late ICMP error must not crash the process.
    this.#allocator.release(this.port);
    this.#codec?.close();
    this.#codec = null;
    this.#source = null;
    this.#inTaps = [];
    this.#outTaps = [];
    this.#rtpListeners = [];
    this.safeEmit('closed');
    this.removeAllListeners();
  }
}
