// SessionRtcp: the RTCP side of one MediaSession, owned by the session.
//   - Receive statistics (RFC 3550 §6.4, A.3, A.8) of the current remote source: reset on a codec
//     change and on a new SSRC, updated per accepted RTP packet.
//   - Report scheduling: first report after half an interval (RFC 3550 §6.2 initial interval),
//     then every interval randomised over [0.5, 1.5] × the mean (§6.3.1).
//   - Building and sending a compound packet into one reused buffer: SR when we sent RTP (else
//     RR) with one report block about the peer, SDES CNAME, and BYE on close; over the RTP
//     socket when rtcp-mux was negotiated, else to the RtpLatch's RTCP destination.
//   - Parsing received compounds into the 'rtcp' event data (RTT and the block about our stream).
//
// Hot path: onRtp() runs per packet and allocates nothing; sending a report allocates nothing;
// receive() allocates the parsed packets and the event object (one per RTCP compound).
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
} from './rtcp.js';
import type { NegotiatedMedia } from './sdp/index.js';
import type { RtpLatch } from './session-latch.js';
import { MAX_PACKET, type RtpSender } from './session-send.js';
import type { DatagramSource, MediaSocket } from './udp.js';
import { RTCP_INTERVAL_MS, type MediaSessionOptions, type MediaSessionStats, type RtcpReport } from './session-types.js';

/** What SessionRtcp shares with its session. */
export interface RtcpParts {
  rtp: MediaSocket;
  rtcp: MediaSocket;
  latch: RtpLatch;
  sender: RtpSender;
  stats: MediaSessionStats;
  ssrc: number;
  cname: Buffer;
  opts: Pick<MediaSessionOptions, 'rtcpIntervalMs'>;
}

export class SessionRtcp {
  readonly #p: RtcpParts;
  readonly #buf = Buffer.alloc(MAX_PACKET);
  readonly #block: ReportBlock = createReportBlock();
  #nextMs = 0;
  #rxStats: RtpReceiverStats | null = null;
  #rxSsrc = -1;

  constructor(parts: RtcpParts) {
    this.#p = parts;
  }

  /** RFC 3550 receiver statistics of the current remote source (null before negotiation). */
  get receiverStats(): RtpReceiverStats | null {
    return this.#rxStats;
  }
  /** SSRC of the current remote source; -1 before the first packet. */
  get remoteSsrc(): number {
    return this.#rxSsrc;
  }

  /** A new codec: fresh statistics at its clock rate, no remote source yet. */
  resetReceiver(clockRate: number): void {
    this.#rxStats = new RtpReceiverStats(clockRate);
    this.#rxSsrc = -1;
  }

  /** The remote source is now `ssrc` (first packet, or RFC 3550 §8.2 SSRC change): restart stats. */
  newSource(ssrc: number): void {
    this.#rxSsrc = ssrc;
    this.#rxStats!.reset(ssrc);
  }

  /** An accepted RTP packet of the current source. */
  onRtp(sequence: number, timestamp: number, nowMs: number): void {
    this.#rxStats!.update(sequence, timestamp, nowMs);
  }

  /** Media negotiated: schedule the first report (once per session). */
  start(nowMs: number): void {
    if (this.#nextMs === 0) this.#nextMs = nowMs + this.#interval() / 2;
  }

  /** Per tick: sends a report when one is due. */
  onTick(m: NegotiatedMedia, clockRate: number, nowMs: number): void {
    if (nowMs >= this.#nextMs) {
      this.#nextMs = nowMs + this.#interval();
      this.send(m, clockRate, nowMs, false);
    }
  }

  #interval(): number {
    // RFC 3550 §6.3.1: randomise the interval over [0.5, 1.5] × the mean.
    return (this.#p.opts.rtcpIntervalMs ?? RTCP_INTERVAL_MS) * (0.5 + Math.random());
  }

  /** Builds and sends SR (if we sent RTP since the last report) or RR, + SDES CNAME (+ BYE). */
  send(m: NegotiatedMedia | null, clockRate: number, nowMs: number, bye: boolean): void {
    const p = this.#p;
    const latch = p.latch;
    if (!m || latch.port === 0) return;
    const buf = this.#buf;
    const haveBlock = this.#rxStats !== null && this.#rxStats.fillReport(this.#block, nowMs);
    const blocks = haveBlock ? 1 : 0;
    let o: number;
    if (p.sender.packetCount > 0) {
      const unixMs = performance.timeOrigin + nowMs;
      const sec = Math.floor(unixMs / 1000);
      o = writeSenderReport(
        buf,
        0,
        p.ssrc,
        {
          ntpSec: (sec + 2208988800) >>> 0,
          ntpFrac: Math.floor(((unixMs - sec * 1000) / 1000) * 0x100000000) >>> 0,
          rtpTimestamp: p.sender.rtpTimestampAt(nowMs, clockRate),
          packetCount: p.sender.packetCount >>> 0,
          octetCount: p.sender.octetCount >>> 0,
        },
        [this.#block],
        blocks,
      );
    } else {
      o = writeReceiverReport(buf, 0, p.ssrc, [this.#block], blocks);
    }
    o = writeSdesCname(buf, o, p.ssrc, p.cname);
    if (bye) o = writeBye(buf, o, [p.ssrc]);
    const sock = m.rtcpMux ? p.rtp : p.rtcp;
    const port = m.rtcpMux ? latch.port : latch.rtcpPort;
    const addr = m.rtcpMux ? latch.address : latch.rtcpAddress;
    if (port === 0) return;
    // Send failures reach the session's socket error handler (counted as sendErrors).
    if (m.rtcpMux && latch.connected) sock.send(buf, 0, o);
    else sock.sendTo(buf, 0, o, port, addr);
    p.stats.rtcpSent++;
  }

  /**
   * A received datagram (`muxed`: it came on the RTP socket). Returns the 'rtcp' event data, or
   * null when it is not valid RTCP (counted as malformed).
   */
  receive(msg: Buffer, length: number, rinfo: DatagramSource, muxed: boolean): RtcpReport | null {
    const p = this.#p;
    const packets = parseRtcp(msg, length);
    if (!packets) {
      p.stats.malformed++;
      return null;
    }
    if (!muxed) p.latch.acceptRtcp(rinfo);
    p.stats.rtcpReceived++;
    const now = performance.now();
    let rttMs: number | null = null;
    let aboutUs: ReportBlock | null = null;
    for (const pkt of packets) {
      if (pkt.type === 'sr' && this.#rxStats && pkt.ssrc === this.#rxSsrc) {
        this.#rxStats.onSenderReport(pkt.sender.ntpSec, pkt.sender.ntpFrac, now);
      }
      if (pkt.type === 'sr' || pkt.type === 'rr') {
        for (const b of pkt.reports) {
          if (b.ssrc === p.ssrc) {
            aboutUs = b;
            rttMs = rttFromReport(b, ntpMiddleOfMs(performance.timeOrigin + now));
          }
        }
      }
    }
    return { packets, rttMs, aboutUs };
  }
}
