// MediaSocket: the UDP socket one RTP or RTCP stream uses, as the media session sees it. Two
// implementations: Node's dgram (here; portable, the fallback) and the native rtp-io add-on
// (udp-native.ts; one epoll wait and one JS call per batch of datagrams, synchronous sends).
// The PortAllocator picks one per process (ports.ts).
//
// The contract both keep, so that the session's packet path allocates nothing of its own:
//   - a received datagram is handed over as (buffer, length, source); the buffer and the source
//     object may be reused for the next datagram, so a handler copies what it keeps;
//   - send()/sendTo() never throw and never hold the caller's buffer after they return (the
//     caller reuses it for the next packet); failures go to the error handler;
//   - connect() only takes IP literals (SDP addresses that are names are sent to unconnected).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { ReusedView } from '../lib/reused-view.js';

/** Where a datagram came from. The socket may reuse this object: copy the fields to keep them. */
export interface DatagramSource {
  address: string;
  port: number;
}

export interface MediaSocketHandlers {
  /** A datagram: bytes 0..length-1 of `buf`, valid until the handler returns. */
  datagram(buf: Buffer, length: number, from: DatagramSource): void;
  /** A send or receive error (ICMP unreachable, buffer full); the socket stays usable. */
  error(err: Error): void;
}

export interface MediaSocket {
  /** The bound local port. */
  readonly port: number;
  /** connect()ed to a peer: send() goes there, other sources are dropped by the kernel. */
  readonly connected: boolean;
  /** Which implementation this is ('dgram' or 'native'). */
  readonly kind: MediaSocketKind;
  setHandlers(h: MediaSocketHandlers | null): void;
  /** Sends bytes offset..offset+length-1 to the connected peer. */
  send(buf: Uint8Array, offset: number, length: number): void;
  /** Sends to `address:port` (unconnected). */
  sendTo(buf: Uint8Array, offset: number, length: number, port: number, address: string): void;
  /** Connects to an IP literal at once; false (and stays unconnected) for a name or on failure. */
  connect(port: number, address: string): boolean;
  disconnect(): void;
  /** Idempotent. */
  close(): void;
}

export type MediaSocketKind = 'dgram' | 'native';

export interface BindOptions {
  /** Socket buffer sizes (bytes); the OS default when unset. */
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** Binds a socket exclusively; null when the port is taken (or the address is not ours). */
export type MediaSocketFactory = (address: string, port: number, opts: BindOptions) => Promise<MediaSocket | null>;

/**
 * dgram's default lookup resolves even an IP literal through dns.lookup and sends on the next
 * tick; RTP destinations are almost always literals, so answer synchronously and let send() go
 * straight to the kernel (no per-packet lookup, no deferred send holding the caller's buffer).
 */
function fastLookup(
  host: string,
  options: LookupOneOptions,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(host);
  if (family !== 0) cb(null, host, family);
  else dnsLookup(host, options, cb);
}

/** A MediaSocket over Node's dgram. */
export class DgramMediaSocket implements MediaSocket {
  readonly kind = 'dgram';
  readonly port: number;
  readonly #s: Socket;
  #handlers: MediaSocketHandlers | null = null;
  #connected = false;
  #closed = false;
  /**
   * The connected send's view of the caller's buffer: dgram's (msg) form sends a whole view as
   * is, where its (msg, offset, length) form allocates a slice per packet.
   */
  readonly #view = new ReusedView();

  readonly #onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    this.#handlers?.datagram(msg, msg.length, rinfo);
  };
  readonly #onError = (err: Error): void => {
    this.#handlers?.error(err);
  };
  readonly #onSent = (err: Error | null): void => {
    if (err) this.#handlers?.error(err);
  };

  private constructor(s: Socket) {
    this.#s = s;
    this.port = s.address().port;
    s.on('message', this.#onMessage);
    // Always listened to: a late ICMP error on a closed session must not crash the process.
    s.on('error', this.#onError);
  }

  static bind(address: string, port: number, opts: BindOptions): Promise<MediaSocket | null> {
    return new Promise((resolve) => {
      const s = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', reuseAddr: false, lookup: fastLookup });
      const onError = (): void => {
        s.close();
        resolve(null);
      };
      s.once('error', onError);
      s.bind({ address, port, exclusive: true }, () => {
        s.off('error', onError);
        try {
          if (opts.recvBufferSize) s.setRecvBufferSize(opts.recvBufferSize);
          if (opts.sendBufferSize) s.setSendBufferSize(opts.sendBufferSize);
        } catch {
          // best effort: the OS may cap buffer sizes
        }
        resolve(new DgramMediaSocket(s));
      });
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  setHandlers(h: MediaSocketHandlers | null): void {
    this.#handlers = h;
  }

  send(buf: Uint8Array, offset: number, length: number): void {
    if (this.#closed) return;
    try {
      this.#s.send(this.#view.of(buf, offset, length), this.#onSent);
    } catch (err) {
      this.#onError(err as Error);
    }
  }

  sendTo(buf: Uint8Array, offset: number, length: number, port: number, address: string): void {
    if (this.#closed) return;
    try {
      this.#s.send(buf, offset, length, port, address, this.#onSent);
    } catch (err) {
      this.#onError(err as Error);
    }
  }

  connect(port: number, address: string): boolean {
    if (this.#closed || isIP(address) === 0) return false;
    if (this.#connected) this.disconnect();
    try {
      // With an IP literal and fastLookup, dgram connects synchronously.
      this.#s.connect(port, address);
      this.#s.remoteAddress();
      this.#connected = true;
    } catch {
      this.#connected = false;
    }
    return this.#connected;
  }

  disconnect(): void {
    if (!this.#connected) return;
    this.#connected = false;
    try {
      this.#s.disconnect();
    } catch {
      // already closed
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers = null;
    this.#s.off('message', this.#onMessage);
    try {
      this.#s.close();
    } catch {
      // already closed
    }
  }
}
