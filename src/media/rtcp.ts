// RTCP (RFC 3550 §6): SR, RR, SDES CNAME and BYE in compound packets, and the receiver
// statistics of Appendix A: sequence validation and extended highest sequence (A.1), loss
// (A.3), interarrival jitter (A.8), plus round-trip time from LSR/DLSR (§6.4.1).
//
// RTCP is sent every ~5 s per session, so parseRtcp() may allocate its result (documented);
// the writers fill caller-owned buffers, and RtpReceiverStats.update() — called per received
// RTP packet — allocates nothing.
import { put32 } from './rtp.js';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
const SDES_CNAME = 1;

/** Seconds between 1900-01-01 (NTP epoch) and 1970-01-01. */
const NTP_UNIX_OFFSET = 2208988800;

/** One reception report block (§6.4.1). */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, fixed point /256. */
  fractionLost: number;
  /** Cumulative packets lost (signed 24 bit; negative with duplicates). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | max seq). */
  highestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from this source (0 if none). */
  lsr: number;
  /** Delay since that SR, in 1/65536 s. */
  dlsr: number;
}

export interface SenderInfo {
  ntpSec: number;
  ntpFrac: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; sender: SenderInfo; reports: ReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; chunks: { ssrc: number; cname: string | null }[] }
  | { type: 'bye'; ssrcs: number[]; reason: string | null }
  | { type: 'other'; packetType: number };

// ——— NTP time ———

/** Wall clock now as NTP (seconds, 32-bit fraction). `unixMs` defaults to the current time. */
export function ntpNow(unixMs: number = performance.timeOrigin + performance.now()): { sec: number; frac: number } {
  const sec = Math.floor(unixMs / 1000);
  const frac = Math.floor(((unixMs - sec * 1000) / 1000) * 0x100000000);
  return { sec: (sec + NTP_UNIX_OFFSET) >>> 0, frac: frac >>> 0 };
}

