// The pure RFC 3261 §16 rules: our own URIs, Route processing (§16.4), building a branch
// (§16.6), relaying a response (§16.7 step 3) and choosing the best final (§16.7 step 6).
import { describe, expect, it } from 'vitest';
import { Headers, SipRequest, SipResponse, parseUri } from '../message/index.js';
import {
  bestResponseIndex,
  buildBranch,
  destinationRequestUri,
  isProxiedInDialog,
  oursFrom,
  ownRouteCount,
  recordRoutes,
  relayedResponse,
  removeOwnRoutes,
  stampBranch,
  upstreamStatus,
  viaSource,
} from './rules.js';
import { parseVia } from '../message/index.js';

const US = { transport: 'udp' as const, address: '10.0.0.1', port: 5070 };
const ours = oursFrom([US, { transport: 'tcp', address: '10.0.0.1', port: 5070 }]);

function request(lines: string[], uri = 'sip:bob@example.com'): SipRequest {
  const h = new Headers();
  for (const l of lines) {
    const i = l.indexOf(':');
    h.append(l.slice(0, i), l.slice(i + 1).trim());
  }
  return new SipRequest('INVITE', uri, h, Buffer.alloc(0));
}

const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcaller',
  'From: <sip:alice@example.com>;tag=a',
  'To: <sip:bob@example.com>',
  'Call-ID: c1',
  'CSeq: 1 INVITE',
];

describe('our own URIs', () => {
  it.each([
    ['sip:10.0.0.1:5070;lr', true],
    ['sip:10.0.0.1:5070;transport=tcp;lr', true],
    ['sip:10.0.0.1;lr', false],
    ['sip:10.0.0.2:5070;lr', false],
    ['sip:bob@10.0.0.1:5070', true],
    ['tel:+15551234', false],
  ])('%s -> %s', (uri, expected) => {
    expect(ours(parseUri(uri))).toBe(expected);
  });

  it('a URI without port means 5060', () => {
    expect(oursFrom([{ transport: 'udp', address: '10.0.0.1', port: 5060 }])(parseUri('sip:10.0.0.1;lr'))).toBe(true);
  });
});

describe('RFC 3261 §16.4 Route processing on receipt', () => {
  it('counts and removes the Route values naming us at the top (RFC 5658 double Record-Route too)', () => {
    const req = request([...BASE, 'Route: <sip:10.0.0.1:5070;lr>, <sip:10.0.0.1:5070;transport=tcp;lr>', 'Route: <sip:p2.example.com;lr>']);
    expect(ownRouteCount(req, ours)).toBe(2);
    removeOwnRoutes(req, ours);
    expect(req.headers.getAll('Route')).toEqual(['<sip:p2.example.com;lr>']);
  });

  it.each([
    // [Route values, Request-URI, relayed by the proxy?]
    [['<sip:10.0.0.1:5070;lr>'], 'sip:bob@192.0.2.9:5060', true],
    [['<sip:10.0.0.1:5070;lr>', '<sip:p2.example.com;lr>'], 'sip:bob@10.0.0.1:5070', true],
    [['<sip:10.0.0.1:5070;lr>'], 'sip:bob@10.0.0.1:5070', false], // the request is for us
    [['<sip:p2.example.com;lr>'], 'sip:bob@192.0.2.9', false], // not routed through us
    [[], 'sip:bob@192.0.2.9', false],
  ])('Route %j, Request-URI %s -> proxied %s', (routes, uri, expected) => {
    const req = request([...BASE, ...routes.map((r) => `Route: ${r}`)], uri);
    expect(isProxiedInDialog(req, ours)).toBe(expected);
  });
});

describe('RFC 3261 §16.6 building a branch', () => {
  it('copies, retargets, decrements Max-Forwards and keeps the original untouched', () => {
    const received = request([...BASE, 'Max-Forwards: 70']);
    const b = buildBranch(received, { target: 'sip:bob@192.0.2.9:5080' });
    expect(b.uri).toBe('sip:bob@192.0.2.9:5080');
    expect(b.maxForwards()).toBe(69);
    expect(received.uri).toBe('sip:bob@example.com');
    expect(received.maxForwards()).toBe(70);
  });

  it.each([
    [undefined, '70'],
    ['1', '0'],
    ['10', '9'],
  ])('Max-Forwards %s becomes %s', (mf, expected) => {
    const received = request(mf === undefined ? BASE : [...BASE, `Max-Forwards: ${mf}`]);
    expect(buildBranch(received).headers.get('Max-Forwards')).toBe(expected);
  });

  it('keeps the Request-URI without a target (in-dialog requests along their route set)', () => {
    expect(buildBranch(request(BASE, 'sip:bob@192.0.2.9')).uri).toBe('sip:bob@192.0.2.9');
  });

  it('pushes our Via on top of the existing ones and Record-Route above any other', () => {
    const b = buildBranch(request([...BASE, 'Record-Route: <sip:p0.example.com;lr>']), { target: 'sip:bob@192.0.2.9' });
    stampBranch(b, 'SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKours;rport', ['<sip:10.0.0.1:5070;lr>']);
    expect(b.vias().map((v) => v.branch)).toEqual(['z9hG4bKours', 'z9hG4bKcaller']);
    expect(b.headers.getAll('Record-Route')).toEqual(['<sip:10.0.0.1:5070;lr>', '<sip:p0.example.com;lr>']);
  });

  it('adds the application headers', () => {
    const b = buildBranch(request(BASE), { extraHeaders: [['X-Tenant', 'blue']] });
    expect(b.headers.get('X-Tenant')).toBe('blue');
  });

  it('§16.6 step 6: a strict router at the top of Route becomes the Request-URI', () => {
    const b = buildBranch(request([...BASE, 'Route: <sip:strict.example.com>', 'Route: <sip:p3.example.com;lr>']), {
      target: 'sip:bob@192.0.2.9',
    });
    expect(b.uri).toBe('sip:strict.example.com');
    expect(b.headers.getAll('Route')).toEqual(['<sip:p3.example.com;lr>', '<sip:bob@192.0.2.9>']);
  });

  it('a loose router stays in Route', () => {
    const b = buildBranch(request([...BASE, 'Route: <sip:p3.example.com;lr>']), { target: 'sip:bob@192.0.2.9' });
    expect(b.uri).toBe('sip:bob@192.0.2.9');
    expect(b.headers.getAll('Route')).toEqual(['<sip:p3.example.com;lr>']);
  });
});

