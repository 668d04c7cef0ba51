import { describe, expect, it } from 'vitest';
import { loadRfc4475 } from './fixtures/rfc4475/cases.js';
import { repairNameAddr } from './response.js';
import { SipParseError, createResponse, createResponseToMalformed, defaultReason, newBranch, newCallId, newTag, parseMessage, serializeMessage, type SipRequest } from './index.js';

const INVITE = Buffer.from(
  [
    'INVITE sip:b@example.com SIP/2.0',
    'Via: SIP/2.0/UDP p1;branch=z9hG4bK1',
    'Via: SIP/2.0/UDP ua;branch=z9hG4bK0',
    'Max-Forwards: 69',
    'From: <sip:a@example.com>;tag=f1',
    'To: <sip:b@example.com>',
    'Call-ID: call-1',
    'CSeq: 7 INVITE',
    'Timestamp: 54',
    'Contact: <sip:a@ua>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

describe('createResponse (RFC 3261 §8.2.6)', () => {
  it('copies Via (all, in order), From, To, Call-ID, CSeq and adds the To tag', () => {
    const req = parseMessage(INVITE) as SipRequest;
    const res = createResponse(req, 180, undefined, { toTag: 't9' });
    expect(res.reason).toBe('Ringing');
    expect(res.headers.getAll('Via')).toEqual(['SIP/2.0/UDP p1;branch=z9hG4bK1', 'SIP/2.0/UDP ua;branch=z9hG4bK0']);
    expect(res.headers.get('To')).toBe('<sip:b@example.com>;tag=t9');
    expect(res.to().params.get('tag')).toBe('t9');
    expect(res.headers.get('CSeq')).toBe('7 INVITE');
    expect(res.headers.has('Contact')).toBe(false);
    expect(res.headers.has('Timestamp')).toBe(false);
    expect(parseMessage(serializeMessage(res)).kind).toBe('response');
  });

  it('keeps an existing To tag and copies Timestamp into a 100 (§8.2.6.1)', () => {
    const req = parseMessage(Buffer.from(INVITE.toString().replace('To: <sip:b@example.com>', 'To: <sip:b@example.com>;tag=old'))) as SipRequest;
    const res = createResponse(req, 100, undefined, { toTag: 'new' });
    expect(res.headers.get('To')).toBe('<sip:b@example.com>;tag=old');
    expect(res.headers.get('Timestamp')).toBe('54');
  });

  it('adds extra headers and a body with its Content-Type', () => {
    const res = createResponse(parseMessage(INVITE) as SipRequest, 200, 'Fine', { headers: [['Contact', '<sip:b@h>']], body: Buffer.from('v=0\r\n'), contentType: 'application/sdp' });
    const wire = serializeMessage(res).toString();
    expect(wire.startsWith('SIP/2.0 200 Fine\r\n')).toBe(true);
    expect(wire).toContain('Content-Type: application/sdp\r\n');
    expect(wire).toContain('Content-Length: 5\r\n\r\nv=0\r\n');
  });

  it('answers a malformed request from its partial', () => {
    try {
      parseMessage(loadRfc4475('quotbal'));
      expect.unreachable();
    } catch (e) {
      const p = (e as SipParseError).partial as SipRequest;
      const res = createResponse(p, (e as SipParseError).status, (e as SipParseError).reason, { toTag: 'x' });
      expect(res.status).toBe(400);
      expect(res.headers.get('Call-ID')).toBe('quotbal.aksdj');
      expect(serializeMessage(res).toString()).toContain('SIP/2.0 400 Bad Request - Malformed To\r\n');
    }
  });

  it('rejects CR/LF smuggled through extra headers or the tag', () => {
    const req = parseMessage(INVITE) as SipRequest;
    expect(() => createResponse(req, 200, undefined, { headers: [['X-A', 'a\r\nB: c']] })).toThrowError(expect.objectContaining({ status: 500 }));
    expect(() => createResponse(req, 200, undefined, { toTag: 'a\r\nB: c' })).toThrowError(expect.objectContaining({ status: 500 }));
  });
});

describe('defaultReason', () => {
  it.each([
    [100, 'Trying'], [180, 'Ringing'], [200, 'OK'], [400, 'Bad Request'], [413, 'Request Entity Too Large'],
    [481, 'Call/Transaction Does Not Exist'], [487, 'Request Terminated'], [505, 'Version Not Supported'], [603, 'Decline'],
    [299, 'Success'], [499, 'Client Error'],
  ])('%i -> %s', (s, r) => {
    expect(defaultReason(s)).toBe(r);
  });
});

describe('identifiers', () => {
  it('are unique tokens; branches carry the RFC 3261 magic cookie', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      for (const id of [newTag(), newBranch(), newCallId()]) {
        expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
        seen.add(id);
      }
    }
    expect(seen.size).toBe(6000);
    expect(newBranch().startsWith('z9hG4bK')).toBe(true);
    expect(newBranch().length).toBeGreaterThan(7 + 10);
    expect(newTag().length).toBeGreaterThanOrEqual(8);
  });
});

