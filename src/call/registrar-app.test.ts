import { describe, expect, it } from 'vitest';
import { registerFacts } from './registrar-app.js';
import type { InboundRequest } from './srf-types.js';

function req(headers: string[], over: Partial<InboundRequest> = {}): InboundRequest {
  const raw = ['REGISTER sip:switchboard.local SIP/2.0', ...headers, 'Content-Length: 0', '', ''].join('\r\n');
  const get = (name: string): string | undefined => {
    const line = headers.find((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
    return line?.slice(line.indexOf(':') + 1).trim();
  };
  return {
    method: 'REGISTER',
    uri: 'sip:switchboard.local',
    body: '',
    source_address: '203.0.113.7',
    source_port: 40123,
    protocol: 'udp',
    msg: { raw },
    get,
    has: (n) => get(n) !== undefined,
    on: () => undefined,
    ...over,
  };
}

const base = ['Call-ID: abc', 'CSeq: 7 REGISTER', 'To: "A" <sip:1001@switchboard.local>', 'From: <sip:1001@switchboard.local>;tag=1'];

describe('registerFacts: a drachtio-srf REGISTER as the Registrar sees it', () => {
  it('reads contacts, expires, authorization lines, source, NAT and User-Agent', () => {
    const f = registerFacts(
      req([
        ...base,
        'Contact: <sip:1001@192.168.1.20:5060>;expires=120;+sip.instance="<urn:uuid:1>";reg-id=1',
        'Expires: 60',
        'Authorization: Digest username="1001", realm="switchboard.local", nonce="n", uri="sip:switchboard.local", response="r"',
        'User-Agent: Phone/1.0',
        'Path: <sip:edge.example;lr>',
      ]),
    );
    expect(f).toEqual({
      source: { address: '203.0.113.7', port: 40123, transport: 'udp' },
      requestUri: 'sip:switchboard.local',
      toUri: 'sip:1001@switchboard.local',
      authorization: ['Digest username="1001", realm="switchboard.local", nonce="n", uri="sip:switchboard.local", response="r"'],
      contacts: [{ uri: 'sip:1001@192.168.1.20:5060', expires: '120', instance: '"<urn:uuid:1>"', regId: '1' }],
      expires: '60',
      callId: 'abc',
      cseq: 7,
      path: ['sip:edge.example;lr'],
      // The Contact names a private address: the binding remembers where the REGISTER came from.
      received: 'sip:203.0.113.7:40123',
      userAgent: 'Phone/1.0',
    });
  });

  it('the wildcard, and no received when the Contact is the source', () => {
    const f = registerFacts(req([...base, 'Contact: *', 'Expires: 0'], { source_address: '127.0.0.1', source_port: 5060 }));
    expect(f).toMatchObject({ contacts: ['*'], expires: '0', received: null, authorization: [] });
    const g = registerFacts(req([...base, 'Contact: <sip:1001@127.0.0.1:5070>'], { source_address: '127.0.0.1', source_port: 5070 }));
    expect(g).toMatchObject({ received: null });
  });

  it.each([
    ['an unreadable Contact', [...base, 'Contact: <sip:broken'], 'unreadable Contact'],
    ['no To', ['Call-ID: a', 'CSeq: 1 REGISTER', 'Contact: *'], 'unreadable To'],
    ['a bad CSeq', ['Call-ID: a', 'CSeq: x REGISTER', 'To: <sip:1001@x>'], 'unreadable CSeq'],
  ])('%s is a 400 reason', (_n, headers, reason) => {
    expect(registerFacts(req(headers))).toBe(reason);
  });
});