describe('Record-Route values', () => {
  it('one value when both sides use the same listener, two (downstream first) otherwise (RFC 5658)', () => {
    expect(recordRoutes(US, US)).toEqual(['<sip:10.0.0.1:5070;lr>']);
    expect(recordRoutes(US, { transport: 'tcp', address: '10.0.0.1', port: 5070 })).toEqual([
      '<sip:10.0.0.1:5070;transport=tcp;lr>',
      '<sip:10.0.0.1:5070;lr>',
    ]);
    expect(recordRoutes({ transport: 'tls', address: '::1', port: 5061 }, { transport: 'tls', address: '::1', port: 5061 })).toEqual([
      '<sips:[::1]:5061;lr>',
    ]);
  });
});

describe('RFC 3261 §16.7 step 3 relaying a response', () => {
  function response(vias: string[]): SipResponse {
    const h = new Headers();
    for (const v of vias) h.append('Via', v);
    for (const l of BASE.slice(1)) h.append(l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim());
    return new SipResponse(180, 'Ringing', h, Buffer.alloc(0));
  }

  it('removes our Via and keeps the rest', () => {
    const out = relayedResponse(response(['SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKours', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKcaller']));
    expect(out?.vias().map((v) => v.branch)).toEqual(['z9hG4bKcaller']);
  });

  it('a response with only our Via was for us: nothing to relay', () => {
    expect(relayedResponse(response(['SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKours']))).toBeUndefined();
  });

  it('a stateless relay goes to received / rport of the next Via', () => {
    expect(viaSource(parseVia('SIP/2.0/UDP host.example.com:5062;branch=z9hG4bKx;received=192.0.2.4;rport=6000'))).toEqual({
      transport: 'udp',
      address: '192.0.2.4',
      port: 6000,
    });
    expect(viaSource(parseVia('SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKx'))).toEqual({ transport: 'tcp', address: '192.0.2.4', port: 5060 });
    expect(viaSource(parseVia('SIP/2.0/SCTP 192.0.2.4;branch=z9hG4bKx'))).toBeUndefined();
  });
});

describe('RFC 3261 §16.7 step 6 best response', () => {
  it.each([
    [[486, 503], 486],
    [[503, 486], 486],
    [[486, 603, 404], 603],
    [[302, 486], 302],
    [[404, 407, 486], 407],
    [[480, 401], 401],
    [[500, 503], 500],
    [[404, 480], 404], // same class, none preferred: the first received
  ])('%j -> %i', (statuses, expected) => {
    const finals = statuses.map((status) => ({ status }));
    expect(finals[bestResponseIndex(finals)].status).toBe(expected);
  });

  it('no final at all: index -1, and the proxy answers 408', () => {
    expect(bestResponseIndex([])).toBe(-1);
    expect(upstreamStatus(undefined)).toBe(408);
  });

  it('a chosen 503 is sent upstream as 500', () => {
    expect(upstreamStatus(503)).toBe(500);
    expect(upstreamStatus(486)).toBe(486);
  });
});

describe("drachtio-server's Request-URI for a 'destination' branch", () => {
  const ours = oursFrom([{ transport: 'udp', address: '127.0.0.1', port: 5060 }]);
  const req = (uri: string) => new SipRequest('INVITE', uri, new Headers(), Buffer.alloc(0));
  it.each([
    ['sip:1004@switchboard.local', 'sip:127.0.0.2', undefined],
    ['sip:1004@127.0.0.9:5060', 'sip:127.0.0.2', undefined],
    ['tel:+15551234', 'sip:127.0.0.2', undefined],
    ['sip:1004@127.0.0.1', 'sip:127.0.0.2', 'sip:127.0.0.2'],
    ['sip:1004@127.0.0.1:5060;transport=udp', 'sip:bob@127.0.0.2:5080', 'sip:bob@127.0.0.2:5080'],
  ])('%s sent to %s -> %s', (uri, dest, expected) => {
    expect(destinationRequestUri(req(uri), dest, ours)).toBe(expected);
  });
});