/** The partial request of a message that fails to parse (what the transport layer answers). */
function partialOf(raw: Buffer): SipRequest {
  try {
    parseMessage(raw);
  } catch (err) {
    if (err instanceof SipParseError && err.partial?.kind === 'request') return err.partial;
  }
  throw new Error('expected a parse error with a partial request');
}

describe('answering a malformed request (RFC 3261 §8.2.6, RFC 4475 §3.1.2): the 400 itself is well-formed', () => {
  it('multi01: repeated From/To/Call-ID/CSeq come back once (the first), the Via list intact', () => {
    const req = partialOf(loadRfc4475('multi01'));
    for (const make of [createResponse, createResponseToMalformed]) {
      const res = make(req, 400, 'Bad Request');
      const back = parseMessage(serializeMessage(res));
      expect(back.headers.getAll('CSeq')).toEqual(['5 INVITE']);
      expect(back.headers.getAll('Call-ID')).toEqual(['multi01.98asdh@192.0.2.1']);
      expect(back.headers.getAll('From')).toHaveLength(1);
      expect(back.headers.getAll('To')).toEqual(['sip:user@example.com']);
      expect(back.headers.getAll('Via')).toEqual(req.headers.getAll('Via'));
    }
  });

  it.each([
    ['quotbal', 'To', '"Mr. J. User" <sip:j.user@example.com>'],
    ['baddn', 'From', '"Bell, Alexander" <sip:a.g.bell@example.com>;tag=43'],
    ['badaspec', 'To', '"Watson, Thomas" <sip:t.watson@example.org>'],
  ])('%s: the unparseable %s is repaired so the response parses', (name, header, repaired) => {
    const req = partialOf(loadRfc4475(name));
    expect(() => parseMessage(serializeMessage(createResponse(req, 400, 'Bad Request')))).toThrow(SipParseError);
    const res = createResponseToMalformed(req, 400, 'Bad Request');
    const back = parseMessage(serializeMessage(res));
    expect(back.headers.get(header)).toBe(repaired);
    expect(back.headers.get('CSeq')).toBe(req.headers.get('CSeq'));
  });

  it.each([
    ['<sip:a@x>;tag=1', '<sip:a@x>;tag=1'],
    ['"Open <sip:a@x>;tag=1', '"Open" <sip:a@x>;tag=1'],
    ['Unquoted, Comma <sip:a@x>', '"Unquoted, Comma" <sip:a@x>'],
    ['< sip:a@x >;tag=2', '<sip:a@x>;tag=2'],
    ['"say \\"hi <sip:a@x>', '"say \\\\\\"hi" <sip:a@x>'],
    ['no brackets at all ;;', 'no brackets at all ;;'],
    ['<sip:a b@x>', '<sip:a b@x>'],
  ])('repairNameAddr(%s) = %s', (input, out) => {
    expect(repairNameAddr(input)).toBe(out);
  });
});

