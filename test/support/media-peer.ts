// A raw RTP peer for MediaSession integration tests: a UDP socket on 127.0.0.1 that plays the
// phone's side — sends a timed schedule of packets (G.711 audio, RFC 4733 events) as one
// continuous stream (one SSRC, consecutive sequence numbers, timestamps following the clock) and
// collects what the session sends back (parsed, payloads copied). Test helper: allocates freely.
import { createSocket, type Socket } from 'node:dgram';
import { linearToUlaw, ulawToLinear } from '../../src/media/codec/g711.js';
import { createRtpHeader, parseRtp, writeRtpHeader, type RtpHeader } from '../../src/media/rtp.js';
import { toneAmplitude } from '../../src/media/testing.js';

import { sleep } from './wait.js';
export { sleep, until } from './wait.js';

/** An SDP offer from the peer: PCMU (0) and, unless `te` is null, telephone-event/8000 at PT `te`. */
export function peerOffer(port: number, te: number | null = 101, version = 1): string {
  const fmts = te === null ? '0' : `0 ${te}`;
  return (
    `v=0\r\no=peer 1 ${version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
    `m=audio ${port} RTP/AVP ${fmts}\r\na=rtpmap:0 PCMU/8000\r\n` +
    (te === null ? '' : `a=rtpmap:${te} telephone-event/8000\r\na=fmtp:${te} 0-16\r\n`)
  );
}

export interface Received {
  h: RtpHeader;
  payload: Buffer;
  at: number;
}

/** One packet of a schedule: sent `atMs` after the schedule starts. */
export interface Scheduled {
  atMs: number;
  pt: number;
  marker: boolean;
  /** null: the stream's timestamp at `atMs` (audio); a number: an offset into the stream timeline in samples (events share their start's). */
  timestamp: number | null;
  payload: Buffer;
}

export class RtpPeer {
  readonly received: Received[] = [];
  readonly ssrc = 0x5eed0001;
  #seq = 4000;
  readonly #ts0 = 90_000;
  #dst = 0;

  private constructor(readonly socket: Socket) {
    socket.on('message', (msg) => {
      const h = createRtpHeader();
      if (!parseRtp(msg, msg.length, h)) return;
      this.received.push({ h, payload: Buffer.from(msg.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength)), at: performance.now() });
    });
  }

  static async open(): Promise<RtpPeer> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new RtpPeer(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Where send() goes: the session's RTP port. */
  target(port: number): this {
    this.#dst = port;
    return this;
  }

  /** Sends one packet of the continuous stream. */
  send(pt: number, marker: boolean, timestamp: number, payload: Uint8Array): void {
    const buf = Buffer.alloc(12 + payload.length);
    writeRtpHeader(buf, { marker, payloadType: pt, sequence: this.#seq, timestamp: (this.#ts0 + timestamp) >>> 0, ssrc: this.ssrc });
    this.#seq = (this.#seq + 1) & 0xffff;
    buf.set(payload, 12);
    this.socket.send(buf, this.#dst, '127.0.0.1');
  }

  /**
   * Plays a schedule in real time (original spacing; a late timer sends what is due at once).
   * Audio packets' timestamps follow the clock (8 per ms); events keep theirs.
   */
  async play(schedule: Scheduled[]): Promise<void> {
    const t0 = performance.now();
    for (const p of schedule) {
      const wait = t0 + p.atMs - performance.now();
      if (wait > 1) await sleep(wait);
      this.send(p.pt, p.marker, p.timestamp ?? Math.round(p.atMs * 8), p.payload);
    }
  }

  /** Audio packets the session sent (PT 0), in arrival order. */
  audio(): Received[] {
    return this.received.filter((r) => r.h.payloadType === 0);
  }

  close(): void {
    this.socket.close();
  }
}

/** `ms` of audio packets every 20 ms from `fromMs`, µ-law of `pcm` (looped) or silence. */
export function audioPackets(fromMs: number, ms: number, pcm?: Int16Array, marker = false): Scheduled[] {
  const out: Scheduled[] = [];
  for (let i = 0; i < Math.round(ms / 20); i++) {
    const payload = Buffer.alloc(160, 0xff);
    if (pcm) for (let k = 0; k < 160; k++) payload[k] = linearToUlaw(pcm[(i * 160 + k) % pcm.length]);
    out.push({ atMs: fromMs + i * 20, pt: 0, marker: marker && i === 0, timestamp: null, payload });
  }
  return out;
}

/** µ-law-decodes payloads into one PCM array. */
export function decodeUlaw(packets: Received[]): Int16Array {
  const out = new Int16Array(packets.length * 160);
  let o = 0;
  for (const p of packets) for (const b of p.payload) out[o++] = ulawToLinear(b);
  return out.subarray(0, o);
}

/** Round trip through µ-law (what the far end of a G.711 call can hear of `pcm`). */
export function ulawRoundTrip(pcm: Int16Array): Int16Array {
  return Int16Array.from(pcm, (s) => ulawToLinear(linearToUlaw(s)));
}

/** A sine, `ms` long, at `amplitude`. */
export function sine(hz: number, ms: number, amplitude = 8000): Int16Array {
  const n = Math.round(ms * 8);
  return Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000)));
}

/** Goertzel power of `hz` in `pcm`, normalised per sample (a sine of amplitude A gives ≈ A²/4). */
export function tonePower(pcm: Int16Array, hz: number): number {
  return (toneAmplitude(pcm, hz) / 2) ** 2;
}
