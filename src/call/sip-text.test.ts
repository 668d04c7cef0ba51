import { describe, expect, it } from 'vitest';
import { headerValues, parseNameAddr, quoteDisplayName, registerContacts, splitList, userOf } from './sip-text.js';

const raw = [
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1',
  'Contact: <sip:a@10.0.0.1:5060>;expires=60;q=0.5, "Bob, Jr." <sip:b@10.0.0.2>',
  'm: sip:c@10.0.0.3;expires=0',
  'Authorization: Digest username="1001", realm="r",',
  '  nonce="n", uri="sip:example.com", response="x"',
  'Authorization: Digest username="1001", realm="other"',
  'Expires: 120',
  'Content-Length: 0',
  '',
  'Contact: not-a-header-in-the-body',
].join('\r\n');

describe('headerValues', () => {
  it('returns every line of a header, compact form included, folded lines joined, body ignored', () => {
    expect(headerValues(raw, 'Contact')).toEqual(['<sip:a@10.0.0.1:5060>;expires=60;q=0.5, "Bob, Jr." <sip:b@10.0.0.2>', 'sip:c@10.0.0.3;expires=0']);
    expect(headerValues(raw, 'authorization')).toEqual([
      'Digest username="1001", realm="r", nonce="n", uri="sip:example.com", response="x"',
      'Digest username="1001", realm="other"',
    ]);
    expect(headerValues(raw, 'Expires')).toEqual(['120']);
    expect(headerValues(raw, 'Path')).toEqual([]);
  });
});

describe('splitList / parseNameAddr', () => {
  it('splits at commas outside quotes and angle brackets', () => {
    expect(splitList('<sip:a@x;p=1,2>, "A, B" <sip:b@y>,sip:c@z')).toEqual(['<sip:a@x;p=1,2>', '"A, B" <sip:b@y>', 'sip:c@z']);
  });
  it.each([
    ['<sip:a@x;transport=tcp>;expires=5', 'sip:a@x;transport=tcp', [['expires', '5']]],
    ['"N" <sips:a@x>;+sip.instance="<urn:uuid:1;x>";reg-id=1', 'sips:a@x', [['+sip.instance', '"<urn:uuid:1;x>"'], ['reg-id', '1']]],
    ['sip:a@x;expires=5;flag', 'sip:a@x', [['expires', '5'], ['flag', '']]],
  ])('%s', (value, uri, params) => {
    const na = parseNameAddr(value)!;
    expect(na.uri).toBe(uri);
    expect([...na.params]).toEqual(params);
  });
  it.each(['<sip:a@x', 'not a uri', '', '<>'])('%j is not a name-addr', (v) => {
    expect(parseNameAddr(v)).toBeUndefined();
  });
});

describe('registerContacts', () => {
  it('reads the wildcard, URIs and the expires / q / instance / reg-id parameters as text', () => {
    expect(registerContacts(headerValues(raw, 'Contact'))).toEqual([
      { uri: 'sip:a@10.0.0.1:5060', expires: '60', q: '0.5' },
      { uri: 'sip:b@10.0.0.2' },
      { uri: 'sip:c@10.0.0.3', expires: '0' },
    ]);
    expect(registerContacts(['*'])).toEqual(['*']);
    expect(registerContacts(['<sip:a@x>;+sip.instance="<urn:uuid:9>";reg-id=2'])).toEqual([{ uri: 'sip:a@x', instance: '"<urn:uuid:9>"', regId: '2' }]);
    expect(registerContacts([])).toEqual([]);
  });
  it('is undefined when a Contact cannot be read (-> 400)', () => {
    expect(registerContacts(['<sip:a@x', '*'])).toBeUndefined();
  });
});

describe('userOf / quoteDisplayName', () => {
  it.each([
    ['sip:1001@example.com', '1001'],
    ['sips:alice%20b@example.com;transport=tls', 'alice b'],
    ['sip:1001:secret@example.com', '1001'],
    ['sip:example.com', undefined],
    ['tel:+1555', undefined],
    ['sip:%zz@x', undefined],
  ])('%s -> %s', (uri, user) => {
    expect(userOf(uri)).toBe(user);
  });
  it('escapes quotes and backslashes, drops line breaks', () => {
    expect(quoteDisplayName('A "B" \\ C\r\nD')).toBe('"A \\"B\\" \\\\ C  D"');
  });
});
