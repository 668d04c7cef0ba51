// parseMessage and serializeMessage: start lines, framing, required headers, body handling,
// partial messages, and the serialize -> parse round trip.
import { describe, expect, it } from 'vitest';
import { RFC4475_CASES, loadRfc4475 } from './fixtures/rfc4475/cases.js';
import { Headers, SipParseError, SipRequest, SipResponse, parseMessage, serializeMessage } from './index.js';

const CRLF = '\r\n';
const REQ_HEADERS = [
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport',
  'Max-Forwards: 70',
  'From: "A" <sip:a@example.com>;tag=1',
  'To: <sip:b@example.com>',
  'Call-ID: c1@192.0.2.1',
  'CSeq: 1 OPTIONS',
];

function req(startLine = 'OPTIONS sip:b@example.com SIP/2.0', extra: string[] = [], body = '', headers = REQ_HEADERS): Buffer {
  return Buffer.from([startLine, ...headers, ...extra, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join(CRLF));
}

function outcome(buf: Buffer): string {
  try {
    const m = parseMessage(buf);
    return `ok ${m.kind}`;
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return `${e.status} ${e.reason}${e.partial ? ' +partial' : ''}`;
  }
}

describe('parseMessage outcomes', () => {
  it.each([
    ['plain request', req(), 'ok request'],
    ['leading CRLFs skipped (RFC 3261 §7.5)', Buffer.concat([Buffer.from('\r\n\r\n'), req()]), 'ok request'],
    ['bare LF line ends tolerated', Buffer.from(req().toString().replace(/\r\n/g, '\n')), 'ok request'],
    ['missing Max-Forwards accepted', req(undefined, [], '', REQ_HEADERS.filter((h) => !h.startsWith('Max'))), 'ok request'],
    ['missing Call-ID', req(undefined, [], '', REQ_HEADERS.filter((h) => !h.startsWith('Call-ID'))), '400 Bad Request - Missing Call-ID +partial'],
    ['missing Via', req(undefined, [], '', REQ_HEADERS.filter((h) => !h.startsWith('Via'))), '400 Bad Request - Missing Via +partial'],
    ['missing CSeq', req(undefined, [], '', REQ_HEADERS.filter((h) => !h.startsWith('CSeq'))), '400 Bad Request - Missing CSeq +partial'],
    ['CSeq method mismatch', req('INVITE sip:b@example.com SIP/2.0'), '400 Bad Request - CSeq method does not match +partial'],
    ['CSeq >= 2^31', req(undefined, [], '', REQ_HEADERS.map((h) => (h.startsWith('CSeq') ? 'CSeq: 2147483648 OPTIONS' : h))), '400 Bad Request - Malformed CSeq +partial'],
    ['SIP/3.0 -> 505', req('OPTIONS sip:b@example.com SIP/3.0'), '505 Version Not Supported +partial'],
    ['garbage version -> 400', req('OPTIONS sip:b@example.com HTTP/1.1'), '400 Bad Request - Malformed Request-LineMARK'],
    ['no header terminator', Buffer.from('OPTIONS sip:b SIP/2.0\r\nVia: x\r\n'), '400 Bad Request - Incomplete header block'],
    ['empty', Buffer.alloc(0), '400 Bad Request - Empty message'],
    ['not a start line', Buffer.from('hello\r\n\r\n'), '400 Bad Request - Malformed start line'],
    ['header without colon', req(undefined, ['Garbage']), '400 Bad Request - Malformed header line +partial'],
    ['bare CR inside a value', req(undefined, ['X-A: a\rb']), '400 Bad Request - Bare CR in header block'],
    ['status 99', Buffer.from('SIP/2.0 99 Odd\r\n' + REQ_HEADERS.join(CRLF) + '\r\n\r\n'), '400 Bad Request - Malformed status code +partial'],
    ['Content-Length shorter than datagram: truncated', Buffer.concat([req(undefined, [], 'abc'), Buffer.from('trailing junk')]), 'ok request'],
    ['Content-Length longer than datagram', Buffer.from(req(undefined, [], 'abc').toString().replace('Content-Length: 3', 'Content-Length: 30')), '400 Bad Request - Content-Length exceeds body +partial'],
    ['Content-Length not a number', Buffer.from(req().toString().replace('Content-Length: 0', 'Content-Length: five')), '400 Bad Request - Malformed Content-Length +partial'],
    ['two Content-Length', req(undefined, ['Content-Length: 0']), '400 Bad Request - Multiple Content-Length +partial'],
    ['Max-Forwards 256', req(undefined, [], '', REQ_HEADERS.map((h) => (h.startsWith('Max') ? 'Max-Forwards: 256' : h))), '400 Bad Request - Malformed Max-Forwards +partial'],
    ['Call-ID with space', req(undefined, [], '', REQ_HEADERS.map((h) => (h.startsWith('Call-ID') ? 'Call-ID: a b' : h))), '400 Bad Request - Malformed Call-ID +partial'],
  ])('%s', (_n, buf, want) => {
    expect(outcome(buf)).toBe(want.replace('MARK', ' +partial'));
  });
});

describe('parsed message', () => {
  it('exposes structured headers lazily and consistently', () => {
    const m = parseMessage(req(undefined, ['Contact: <sip:a@192.0.2.1>;expires=60, "B" <sip:b@h>', 'Route: <sip:p1;lr>, <sip:p2;lr>'], 'v=0\r\n')) as SipRequest;
    expect(m.callId()).toBe('c1@192.0.2.1');
    expect(m.cseq()).toEqual({ seq: 1, method: 'OPTIONS' });
    expect(m.topVia()).toMatchObject({ host: '192.0.2.1', port: 5060, branch: 'z9hG4bKabc', rport: null });
    expect(m.from().params.get('tag')).toBe('1');
    expect(m.to().params.has('tag')).toBe(false);
    expect(m.contacts().map((c) => c.uri.user)).toEqual(['a', 'b']);
    expect(m.headers.getAll('Route')).toEqual(['<sip:p1;lr>', '<sip:p2;lr>']);
    expect(m.maxForwards()).toBe(70);
    expect(m.body.toString()).toBe('v=0\r\n');
    expect(m.requestUri().user).toBe('b');
  });

  it('invalidates cached structures when headers change', () => {
    const m = parseMessage(req());
    expect(m.topVia().branch).toBe('z9hG4bKabc');
    m.headers.prepend('Via', 'SIP/2.0/TCP proxy;branch=z9hG4bKnew');
    expect(m.topVia().branch).toBe('z9hG4bKnew');
    expect(m.vias()).toHaveLength(2);
  });

  it('wildcard Contact', () => {
    const m = parseMessage(req('REGISTER sip:example.com SIP/2.0', ['Contact: *', 'Expires: 0'], '', REQ_HEADERS.map((h) => h.replace('1 OPTIONS', '1 REGISTER'))));
    expect(m.contacts()).toEqual([]);
    expect(m.isWildcardContact()).toBe(true);
  });

  it('keeps binary bodies byte-exact', () => {
    const body = Buffer.from([0, 1, 2, 13, 10, 13, 10, 255, 254]);
    const head = Buffer.from(['MESSAGE sip:b@h SIP/2.0', ...REQ_HEADERS.map((h) => h.replace('OPTIONS', 'MESSAGE')), 'Content-Type: application/octet-stream', `Content-Length: ${body.length}`, '', ''].join(CRLF));
    const m = parseMessage(Buffer.concat([head, body]));
    expect(Buffer.compare(m.body, body)).toBe(0);
    expect(Buffer.compare(parseMessage(serializeMessage(m)).body, body)).toBe(0);
  });
});

describe('serializeMessage', () => {
  it('writes Content-Length to match the body, replacing a wrong one', () => {
    const m = parseMessage(req());
    m.body = Buffer.from('hello');
    const out = serializeMessage(m).toString();
    expect(out).toContain('Content-Length: 5\r\n\r\nhello');
    expect(out.match(/Content-Length/g)).toHaveLength(1);
  });

  it('adds Content-Length when absent and writes canonical names', () => {
    const r = new SipResponse(200, 'OK', new Headers([['v', 'SIP/2.0/UDP h;branch=z9hG4bK1'], ['i', 'x']]));
    expect(serializeMessage(r).toString()).toBe('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n');
  });

  it.each([
    ['method with space', () => new SipRequest('INV ITE', 'sip:a')],
    ['URI with CRLF', () => new SipRequest('INVITE', 'sip:a\r\nX: y')],
    ['reason with LF', () => new SipResponse(200, 'OK\nX: y')],
    ['status 42', () => new SipResponse(42, 'x')],
  ])('refuses %s with SipError 500', (_n, make) => {
    expect(() => serializeMessage(make())).toThrowError(expect.objectContaining({ status: 500 }));
  });

  it('round-trips every valid RFC 4475 message and our own', () => {
    const inputs = [
      ...RFC4475_CASES.filter((c) => c.parse === 'ok').map((c) => loadRfc4475(c.name)),
      req(),
      req(undefined, ['Contact: <sip:a@h>, <sip:b@h>', 'X-Unicode: héllo ✓'], 'body\r\n'),
      Buffer.from('SIP/2.0 180 Ringing\r\n' + REQ_HEADERS.join(CRLF) + '\r\nContent-Length: 0\r\n\r\n'),
    ];
    for (const buf of inputs) {
      const a = parseMessage(buf);
      const wire = serializeMessage(a);
      const b = parseMessage(wire);
      // Lossless: the second serialization is identical, and the parsed content matches.
      expect(serializeMessage(b).equals(wire)).toBe(true);
      expect(b.kind).toBe(a.kind);
      expect(Buffer.compare(b.body, a.body)).toBe(0);
      expect(b.callId()).toBe(a.callId());
      expect(b.cseq()).toEqual(a.cseq());
      expect(b.vias()).toEqual(a.vias());
      expect(b.from()).toEqual(a.from());
      expect(b.to()).toEqual(a.to());
      expect(b.contacts()).toEqual(a.contacts());
    }
  });
});
