// A subarray view kept for as long as the same bytes are asked for again. Hot paths that hand a
// slice of a reused buffer on (one per RTP packet: the payload of a socket's receive buffer, a
// send buffer's packet for dgram) otherwise allocate a view object per packet.
export class ReusedView {
  #of: Uint8Array | null = null;
  #view: Uint8Array = new Uint8Array(0);

  /** buf[offset, offset+length) — the previous view when buffer, offset and length repeat. */
  of(buf: Uint8Array, offset: number, length: number): Uint8Array {
    const v = this.#view;
    if (this.#of === buf && v.byteOffset === buf.byteOffset + offset && v.length === length) return v;
    this.#of = buf;
    return (this.#view = buf.subarray(offset, offset + length));
  }
}
