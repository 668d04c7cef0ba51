// drachtio framing (drachtio-wire.md §1): lengths in UTF-8 bytes, frames back to back, split
// anywhere, garbage and oversize refused.
import { describe, expect, it } from 'vitest';
import { FrameDecoder, MAX_FRAME_BYTES, encodeFrame, encodeFrameWithBody, splitPayload } from './framing.js';

function decodeAll(chunks: Buffer[]): { frames: string[]; result: string } {
  const d = new FrameDecoder();
  const frames: string[] = [];
  let result = 'ok';
  for (const c of chunks) {
    result = d.push(c, (p) => frames.push(p.toString('utf8')));
    if (result === 'error') break;
  }
  return { frames, result };
}

describe('FrameDecoder', () => {
  it('reads several frames from one read (as in drachtio-wire.md §2)', () => {
    const wire = Buffer.from('85#6a448b5f-b232-45e1-b448-688ee706534f|response|4dbfc763-b0d3-4eae-99ba-cc72a08fbdd4|OK2#ab');
    expect(decodeAll([wire]).frames).toEqual(['6a448b5f-b232-45e1-b448-688ee706534f|response|4dbfc763-b0d3-4eae-99ba-cc72a08fbdd4|OK', 'ab']);
  });

  it('reassembles frames split at every byte, the length included', () => {
    const wire = Buffer.concat([encodeFrame('id1|ping'), encodeFrame('id2|route|invite')]);
    const chunks = [...wire].map((b) => Buffer.from([b]));
    expect(decodeAll(chunks)).toEqual({ frames: ['id1|ping', 'id2|route|invite'], result: 'ok' });
  });

  it('counts the length in UTF-8 bytes, not characters', () => {
    const payload = 'id|sip||\r\nINFO sip:x SIP/2.0\r\nSubject: café ☎ 😀\r\n\r\n';
    const frame = encodeFrame(payload);
    expect(frame.toString('latin1').startsWith(`${Buffer.byteLength(payload)}#`)).toBe(true);
    const mid = Math.floor(frame.length / 2);
    expect(decodeAll([frame.subarray(0, mid), frame.subarray(mid)]).frames).toEqual([payload]);
  });

  it.each([
    ['a letter in the length', 'x5#hello'],
    ['a missing length', '#hello'],
    ['a zero length', '0#'],
    ['seven length digits', '1000000#'],
  ])('refuses %s', (_name, wire) => {
    expect(decodeAll([Buffer.from(wire)]).result).toBe('error');
  });

  it('accepts the largest frame, split across reads', () => {
    const payload = 'x'.repeat(MAX_FRAME_BYTES);
    const frame = encodeFrame(payload);
    const d = new FrameDecoder();
    let got = 0;
    expect(d.push(frame.subarray(0, 1000), () => got++)).toBe('ok');
    expect(d.buffered).toBe(1000 - '999999#'.length); // the length is consumed, the payload kept
    expect(d.push(frame.subarray(1000), (p) => (got += p.length))).toBe('ok');
    expect(got).toBe(MAX_FRAME_BYTES);
    expect(d.buffered).toBe(0);
  });
});

describe('frames with a SIP message', () => {
  it('splits the meta line at the first CRLF and keeps the SIP bytes as they are', () => {
    const sip = Buffer.from('SIP/2.0 200 OK\r\nCall-ID: a|b\r\n\r\n');
    const frame = encodeFrameWithBody('id|sip|txn|', sip);
    const { frames } = decodeAll([frame]);
    const p = splitPayload(Buffer.from(frames[0]));
    expect(p.tokens).toEqual(['id', 'sip', 'txn', '']);
    expect(p.sip.equals(sip)).toBe(true);
  });

  it('has no SIP part when the frame has no CR', () => {
    expect(splitPayload(Buffer.from('id|authenticate|cymru|'))).toEqual({ tokens: ['id', 'authenticate', 'cymru', ''], sip: Buffer.alloc(0) });
  });
});