/** The middle 32 bits of a 64-bit NTP timestamp (§6.4.1 LSR), in 1/65536 s. */
export function ntpMiddle(sec: number, frac: number): number {
  return (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;
}

/** Middle-32 NTP of a wall-clock time in ms (no allocation). */
export function ntpMiddleOfMs(unixMs: number): number {
  const s = unixMs / 1000 + NTP_UNIX_OFFSET;
  return Math.floor(s * 65536) >>> 0;
}

/**
 * Round-trip time in ms from a report block received at `arrivalMiddle` (middle-32 NTP of the
 * arrival): RTT = A − LSR − DLSR (§6.4.1). null when the peer has not seen an SR of ours yet.
 */
export function rttFromReport(block: ReportBlock, arrivalMiddle: number): number | null {
  if (block.lsr === 0) return null;
  const rtt = (arrivalMiddle - block.lsr - block.dlsr) >>> 0;
  // A negative result (clock skew) wraps to a huge value; treat anything above 1 h as invalid.
  if (rtt > 3600 * 65536) return null;
  return (rtt / 65536) * 1000;
}

// ——— parsing ———

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function parseBlocks(b: Uint8Array, off: number, count: number, end: number): ReportBlock[] | null {
  if (off + count * 24 > end) return null;
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++, off += 24) {
    // cumulative lost is a signed 24-bit field
    const cum = (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!;
    reports.push({
      ssrc: u32(b, off),
      fractionLost: b[off + 4]!,
      cumulativeLost: cum & 0x800000 ? cum - 0x1000000 : cum,
      highestSeq: u32(b, off + 8),
      jitter: u32(b, off + 12),
      lsr: u32(b, off + 16),
      dlsr: u32(b, off + 20),
    });
  }
  return reports;
}

/**
 * Parses a compound RTCP packet in buf[0, len). Returns null when it fails the RFC 3550 A.2
 * validity checks (version 2, lengths that add up to the datagram, padding only in the last
 * packet) or a known packet is truncated. Never throws. Allocates the result (RTCP is rare);
 * strings are copied out, nothing keeps a view of `buf`.
 * The A.2 "first packet must be SR or RR" rule is not enforced: RFC 5506 reduced-size RTCP exists.
 */
export function parseRtcp(buf: Uint8Array, len: number): RtcpPacket[] | null {
  if (len > buf.length) len = buf.length;
  const out: RtcpPacket[] = [];
  let off = 0;
  if (len < 4) return null;
  while (off < len) {
    if (off + 4 > len) return null;
    const b0 = buf[off]!;
    if (b0 >> 6 !== 2) return null;
    const padding = (b0 & 0x20) !== 0;
    const count = b0 & 0x1f;
    const pt = buf[off + 1]!;
    const words = (buf[off + 2]! << 8) | buf[off + 3]!;
    const next = off + 4 + words * 4;
    if (next > len) return null;
    let end = next;
    if (padding) {
      // A.2: only the last packet of a compound may be padded.
      if (next !== len) return null;
      const pad = buf[len - 1]!;
      if (pad === 0 || pad > words * 4) return null;
      end = next - pad;
    }
    const body = off + 4;
    switch (pt) {
      case RTCP_SR: {
        if (body + 24 > end) return null;
        const reports = parseBlocks(buf, body + 24, count, end);
        if (!reports) return null;
        out.push({
          type: 'sr',
          ssrc: u32(buf, body),
          sender: {
            ntpSec: u32(buf, body + 4),
            ntpFrac: u32(buf, body + 8),
            rtpTimestamp: u32(buf, body + 12),
            packetCount: u32(buf, body + 16),
            octetCount: u32(buf, body + 20),
          },
          reports,
        });
        break;
      }
      case RTCP_RR: {
        if (body + 4 > end) return null;
        const reports = parseBlocks(buf, body + 4, count, end);
        if (!reports) return null;
        out.push({ type: 'rr', ssrc: u32(buf, body), reports });
        break;
      }
      case RTCP_SDES: {
        // §6.5: chunks of SSRC + items, each chunk ends with a null item and pads to 32 bits.
        const chunks: { ssrc: number; cname: string | null }[] = [];
        let p = body;
        for (let c = 0; c < count; c++) {
          if (p + 4 > end) return null;
          const ssrc = u32(buf, p);
          p += 4;
          let cname: string | null = null;
          for (;;) {
            if (p >= end) return null;
            const itemType = buf[p]!;
            if (itemType === 0) {
              p = (p + 4) & ~3; // skip the terminator and pad to the next word
              break;
            }
            if (p + 2 > end) return null;
            const ilen = buf[p + 1]!;
            if (p + 2 + ilen > end) return null;
            if (itemType === SDES_CNAME) cname = Buffer.from(buf.buffer, buf.byteOffset + p + 2, ilen).toString('utf8');
            p += 2 + ilen;
          }
          chunks.push({ ssrc, cname });
        }
        out.push({ type: 'sdes', chunks });
        break;
      }
      case RTCP_BYE: {
        // §6.6: count SSRCs, then an optional length-prefixed reason.
        if (body + count * 4 > end) return null;
        const ssrcs: number[] = [];
        for (let i = 0; i < count; i++) ssrcs.push(u32(buf, body + i * 4));
        let reason: string | null = null;
        const r = body + count * 4;
        if (r < end) {
          const rlen = buf[r]!;
          if (r + 1 + rlen > end) return null;
          reason = Buffer.from(buf.buffer, buf.byteOffset + r + 1, rlen).toString('utf8');
        }
        out.push({ type: 'bye', ssrcs, reason });
        break;
      }
      default:
        out.push({ type: 'other', packetType: pt });
    }
    off = next;
  }
  return out;
}

// ——— writing (into caller-owned buffers; each returns the offset after what it wrote) ———

function putHeader(out: Uint8Array, o: number, count: number, pt: number, words: number): void {
  out[o] = 0x80 | (count & 0x1f);
  out[o + 1] = pt;
  out[o + 2] = (words >>> 8) & 0xff;
  out[o + 3] = words & 0xff;
}

function putBlock(out: Uint8Array, o: number, r: ReportBlock): number {
  o = put32(out, o, r.ssrc);
  const cum = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)) & 0xffffff;
  out[o] = r.fractionLost & 0xff;
  out[o + 1] = (cum >>> 16) & 0xff;
  out[o + 2] = (cum >>> 8) & 0xff;
  out[o + 3] = cum & 0xff;
  o = put32(out, o + 4, r.highestSeq);
  o = put32(out, o, r.jitter >>> 0);
  o = put32(out, o, r.lsr);
  return put32(out, o, r.dlsr);
}

function need(out: Uint8Array, end: number): void {
  if (end > out.length) throw new RangeError('RTCP buffer too small');
}

