import { describe, expect, it } from 'vitest';
import type { Binding } from '../store/index.js';
import { bestFailure, targetOf } from './fork.js';
import { srfHeaders } from './srf-reply.js';

const binding = (over: Partial<Binding>): Binding => ({
  aor: 'sip:1002@switchboard.local',
  contact: 'sip:1002@192.168.1.20:5060',
  expiresAt: 0,
  q: null,
  callId: 'c',
  cseq: 1,
  path: [],
  received: null,
  transport: 'udp',
  sourceAddress: '203.0.113.7',
  sourcePort: 40123,
  instanceId: null,
  regId: null,
  userAgent: null,
  updatedAt: 0,
  ...over,
});

describe('targetOf: where a binding is reached', () => {
  it.each([
    ['udp: the REGISTER source (NAT)', {}, { uri: 'sip:1002@192.168.1.20:5060', proxy: 'sip:203.0.113.7:40123' }],
    ['tcp: the Contact itself', { transport: 'tcp' }, { uri: 'sip:1002@192.168.1.20:5060' }],
    ['ws: only the flow it registered on', { transport: 'ws', contact: 'sip:x@y.invalid;transport=ws' }, { uri: 'sip:x@y.invalid;transport=ws', proxy: 'sip:203.0.113.7:40123;transport=ws' }],
    ['IPv6 source', { sourceAddress: '2001:db8::1' }, { uri: 'sip:1002@192.168.1.20:5060', proxy: 'sip:[2001:db8::1]:40123' }],
    ['Path becomes a Route set', { transport: 'tcp', path: ['sip:edge1;lr', 'sip:edge2;lr'] }, { uri: 'sip:1002@192.168.1.20:5060', route: '<sip:edge1;lr>, <sip:edge2;lr>' }],
  ] as const)('%s', (_n, over, want) => {
    expect(targetOf(binding(over as Partial<Binding>))).toEqual(want);
  });
});

describe('bestFailure: what the caller hears when every branch failed', () => {
  it.each([
    [[486], 486, 'busy'],
    [[603], 603, 'declined'],
    [[486, 603], 603, 'declined'],
    [[408, 486], 486, 'busy'],
    [[503, 408], 480, 'unavailable'],
    [[487, 487], 480, 'unavailable'],
    [[404, 503], 404, 'failed'],
    [[488], 488, 'failed'],
  ])('%j -> %i', (statuses, status, result) => {
    const [s, , r] = bestFailure(statuses);
    expect([s, r]).toEqual([status, result]);
  });
});

describe('srfHeaders', () => {
  it('folds list headers with commas, writes authentication challenges one per line, drops CR/LF', () => {
    expect(
      srfHeaders([
        ['Contact', '<sip:a@x>;expires=60'],
        ['contact', '<sip:b@y>;expires=30'],
        ['WWW-Authenticate', 'Digest a=1'],
        ['WWW-Authenticate', 'Digest b=2'],
        ['X-Evil', 'a\r\nInjected: 1'],
      ]),
    ).toEqual({
      Contact: '<sip:a@x>;expires=60, <sip:b@y>;expires=30',
      'WWW-Authenticate': 'Digest a=1\r\nWWW-Authenticate: Digest b=2',
    });
  });
});
