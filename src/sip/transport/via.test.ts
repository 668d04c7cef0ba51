// Via rules owned by the transport: received/rport stamping (RFC 3261 §18.2.1, RFC 3581 §4) and
// response targets (§18.2.2) as tables.
import { describe, expect, it } from 'vitest';
import { parseMessage, parseVia, type SipRequest } from '../message/index.js';
import { applyReceived, reliableResponseTarget, unreliableResponseTarget } from './via.js';
import { sipRequest } from './testkit.js';

const src = { transport: 'udp' as const, address: '192.0.2.7', port: 40123 };

function req(via: string, extraVia?: string): SipRequest {
  return parseMessage(Buffer.from(sipRequest({ via, extra: extraVia ? [`Via: ${extraVia}`] : [] }))) as SipRequest;
}

describe('applyReceived', () => {
  it.each([
    ['host equals source, no rport', 'SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1', undefined, undefined],
    ['host differs', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1', '192.0.2.7', undefined],
    ['domain sent-by', 'SIP/2.0/UDP pc.example.com;branch=z9hG4bK1', '192.0.2.7', undefined],
    ['rport flag, host equal', 'SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1;rport', '192.0.2.7', 40123],
    ['rport flag, host differs', 'SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bK1', '192.0.2.7', 40123],
  ])('%s', (_n, via, received, rport) => {
    const r = req(via);
    applyReceived(r, src);
    expect(r.topVia().received).toBe(received);
    if (rport !== undefined) expect(r.topVia().rport).toBe(rport);
    expect(r.topVia().branch).toBe('z9hG4bK1');
  });

  it('keeps the other Via values and their order', () => {
    const r = req('SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKtop, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKmid', 'SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKlow');
    applyReceived(r, src);
    expect(r.vias().map((v) => v.branch)).toEqual(['z9hG4bKtop', 'z9hG4bKmid', 'z9hG4bKlow']);
    expect(r.vias()[1].received).toBeUndefined();
    expect(r.headers.names()[0]).toBe('Via');
  });

  it('writes an IPv6 source unbracketed in received', () => {
    const r = req('SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1;rport');
    applyReceived(r, { transport: 'udp', address: '2001:db8::9', port: 5062 });
    expect(r.topVia().received).toBe('2001:db8::9');
    expect(r.topVia().rport).toBe(5062);
  });
});

describe('unreliableResponseTarget (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  it.each([
    ['maddr wins, port from Via', 'SIP/2.0/UDP 10.0.0.1:5070;maddr=239.1.1.1;received=192.0.2.7;rport=4000', '239.1.1.1', 5070],
    ['maddr without port -> 5060', 'SIP/2.0/UDP 10.0.0.1;maddr=10.9.9.9', '10.9.9.9', 5060],
    ['received + rport', 'SIP/2.0/UDP 10.0.0.1:5070;received=192.0.2.7;rport=4000', '192.0.2.7', 4000],
    ['received, no rport -> sent-by port', 'SIP/2.0/UDP 10.0.0.1:5070;received=192.0.2.7', '192.0.2.7', 5070],
    ['received, no ports -> 5060', 'SIP/2.0/UDP pc.example.com;received=192.0.2.7', '192.0.2.7', 5060],
    ['sent-by only', 'SIP/2.0/UDP 10.0.0.1:5070', '10.0.0.1', 5070],
    ['sent-by IPv6', 'SIP/2.0/UDP [2001:db8::1]', '2001:db8::1', 5060],
  ])('%s', (_n, via, host, port) => {
    expect(unreliableResponseTarget(parseVia(via))).toEqual({ host, port });
  });
});

describe('reliableResponseTarget (§18.2.2 fallback)', () => {
  it.each([
    ['received + sent-by port', 'SIP/2.0/TCP pc.example.com:5080;received=192.0.2.7;rport=4000', 'tcp', '192.0.2.7', 5080],
    ['TLS default port', 'SIP/2.0/TLS pc.example.com', 'tls', 'pc.example.com', 5061],
    ['TCP default port', 'SIP/2.0/TCP 10.0.0.1', 'tcp', '10.0.0.1', 5060],
  ] as const)('%s', (_n, via, t, host, port) => {
    expect(reliableResponseTarget(parseVia(via), t)).toEqual({ host, port });
  });
});
