// Table-driven specification of the pure dialog rules (RFC 3261 §12–§14).
import { describe, expect, it } from 'vitest';
import { parseMessage, parseNameAddr, type SipRequest, type SipResponse } from '../message/index.js';
import {
  admitInDialog,
  buildInDialogRequest,
  dialogId,
  dialogKeyString,
  isTargetRefresh,
  keyOfIncomingRequest,
  keyOfIncomingResponse,
  parseDialogId,
  remoteTargetOf,
  routeSetFromRequest,
  routeSetFromResponse,
  type AdmissionState,
  type DialogRouting,
} from './rules.js';

function msg(lines: string[]): SipRequest | SipResponse {
  return parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n')) as SipRequest | SipResponse;
}

const INVITE = [
  'INVITE sip:bob@b.example SIP/2.0',
  'Via: SIP/2.0/UDP a.example;branch=z9hG4bK1',
  'Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>',
  'Record-Route: <sip:p3.example;lr>',
  'From: Alice <sip:alice@a.example>;tag=a1',
  'To: Bob <sip:bob@b.example>',
  'Call-ID: call-1@a.example',
  'CSeq: 7 INVITE',
  'Contact: <sip:alice@10.0.0.1:5062;transport=tcp>;expires=60',
  'Max-Forwards: 70',
  'Content-Length: 0',
];

describe('dialog ids', () => {
  it.each([
    ['abc', 'x1', 'abc;from-tag=x1'],
    ['1-11373@127.0.0.1', '11373SIPpTag001', '1-11373@127.0.0.1;from-tag=11373SIPpTag001'],
    ['we;ird', 't', 'we;ird;from-tag=t'],
  ])('Call-ID %s + From tag %s -> %s, and back', (callId, tag, id) => {
    expect(dialogId(callId, tag)).toBe(id);
    expect(parseDialogId(id)).toEqual({ callId, fromTag: tag });
  });

  it.each(['', 'no-tag-here', ';from-tag=x'])('rejects malformed id %j', (id) => {
    expect(parseDialogId(id)).toBeUndefined();
  });

  it('keys of a received request: local tag from To, remote tag from From', () => {
    const req = msg(INVITE.map((l) => (l.startsWith('To:') ? 'To: Bob <sip:bob@b.example>;tag=b1' : l)));
    expect(keyOfIncomingRequest(req)).toEqual({ callId: 'call-1@a.example', localTag: 'b1', remoteTag: 'a1' });
    expect(keyOfIncomingRequest(msg(INVITE))).toBeUndefined();
  });

  it('keys of a received response: local tag from From, remote tag from To', () => {
    const res = msg([
      'SIP/2.0 180 Ringing',
      'Via: SIP/2.0/UDP a.example;branch=z9hG4bK1',
      'From: <sip:alice@a.example>;tag=a1',
      'To: <sip:bob@b.example>;tag=b9',
      'Call-ID: c',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
    ]);
    expect(keyOfIncomingResponse(res)).toEqual({ callId: 'c', localTag: 'a1', remoteTag: 'b9' });
  });

  it('the key string keeps local and remote tags apart', () => {
    expect(dialogKeyString({ callId: 'x', localTag: 'y', remoteTag: 'z' })).not.toBe(
      dialogKeyString({ callId: 'x', localTag: 'z', remoteTag: 'y' }),
    );
  });
});

describe('admission of in-dialog requests (RFC 3261 §12.2.2, §14.2)', () => {
  const idle: AdmissionState = { remoteSeq: 10, incomingInvitePending: false, outgoingInvitePending: false };
  it.each<[string, AdmissionState, string, number, number]>([
    ['higher CSeq is in order', idle, 'INFO', 11, 0],
    ['equal CSeq is not lower (RFC: only lower is out of order)', idle, 'INFO', 10, 0],
    ['lower CSeq is out of order -> 500', idle, 'BYE', 9, 500],
    ['empty remote CSeq accepts anything', { ...idle, remoteSeq: undefined }, 'BYE', 1, 0],
    ['INVITE while our INVITE is pending -> 491', { ...idle, outgoingInvitePending: true }, 'INVITE', 11, 491],
    ['INVITE while theirs is pending -> 500', { ...idle, incomingInvitePending: true }, 'INVITE', 11, 500],
    ['non-INVITE while an INVITE is pending passes', { ...idle, outgoingInvitePending: true, incomingInvitePending: true }, 'UPDATE', 11, 0],
    ['out-of-order wins over glare', { ...idle, outgoingInvitePending: true }, 'INVITE', 3, 500],
  ])('%s', (_name, state, method, seq, status) => {
    expect(admitInDialog(state, method, seq).status).toBe(status);
  });

  it('the 500 for overlapping INVITEs asks for Retry-After, the out-of-order one does not', () => {
    expect(admitInDialog({ ...idle, incomingInvitePending: true }, 'INVITE', 11)).toMatchObject({ retryAfter: true });
    expect(admitInDialog(idle, 'INVITE', 1)).toMatchObject({ retryAfter: false });
  });

  it.each([
    ['INVITE', true],
    ['UPDATE', true],
    ['SUBSCRIBE', true],
    ['NOTIFY', true],
    ['BYE', false],
    ['INFO', false],
    ['OPTIONS', false],
  ])('%s is a target refresh: %s', (method, yes) => {
    expect(isTargetRefresh(method)).toBe(yes);
  });
});

