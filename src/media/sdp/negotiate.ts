// Offer/answer (RFC 3264) for one audio stream. We offer PCMU, PCMA and Opus (RFC 7587) plus
// telephone-event (RFC 4733); we answer the first usable audio m= line with exactly one codec
// (plus telephone-event at the codec's clock rate) and reject every other m= line with port 0.
// The session's o= line is kept by SdpOriginState (re-offers: same id, version bumped on change).
import type { CodecName } from '../codec/types.js';
import { SdpError } from './errors.js';
import { connectionOf, directionOf, formatSdp, getAttribute, parseFmtpParams, rtpMapsOf } from './parse.js';
import type { Direction, MediaDescription, RtpMap, SdpAttribute, SessionDescription } from './types.js';

export type { CodecName } from '../codec/types.js';
export const DEFAULT_CODECS: readonly CodecName[] = ['PCMU', 'PCMA', 'opus'];

/** What we can do locally. */
export interface LocalMedia {
  /** Address put in c= (the RTP socket's address). */
  address: string;
  /** Our RTP port; RTCP is on port + 1 (RFC 3550 §11). */
  port: number;
  /** Codecs we accept, in our preference order. */
  codecs?: readonly CodecName[];
  /** Offer/accept telephone-event (RFC 4733). Default true. */
  telephoneEvent?: boolean;
  /** Packet time we send (ms). Default 20. */
  ptime?: number;
  /** The direction we want (e.g. 'sendonly' to put the peer on hold). Default sendrecv. */
  direction?: Direction;
  /** Choose the codec by our order instead of the offerer's (RFC 3264 §6.1 allows either). */
  preferLocalOrder?: boolean;
}

export interface NegotiatedCodec {
  name: CodecName;
  payloadType: number;
  clockRate: number;
  /** RTP channels as signalled (2 for Opus per RFC 7587). */
  channels: number;
  /** The peer's fmtp parameters (lower-case keys), e.g. useinbandfec, maxplaybackrate for Opus. */
  params: Map<string, string>;
}

/** The outcome of an offer/answer exchange, from our point of view. */
export interface NegotiatedMedia {
  codec: NegotiatedCodec;
  telephoneEvent: { payloadType: number; clockRate: number } | null;
  /** The peer's a=ptime (what it sends), or 20. */
  remotePtime: number;
  remoteAddress: string;
  remotePort: number;
  remoteRtcpPort: number;
  /** RTCP multiplexed on the RTP port (RFC 5761), agreed. */
  rtcpMux: boolean;
  /** Our direction in this exchange. */
  direction: Direction;
  send: boolean;
  recv: boolean;
  /** The peer holds the call: sendonly/inactive, or the old c=0.0.0.0 (RFC 3264 §8.4). */
  remoteHold: boolean;
  /** Index of the audio m= line. */
  mediaIndex: number;
  /** The peer's o= session id and version (a re-offer with the same version changes nothing, RFC 3264 §8). */
  remoteSessionId: string;
  remoteSessionVersion: string;
}

const PROTOS = new Set(['RTP/AVP', 'RTP/AVPF']);
const OPUS_PT = 111;
const TE_PT = 101;
const TE48_PT = 110;
/** Opus fmtp we advertise: audio is 8 kHz inside, so more bandwidth than that is wasted (RFC 7587 §6.1). */
const OPUS_FMTP = 'maxplaybackrate=8000;sprop-maxcapturerate=8000;useinbandfec=1';

function sends(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}
function receives(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}
function dirOf(send: boolean, recv: boolean): Direction {
  return send ? (recv ? 'sendrecv' : 'sendonly') : recv ? 'recvonly' : 'inactive';
}

function matchCodec(r: RtpMap, allowed: readonly CodecName[]): CodecName | null {
  const enc = r.encoding.toLowerCase();
  if (enc === 'pcmu' && r.clockRate === 8000 && allowed.includes('PCMU')) return 'PCMU';
  if (enc === 'pcma' && r.clockRate === 8000 && allowed.includes('PCMA')) return 'PCMA';
  // RFC 7587 §7: opus is always signalled as opus/48000/2 (we tolerate a missing /2).
  if (enc === 'opus' && r.clockRate === 48000 && allowed.includes('opus')) return 'opus';
  return null;
}

