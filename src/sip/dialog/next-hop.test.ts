// Next-hop selection (RFC 3261 §8.1.2, RFC 3263 §4 without SRV), table-driven.
import { describe, expect, it } from 'vitest';
import { SipError } from '../../lib/errors.js';
import { Headers, SipRequest, parseUri, type TransportName } from '../message/index.js';
import { isInvalidHost, resolveInDialog, resolveNextHop, selectNextHop, targetUri, type DialogFlow } from './next-hop.js';

const ALL: TransportName[] = ['udp', 'tcp', 'tls'];

describe('selectNextHop', () => {
  it.each<[string, TransportName[], TransportName | undefined, { transport: TransportName; host: string; port: number }]>([
    ['sip:bob@10.0.0.1', ALL, undefined, { transport: 'udp', host: '10.0.0.1', port: 5060 }],
    ['sip:bob@10.0.0.1:5070', ALL, undefined, { transport: 'udp', host: '10.0.0.1', port: 5070 }],
    ['sip:bob@10.0.0.1;transport=TCP', ALL, undefined, { transport: 'tcp', host: '10.0.0.1', port: 5060 }],
    ['sip:bob@10.0.0.1;transport=tls', ALL, undefined, { transport: 'tls', host: '10.0.0.1', port: 5061 }],
    ['sips:bob@10.0.0.1', ALL, undefined, { transport: 'tls', host: '10.0.0.1', port: 5061 }],
    ['sips:bob@10.0.0.1;transport=tcp', ALL, undefined, { transport: 'tls', host: '10.0.0.1', port: 5061 }],
    ['sip:bob@10.0.0.1;maddr=10.9.9.9', ALL, undefined, { transport: 'udp', host: '10.9.9.9', port: 5060 }],
    ['sip:bob@[::1]:5080', ALL, undefined, { transport: 'udp', host: '::1', port: 5080 }],
    ['sip:bob@pbx.example', ALL, undefined, { transport: 'udp', host: 'pbx.example', port: 5060 }],
    ['sip:bob@10.0.0.1', ALL, 'tcp', { transport: 'tcp', host: '10.0.0.1', port: 5060 }],
    ['sip:bob@10.0.0.1;transport=udp', ALL, 'tcp', { transport: 'udp', host: '10.0.0.1', port: 5060 }],
    ['sip:bob@10.0.0.1', ['tcp'], undefined, { transport: 'tcp', host: '10.0.0.1', port: 5060 }],
  ])('%s (listening %j, hint %s)', (uri, listening, hint, hop) => {
    expect(selectNextHop(parseUri(uri), { listening, hint })).toEqual(hop);
  });

  it.each<[string, TransportName[], number]>([
    ['tel:+15551234', ALL, 416],
    ['sip:bob@10.0.0.1;transport=sctp', ALL, 503],
    ['sip:bob@10.0.0.1;transport=tls', ['udp'], 503],
  ])('%s (listening %j) -> SipError %i', (uri, listening, status) => {
    let err: unknown;
    try {
      selectNextHop(parseUri(uri), { listening });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SipError);
    expect((err as SipError).status).toBe(status);
  });
});

describe('targetUri', () => {
  const req = (route?: string) => {
    const h = new Headers();
    if (route) h.set('Route', route);
    return new SipRequest('BYE', 'sip:alice@10.0.0.1', h);
  };
  it.each([
    [undefined, '10.0.0.1'],
    ['<sip:proxy.example;lr>, <sip:p2.example;lr>', 'proxy.example'],
    // A strict router's URI is already in the Request-URI (§12.2.1.1); Route is not the next hop.
    ['<sip:strict.example>', '10.0.0.1'],
  ])('Route %s -> host %s', (route, host) => {
    expect(targetUri(req(route)).host).toBe(host);
  });
});

describe('resolveNextHop', () => {
  it('IP literals need no lookup', async () => {
    const ep = await resolveNextHop({ transport: 'udp', host: '127.0.0.1', port: 5060 }, () => Promise.reject(new Error('no')));
    expect(ep).toEqual({ transport: 'udp', address: '127.0.0.1', port: 5060 });
  });
  it('host names go through lookup', async () => {
    const ep = await resolveNextHop({ transport: 'tcp', host: 'pbx.example', port: 5070 }, async () => ({ address: '10.1.2.3' }));
    expect(ep).toEqual({ transport: 'tcp', address: '10.1.2.3', port: 5070 });
  });
  it('a failed lookup is a 503', async () => {
    await expect(resolveNextHop({ transport: 'udp', host: 'nowhere.invalid', port: 5060 }, () => Promise.reject(new Error('ENOTFOUND')))).rejects.toMatchObject({
      status: 503,
    });
  });
});

describe('resolveInDialog: the dialog\'s flow (RFC 5626 §5.3, RFC 7118 §5)', () => {
  const flow: DialogFlow = { connectionId: 'ws-7', remote: { transport: 'ws', address: '127.0.0.1', port: 40123 } };
  const onFlow = { transport: 'ws', address: '127.0.0.1', port: 40123, connectionId: 'ws-7' };
  const noLookup = (): Promise<{ address: string }> => Promise.reject(new Error('ENOTFOUND'));
  it.each<[string, { transport: TransportName; host: string; port: number }, DialogFlow | undefined, unknown]>([
    ['SIP.js Contact (ws, .invalid host) -> the flow', { transport: 'ws', host: 'df7jal23ls0d.invalid', port: 5060 }, flow, onFlow],
    ['a WS hop with an IP literal -> the flow (we never connect to WS peers)', { transport: 'ws', host: '127.0.0.9', port: 5060 }, flow, onFlow],
    ['a .invalid host on TCP -> the flow, no DNS lookup', { transport: 'tcp', host: 'x.INVALID.', port: 5060 }, flow, onFlow],
    ['an unresolvable name -> the flow', { transport: 'tcp', host: 'pbx.example', port: 5060 }, flow, onFlow],
    ['a reachable IP hop -> the hop itself', { transport: 'tcp', host: '127.0.0.5', port: 5070 }, flow, { transport: 'tcp', address: '127.0.0.5', port: 5070 }],
  ])('%s', async (_name, hop, f, expected) => {
    expect(await resolveInDialog(hop, f, noLookup)).toEqual(expected);
  });

  it('without a flow a .invalid target is still a 503', async () => {
    const err = await resolveInDialog({ transport: 'ws', host: 'abc.invalid', port: 5060 }, undefined, noLookup).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SipError);
    expect((err as SipError).status).toBe(503);
  });

  it.each([
    ['abc.invalid', true],
    ['invalid', true],
    ['x.invalid.', true],
    ['invalid.example', false],
    ['127.0.0.1', false],
  ])('isInvalidHost(%s) = %s', (host, yes) => {
    expect(isInvalidHost(host)).toBe(yes);
  });
});
