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
import type { RemoteInfo, Socket } from 'node:dgram';
import type { Logger } from '../lib/log.js';
import type { NegotiatedMedia } from './sdp/index.js';
import type { MediaSessionOptions, MediaSessionStats } from './session-types.js';

export class RtpLatch {
  readonly #rtp: Socket;
  readonly #stats: MediaSessionStats;
  readonly #log: Logger;
  readonly #opts: Pick<MediaSessionOptions, 'connect'>;
  #closed = false;

  #latched = false;
  #latchedToSdp = false;
  #address = '';
  #port = 0;
  /** The RTP socket is connect()ed to #address:#port (send without an address). */
  #connected = false;
  /** A connect() is in flight (non-literal address): sends go with an address meanwhile. */
  #connecting = false;
  #rtcpLatched = false;
  #rtcpAddress = '';
  #rtcpPort = 0;

  constructor(rtp: Socket, stats: MediaSessionStats, log: Logger, opts: Pick<MediaSessionOptions, 'connect'>) {
    this.#rtp = rtp;
    this.#stats = stats;
    this.#log = log;
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
  accept(rinfo: RemoteInfo, m: NegotiatedMedia, negotiated: boolean): boolean {
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
    if (this.#latchedToSdp && !this.#connected && !this.#connecting && this.#opts.connect !== false) this.#connect();
    return true;
  }

  /** A (non-muxed) RTCP packet from `rinfo`: the first one latches the RTCP destination. */
  acceptRtcp(rinfo: RemoteInfo): void {
    if (this.#rtcpLatched) return;
    this.#rtcpLatched = true;
    this.#rtcpAddress = rinfo.address;
    this.#rtcpPort = rinfo.port;
  }

  /** The session closed: a connect() completing later leaves the socket marked unconnected. */
  close(): void {
    this.#closed = true;
  }

  #connect(): void {
    const port = this.#port;
    const address = this.#address;
    this.#connecting = true;
    try {
      this.#rtp.connect(port, address, (err?: Error) => {
        if (!this.#connecting || this.#port !== port || this.#address !== address) {
          // Superseded while the lookup ran (SDP change): undo it unless a newer connect is live.
          if (!err) this.#tryDisconnect();
          return;
        }
        this.#connecting = false;
        if (err) this.#log.debug({ err: err.message }, 'RTP connect failed; sending unconnected');
        else this.#connected = !this.#closed;
      });
    } catch (err) {
      this.#connecting = false;
      this.#log.debug({ err }, 'RTP connect failed; sending unconnected');
      return;
    }
    // With an IP literal and the allocator's synchronous lookup the socket is connected now.
    if (this.#isConnected()) {
      this.#connecting = false;
      this.#connected = true;
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

  #disconnect(): void {
    const wasConnecting = this.#connecting;
    this.#connecting = false;
    if (!this.#connected && !wasConnecting) return;
    this.#connected = false;
    try {
      this.#rtp.disconnect();
    } catch {
      // still connecting (its callback undoes it) or already closed
    }
  }

  #tryDisconnect(): void {
    if (this.#connected || this.#connecting) return;
    try {
      this.#rtp.disconnect();
    } catch {
      // best effort
    }
  }
}
