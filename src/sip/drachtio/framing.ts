// drachtio wire framing (drachtio-wire.md §1): every message is `<N>#<payload>`, N the decimal
// length of the payload in UTF-8 bytes. Frames arrive back to back with no delimiter, several per
// TCP read or split anywhere (even inside the length). FrameDecoder turns socket chunks into
// payload views; encodeFrame / encodeFrameWithBody build outgoing frames in one buffer each.
//
// drachtio-server's Client::readMessageLength accepts at most 6 length digits and drops the
// client on anything that is not a digit before '#'; we do the same, so a hostile or confused
// peer can hold at most MAX_FRAME_BYTES of our memory.

/** Largest payload accepted: six decimal digits, as drachtio-server's reader. */
export const MAX_FRAME_BYTES = 999_999;
const MAX_LENGTH_DIGITS = 6;
const HASH = 0x23;
const CR = 0x0d;

export type DecodeResult = 'ok' | 'error';

/**
 * Incremental decoder. `push(chunk, onFrame)` calls `onFrame(payload)` for every complete frame;
 * `payload` is a view into the received bytes (valid as long as the caller keeps it, never
 * reused by the decoder). Returns 'error' on garbage or oversize: the caller drops the connection.
 */
export class FrameDecoder {
  #pending: Buffer | undefined;
  /** Length of the frame whose payload we are waiting for; -1 while reading a length. */
  #need = -1;

  get buffered(): number {
    return this.#pending?.length ?? 0;
  }

  push(chunk: Buffer, onFrame: (payload: Buffer) => void): DecodeResult {
    const buf = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = undefined;
    let pos = 0;
    const end = buf.length;
    for (;;) {
      if (this.#need < 0) {
        // Read "<digits>#".
        let n = 0;
        let i = pos;
        for (; i < end; i++) {
          const c = buf[i];
          if (c === HASH) break;
          if (c < 0x30 || c > 0x39 || i - pos >= MAX_LENGTH_DIGITS) return this.#fail();
          n = n * 10 + (c - 0x30);
        }
        if (i >= end) break; // length split across reads
        if (i === pos || n === 0 || n > MAX_FRAME_BYTES) return this.#fail();
        this.#need = n;
        pos = i + 1;
      }
      if (end - pos < this.#need) break;
      const frame = buf.subarray(pos, pos + this.#need);
      pos += this.#need;
      this.#need = -1;
      onFrame(frame);
    }
    if (pos < end) {
      // Keep only the unread tail; copy when it is a small part of a large buffer so one
      // partial frame cannot pin a big chunk.
      const rest = end - pos;
      this.#pending = rest < buf.length / 2 ? Buffer.from(buf.subarray(pos)) : buf.subarray(pos);
    }
    return 'ok';
  }

  #fail(): DecodeResult {
    this.#pending = undefined;
    this.#need = -1;
    return 'error';
  }
}

/** `<N>#<payload>` for a payload without a SIP message. */
export function encodeFrame(payload: string): Buffer {
  const len = Buffer.byteLength(payload, 'utf8');
  const prefix = `${len}#`;
  const out = Buffer.allocUnsafe(prefix.length + len);
  out.write(prefix, 0, 'latin1');
  out.write(payload, prefix.length, 'utf8');
  return out;
}

/** `<N>#<head>\r\n<sip bytes>`: `head` is the `|`-separated meta line without its CRLF. */
export function encodeFrameWithBody(head: string, sip: Buffer): Buffer {
  const headLen = Buffer.byteLength(head, 'utf8');
  const len = headLen + 2 + sip.length;
  const prefix = `${len}#`;
  const out = Buffer.allocUnsafe(prefix.length + len);
  let at = out.write(prefix, 0, 'latin1');
  at += out.write(head, at, 'utf8');
  out[at++] = CR;
  out[at++] = 0x0a;
  sip.copy(out, at);
  return out;
}

/** A decoded payload: the `|`-separated meta tokens and the SIP bytes after the first CRLF. */
export interface Payload {
  tokens: string[];
  /** Empty when the frame carries no SIP message. */
  sip: Buffer;
}

/** Splits a payload at its first CR (drachtio-wire.md §1: "the receiver splits at the first CR"). */
export function splitPayload(payload: Buffer): Payload {
  const cr = payload.indexOf(CR);
  if (cr < 0) return { tokens: payload.toString('utf8').split('|'), sip: EMPTY };
  const sipStart = payload[cr + 1] === 0x0a ? cr + 2 : cr + 1;
  return { tokens: payload.toString('utf8', 0, cr).split('|'), sip: payload.subarray(sipStart) };
}

const EMPTY = Buffer.alloc(0);
