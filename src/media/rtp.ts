// RTP fixed header (RFC 3550 §5.1), CSRC list and header extension (§5.3.1), padding (§5.1 P bit).
// Hot path, the shape of pion/rtp: parseRtp() fills a header object the caller owns and reuses,
// the payload stays in the caller's buffer (a view by offset/length), every read is preceded by a
// length check, and nothing throws or allocates. writeRtpHeader() writes into a caller-owned buffer.

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER = 12;
export const MAX_CSRC = 15;

/** A parsed header. Reuse one per socket; parseRtp() overwrites every field. */
export interface RtpHeader {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Reused array: only the first csrcCount entries are valid. */
  csrc: number[];
  /** Extension profile (the 16-bit "defined by profile" field); 0 when no extension. */
  extProfile: number;
  /** Offset / byte length of the extension data (after its 4-byte header) in the parsed buffer. */
  extOffset: number;
  extLength: number;
  /** Payload position in the parsed buffer, padding already stripped. */
  payloadOffset: number;
  payloadLength: number;
  /** Padding bytes stripped from the end (0 when P is clear). */
  paddingLength: number;
}

export function createRtpHeader(): RtpHeader {
  return {
    version: 2,
    padding: false,
    extension: false,
    csrcCount: 0,
    marker: false,
    payloadType: 0,
    sequence: 0,
    timestamp: 0,
    ssrc: 0,
    csrc: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    extProfile: 0,
    extOffset: 0,
    extLength: 0,
    payloadOffset: 0,
    payloadLength: 0,
    paddingLength: 0,
  };
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Parses the RTP packet in buf[0, len) into `into`. Returns false (leaving `into` partly
 * written) when the packet is malformed: shorter than the header, version ≠ 2, CSRC list or
 * extension running past the end, padding count 0 or larger than the payload. Never throws,
 * never allocates. The payload is a view: buf.subarray(into.payloadOffset, +payloadLength).
 */
export function parseRtp(buf: Uint8Array, len: number, into: RtpHeader): boolean {
  if (len > buf.length) len = buf.length;
  if (len < RTP_FIXED_HEADER) return false;
  const b0 = buf[0]!;
  const version = b0 >> 6;
  if (version !== RTP_VERSION) return false;
  const b1 = buf[1]!;
  into.version = version;
  into.padding = (b0 & 0x20) !== 0;
  into.extension = (b0 & 0x10) !== 0;
  const cc = b0 & 0x0f;
  into.csrcCount = cc;
  into.marker = (b1 & 0x80) !== 0;
  into.payloadType = b1 & 0x7f;
  into.sequence = (buf[2]! << 8) | buf[3]!;
  into.timestamp = u32(buf, 4);
  into.ssrc = u32(buf, 8);
  let off = RTP_FIXED_HEADER;
  // §5.1: CSRC list, cc 32-bit words.
  if (off + cc * 4 > len) return false;
  for (let i = 0; i < cc; i++) {
    into.csrc[i] = u32(buf, off);
    off += 4;
  }
  // §5.3.1: extension = 16-bit profile, 16-bit length in 32-bit words, then the data.
  if (into.extension) {
    if (off + 4 > len) return false;
    into.extProfile = (buf[off]! << 8) | buf[off + 1]!;
    const words = (buf[off + 2]! << 8) | buf[off + 3]!;
    off += 4;
    if (off + words * 4 > len) return false;
    into.extOffset = off;
    into.extLength = words * 4;
    off += words * 4;
  } else {
    into.extProfile = 0;
    into.extOffset = off;
    into.extLength = 0;
  }
  // §5.1: with P set, the last octet counts the padding octets, itself included.
  let end = len;
  if (into.padding) {
    const pad = buf[len - 1]!;
    if (pad === 0 || off + pad > len) return false;
    end = len - pad;
    into.paddingLength = pad;
  } else {
    into.paddingLength = 0;
  }
  into.payloadOffset = off;
  into.payloadLength = end - off;
  return true;
}

/** Header fields for writing. `csrc` and `extData` are read, not kept. */
export interface RtpHeaderInit {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcCount?: number;
  csrc?: ArrayLike<number>;
  /** Writes an extension header when set; length must be a multiple of 4. */
  extProfile?: number;
  extData?: Uint8Array;
  /** Sets the P bit; the caller appends the padding (see writeRtpPadding). */
  padding?: boolean;
}

/** Bytes writeRtpHeader() will write for `h`. */
export function rtpHeaderSize(h: RtpHeaderInit): number {
  const cc = h.csrcCount ?? 0;
  return RTP_FIXED_HEADER + cc * 4 + (h.extData ? 4 + h.extData.length : 0);
}

/**
 * Writes the header of `h` at out[offset]; returns its length (the payload goes right after).
 * Throws RangeError when `out` is too small or a field is out of range — a programming error,
 * never something a peer can cause. Allocates nothing.
 */
export function writeRtpHeader(out: Uint8Array, h: RtpHeaderInit, offset = 0): number {
  const cc = h.csrcCount ?? 0;
  const ext = h.extData;
  if (cc < 0 || cc > MAX_CSRC) throw new RangeError(`csrcCount ${cc}`);
  if (ext && ext.length % 4 !== 0) throw new RangeError('extension data must be 32-bit aligned');
  if (ext && ext.length > 0xffff * 4) throw new RangeError('extension too long');
  const size = RTP_FIXED_HEADER + cc * 4 + (ext ? 4 + ext.length : 0);
  if (offset + size > out.length) throw new RangeError('RTP buffer too small');
  let o = offset;
  out[o++] = (RTP_VERSION << 6) | (h.padding ? 0x20 : 0) | (ext ? 0x10 : 0) | cc;
  out[o++] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  out[o++] = (h.sequence >>> 8) & 0xff;
  out[o++] = h.sequence & 0xff;
  o = put32(out, o, h.timestamp);
  o = put32(out, o, h.ssrc);
  for (let i = 0; i < cc; i++) o = put32(out, o, h.csrc![i]!);
  if (ext) {
    const p = h.extProfile ?? 0;
    out[o++] = (p >>> 8) & 0xff;
    out[o++] = p & 0xff;
    const words = ext.length / 4;
    out[o++] = (words >>> 8) & 0xff;
    out[o++] = words & 0xff;
    out.set(ext, o);
    o += ext.length;
  }
  return o - offset;
}

/** Appends `count` (1..255) padding octets at out[offset], the last one holding the count. Returns count. */
export function writeRtpPadding(out: Uint8Array, offset: number, count: number): number {
  if (count < 1 || count > 255 || offset + count > out.length) throw new RangeError('bad padding');
  out.fill(0, offset, offset + count - 1);
  out[offset + count - 1] = count;
  return count;
}

/** Writes a 32-bit big-endian value at out[o]; returns o + 4. Shared by the RTP and RTCP writers. */
export function put32(out: Uint8Array, o: number, v: number): number {
  out[o] = (v >>> 24) & 0xff;
  out[o + 1] = (v >>> 16) & 0xff;
  out[o + 2] = (v >>> 8) & 0xff;
  out[o + 3] = v & 0xff;
  return o + 4;
}

/**
 * RFC 5761 §4 demultiplexing: an RTCP packet on the RTP port has its second octet (M bit and
 * PT together) in 192..223 (RTCP packet types 192–223 cannot be RTP PTs once the M bit is folded in).
 */
export function looksLikeRtcp(buf: Uint8Array, len: number): boolean {
  return len >= 8 && buf[0]! >> 6 === 2 && buf[1]! >= 192 && buf[1]! <= 223;
}

/** Serial-number arithmetic on 16-bit sequence numbers (RFC 1982): a - b in -32768..32767. */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}
