// RtpSender: the outbound RTP of one MediaSession, owned by the session. It holds the one send
// state per session — RFC 3550 §5.1 random initial sequence and timestamp, continuous across
// source changes, prompts, RFC 4733 events and bridge pass-through — the send buffer with its
// reused header, and the counters the RTCP sender report needs. The session decides per tick
// *what* to send (audio, an event packet, a relayed payload, nothing); this writes the RTP
// header and sends to the RtpLatch's destination.
//
// Hot path: every method allocates nothing (one send buffer, a reused header object; the socket
// is done with the packet when send returns).
import type { Logger } from '../lib/log.js';
import { writeRtpHeader, type RtpHeaderInit } from './rtp.js';
import type { RtpLatch } from './session-latch.js';
import type { MediaSessionStats } from './session-types.js';
import type { Codec, RtpEventPacket, RtpEventSource } from './types.js';
import type { MediaSocket } from './udp.js';

/** Largest datagram we accept/produce. */
export const MAX_PACKET = 1500;
const RTP_HEADER = 12;
/** Largest payload sendRtpPayload() takes. */
export const MAX_RTP_PAYLOAD = MAX_PACKET - RTP_HEADER;
/** Largest RFC 4733 packet an event source may produce. */
const MAX_EVENT_PAYLOAD = 64;

/** sendEvent() outcome: sent a packet, nothing this tick, or the source is done. */
export type EventSendResult = 'sent' | 'none' | 'ended';

export function random32(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

export class RtpSender {
  readonly #rtp: MediaSocket;
  readonly #latch: RtpLatch;
  readonly #stats: MediaSessionStats;
  readonly #log: Logger;
  readonly #ssrc: number;

  // RFC 3550 §5.1: random initial sequence and timestamp
  #seq = random32() & 0xffff;
  #ts = random32();
  #tsTick = -1;
  #lastTick = -1;
  #lastRelayTick = -1000;
  /** We sent a packet in the last tick (RFC 3551 §4.1 marker on the first one after none). */
  sentLastTick = false;
  #packetCount = 0;
  #octetCount = 0;
  #lastRtpTs = 0;
  #lastRtpSentMs = 0;
  readonly #buf = Buffer.alloc(MAX_PACKET);
  readonly #payload = this.#buf.subarray(RTP_HEADER);
  readonly #header: RtpHeaderInit = { marker: false, payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0 };
  readonly #eventPacket: RtpEventPacket = { payload: this.#buf.subarray(RTP_HEADER, RTP_HEADER + MAX_EVENT_PAYLOAD), length: 0, marker: false, timestamp: 0 };

  constructor(rtp: MediaSocket, latch: RtpLatch, stats: MediaSessionStats, log: Logger, ssrc: number) {
    this.#rtp = rtp;
    this.#latch = latch;
    this.#stats = stats;
    this.#log = log;
    this.#ssrc = ssrc;
  }

  /** RTP packets sent (for the SR). */
  get packetCount(): number {
    return this.#packetCount;
  }
  /** Payload octets sent (for the SR). */
  get octetCount(): number {
    return this.#octetCount;
  }

  /** Start of a clock tick; `negotiated`: the timestamp clock starts at the first negotiated tick. */
  beginTick(tick: number, negotiated: boolean): void {
    this.#lastTick = tick;
    if (negotiated && this.#tsTick < 0) this.#tsTick = tick;
  }

  /** A bridge relayed a payload within the last 2 ticks: the tick path does not send. */
  relaying(tick: number): boolean {
    return tick - this.#lastRelayTick <= 2;
  }

  /** Timestamps follow the clock, not the packets sent (RFC 3550 §5.1): a gap advances them. */
  advance(tick: number, timestampStep: number): void {
    const ticks = tick - this.#tsTick;
    this.#ts = (this.#ts + ticks * timestampStep) >>> 0;
    this.#tsTick = tick;
  }

  /** Encodes `frame` with `codec` and sends it. */
  sendAudio(codec: Codec, frame: Int16Array, payloadType: number): void {
    const n = codec.encode(frame, this.#payload);
    // RFC 3551 §4.1: marker on the first packet of a talkspurt (after we sent nothing).
    // (A clock skip after a stall is not a talkspurt: the timestamp jump tells the receiver.)
    const marker = !this.sentLastTick;
    this.#send(payloadType, marker, n);
    this.sentLastTick = true;
  }

  /** The send buffer's payload area (after the 12-byte header), for a source that writes encoded audio itself. */
  get payloadBuffer(): Buffer {
    return this.#payload;
  }

  /** Sends `length` payload bytes already written into payloadBuffer (pre-encoded audio). */
  sendEncoded(length: number, payloadType: number): void {
    const marker = !this.sentLastTick;
    this.#send(payloadType, marker, length);
    this.sentLastTick = true;
  }

  /** Sends this tick's RFC 4733 packet if `src` has one ('ended': it returned false or threw). */
  sendEvent(src: RtpEventSource, payloadType: number): EventSendResult {
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
    if (!more) return 'ended';
    if (pkt.length <= 0 || pkt.length > MAX_EVENT_PAYLOAD) return 'none';
    const audioTs = this.#ts;
    this.#ts = pkt.timestamp >>> 0;
    this.#send(payloadType, pkt.marker, pkt.length);
    this.#ts = audioTs;
    return 'sent';
  }

  /**
   * Pass-through: our header (SSRC, continuous sequence, timestamp advanced by
   * `timestampDelta`) over a copy of `payload` (at most MAX_RTP_PAYLOAD, checked by the caller).
   */
  relay(payloadType: number, payload: Uint8Array, timestampDelta: number, marker: boolean): void {
    this.#ts = (this.#ts + timestampDelta) >>> 0;
    this.#tsTick = this.#lastTick;
    this.#lastRelayTick = this.#lastTick;
    this.#payload.set(payload, 0);
    this.#send(payloadType, marker, payload.length);
    this.#stats.relayedSent++;
  }

  /** SR timestamp: the RTP time corresponding to `nowMs` (last packet's + elapsed), RFC 3550 §6.4.1. */
  rtpTimestampAt(nowMs: number, clockRate: number): number {
    return (this.#lastRtpTs + Math.round(((nowMs - this.#lastRtpSentMs) * clockRate) / 1000)) >>> 0;
  }

  #send(payloadType: number, marker: boolean, payloadLength: number): void {
    const h = this.#header;
    h.marker = marker;
    h.payloadType = payloadType;
    h.sequence = this.#seq;
    h.timestamp = this.#ts;
    h.ssrc = this.#ssrc;
    writeRtpHeader(this.#buf, h, 0);
    this.#seq = (this.#seq + 1) & 0xffff;
    const len = RTP_HEADER + payloadLength;
    const latch = this.#latch;
    if (latch.connected) this.#rtp.send(this.#buf, 0, len);
    else this.#rtp.sendTo(this.#buf, 0, len, latch.port, latch.address);
    this.#stats.rtpSent++;
    this.#stats.octetsSent += payloadLength;
    this.#packetCount++;
    this.#octetCount += payloadLength;
    this.#lastRtpTs = this.#ts;
    this.#lastRtpSentMs = performance.now();
  }
}
