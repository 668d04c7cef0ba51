import { describe, expect, it } from 'vitest';
import { SipError } from '../../lib/errors.js';
import { Headers, canonicalName } from './index.js';

describe('canonical header names', () => {
  it.each([
    ['i', 'Call-ID'], ['m', 'Contact'], ['f', 'From'], ['t', 'To'], ['v', 'Via'], ['l', 'Content-Length'],
    ['c', 'Content-Type'], ['k', 'Supported'], ['s', 'Subject'], ['e', 'Content-Encoding'], ['o', 'Event'],
    ['u', 'Allow-Events'], ['r', 'Refer-To'], ['x', 'Session-Expires'], ['b', 'Referred-By'], ['y', 'Identity'],
    ['j', 'Reject-Contact'], ['a', 'Accept-Contact'], ['d', 'Request-Disposition'],
    ['I', 'Call-ID'], ['CALL-ID', 'Call-ID'], ['cseq', 'CSeq'], ['www-authenticate', 'WWW-Authenticate'],
    ['X-Custom', 'X-Custom'],
  ])('%s -> %s', (raw, canonical) => {
    expect(canonicalName(raw)).toBe(canonical);
  });
});

describe('Headers', () => {
  const h = () =>
    new Headers([
      ['v', 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b;branch=z9hG4bK2'],
      ['Via', 'SIP/2.0/UDP c;branch=z9hG4bK3'],
      ['Contact', '"Doe, John" <sip:j@x;a=1,2>;q=0.5, <sip:k@y>'],
      ['WWW-Authenticate', 'Digest realm="a", nonce="b"'],
      ['X-List', 'a, b'],
      ['Date', 'Sat, 13 Nov 2010 23:29:00 GMT'],
    ]);

  it('splits list headers at top-level commas only', () => {
    expect(h().getAll('via')).toEqual(['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/TCP b;branch=z9hG4bK2', 'SIP/2.0/UDP c;branch=z9hG4bK3']);
    expect(h().getAll('m')).toEqual(['"Doe, John" <sip:j@x;a=1,2>;q=0.5', '<sip:k@y>']);
    expect(h().get('Contact')).toBe('"Doe, John" <sip:j@x;a=1,2>;q=0.5');
  });

  it.each([['WWW-Authenticate'], ['X-List'], ['Date']])('does not split %s', (name) => {
    expect(h().getAll(name)).toHaveLength(1);
  });

  it('keeps canonical names and wire order', () => {
    expect(h().names()).toEqual(['Via', 'Via', 'Contact', 'WWW-Authenticate', 'X-List', 'Date']);
    expect([...h()][0]).toEqual(['Via', 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/TCP b;branch=z9hG4bK2']);
  });

  it('set replaces every occurrence in place of the first', () => {
    const x = h();
    x.set('VIA', 'SIP/2.0/UDP z');
    expect(x.getAll('Via')).toEqual(['SIP/2.0/UDP z']);
    expect(x.names()[0]).toBe('Via');
  });

  it('prepend inserts before the first occurrence; append at the end; delete removes all', () => {
    const x = h();
    x.prepend('Via', 'SIP/2.0/UDP top');
    expect(x.get('Via')).toBe('SIP/2.0/UDP top');
    x.append('Route', '<sip:r>');
    expect(x.names().at(-1)).toBe('Route');
    x.delete('v');
    expect(x.has('Via')).toBe(false);
  });

  it('shift pops the first list element', () => {
    const x = h();
    expect(x.shift('Via')).toBe('SIP/2.0/UDP a;branch=z9hG4bK1');
    expect(x.getAll('Via')).toHaveLength(2);
  });

  it('clone is independent', () => {
    const a = h();
    const b = a.clone();
    b.delete('Via');
    expect(a.has('Via')).toBe(true);
  });

  it.each([
    ['set', 'X-A', 'v\r\nInjected: 1'],
    ['append', 'X-A', 'v\nx'],
    ['prepend', 'X-A', 'v\r'],
    ['set', 'Bad Name', 'v'],
    ['append', '', 'v'],
  ] as const)('%s(%j, %j) throws SipError 500', (op, name, value) => {
    const x = new Headers();
    try {
      x[op](name, value);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SipError);
      expect((e as SipError).status).toBe(500);
    }
  });
});
