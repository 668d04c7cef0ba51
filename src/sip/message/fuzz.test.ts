// Fuzz safety (like sipgo's parser_fuzz_test.go): thousands of seeded mutations of valid
// messages. parseMessage may only return or throw SipParseError; StreamFramer.push never throws;
// accessors of a message that parsed throw nothing but SipError. Crashers found go into
// fixtures/crashers/ and are replayed first.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../lib/prng.js';
import { SipError } from '../../lib/errors.js';
import { RFC4475_CASES, loadRfc4475 } from './fixtures/rfc4475/cases.js';
import { SipParseError, StreamFramer, parseMessage, serializeMessage, type SipMessage } from './index.js';

const INTERESTING = [0x00, 0x0a, 0x0d, 0x20, 0x09, 0x22, 0x25, 0x2c, 0x3a, 0x3b, 0x3c, 0x3e, 0x40, 0x5c, 0x7f, 0x80, 0xff, 0x3d, 0x3f];

function mutate(src: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(src);
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    switch (Math.floor(rnd() * 6)) {
      case 0: // bit flip
        if (b.length) b[at] ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: // insert an interesting byte
        b = Buffer.concat([b.subarray(0, at), Buffer.from([INTERESTING[Math.floor(rnd() * INTERESTING.length)]]), b.subarray(at)]);
        break;
      case 3: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 8))]);
        break;
      case 4: // duplicate a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 16), b.subarray(at)]);
        break;
      default: // overwrite with a random byte
        if (b.length) b[at] = Math.floor(rnd() * 256);
    }
  }
  return b;
}

/** Every accessor a layer above might call on a message that parsed. */
function touch(m: SipMessage): void {
  for (const f of [() => m.callId(), () => m.cseq(), () => m.from(), () => m.to(), () => m.vias(), () => m.topVia(), () => m.contacts(), () => m.maxForwards(), () => serializeMessage(m), () => (m.kind === 'request' ? m.requestUri() : 0)]) {
    try {
      f();
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
    }
  }
}

function checkParse(buf: Buffer): void {
  let m: SipMessage | undefined;
  try {
    m = parseMessage(buf);
  } catch (e) {
    if (!(e instanceof SipParseError)) throw new Error(`non-SipParseError for ${JSON.stringify(buf.toString('latin1'))}: ${String(e)}`);
    if (e.partial) touch(e.partial);
    return;
  }
  touch(m);
}

const seeds = [
  ...RFC4475_CASES.map((c) => loadRfc4475(c.name)),
  Buffer.from('INVITE sip:b@[2001:db8::1]:5060;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP [::1]:5060;branch=z9hG4bK1;rport=1;received=1.2.3.4\r\nFrom: "A \\"q\\"" <sip:a@x>;tag=1\r\nTo: tel:+1234;x=y\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContact: *\r\nContent-Length: 2\r\n\r\nab'),
];

const CRASHERS = new URL('./fixtures/crashers/', import.meta.url);

describe('fuzz', () => {
  it('replays committed crashers', () => {
    let files: string[] = [];
    try {
      files = readdirSync(CRASHERS).filter((f) => f.endsWith('.dat'));
    } catch {
      // no crashers committed yet
    }
    for (const f of files) checkParse(readFileSync(new URL(f, CRASHERS)));
  });

  it('parseMessage only throws SipParseError on 20k mutations', () => {
    const rnd = mulberry32(0x5eed);
    for (let i = 0; i < 20_000; i++) checkParse(mutate(seeds[i % seeds.length], rnd));
  });

  it('StreamFramer never throws and stays bounded on 5k mutated streams', () => {
    const rnd = mulberry32(0xf4a3e);
    for (let i = 0; i < 5_000; i++) {
      const f = new StreamFramer({ maxMessageBytes: 2048 });
      const stream = Buffer.concat([mutate(seeds[i % seeds.length], rnd), mutate(seeds[(i + 7) % seeds.length], rnd)]);
      let pos = 0;
      while (pos < stream.length) {
        const n = 1 + Math.floor(rnd() * 200);
        const events = f.push(stream.subarray(pos, pos + n));
        pos += n;
        for (const e of events) if (e.type === 'message') checkParse(e.data);
        expect(f.buffered).toBeLessThanOrEqual(2048 + 200);
      }
    }
  });
});
