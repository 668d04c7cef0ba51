// RtpLatch: where one MediaSession's RTP and RTCP go, owned by the session.
//
// Symmetric RTP: the destination starts as the address the SDP names; the first source that
// sends a negotiated payload type is latched; other sources are ignored and counted
// (`foreignSource`). A latch to a non-SDP source (NAT, a stale packet from before a re-INVITE)
// yields once the SDP address itself sends. Only an SDP change (reset()) starts the latch over.
// RTCP latches separately to the first source on the RTCP port (non-muxed).
//
// Connected socket: once latched to the address the SDP names, the RTP socket is connect()ed to
// it: sends then go without an address (≈20% cheaper per packet, /work/shared/DEPENDENCIES.md).
// Trade-off: the kernel then drops datagrams from any other source before we see them, so
// `foreignSource` counts only what arrives while unconnected (before the latch, or latched to a
// non-SDP source — NAT — where we stay unconnected so that the SDP address can still win once it
// sends). An SDP change disconnects (the peer may have moved) and the latch starts over.
//
// Hot path: accept() runs per received packet and allocates nothing.
import type { NegotiatedMedia } from './sdp/index.js';
import type { MediaSessionOptions, MediaSessionStats } from './session-types.js';
import type { DatagramSource, MediaSocket } from './udp.js';

export class RtpLatch {
  readonly #rtp: MediaSocket;
  readonly #stats: MediaSessionStats;
  readonly #opts: Pick<MediaSessionOptions, 'connect'>;
  #closed = false;

  #latched = false;
  #latchedToSdp = false;
  #address = '';
  #port = 0;
  /** The RTP socket is connect()ed to #address:#port (send without an address). */
  #connected = false;
  #rtcpLatched = false;
  #rtcpAddress = '';
  #rtcpPort = 0;

  constructor(rtp: MediaSocket, stats: MediaSessionStats, opts: Pick<MediaSessionOptions, 'connect'>) {
    this.#rtp = rtp;
    this.#stats = stats;
    this.#opts = opts;
  }

  /** RTP destination address (latched source, else the SDP's). */
  get address(): string {
    return this.#address;
  }
  /** RTP destination port; 0 before negotiation. */
  get port(): number {
    return this.#port;
  }
  get latched(): boolean {
    return this.#latched;
  }
  /** The RTP socket is connect()ed: send without an address. */
  get connected(): boolean {
    return this.#connected;
  }
  get rtcpAddress(): string {
    return this.#rtcpAddress;
  }
  get rtcpPort(): number {
    return this.#rtcpPort;
  }

  /** A new remote description: disconnect, aim at the SDP addresses, latch afresh. */
  reset(m: NegotiatedMedia): void {
    this.#latched = false;
    this.#rtcpLatched = false;
    this.#disconnect();
    this.#address = m.remoteAddress;
    this.#port = m.remotePort;
    this.#rtcpAddress = m.remoteAddress;
    this.#rtcpPort = m.remoteRtcpPort;
  }

  /**
   * Latch check for a parsed RTP packet from `rinfo`; `negotiated`: its payload type is the
   * negotiated audio or telephone-event one. False: drop it (counted as unknownPayloadType or
   * foreignSource).
   */
  accept(rinfo: DatagramSource, m: NegotiatedMedia, negotiated: boolean): boolean {
    if (!this.#latched) {
      // Symmetric RTP: latch to the first source that sends something we negotiated.
      if (!negotiated) {
        this.#stats.unknownPayloadType++;
        return false;
      }
      this.#latched = true;
      this.#address = rinfo.address;
      this.#port = rinfo.port;
      this.#stats.latches++;
    } else if (rinfo.port !== this.#port || rinfo.address !== this.#address) {
      // Latched to a source other than the SDP one (NAT, or a stale packet from before a
      // re-INVITE): the address the SDP names wins once it actually sends. Anything else is ignored.
      if (this.#latchedToSdp || rinfo.port !== m.remotePort || rinfo.address !== m.remoteAddress || !negotiated) {
        this.#stats.foreignSource++;
        return false;
      }
      this.#address = rinfo.address;
      this.#port = rinfo.port;
      this.#stats.latches++;
    }
    this.#latchedToSdp = rinfo.port === m.remotePort && rinfo.address === m.remoteAddress;
    if (this.#latchedToSdp && !this.#connected && this.#opts.connect !== false && !this.#closed) {
      // A name in the SDP (not a literal) stays unconnected: sends then go with the address.
      this.#connected = this.#rtp.connect(this.#port, this.#address);
    }
    return true;
  }

  /** A (non-muxed) RTCP packet from `rinfo`: the first one latches the RTCP destination. */
  acceptRtcp(rinfo: DatagramSource): void {
    if (this.#rtcpLatched) return;
    this.#rtcpLatched = true;
    this.#rtcpAddress = rinfo.address;
    this.#rtcpPort = rinfo.port;
  }

  /** The session closed: no more connects. */
  close(): void {
    this.#closed = true;
  }

  #disconnect(): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#rtp.disconnect();
  }
}
