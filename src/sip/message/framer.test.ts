import { describe, expect, it } from 'vitest';
import { StreamFramer, type FramerEvent } from './index.js';

function msg(body = '', extra = ''): string {
  return `OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function summary(events: FramerEvent[]): string[] {
  return events.map((e) => (e.type === 'message' ? `message:${e.data.length}` : e.type === 'error' ? `error:${e.status}` : e.type));
}

function feed(f: StreamFramer, chunks: (string | Buffer)[]): FramerEvent[] {
  const out: FramerEvent[] = [];
  for (const c of chunks) out.push(...f.push(typeof c === 'string' ? Buffer.from(c) : c));
  return out;
}

const A = msg('hello');
const B = msg();

describe('StreamFramer (RFC 3261 §18.3, RFC 5626 §3.5.1)', () => {
  it.each([
    ['one message', [A], [`message:${A.length}`]],
    ['two messages in one chunk', [A + B], [`message:${A.length}`, `message:${B.length}`]],
    ['split at every byte', [...A].map((c) => c), [`message:${A.length}`]],
    ['split inside CRLFCRLF', [A.slice(0, A.indexOf('\r\n\r\n') + 2), A.slice(A.indexOf('\r\n\r\n') + 2)], [`message:${A.length}`]],
    ['CRLFCRLF keep-alive is a ping', ['\r\n\r\n'], ['ping']],
    ['single CRLF is a pong', ['\r\n'], ['pong']],
    ['ping split across chunks', ['\r\n\r', '\n'], ['ping']],
    ['keep-alives between messages', [`\r\n\r\n${A}\r\n${B}`], ['ping', `message:${A.length}`, 'pong', `message:${B.length}`]],
    ['compact, lower-case and folded Content-Length', ['OPTIONS sip:b SIP/2.0\r\nl :\r\n 3\r\n\r\nabc'], ['message:37']],
    ['missing Content-Length -> 400', ['OPTIONS sip:b SIP/2.0\r\nVia: x\r\n\r\n'], ['error:400']],
    ['negative Content-Length -> 400', ['OPTIONS sip:b SIP/2.0\r\nContent-Length: -1\r\n\r\n'], ['error:400']],
    ['conflicting Content-Length -> 400', ['OPTIONS sip:b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab'], ['error:400']],
    ['body over the limit -> 413', ['OPTIONS sip:b SIP/2.0\r\nContent-Length: 5000\r\n\r\n'], ['error:413']],
    ['header block over the limit -> 413', ['OPTIONS sip:b SIP/2.0\r\n' + 'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(100)], ['error:413']],
  ] as const)('%s', (_n, chunks, want) => {
    expect(summary(feed(new StreamFramer({ maxMessageBytes: 1024 }), [...chunks]))).toEqual(want);
  });

  it('hands out exact message bytes, and nothing after an error', () => {
    const f = new StreamFramer({ maxMessageBytes: 1024 });
    const ev = f.push(Buffer.from(A + B.slice(0, 10)));
    expect(ev).toHaveLength(1);
    expect((ev[0] as { data: Buffer }).data.toString()).toBe(A);
    expect(f.buffered).toBe(10);
    const err = f.push(Buffer.from('garbage\r\n\r\n'));
    expect(summary(err)).toEqual(['error:400']);
    expect((err[0] as { head?: Buffer }).head?.toString()).toContain('OPTIONS');
    expect(f.failed).toBe(true);
    expect(f.push(Buffer.from(A))).toEqual([]);
  });

  it('never buffers more than the limit plus one chunk while a head trickles in', () => {
    const f = new StreamFramer({ maxMessageBytes: 4096 });
    let events: FramerEvent[] = [];
    for (let i = 0; i < 10_000 && events.length === 0; i++) {
      events = f.push(Buffer.from('a'));
      expect(f.buffered).toBeLessThanOrEqual(4097);
    }
    expect(summary(events)).toEqual(['error:413']);
  });
});