describe('route set and remote target (RFC 3261 §12.1)', () => {
  it('UAS: Record-Route in order, across header lines', () => {
    expect(routeSetFromRequest(msg(INVITE))).toEqual(['<sip:p1.example;lr>', '<sip:p2.example;lr>', '<sip:p3.example;lr>']);
  });
  it('UAC: Record-Route reversed', () => {
    expect(routeSetFromResponse(msg(INVITE))).toEqual(['<sip:p3.example;lr>', '<sip:p2.example;lr>', '<sip:p1.example;lr>']);
  });
  it('remote target is the Contact URI without header params', () => {
    expect(remoteTargetOf(msg(INVITE))).toBe('sip:alice@10.0.0.1:5062;transport=tcp');
    expect(remoteTargetOf(msg(INVITE.filter((l) => !l.startsWith('Contact'))))).toBeUndefined();
  });
});

describe('request construction in a dialog (RFC 3261 §12.2.1.1)', () => {
  const base: DialogRouting = {
    callId: 'call-1',
    local: parseNameAddr('Bob <sip:bob@b.example>;tag=b1'),
    remote: parseNameAddr('Alice <sip:alice@a.example>;tag=a1'),
    remoteTarget: 'sip:alice@10.0.0.1:5062',
    routeSet: [],
  };
  it.each<[string, string[], string, string[]]>([
    ['empty route set: R-URI = remote target, no Route', [], 'sip:alice@10.0.0.1:5062', []],
    [
      'loose router first: R-URI = remote target, Route = route set',
      ['<sip:p1.example;lr>', '<sip:p2.example;lr>'],
      'sip:alice@10.0.0.1:5062',
      ['<sip:p1.example;lr>', '<sip:p2.example;lr>'],
    ],
    [
      'strict router first: R-URI = that router (no method param), Route = rest + remote target',
      ['<sip:p1.example;method=INVITE;maddr=10.1.1.1>', '<sip:p2.example;lr>'],
      'sip:p1.example;maddr=10.1.1.1',
      ['<sip:p2.example;lr>', '<sip:alice@10.0.0.1:5062>'],
    ],
  ])('%s', (_name, routeSet, uri, routes) => {
    const req = buildInDialogRequest({ ...base, routeSet }, 'BYE', 42);
    expect(req.method).toBe('BYE');
    expect(req.uri).toBe(uri);
    expect(req.headers.getAll('Route')).toEqual(routes);
  });

  it('To/From carry both tags, Call-ID and CSeq are set', () => {
    const req = buildInDialogRequest(base, 'INFO', 5, { headers: [['X-Foo', 'bar']], body: Buffer.from('hi'), contentType: 'text/plain' });
    expect(req.to().params.get('tag')).toBe('a1');
    expect(req.to().displayName).toBe('Alice');
    expect(req.from().params.get('tag')).toBe('b1');
    expect(req.callId()).toBe('call-1');
    expect(req.cseq()).toEqual({ seq: 5, method: 'INFO' });
    expect(req.headers.get('X-Foo')).toBe('bar');
    expect(req.headers.get('Content-Type')).toBe('text/plain');
    expect(req.body.toString()).toBe('hi');
  });

  it.each([
    ['INVITE', true],
    ['UPDATE', true],
    ['ACK', false],
    ['BYE', false],
  ])('%s carries our Contact when given: %s', (method, has) => {
    const req = buildInDialogRequest(base, method, 1, { contact: 'sip:10.0.0.2:5060' });
    expect(req.headers.has('Contact')).toBe(has);
  });
});
