// RecordRing: the single-producer/single-consumer ring over a SharedArrayBuffer that carries a
// bridge's RTP packets (and the commands that must stay in order with them: codec, pause,
// resume, close) from the media thread to the recording worker (recording-worker.ts).
//
// Why a ring and not postMessage: a message is a structured clone plus an event per packet on
// both threads; a ring entry is one 40-byte header and the payload copied into memory both
// threads see, and the worker drains everything queued once per 20 ms tick.
//
// Layout: Int32Array control words [HEAD, TAIL] (byte offsets into the data area, owned by the
// consumer and the producer), then the data area. An entry is 8-byte aligned and never wraps:
// [u32 size][u16 kind][u16 channel][u32 recording id][u32 seq][u32 ts][u32 ssrc]
// [u16 payload type][u16 payload length][u32 0][f64 arrival ms][payload]. A PAD entry fills the
// tail end of the area when the next entry does not fit there. One byte stays free so that
// HEAD === TAIL always means empty. JS atomics are sequentially consistent, so the payload
// written before the producer's Atomics.store(TAIL) is visible to the consumer after its load.
// Full ring: the entry is dropped and false returned (the media thread never blocks).

export const RingKind = {
  Pad: 0,
  Packet: 1,
  /** Channel's codec changed: payload = UTF-8 codec name; pt = its payload type; seq = opus FEC flag. */
  Codec: 2,
  Pause: 3,
  Resume: 4,
  Close: 5,
} as const;
export type RingKind = (typeof RingKind)[keyof typeof RingKind];

const HEAD = 0;
const TAIL = 1;
const CONTROL_BYTES = 64; // control words on their own cache line
const HDR = 40;

/** What the consumer hands to its callback (valid only during the call). */
export interface RingEntry {
  kind: RingKind;
  channel: number;
  id: number;
  seq: number;
  ts: number;
  ssrc: number;
  pt: number;
  arrivalMs: number;
  payload: Uint8Array;
}

const align8 = (n: number): number => (n + 7) & ~7;

abstract class RingView {
  protected readonly ctl: Int32Array;
  protected readonly u8: Uint8Array;
  protected readonly u32: Uint32Array;
  protected readonly u16: Uint16Array;
  protected readonly f64: Float64Array;
  readonly capacity: number;

  constructor(readonly sab: SharedArrayBuffer) {
    this.capacity = sab.byteLength - CONTROL_BYTES;
    if (this.capacity < 1024 || this.capacity % 8 !== 0) throw new RangeError('ring buffer too small or misaligned');
    this.ctl = new Int32Array(sab, 0, 2);
    this.u8 = new Uint8Array(sab, CONTROL_BYTES);
    this.u32 = new Uint32Array(sab, CONTROL_BYTES);
    this.u16 = new Uint16Array(sab, CONTROL_BYTES);
    this.f64 = new Float64Array(sab, CONTROL_BYTES);
  }
}

export class RecordRingWriter extends RingView {
  /** A ring of `bytes` (rounded to 8) for a new worker. */
  static create(bytes: number): RecordRingWriter {
    return new RecordRingWriter(new SharedArrayBuffer(CONTROL_BYTES + align8(bytes)));
  }

  /** Queues an entry; false when there is no room (the caller counts its drops). */
  push(kind: RingKind, id: number, channel: number, seq: number, ts: number, ssrc: number, pt: number, arrivalMs: number, payload: Uint8Array | null): boolean {
    const len = payload === null ? 0 : payload.length;
    if (len > 0xffff) throw new RangeError('ring payload longer than 65535 bytes');
    const size = align8(HDR + len);
    const cap = this.capacity;
    const head = Atomics.load(this.ctl, HEAD);
    let tail = Atomics.load(this.ctl, TAIL);
    const used = tail >= head ? tail - head : tail + cap - head;
    const free = cap - used - 8; // one aligned unit stays free: HEAD === TAIL means empty
    const toEnd = cap - tail;
    const pad = toEnd < size ? toEnd : 0;
    if (size + pad > free) return false;
    if (pad > 0) {
      this.u32[tail >> 2] = pad;
      this.u16[(tail + 4) >> 1] = RingKind.Pad;
      tail = 0;
    }
    const w = tail >> 2;
    const u32 = this.u32;
    u32[w] = size;
    this.u16[(tail + 4) >> 1] = kind;
    this.u16[(tail + 6) >> 1] = channel;
    u32[w + 2] = id;
    u32[w + 3] = seq;
    u32[w + 4] = ts;
    u32[w + 5] = ssrc;
    this.u16[(tail + 24) >> 1] = pt;
    this.u16[(tail + 26) >> 1] = len;
    this.f64[(tail + 32) >> 3] = arrivalMs;
    if (len > 0) this.u8.set(payload!, tail + HDR);
    const next = tail + size;
    Atomics.store(this.ctl, TAIL, next === cap ? 0 : next);
    return true;
  }
}

export class RecordRingReader extends RingView {
  readonly #entry: RingEntry = { kind: RingKind.Pad, channel: 0, id: 0, seq: 0, ts: 0, ssrc: 0, pt: 0, arrivalMs: 0, payload: new Uint8Array(0) };

  /** Hands every queued entry to `fn` (payload is a view, valid during the call); returns the count. */
  drain(fn: (e: RingEntry) => void): number {
    const cap = this.capacity;
    const tail = Atomics.load(this.ctl, TAIL);
    let head = Atomics.load(this.ctl, HEAD);
    let n = 0;
    const e = this.#entry;
    while (head !== tail) {
      const size = this.u32[head >> 2]!;
      const kind = this.u16[(head + 4) >> 1]! as RingKind;
      if (kind !== RingKind.Pad) {
        const w = head >> 2;
        e.kind = kind;
        e.channel = this.u16[(head + 6) >> 1]!;
        e.id = this.u32[w + 2]!;
        e.seq = this.u32[w + 3]!;
        e.ts = this.u32[w + 4]!;
        e.ssrc = this.u32[w + 5]!;
        e.pt = this.u16[(head + 24) >> 1]!;
        const len = this.u16[(head + 26) >> 1]!;
        e.arrivalMs = this.f64[(head + 32) >> 3]!;
        e.payload = this.u8.subarray(head + HDR, head + HDR + len);
        n++;
        fn(e);
      }
      head += size;
      if (head >= cap) head = 0;
      // Hand the space back entry by entry: the producer may go on while we work.
      Atomics.store(this.ctl, HEAD, head);
    }
    return n;
  }
}