/** Sender report (§6.4.1) with up to 31 report blocks. `reports` is read up to `count`. */
export function writeSenderReport(
  out: Uint8Array,
  offset: number,
  ssrc: number,
  s: SenderInfo,
  reports: readonly ReportBlock[] = [],
  count = reports.length,
): number {
  const n = Math.min(count, 31);
  need(out, offset + 28 + n * 24);
  putHeader(out, offset, n, RTCP_SR, 6 + n * 6);
  let o = put32(out, offset + 4, ssrc);
  o = put32(out, o, s.ntpSec);
  o = put32(out, o, s.ntpFrac);
  o = put32(out, o, s.rtpTimestamp);
  o = put32(out, o, s.packetCount);
  o = put32(out, o, s.octetCount);
  for (let i = 0; i < n; i++) o = putBlock(out, o, reports[i]!);
  return o;
}

/** Receiver report (§6.4.2). An empty RR (no blocks) heads a compound of a silent receiver. */
export function writeReceiverReport(
  out: Uint8Array,
  offset: number,
  ssrc: number,
  reports: readonly ReportBlock[] = [],
  count = reports.length,
): number {
  const n = Math.min(count, 31);
  need(out, offset + 8 + n * 24);
  putHeader(out, offset, n, RTCP_RR, 1 + n * 6);
  let o = put32(out, offset + 4, ssrc);
  for (let i = 0; i < n; i++) o = putBlock(out, o, reports[i]!);
  return o;
}

/** SDES with one chunk holding a CNAME (§6.5.1). `cname` is pre-encoded by the caller (≤ 255 bytes). */
export function writeSdesCname(out: Uint8Array, offset: number, ssrc: number, cname: Uint8Array): number {
  const len = Math.min(cname.length, 255);
  // chunk: ssrc(4) + type(1) + len(1) + text + at least one null, padded to 4
  const chunk = (4 + 2 + len + 1 + 3) & ~3;
  need(out, offset + 4 + chunk);
  putHeader(out, offset, 1, RTCP_SDES, chunk / 4);
  let o = put32(out, offset + 4, ssrc);
  out[o++] = SDES_CNAME;
  out[o++] = len;
  out.set(cname.subarray(0, len), o);
  o += len;
  const end = offset + 4 + chunk;
  out.fill(0, o, end);
  return end;
}

/** BYE (§6.6) for the given sources with an optional reason (pre-encoded, ≤ 255 bytes). */
export function writeBye(out: Uint8Array, offset: number, ssrcs: readonly number[], reason?: Uint8Array): number {
  const n = Math.min(ssrcs.length, 31);
  const rlen = reason ? Math.min(reason.length, 255) : 0;
  const body = n * 4 + (reason ? (1 + rlen + 3) & ~3 : 0);
  need(out, offset + 4 + body);
  putHeader(out, offset, n, RTCP_BYE, body / 4);
  let o = offset + 4;
  for (let i = 0; i < n; i++) o = put32(out, o, ssrcs[i]!);
  if (reason) {
    out[o++] = rlen;
    out.set(reason.subarray(0, rlen), o);
    o += rlen;
    const end = offset + 4 + body;
    out.fill(0, o, end);
    o = end;
  }
  return o;
}

// ——— receiver statistics (Appendix A.1, A.3, A.8) ———

const RTP_SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;

/**
 * Statistics about one remote source, per RFC 3550 Appendix A. update() runs per packet and
 * allocates nothing; fillReport() writes a caller-owned ReportBlock.
 */
export class RtpReceiverStats {
  readonly clockRate: number;
  ssrc = 0;
  // A.1 source state
  #maxSeq = 0;
  #cycles = 0;
  #baseSeq = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  #probation = MIN_SEQUENTIAL;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  // A.8 jitter (kept as a float; reported truncated)
  #transit = 0;
  #haveTransit = false;
  #jitter = 0;
  // last SR from this source (for LSR/DLSR)
  #lsr = 0;
  #lsrAtMs = 0;
  /** Packets accepted by the A.1 validation. */
  get received(): number {
    return this.#received;
  }
  /** Interarrival jitter estimate, timestamp units. */
  get jitter(): number {
    return this.#jitter;
  }
  get extendedMaxSeq(): number {
    return this.#cycles + this.#maxSeq;
  }
  /** Packets expected so far (A.3). 0 before the source is validated. */
  get expected(): number {
    return this.#received === 0 ? 0 : this.extendedMaxSeq - this.#baseSeq + 1;
  }
  /** Cumulative lost (A.3): expected − received; negative with duplicates. */
  get cumulativeLost(): number {
    return this.expected - this.#received;
  }

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  /** Forgets the source (new SSRC). */
  reset(ssrc = 0): void {
    this.ssrc = ssrc;
    this.#maxSeq = 0;
    this.#cycles = 0;
    this.#baseSeq = 0;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#probation = MIN_SEQUENTIAL;
    this.#received = 0;
    this.#expectedPrior = 0;
    this.#receivedPrior = 0;
    this.#started = false;
    this.#haveTransit = false;
    this.#transit = 0;
    this.#jitter = 0;
    this.#lsr = 0;
    this.#lsrAtMs = 0;
  }

