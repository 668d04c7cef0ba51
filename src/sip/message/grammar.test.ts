// URI, name-addr, Via and CSeq grammar: tables of inputs and outcomes.
import { describe, expect, it } from 'vitest';
import { SipError } from '../../lib/errors.js';
import { formatNameAddr, formatUri, formatVia, parseCSeq, parseNameAddr, parseUri, parseVia } from './index.js';

function status(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof SipError) return e.status;
    throw e;
  }
}

describe('parseUri', () => {
  it.each([
    ['sip:alice@example.com', { scheme: 'sip', user: 'alice', host: 'example.com' }],
    ['SIPS:bob:secret@10.0.0.1:5061', { scheme: 'sips', user: 'bob', password: 'secret', host: '10.0.0.1', port: 5061 }],
    ['sip:[2001:db8::1]:5060;transport=tcp', { host: '[2001:db8::1]', port: 5060 }],
    ['sip:host;lr', { host: 'host' }],
    ['sip:%61lice@h', { user: 'alice' }],
    ['sip:h?subject=project%20x&priority=urgent', { host: 'h' }],
    ['tel:+1-201-555-0123;phone-context=example.com', { scheme: 'tel', host: '+1-201-555-0123' }],
    ['urn:service:sos', { scheme: 'urn', host: 'service:sos' }],
  ])('%s', (s, want) => {
    expect(parseUri(s)).toMatchObject(want);
  });

  it('params and headers', () => {
    const u = parseUri('sip:h;LR;transport=TCP;maddr=239.1.1.1?Route=%3Csip:x%3E');
    expect([...u.params]).toEqual([['lr', null], ['transport', 'TCP'], ['maddr', '239.1.1.1']]);
    expect([...u.headers]).toEqual([['Route', '<sip:x>']]);
  });

  it.each([
    'sip:', 'sip:@host', 'sip:user@', 'sip:host:99999', 'sip:host:abc', 'sip:ho st', 'sip:host;', 'sip:host;=x',
    'sip:[::1', '<sip:host>', 'nocolon', '1sip:host', 'sip:host?x', 'sip:us"er@host', 'tel:',
  ])('%s is rejected with 400', (s) => {
    expect(status(() => parseUri(s))).toBe(400);
  });

  it('formats back to an equivalent URI', () => {
    for (const s of ['sip:alice@example.com:5060;transport=tcp;lr', 'sip:I%20am@h', 'sips:[::1];maddr=x?a=b%20c', 'tel:+123;ext=4']) {
      expect(parseUri(formatUri(parseUri(s)))).toEqual(parseUri(s));
    }
  });
});

describe('parseNameAddr', () => {
  it.each([
    ['"Alice" <sip:a@x>;tag=1', 'Alice', 'a', [['tag', '1']]],
    ['Alice Smith <sip:a@x>', 'Alice Smith', 'a', []],
    ['<sip:a@x;transport=udp>;expires=60;q=0.5', undefined, 'a', [['expires', '60'], ['q', '0.5']]],
    ['sip:a@x;tag=9', undefined, 'a', [['tag', '9']]],
    ['"Esc \\"q\\" \\\\" <sip:a@x>', 'Esc "q" \\', 'a', []],
    ['caller<sip:a@x>', 'caller', 'a', []],
    ['  "A"   <sip:a@x>  ;  tag = 5 ', 'A', 'a', [['tag', '5']]],
    ['<sip:a@x>;+sip.instance="<urn:uuid:1>"', undefined, 'a', [['+sip.instance', '"<urn:uuid:1>"']]],
  ])('%s', (s, dn, user, params) => {
    const n = parseNameAddr(s);
    expect(n.displayName).toBe(dn);
    expect(n.uri.user).toBe(user);
    expect([...n.params]).toEqual(params);
  });

  it.each([
    '"unterminated <sip:a@x>', 'Bell, Alexander <sip:a@x>', '< sip:a@x >', '<sip:a@x', 'sip:a@x?h=1',
    '<sip:a@x>;', '<sip:a@x>;;', '<sip:a@x> junk', '', '"a" sip:a@x',
  ])('%j is rejected with 400', (s) => {
    expect(status(() => parseNameAddr(s))).toBe(400);
  });

  it('formats with quotes, brackets and params', () => {
    const n = parseNameAddr('Bob "x" <sip:b@h>;tag=1'.replace(' "x"', ''));
    expect(formatNameAddr(n)).toBe('"Bob" <sip:b@h>;tag=1');
    expect(parseNameAddr(formatNameAddr(parseNameAddr('"a\\"b" <sip:x@y>;q=1')))).toEqual(parseNameAddr('"a\\"b" <sip:x@y>;q=1'));
  });
});

describe('parseVia', () => {
  it.each([
    ['SIP/2.0/UDP host:5060;branch=z9hG4bK1;rport', { transport: 'UDP', host: 'host', port: 5060, branch: 'z9hG4bK1', rport: null }],
    ['SIP/2.0/tcp 10.0.0.1;rport=5070;received=192.0.2.1', { transport: 'TCP', rport: 5070, received: '192.0.2.1' }],
    ['SIP / 2.0 / WSS [2001:db8::9]:443;maddr=239.0.0.1', { transport: 'WSS', host: '[2001:db8::9]', port: 443, maddr: '239.0.0.1' }],
    ['SIP/2.0/UDP h ; branch = z9hG4bKx', { branch: 'z9hG4bKx' }],
  ])('%s', (s, want) => {
    expect(parseVia(s)).toMatchObject({ protocol: 'SIP/2.0', ...want });
  });

  it.each(['SIP/2.0/UDP', 'SIP/2.0 host', 'SIP/2.0/UDP host;;', 'SIP/2.0/UDP host:99999', 'SIP/2.0/UDP host;rport=x', 'SIP/2.0/UDP host;branch', 'SIP/2.0/UDPhost', ''])(
    '%j is rejected with 400',
    (s) => {
      expect(status(() => parseVia(s))).toBe(400);
    },
  );

  it('formats', () => {
    expect(formatVia(parseVia('SIP/2.0/UDP h:1;branch=z9hG4bK1;rport'))).toBe('SIP/2.0/UDP h:1;branch=z9hG4bK1;rport');
    const v = parseVia('SIP/2.0/UDP h;branch=z9hG4bK1;rport');
    v.rport = 5060;
    v.received = '1.2.3.4';
    expect(formatVia(v)).toBe('SIP/2.0/UDP h;branch=z9hG4bK1;rport=5060;received=1.2.3.4');
  });
});

describe('parseCSeq', () => {
  it.each([
    ['1 INVITE', 1, 'INVITE'],
    ['0009   ACK', 9, 'ACK'],
    ['2147483647 BYE', 2147483647, 'BYE'],
  ])('%s', (s, seq, method) => {
    expect(parseCSeq(s)).toEqual({ seq, method });
  });
  it.each(['2147483648 INVITE', 'INVITE', '1', '1 IN VITE', '-1 BYE', ''])('%j is rejected', (s) => {
    expect(status(() => parseCSeq(s))).toBe(400);
  });
});
