// RFC 3261 §8.2 request checks of the UAS core, as a table of requests and expected answers.
import { describe, expect, it } from 'vitest';
import { parseMessage, type SipRequest } from '../message/index.js';
import { DEFAULT_CAPABILITIES, checkIncomingRequest } from './uas-checks.js';

function req(first: string, extra: string[] = [], body = ''): SipRequest {
  const method = first.split(' ')[0];
  const lines = [
    first,
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-x',
    'From: <sip:a@example.net>;tag=1',
    'To: <sip:b@example.com>',
    'Call-ID: x',
    `CSeq: 1 ${method}`,
    'Max-Forwards: 70',
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  return parseMessage(Buffer.from(lines.join('\r\n'))) as SipRequest;
}

const SDP = 'v=0\r\n';

describe('checkIncomingRequest (RFC 3261 §8.2)', () => {
  it.each<[string, SipRequest, number | undefined]>([
    ['plain OPTIONS passes', req('OPTIONS sip:b@example.com SIP/2.0'), undefined],
    ['sips and tel pass', req('OPTIONS tel:+15551234 SIP/2.0'), undefined],
    ['unknown scheme -> 416 (§8.2.2.1)', req('OPTIONS nobodyKnowsThisScheme:opaque SIP/2.0'), 416],
    ['atypical scheme -> 416', req('OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0'), 416],
    ['Require we lack -> 420 (§8.2.2.3)', req('OPTIONS sip:b@example.com SIP/2.0', ['Require: foo, bar']), 420],
    ['Proxy-Require is for proxies', req('OPTIONS sip:b@example.com SIP/2.0', ['Proxy-Require: foo']), undefined],
    ['SDP body passes', req('INVITE sip:b@example.com SIP/2.0', ['Content-Type: application/sdp'], SDP), undefined],
    ['unknown body type -> 415 (§8.2.3)', req('INVITE sip:b@example.com SIP/2.0', ['Content-Type: application/unknownformat'], '<x/>'), 415],
    ['unknown Content-Encoding -> 415', req('MESSAGE sip:b@example.com SIP/2.0', ['Content-Type: text/plain', 'Content-Encoding: gzip'], 'hi'), 415],
    ['INVITE with Accept excluding SDP -> 406', req('INVITE sip:b@example.com SIP/2.0', ['Accept: text/nobodyKnowsThis']), 406],
    ['INVITE with Accept application/* passes', req('INVITE sip:b@example.com SIP/2.0', ['Accept: application/*']), undefined],
    ['OPTIONS with that Accept passes (no body in our answer)', req('OPTIONS sip:b@example.com SIP/2.0', ['Accept: text/nobodyKnowsThis']), undefined],
  ])('%s', (_name, r, status) => {
    expect(checkIncomingRequest(r)?.status).toBe(status);
  });

  it('420 lists the unsupported tags; 415 lists what we accept', () => {
    expect(checkIncomingRequest(req('OPTIONS sip:b@example.com SIP/2.0', ['Require: foo, bar']))?.headers).toEqual([['Unsupported', 'foo, bar']]);
    const r = checkIncomingRequest(req('INVITE sip:b@example.com SIP/2.0', ['Content-Type: image/png'], 'x'));
    expect(r?.headers).toEqual([['Accept', DEFAULT_CAPABILITIES.accept.join(', ')]]);
  });

  it('a supported option tag passes', () => {
    const r = req('INVITE sip:b@example.com SIP/2.0', ['Require: replaces']);
    expect(checkIncomingRequest(r)?.status).toBe(420);
    expect(checkIncomingRequest(r, { ...DEFAULT_CAPABILITIES, supported: ['replaces'] })).toBeUndefined();
  });
});