  #initSeq(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#receivedPrior = 0;
    this.#expectedPrior = 0;
  }

  /**
   * Feeds one packet (A.1 update_seq + A.8 jitter). `arrivalMs` is a monotonic ms clock.
   * Returns false while the source is on probation or the packet is an invalid jump.
   */
  update(seq: number, rtpTimestamp: number, arrivalMs: number): boolean {
    this.#jitterUpdate(rtpTimestamp, arrivalMs);
    if (!this.#started) {
      // A.1: first packet of a source starts probation.
      this.#started = true;
      this.#initSeq(seq);
      this.#maxSeq = (seq - 1) & 0xffff;
      this.#probation = MIN_SEQUENTIAL;
    }
    const udelta = (seq - this.#maxSeq) & 0xffff;
    if (this.#probation > 0) {
      // A.1: a source is valid once MIN_SEQUENTIAL packets arrive in sequence.
      if (seq === ((this.#maxSeq + 1) & 0xffff)) {
        this.#probation--;
        this.#maxSeq = seq;
        if (this.#probation === 0) {
          this.#initSeq(seq);
          this.#received++;
          return true;
        }
      } else {
        this.#probation = MIN_SEQUENTIAL - 1;
        this.#maxSeq = seq;
      }
      return false;
    } else if (udelta < MAX_DROPOUT) {
      // In order, with a permissible gap; a smaller number means the 16-bit space wrapped.
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD;
      this.#maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A.1: a very large jump. Two sequential packets after it mean the sender restarted.
      if (seq === this.#badSeq) {
        this.#initSeq(seq);
      } else {
        this.#badSeq = (seq + 1) & (RTP_SEQ_MOD - 1);
        return false;
      }
    } else {
      // duplicate or reordered packet: counted as received (cumulative loss may go negative)
    }
    this.#received++;
    return true;
  }
  #started = false;

  // A.8: D(i,j) = (Rj − Ri) − (Sj − Si); J += (|D| − J)/16, all in timestamp units.
  #jitterUpdate(ts: number, arrivalMs: number): void {
    const arrival = (arrivalMs * this.clockRate) / 1000;
    const transit = arrival - ts;
    if (this.#haveTransit) {
      let d = transit - this.#transit;
      // RTP timestamps wrap at 2^32: fold the difference back into ±2^31.
      if (d > 2147483648) d -= 4294967296;
      else if (d < -2147483648) d += 4294967296;
      if (d < 0) d = -d;
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#transit = transit;
    this.#haveTransit = true;
  }

  /** Records an SR from this source arriving at `arrivalMs` (monotonic ms) for LSR/DLSR. */
  onSenderReport(ntpSec: number, ntpFrac: number, arrivalMs: number): void {
    this.#lsr = ntpMiddle(ntpSec, ntpFrac);
    this.#lsrAtMs = arrivalMs;
  }

  /**
   * Fills a report block at `nowMs` (monotonic ms) and starts a new loss interval (A.3).
   * Returns false when nothing has been received from the source yet.
   */
  fillReport(into: ReportBlock, nowMs: number): boolean {
    if (this.#received === 0) return false;
    const extMax = this.#cycles + this.#maxSeq;
    const expected = extMax - this.#baseSeq + 1;
    const lost = expected - this.#received;
    const expectedInterval = expected - this.#expectedPrior;
    this.#expectedPrior = expected;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    into.ssrc = this.ssrc;
    into.fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
    into.cumulativeLost = lost;
    into.highestSeq = extMax >>> 0;
    into.jitter = Math.floor(this.#jitter) >>> 0;
    into.lsr = this.#lsr;
    into.dlsr = this.#lsr === 0 ? 0 : Math.floor(((nowMs - this.#lsrAtMs) / 1000) * 65536) >>> 0;
    return true;
  }
}

export function createReportBlock(): ReportBlock {
  return { ssrc: 0, fractionLost: 0, cumulativeLost: 0, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 };
}