function pickCodec(maps: RtpMap[], local: LocalMedia): NegotiatedCodec | null {
  const allowed = local.codecs ?? DEFAULT_CODECS;
  let best: { r: RtpMap; name: CodecName; rank: number } | null = null;
  for (let i = 0; i < maps.length; i++) {
    const r = maps[i]!;
    const name = matchCodec(r, allowed);
    if (!name) continue;
    const rank = local.preferLocalOrder ? allowed.indexOf(name) : i;
    if (!best || rank < best.rank) best = { r, name, rank };
  }
  if (!best) return null;
  const r = best.r;
  return {
    name: best.name,
    payloadType: r.payloadType,
    clockRate: r.clockRate,
    channels: best.name === 'opus' ? 2 : 1,
    params: parseFmtpParams(r.fmtp),
  };
}

function pickTelephoneEvent(maps: RtpMap[], clockRate: number): { payloadType: number; clockRate: number; fmtp: string | null } | null {
  for (const r of maps) {
    if (r.encoding.toLowerCase() === 'telephone-event' && r.clockRate === clockRate) {
      return { payloadType: r.payloadType, clockRate: r.clockRate, fmtp: r.fmtp };
    }
  }
  return null;
}

function remoteRtcp(m: MediaDescription, rtpPort: number): { port: number; mux: boolean } {
  const mux = getAttribute(m.attributes, 'rtcp-mux') !== undefined;
  // RFC 3605: a=rtcp:<port> [<nettype> <addrtype> <address>]
  const rtcp = getAttribute(m.attributes, 'rtcp');
  const p = rtcp ? /^\s*(\d{1,5})/.exec(rtcp) : null;
  const port = p && Number(p[1]) > 0 && Number(p[1]) < 65536 ? Number(p[1]) : rtpPort + 1;
  return { port: mux ? rtpPort : port, mux };
}

function addrType(address: string): 'IP4' | 'IP6' {
  return address.includes(':') ? 'IP6' : 'IP4';
}

function isNullAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function rtpmapAttr(pt: number, enc: string, rate: number, ch?: number): SdpAttribute {
  return { name: 'rtpmap', value: `${pt} ${enc}/${rate}${ch ? `/${ch}` : ''}` };
}

/** The audio section of our offer. */
function offerMedia(local: LocalMedia): MediaDescription {
  const codecs = local.codecs ?? DEFAULT_CODECS;
  const formats: string[] = [];
  const attrs: SdpAttribute[] = [];
  for (const c of codecs) {
    if (c === 'PCMU') {
      formats.push('0');
      attrs.push(rtpmapAttr(0, 'PCMU', 8000));
    } else if (c === 'PCMA') {
      formats.push('8');
      attrs.push(rtpmapAttr(8, 'PCMA', 8000));
    } else if (c === 'opus') {
      formats.push(String(OPUS_PT));
      attrs.push(rtpmapAttr(OPUS_PT, 'opus', 48000, 2), { name: 'fmtp', value: `${OPUS_PT} ${OPUS_FMTP}` });
    }
  }
  if (local.telephoneEvent !== false) {
    if (codecs.includes('opus')) {
      formats.push(String(TE48_PT));
      attrs.push(rtpmapAttr(TE48_PT, 'telephone-event', 48000), { name: 'fmtp', value: `${TE48_PT} 0-16` });
    }
    if (codecs.includes('PCMU') || codecs.includes('PCMA')) {
      formats.push(String(TE_PT));
      attrs.push(rtpmapAttr(TE_PT, 'telephone-event', 8000), { name: 'fmtp', value: `${TE_PT} 0-16` });
    }
  }
  attrs.push({ name: 'ptime', value: String(local.ptime ?? 20) });
  attrs.push({ name: local.direction ?? 'sendrecv', value: null });
  return {
    media: 'audio',
    port: local.port,
    portCount: null,
    proto: 'RTP/AVP',
    formats,
    connection: { netType: 'IN', addrType: addrType(local.address), address: local.address, suffix: '' },
    extra: [],
    attributes: attrs,
  };
}

function skeleton(local: LocalMedia, media: MediaDescription[]): SessionDescription {
  return {
    origin: { username: 'switchboard', sessionId: '0', sessionVersion: '0', netType: 'IN', addrType: addrType(local.address), address: local.address },
    sessionName: 'switchboard',
    connection: { netType: 'IN', addrType: addrType(local.address), address: local.address, suffix: '' },
    extra: [{ type: 't', value: '0 0' }],
    attributes: [],
    media,
  };
}

/** Builds our offer (origin to be stamped by SdpOriginState). */
export function buildOffer(local: LocalMedia): SessionDescription {
  return skeleton(local, [offerMedia(local)]);
}

