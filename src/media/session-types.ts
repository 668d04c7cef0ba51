// Public types of MediaSession (session.ts): its options, events, live counters and the 'rtcp'
// event payload. Re-exported by session.ts and index.ts; the implementation lives in session.ts
// and its parts (session-latch.ts, session-send.ts, session-rtcp.ts, session-taps.ts).
import type { Logger } from '../lib/log.js';
import type { MediaClock } from '../lib/media-clock.js';
import type { JitterBufferOptions } from './jitter.js';
import type { PortAllocator } from './ports.js';
import type { ReportBlock, RtcpPacket } from './rtcp.js';
import type { CodecName } from './sdp/index.js';
import type { SessionDtmfOptions } from './session-dtmf.js';
import type { PromptCache } from './prompts.js';
import type { AudioSource, DtmfEvent, RtpEventSource } from './types.js';

/** RFC 3550 §6.2: the minimum RTCP interval is 5 s. */
export const RTCP_INTERVAL_MS = 5000;

export interface MediaSessionOptions {
  allocator: PortAllocator;
  /** Defaults to the process-wide clock (defaultMediaClock(), on the precise timer). */
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

/** A zeroed MediaSessionStats (the session's live counters). */
export function createMediaSessionStats(): MediaSessionStats {
  return {
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
}
