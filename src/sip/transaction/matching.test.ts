// Matching keys: RFC 3261 §17.1.3 (client), §17.2.3 (server, RFC 2543 fallback), §8.2.2.2 (merge).
import { describe, expect, it } from 'vitest';
import { parseMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { clientKeyOf, isRfc3261, isRfc3261Branch, mergeKey, serverKey } from './matching.js';
import { request } from './testkit.js';

const req = (s: Parameters<typeof request>[0]): SipRequest => parseMessage(Buffer.from(request(s))) as SipRequest;
const VIA = 'SIP/2.0/UDP host.example.com:5070;branch=z9hG4bKabc';

describe('server keys (RFC 3261 §17.2.3)', () => {
  const rows: [name: string, via: string, method: string, same: boolean][] = [
    ['same branch, sent-by and method match', VIA, 'INVITE', true],
    ['branch compared case-insensitively', 'SIP/2.0/UDP host.example.com:5070;branch=z9hG4bKABC', 'INVITE', true],
    ['host compared case-insensitively', 'SIP/2.0/UDP HOST.example.com:5070;branch=z9hG4bKabc', 'INVITE', true],
    ['received/rport added by the transport do not matter', `${VIA};received=10.0.0.1;rport=1234`, 'INVITE', true],
    ['other branch: another transaction', 'SIP/2.0/UDP host.example.com:5070;branch=z9hG4bKother', 'INVITE', false],
    ['same branch from another sent-by: another transaction', 'SIP/2.0/UDP host.example.com:5071;branch=z9hG4bKabc', 'INVITE', false],
    ['other method with the same branch: another transaction', VIA, 'OPTIONS', false],
  ];
  it.each(rows)('%s', (_name, via, method, same) => {
    const original = serverKey(req({ via: [VIA] }), 'INVITE');
    expect(serverKey(req({ via: [via], method }), method) === original).toBe(same);
  });

  it('sent-by port defaults to 5060 (5061 for TLS)', () => {
    const a = req({ via: ['SIP/2.0/UDP h;branch=z9hG4bK1'] });
    const b = req({ via: ['SIP/2.0/UDP h:5060;branch=z9hG4bK1'] });
    const c = req({ via: ['SIP/2.0/TLS h:5061;branch=z9hG4bK1'] });
    const d = req({ via: ['SIP/2.0/TLS h;branch=z9hG4bK1'] });
    expect(serverKey(a, 'INVITE')).toBe(serverKey(b, 'INVITE'));
    expect(serverKey(c, 'INVITE')).toBe(serverKey(d, 'INVITE'));
  });

  it('an ACK and a CANCEL are looked up as INVITE with the same branch', () => {
    const inv = req({ via: [VIA] });
    const ack = req({ method: 'ACK', via: [VIA], toTag: 'x' });
    const cancel = req({ method: 'CANCEL', via: [VIA] });
    expect(serverKey(ack, 'INVITE')).toBe(serverKey(inv, 'INVITE'));
    expect(serverKey(cancel, 'INVITE')).toBe(serverKey(inv, 'INVITE'));
    expect(serverKey(cancel, 'CANCEL')).not.toBe(serverKey(inv, 'INVITE'));
  });

  it('RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number and top Via', () => {
    const v = 'SIP/2.0/UDP old.example.com:5060';
    const inv = req({ via: [v] });
    expect(isRfc3261(inv)).toBe(false);
    expect(serverKey(req({ via: [v] }), 'INVITE')).toBe(serverKey(inv, 'INVITE'));
    expect(serverKey(req({ method: 'ACK', via: [v], toTag: 't' }), 'INVITE')).toBe(serverKey(inv, 'INVITE'));
    for (const changed of [
      { via: [v], uri: 'sip:carol@127.0.0.1' },
      { via: [v], fromTag: 'zz' },
      { via: [v], callId: 'other' },
      { via: [v], cseq: 2 },
      { via: ['SIP/2.0/UDP old.example.com:5062'] },
      { via: [`${v};branch=1`] },
    ]) {
      expect(serverKey(req(changed), 'INVITE')).not.toBe(serverKey(inv, 'INVITE'));
    }
  });
});

describe('a branch of only the magic cookie (RFC 4475 §3.2.1 badbranch)', () => {
  it.each([
    ['z9hG4bK', false],
    ['z9hG4bKa', true],
    ['z9hG4bK74bf9', true],
    ['Z9HG4BKabc', false],
    ['abc', false],
    [undefined, false],
  ] as const)('%s is an RFC 3261 branch: %s', (branch, yes) => {
    expect(isRfc3261Branch(branch)).toBe(yes);
  });

  it('is not a transaction id: two requests with it get different RFC 2543 keys', () => {
    const v = 'SIP/2.0/UDP host.example.com:5070;branch=z9hG4bK';
    const a = req({ via: [v], method: 'OPTIONS', callId: 'one' });
    const b = req({ via: [v], method: 'OPTIONS', callId: 'two', cseq: 9 });
    expect(isRfc3261(a)).toBe(false);
    expect(serverKey(a, 'OPTIONS')).toMatch(/^2543\|/);
    expect(serverKey(a, 'OPTIONS')).not.toBe(serverKey(b, 'OPTIONS'));
    // Its own retransmission still matches.
    expect(serverKey(req({ via: [v], method: 'OPTIONS', callId: 'one' }), 'OPTIONS')).toBe(serverKey(a, 'OPTIONS'));
  });

  it('a response carrying it matches no client transaction', () => {
    const res = parseMessage(
      Buffer.from(
        'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
      ),
    ) as SipResponse;
    expect(clientKeyOf(res)).toBeUndefined();
  });
});

describe('client keys (RFC 3261 §17.1.3)', () => {
  it('branch of the top Via + CSeq method', () => {
    const res = (cseq: string): SipResponse =>
      parseMessage(
        Buffer.from(
          `SIP/2.0 200 OK\r\nVia: ${VIA}\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: ${cseq}\r\nContent-Length: 0\r\n\r\n`,
        ),
      ) as SipResponse;
    expect(clientKeyOf(res('1 INVITE'))).toBe(clientKeyOf(req({ via: [VIA] })));
    expect(clientKeyOf(res('1 CANCEL'))).not.toBe(clientKeyOf(req({ via: [VIA] })));
  });
});

describe('merge keys (RFC 3261 §8.2.2.2)', () => {
  it('only requests without To tag have one; From tag + Call-ID + CSeq', () => {
    expect(mergeKey(req({ via: [VIA], toTag: 'x' }))).toBeUndefined();
    const a = mergeKey(req({ via: [VIA] }));
    expect(mergeKey(req({ via: ['SIP/2.0/UDP elsewhere;branch=z9hG4bKzz'] }))).toBe(a);
    expect(mergeKey(req({ via: [VIA], cseq: 2 }))).not.toBe(a);
    expect(mergeKey(req({ via: [VIA], fromTag: 'b' }))).not.toBe(a);
  });
});
