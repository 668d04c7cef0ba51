// RFC 4733 relay for a transcoding bridge direction: telephone-event packets received on one
// session are re-sent on the other through its RtpEventSource hook, one per media tick, with the
// other session's payload type, sequence numbers and a timestamp of its own timeline (the tick
// that sends the event's first packet, RFC 4733 §2.5.1.1), the marker on that first packet, and
// the duration rescaled when the two telephone-event clock rates differ.
//
// Incoming packets are queued in a small fixed ring (4-byte payloads copied in) and drained one
// per tick; when the queue runs dry in the middle of a press the last update is repeated (a
// harmless §2.5.1.2 duplicate) so no audio packet slips into the event. Once the end packets
// are out — or nothing arrived for MAX_IDLE_TICKS (ends lost) — the source reports done and the
// session drops it ('event-ended'); the next press installs it again. Allocates nothing.
import type { RtpHeader } from './rtp.js';
import type { RtpEventPacket, RtpEventSource } from './types.js';

/** Queued event packets (a press sends one per 20 ms; the ring absorbs arrival bursts). */
const RING = 16;
/** Ticks without a new packet after which a press whose end packets never came is abandoned. */
export const MAX_IDLE_TICKS = 15;

/** What the relay needs of the sending session (MediaSession fits). */
export interface EventSink {
  setEventSource(src: RtpEventSource | null): boolean;
}

export class EventRelay implements RtpEventSource {
  readonly stats = { events: 0, packets: 0, dropped: 0 };
  readonly #sink: EventSink;
  readonly #ring = new Uint8Array(RING * 4);
  #head = 0;
  #count = 0;
  /** Incoming timestamp of the press being relayed, and of the previous one (late packets). */
  #inTs = -1;
  #prevInTs = -1;
  /** Our timestamp for the press (-1: not yet sent). */
  #outTs = -1;
  #first = false;
  #ended = false;
  #idle = 0;
  readonly #last = new Uint8Array(4);
  #installed = false;
  /** Duration scale: to-clock / from-clock. */
  #scale = 1;

  constructor(sink: EventSink) {
    this.#sink = sink;
  }

  /** True while installed on the sink. */
  get active(): boolean {
    return this.#installed;
  }

  /** Telephone-event clock rates of the receiving and sending side. */
  setRates(fromRate: number, toRate: number): void {
    this.#scale = fromRate > 0 && toRate > 0 ? toRate / fromRate : 1;
  }

  /** One received telephone-event packet (payload read in place, 4 bytes copied). */
  push(h: Pick<RtpHeader, 'timestamp'>, payload: Uint8Array): void {
    if (payload.length < 4) return;
    const ts = h.timestamp >>> 0;
    if (ts !== this.#inTs) {
      if (ts === this.#prevInTs) return; // a late packet of the previous press
      this.#prevInTs = this.#inTs;
      this.#inTs = ts;
      this.#outTs = -1;
      this.#first = true;
      this.#ended = false;
      this.#count = 0;
      this.stats.events++;
    } else if (this.#ended && this.#count === 0) {
      return; // end retransmissions after we already sent three: the press is over
    }
    if (this.#count === RING) {
      this.#head = (this.#head + 1) % RING;
      this.#count--;
    }
    const o = ((this.#head + this.#count) % RING) * 4;
    const r = this.#ring;
    r[o] = payload[0];
    r[o + 1] = payload[1];
    let dur = (payload[2] << 8) | payload[3];
    if (this.#scale !== 1) dur = Math.min(0xffff, Math.round(dur * this.#scale));
    r[o + 2] = dur >> 8;
    r[o + 3] = dur & 0xff;
    this.#count++;
    this.#idle = 0;
    if (!this.#installed) {
      this.#installed = this.#sink.setEventSource(this);
      if (!this.#installed) {
        this.stats.dropped++;
        this.#count = 0;
      }
    }
  }

  /** RtpEventSource: called by the sending session on its tick. */
  nextEventPacket(nowTimestamp: number, out: RtpEventPacket): boolean {
    const p = out.payload;
    if (this.#count > 0) {
      const o = this.#head * 4;
      const r = this.#ring;
      p[0] = this.#last[0] = r[o];
      p[1] = this.#last[1] = r[o + 1];
      p[2] = this.#last[2] = r[o + 2];
      p[3] = this.#last[3] = r[o + 3];
      this.#head = (this.#head + 1) % RING;
      this.#count--;
      if ((p[1] & 0x80) !== 0) this.#ended = true;
    } else if (this.#ended || ++this.#idle > MAX_IDLE_TICKS) {
      this.#installed = false;
      return false;
    } else {
      p[0] = this.#last[0];
      p[1] = this.#last[1];
      p[2] = this.#last[2];
      p[3] = this.#last[3];
    }
    if (this.#outTs < 0) this.#outTs = nowTimestamp >>> 0;
    out.length = 4;
    out.marker = this.#first;
    out.timestamp = this.#outTs;
    this.#first = false;
    this.stats.packets++;
    return true;
  }

  /** Removes itself from the sink if installed (bridge closing). */
  detach(): void {
    if (this.#installed) this.#sink.setEventSource(null);
    this.#installed = false;
    this.#count = 0;
  }
}