function reject(m: MediaDescription): MediaDescription {
  // RFC 3264 §6: a rejected stream keeps its place, port 0, and at least one format.
  return { media: m.media, port: 0, portCount: null, proto: m.proto, formats: m.formats.length ? m.formats : ['0'], connection: null, extra: [], attributes: [] };
}

/**
 * Answers an offer (RFC 3264 §6.1). Throws SdpError (status 488) when no audio stream is usable:
 * 'no-audio', 'unsupported-transport' or 'no-common-codec'.
 */
export function answerOffer(offer: SessionDescription, local: LocalMedia): { answer: SessionDescription; media: NegotiatedMedia } {
  let chosen: { index: number; codec: NegotiatedCodec; te: ReturnType<typeof pickTelephoneEvent> } | null = null;
  let sawAudio = false;
  let sawRtpAudio = false;
  for (let i = 0; i < offer.media.length && !chosen; i++) {
    const m = offer.media[i]!;
    if (m.media.toLowerCase() !== 'audio' || m.port === 0) continue;
    sawAudio = true;
    if (!PROTOS.has(m.proto.toUpperCase())) continue;
    sawRtpAudio = true;
    const maps = rtpMapsOf(m);
    const codec = pickCodec(maps, local);
    if (!codec) continue;
    chosen = { index: i, codec, te: local.telephoneEvent === false ? null : pickTelephoneEvent(maps, codec.clockRate) };
  }
  if (!chosen) {
    if (!sawAudio) throw new SdpError('no-audio', 'the offer has no active audio stream');
    if (!sawRtpAudio) throw new SdpError('unsupported-transport', 'audio is only offered over a secure profile (SAVP/DTLS); we speak RTP/AVP');
    throw new SdpError('no-common-codec', `none of ${(local.codecs ?? DEFAULT_CODECS).join(', ')} is offered`);
  }
  const om = offer.media[chosen.index]!;
  const conn = connectionOf(offer, om)!;
  const offerDir = directionOf(offer, om);
  // RFC 3264 §8.4: c=0.0.0.0 is the old way to hold — the peer does not want to receive.
  const nullConn = isNullAddress(conn.address);
  const peerSends = sends(offerDir);
  const peerRecvs = receives(offerDir) && !nullConn;
  // RFC 3264 §6.1: answer sendonly with recvonly, recvonly with sendonly, inactive with inactive,
  // further restricted by what we want locally.
  const want = local.direction ?? 'sendrecv';
  const send = peerRecvs && sends(want);
  const recv = peerSends && receives(want);
  const direction = dirOf(send, recv);
  const rtcp = remoteRtcp(om, om.port);
  const c = chosen.codec;
  const attrs: SdpAttribute[] = [];
  attrs.push(rtpmapAttr(c.payloadType, c.name === 'opus' ? 'opus' : c.name, c.clockRate, c.name === 'opus' ? 2 : undefined));
  if (c.name === 'opus') attrs.push({ name: 'fmtp', value: `${c.payloadType} ${OPUS_FMTP}` });
  const formats = [String(c.payloadType)];
  if (chosen.te) {
    formats.push(String(chosen.te.payloadType));
    attrs.push(rtpmapAttr(chosen.te.payloadType, 'telephone-event', chosen.te.clockRate));
    attrs.push({ name: 'fmtp', value: `${chosen.te.payloadType} ${chosen.te.fmtp ?? '0-16'}` });
  }
  attrs.push({ name: 'ptime', value: String(local.ptime ?? 20) });
  if (rtcp.mux) attrs.push({ name: 'rtcp-mux', value: null });
  attrs.push({ name: direction, value: null });
  const media = offer.media.map((m, i): MediaDescription =>
    i === chosen!.index
      ? {
          media: 'audio',
          port: local.port,
          portCount: null,
          proto: om.proto,
          formats,
          connection: null,
          extra: [],
          attributes: attrs,
        }
      : reject(m),
  );
  const ptime = Number(getAttribute(om.attributes, 'ptime') ?? getAttribute(offer.attributes, 'ptime'));
  return {
    answer: skeleton(local, media),
    media: {
      codec: c,
      telephoneEvent: chosen.te ? { payloadType: chosen.te.payloadType, clockRate: chosen.te.clockRate } : null,
      remotePtime: ptime > 0 ? ptime : 20,
      remoteAddress: conn.address,
      remotePort: om.port,
      remoteRtcpPort: rtcp.port,
      rtcpMux: rtcp.mux,
      direction,
      send,
      recv,
      remoteHold: nullConn || !receives(offerDir),
      mediaIndex: chosen.index,
      remoteSessionId: offer.origin.sessionId,
      remoteSessionVersion: offer.origin.sessionVersion,
    },
  };
}

