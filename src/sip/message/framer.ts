// StreamFramer: cuts a TCP/TLS byte stream into SIP messages by Content-Length (RFC 3261
// §18.3) and recognises RFC 5626 keep-alives (CRLFCRLF ping §3.5.1, CRLF pong §4.4.1).
// push() never throws and never holds more than maxMessageBytes plus one chunk; a header
// block trickling in byte by byte is scanned once, not once per chunk.
import { bodyStartOf, findHeadEnd } from './parse.js';

export type FramerEvent =
  | { type: 'message'; data: Buffer }
  | { type: 'ping' }
  | { type: 'pong' }
  | { type: 'error'; status: 400 | 413; reason: string; head?: Buffer };

export interface StreamFramerOptions {
  maxMessageBytes: number;
}

/** Default transport limit for one message on a stream. */
export const MAX_MESSAGE_BYTES = 65536;

const EMPTY = Buffer.alloc(0);

export class StreamFramer {
  readonly #max: number;
  /** Pending bytes live in #store[0, #len); grown by doubling, reused across messages. */
  #store: Buffer = EMPTY;
  #len = 0;
  /** Total length (head + body) of the message being received, once its head was read. */
  #need = -1;
  /** Offset (relative to the pending bytes) up to which the head was searched without success. */
  #scanned = 0;
  #failed = false;

  constructor(opts: StreamFramerOptions) {
    this.#max = opts.maxMessageBytes > 0 ? opts.maxMessageBytes : MAX_MESSAGE_BYTES;
  }

  /** True after an error event: the caller must close the connection; further input is ignored. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.#len;
  }

  /** Feed bytes; returns the events they complete. Message data are copies the caller owns. */
  push(chunk: Buffer): FramerEvent[] {
    const events: FramerEvent[] = [];
    if (this.#failed || chunk.length === 0) return events;
    try {
      let buf: Buffer;
      if (this.#len === 0) buf = chunk; // common case: work on the chunk itself, no copy
      else {
        this.#reserve(this.#len + chunk.length);
        chunk.copy(this.#store, this.#len);
        this.#len += chunk.length;
        buf = this.#store.subarray(0, this.#len);
      }
      const off = this.#drain(buf, events);
      if (this.#failed) return events;
      this.#keep(buf, off);
    } catch {
      // Unreachable by design; a framing bug must still not unwind into the socket handler.
      this.#fail(events, 400, 'Bad Request - Framing error');
    }
    return events;
  }

  /** Emit every complete message / keep-alive in buf; returns the offset of the unconsumed rest. */
  #drain(buf: Buffer, events: FramerEvent[]): number {
    let off = 0;
    for (;;) {
      const avail = buf.length - off;
      if (avail === 0) return off;
      if (this.#need < 0) {
        // Keep-alives and CRLFs between messages (RFC 5626 §3.5.1, RFC 3261 §7.5).
        const c0 = buf[off];
        if (c0 === 13 || c0 === 10) {
          if (c0 === 13 && avail >= 2 && buf[off + 1] === 10) {
            if (avail >= 4 && buf[off + 2] === 13 && buf[off + 3] === 10) {
              events.push({ type: 'ping' });
              off += 4;
              continue;
            }
            // "\r\n\r" may become a ping with the next chunk; a lone CRLF is a pong.
            if (avail === 3 && buf[off + 2] === 13) return off;
            events.push({ type: 'pong' });
            off += 2;
            continue;
          }
          if (c0 === 13 && avail === 1) return off;
          off += 1; // bare LF or stray CR before a message: skipped
          continue;
        }
        const searchEnd = Math.min(buf.length, off + this.#max);
        // Resume a little before where the last search stopped: the terminator may straddle chunks.
        const from = Math.max(off, off + this.#scanned - 3);
        const headEnd = findHeadEnd(buf, from, searchEnd);
        if (headEnd < 0) {
          if (avail > this.#max) {
            this.#fail(events, 413, 'Message Too Large - header block exceeds limit', Buffer.from(buf.subarray(off, off + Math.min(avail, 4096))));
            return off;
          }
          this.#scanned = avail;
          return off;
        }
        this.#scanned = 0;
        const bodyStart = bodyStartOf();
        const cl = contentLengthOf(buf.toString('latin1', off, headEnd));
        if (cl < 0) {
          // RFC 3261 §18.3: Content-Length is mandatory on streams; without it the next message
          // cannot be found.
          this.#fail(events, 400, cl === -1 ? 'Bad Request - Missing Content-Length' : 'Bad Request - Malformed Content-Length', Buffer.from(buf.subarray(off, bodyStart)));
          return off;
        }
        const total = bodyStart - off + cl;
        if (total > this.#max) {
          this.#fail(events, 413, 'Message Too Large', Buffer.from(buf.subarray(off, bodyStart)));
          return off;
        }
        this.#need = total;
      }
      if (avail < this.#need) return off;
      events.push({ type: 'message', data: Buffer.from(buf.subarray(off, off + this.#need)) });
      off += this.#need;
      this.#need = -1;
    }
  }

  /** Keep buf[off..] as the pending bytes, at the start of #store. */
  #keep(buf: Buffer, off: number): void {
    const rest = buf.length - off;
    if (rest === 0) {
      this.#len = 0;
      return;
    }
    if (buf.buffer === this.#store.buffer && buf.byteOffset === this.#store.byteOffset) {
      if (off > 0) this.#store.copyWithin(0, off, buf.length);
    } else {
      this.#reserve(rest);
      buf.copy(this.#store, 0, off);
    }
    this.#len = rest;
  }

  #reserve(n: number): void {
    if (this.#store.length >= n) return;
    const next = Buffer.allocUnsafe(Math.max(n, Math.min(this.#store.length * 2 || 4096, this.#max * 2 + 4096)));
    this.#store.copy(next, 0, 0, this.#len);
    this.#store = next;
  }

  #fail(events: FramerEvent[], status: 400 | 413, reason: string, head?: Buffer): void {
    this.#failed = true;
    this.#store = EMPTY;
    this.#len = 0;
    events.push(head ? { type: 'error', status, reason, head } : { type: 'error', status, reason });
  }
}

/**
 * Content-Length from a header block: -1 when absent, -2 when malformed or repeated with
 * different values. Handles compact "l", any case, whitespace before the colon and folding.
 */
export function contentLengthOf(head: string): number {
  let found = -1;
  const re = /(?:^|\n)(?:content-length|l)[ \t]*:[ \t]*((?:[^\r\n]|\r?\n[ \t])*)/gi;
  for (let m = re.exec(head); m !== null; m = re.exec(head)) {
    const v = m[1].trim();
    if (!/^\d{1,10}$/.test(v)) return -2;
    const n = Number(v);
    if (found >= 0 && found !== n) return -2;
    found = n;
  }
  return found;
}
