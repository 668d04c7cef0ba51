// UDP transport over real loopback sockets: received/rport stamping (RFC 3581), response routing
// by Via (RFC 3261 §18.2.2), keep-alives, size limit (413), garbage handling, IPv6.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResponse, parseMessage, type SipRequest } from '../message/index.js';
import { TransportLayer } from './layer.js';
import type { DroppedInfo, Endpoint, Inbound } from './types.js';
import { next, sipRequest, sleep, UdpPeer, waitFor } from './testkit.js';

describe('UDP transport', () => {
  let layer: TransportLayer;
  let ep: Endpoint;
  let peer: UdpPeer;

  beforeEach(async () => {
    layer = new TransportLayer({ maxUdpBytes: 1500 });
    [ep] = await layer.listen([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
    peer = await UdpPeer.open();
  });
  afterEach(async () => {
    peer.close();
    await layer.close();
  });

  it('binds an ephemeral port and reports it', () => {
    expect(ep.port).toBeGreaterThan(0);
    expect(layer.listening()).toEqual([ep]);
    expect(layer.localEndpoint('udp')).toEqual({ transport: 'udp', address: '127.0.0.1', port: ep.port });
  });

  it('delivers a request with rport filled and received added (RFC 3581 §4)', async () => {
    const got = next<Inbound>(layer, 'message');
    await peer.send(sipRequest({ via: 'SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bKa;rport' }), ep.port);
    const inbound = await got;
    const via = inbound.message.topVia();
    expect(via.received).toBe('127.0.0.1');
    expect(via.rport).toBe(peer.port);
    expect(inbound.source).toEqual({ transport: 'udp', address: '127.0.0.1', port: peer.port });
    expect(inbound.local.port).toBe(ep.port);
    expect(inbound.connectionId).toBeDefined();
    expect(layer.stats.received).toBe(1);
  });

  it.each([
    ['sent-by equals source, no rport: untouched', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb', undefined, undefined],
    ['sent-by differs: received added', 'SIP/2.0/UDP pbx.example.com;branch=z9hG4bKc', '127.0.0.1', undefined],
    ['rport flag with matching host: received still set', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKd;rport', '127.0.0.1', 'port'],
  ])('%s', async (_name, via, received, rport) => {
    const got = next<Inbound>(layer, 'message');
    await peer.send(sipRequest({ via }), ep.port);
    const v = (await got).message.topVia();
    expect(v.received).toBe(received);
    if (rport) expect(v.rport).toBe(peer.port);
    else expect(v.rport ?? undefined).toBeUndefined();
  });

  it('sends a response to received + rport', async () => {
    const got = next<Inbound>(layer, 'message');
    await peer.send(sipRequest({ via: 'SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bKe;rport' }), ep.port);
    const inbound = await got;
    const res = createResponse(inbound.message as SipRequest, 200);
    await layer.sendResponse(res, inbound);
    const back = await peer.recv();
    expect(back?.toString()).toMatch(/^SIP\/2\.0 200 /);
    expect(layer.stats.sent).toBe(1);
  });

  it('without rport sends a response to the sent-by port', async () => {
    const other = await UdpPeer.open();
    try {
      const got = next<Inbound>(layer, 'message');
      await peer.send(sipRequest({ via: `SIP/2.0/UDP 127.0.0.1:${other.port};branch=z9hG4bKf` }), ep.port);
      const inbound = await got;
      await layer.sendResponse(createResponse(inbound.message as SipRequest, 486), inbound);
      expect((await other.recv())?.toString()).toMatch(/^SIP\/2\.0 486 /);
      expect(await peer.recv(200)).toBeUndefined();
    } finally {
      other.close();
    }
  });

  it('honours maddr (port from the Via)', async () => {
    const other = await UdpPeer.open();
    try {
      const got = next<Inbound>(layer, 'message');
      const via = `SIP/2.0/UDP 10.9.9.9:${other.port};branch=z9hG4bKg;maddr=127.0.0.1;rport`;
      await peer.send(sipRequest({ via }), ep.port);
      const inbound = await got;
      await layer.sendResponse(createResponse(inbound.message as SipRequest, 200), inbound);
      expect((await other.recv())?.toString()).toMatch(/^SIP\/2\.0 200 /);
    } finally {
      other.close();
    }
  });

  it('sends a request to a UDP destination, filling a placeholder Via', async () => {
    const req = parseMessage(
      Buffer.from(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKh;rport' })),
    ) as SipRequest;
    await layer.sendRequest(req, { transport: 'udp', address: '127.0.0.1', port: peer.port });
    const got = parseMessage((await peer.recv())!);
    expect(got.topVia().host).toBe('127.0.0.1');
    expect(got.topVia().port).toBe(ep.port);
  });

  it('ignores a CRLFCRLF keep-alive datagram', async () => {
    const dropped: DroppedInfo[] = [];
    layer.on('dropped', (d) => dropped.push(d));
    await peer.send('\r\n\r\n', ep.port);
    await sleep(100);
    expect(layer.stats.keepAlives).toBe(1);
    expect(layer.stats.parseErrors).toBe(0);
    expect(dropped).toEqual([]);
    expect(await peer.recv(100)).toBeUndefined();
  });

  it('answers an oversized request 413 (maxUdpBytes 1500)', async () => {
    const body = 'x'.repeat(2000);
    await peer.send(
      sipRequest({ method: 'MESSAGE', via: 'SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKi;rport', body, extra: ['Content-Type: text/plain'] }),
      ep.port,
    );
    expect((await peer.recv())?.toString()).toMatch(/^SIP\/2\.0 413 /);
    expect(layer.stats.tooLarge).toBe(1);
  });

  it('drops an oversized datagram whose head does not parse', async () => {
    const dropped = next<DroppedInfo>(layer, 'dropped');
    await peer.send(Buffer.alloc(2000, 0x41), ep.port);
    await dropped;
    expect(layer.stats.tooLarge).toBe(1);
    expect(layer.stats.dropped).toBe(1);
  });

  it('answers 400 to garbage with a readable Via', async () => {
    // CSeq method does not match the request method: a parse error with a usable head.
    const text = sipRequest({ via: 'SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKj;rport' }).replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS');
    await peer.send(text, ep.port);
    const back = (await peer.recv())?.toString() ?? '';
    expect(back).toMatch(/^SIP\/2\.0 400 /);
    expect(layer.stats.parseErrors).toBe(1);
  });

  it('drops pure garbage silently and counts it', async () => {
    const dropped = next<DroppedInfo>(layer, 'dropped');
    await peer.send('hello there, not SIP at all', ep.port);
    const d = await dropped;
    expect(d.source.port).toBe(peer.port);
    expect(layer.stats.parseErrors).toBe(1);
    expect(layer.stats.dropped).toBe(1);
    expect(await peer.recv(100)).toBeUndefined();
  });

  it('does not answer a broken ACK', async () => {
    const text = sipRequest({ method: 'ACK', via: 'SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKk;rport' }).replace('CSeq: 1 ACK', 'CSeq: x ACK');
    const dropped = next<DroppedInfo>(layer, 'dropped');
    await peer.send(text, ep.port);
    await dropped;
    expect(await peer.recv(100)).toBeUndefined();
  });

  it('drops and counts a response that fails to parse', async () => {
    const dropped = next<DroppedInfo>(layer, 'dropped');
    await peer.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKl\r\nCSeq: x\r\n\r\n', ep.port);
    await dropped;
    expect(layer.stats.dropped).toBe(1);
  });

  it('survives a throwing message listener', async () => {
    const seen: Inbound[] = [];
    layer.on('message', (m) => seen.push(m));
    layer.on('message', () => {
      throw new Error('boom');
    });
    await peer.send(sipRequest({ via: 'SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKm' }), ep.port);
    await peer.send(sipRequest({ via: 'SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKn' }), ep.port);
    await waitFor(() => seen.length === 2);
  });
});

describe('UDP over IPv6', () => {
  it('receives on ::1 and answers via received + rport', async () => {
    const layer = new TransportLayer();
    const peer = await UdpPeer.open('::1');
    try {
      const [ep] = await layer.listen([{ transport: 'udp', address: '::1', port: 0 }]);
      expect(layer.localEndpoint('udp', 6)).toEqual({ transport: 'udp', address: '::1', port: ep.port });
      const got = next<Inbound>(layer, 'message');
      await peer.send(sipRequest({ via: 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKo;rport' }), ep.port, '::1');
      const inbound = await got;
      expect(inbound.message.topVia().received).toBe('::1');
      expect(inbound.message.topVia().rport).toBe(peer.port);
      await layer.sendResponse(createResponse(inbound.message as SipRequest, 200), inbound);
      expect((await peer.recv())?.toString()).toMatch(/^SIP\/2\.0 200 /);
    } finally {
      peer.close();
      await layer.close();
    }
  });
});