/**
 * Applies the peer's answer to our offer (RFC 3264 §6 rules checked: same number of m= lines,
 * a codec we offered). Throws SdpError('bad-answer') or ('no-common-codec') when the audio stream
 * was rejected.
 */
export function applyAnswer(offer: SessionDescription, answer: SessionDescription, local: LocalMedia): NegotiatedMedia {
  if (answer.media.length !== offer.media.length) {
    throw new SdpError('bad-answer', `answer has ${answer.media.length} m= lines, offer had ${offer.media.length}`);
  }
  const index = offer.media.findIndex((m) => m.media === 'audio' && m.port !== 0);
  if (index < 0) throw new SdpError('bad-answer', 'our offer has no audio stream');
  const am = answer.media[index]!;
  if (am.port === 0) throw new SdpError('no-common-codec', 'the answer rejected the audio stream');
  if (am.media.toLowerCase() !== 'audio') throw new SdpError('bad-answer', `m= line ${index + 1} is ${am.media}, expected audio`);
  const conn = connectionOf(answer, am);
  if (!conn) throw new SdpError('bad-answer', 'the answer has no c= line for audio');
  const maps = rtpMapsOf(am);
  const offered = rtpMapsOf(offer.media[index]!);
  // Keep only formats we offered (matching by encoding; the answer's PT numbering is used to send).
  const usable = maps.filter((r) => offered.some((o) => o.encoding.toLowerCase() === r.encoding.toLowerCase() && o.clockRate === r.clockRate));
  const codec = pickCodec(usable, { ...local, preferLocalOrder: false });
  if (!codec) throw new SdpError('bad-answer', 'the answer has none of the codecs we offered');
  const te = local.telephoneEvent === false ? null : pickTelephoneEvent(usable, codec.clockRate);
  const ad = directionOf(answer, am);
  const want = local.direction ?? 'sendrecv';
  const nullConn = isNullAddress(conn.address);
  const send = receives(ad) && !nullConn && sends(want);
  const recv = sends(ad) && receives(want);
  const rtcp = remoteRtcp(am, am.port);
  const offeredMux = getAttribute(offer.media[index]!.attributes, 'rtcp-mux') !== undefined;
  const ptime = Number(getAttribute(am.attributes, 'ptime') ?? getAttribute(answer.attributes, 'ptime'));
  return {
    codec,
    telephoneEvent: te ? { payloadType: te.payloadType, clockRate: te.clockRate } : null,
    remotePtime: ptime > 0 ? ptime : 20,
    remoteAddress: conn.address,
    remotePort: am.port,
    remoteRtcpPort: offeredMux && rtcp.mux ? am.port : rtcp.mux ? am.port + 1 : rtcp.port,
    rtcpMux: offeredMux && rtcp.mux,
    direction: dirOf(send, recv),
    send,
    recv,
    remoteHold: nullConn || !receives(ad),
    mediaIndex: index,
    remoteSessionId: answer.origin.sessionId,
    remoteSessionVersion: answer.origin.sessionVersion,
  };
}

/**
 * Our o= line across a dialog (RFC 3264 §8): the session id never changes; the version goes up
 * by one exactly when the rest of the description changes.
 */
export class SdpOriginState {
  readonly sessionId: string;
  #version: bigint;
  #lastBody: string | null = null;

  constructor(sessionId?: string) {
    // A random 62-bit decimal id (RFC 8866 §5.2 suggests an NTP timestamp; any unique number works).
    this.sessionId = sessionId ?? String((BigInt(Math.floor(Math.random() * 2 ** 30)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32)));
    this.#version = BigInt(Math.floor(Math.random() * 1000));
  }

  get version(): string {
    return this.#version.toString();
  }

  /** Stamps `desc.origin` (id + version, bumped if the body changed) and returns the SDP text. */
  format(desc: SessionDescription): string {
    desc.origin.sessionId = this.sessionId;
    desc.origin.sessionVersion = '0';
    const body = formatSdp(desc);
    if (this.#lastBody !== null && body !== this.#lastBody) this.#version++;
    this.#lastBody = body;
    desc.origin.sessionVersion = this.#version.toString();
    return formatSdp(desc);
  }
}
