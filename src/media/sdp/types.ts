// The SDP model (RFC 8866). Parsing keeps every line: known ones become fields, the rest stay in
// `extra` (session/media lines other than v o s c m a) and `attributes` (all a= lines, in order),
// so formatting a parsed description reproduces its content.

export interface SdpOrigin {
  username: string;
  /** Kept as decimal strings: they may exceed 2^53. */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpConnection {
  netType: string;
  addrType: string;
  /** Address without TTL / count suffix. */
  address: string;
  /** Anything after the address ("/127/3" for multicast), kept for formatting. */
  suffix: string;
}

/** A line other than v o s c m a: i u e p b t r z k (session) or i b k (media). */
export interface SdpLine {
  type: string;
  value: string;
}

export interface SdpAttribute {
  name: string;
  /** null for a property attribute (a=sendrecv). */
  value: string | null;
}

export interface MediaDescription {
  media: string;
  port: number;
  /** The "/n" port count, or null. */
  portCount: number | null;
  proto: string;
  /** Format list (payload types for RTP), in offer order. */
  formats: string[];
  connection: SdpConnection | null;
  extra: SdpLine[];
  attributes: SdpAttribute[];
}

export interface SessionDescription {
  origin: SdpOrigin;
  sessionName: string;
  connection: SdpConnection | null;
  /** i u e p b t r z k lines in their original order (t= included). */
  extra: SdpLine[];
  attributes: SdpAttribute[];
  media: MediaDescription[];
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** One payload format as announced by rtpmap (or implied for static types). */
export interface RtpMap {
  payloadType: number;
  encoding: string;
  clockRate: number;
  channels: number;
  fmtp: string | null;
}
