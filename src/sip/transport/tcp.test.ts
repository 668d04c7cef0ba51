// TCP transport over real loopback sockets: framing (§18.3), responses on the same connection
// (§18.2.2), connection reuse both ways, idle close, limits, keep-alive ping/pong, IPv6.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResponse, parseMessage, type SipRequest } from '../message/index.js';
import { TransportLayer } from './layer.js';
import type { DroppedInfo, Endpoint, Inbound } from './types.js';
import { countStartLines, next, sipRequest, sipResponse, sleep, StreamPeer, waitFor } from './testkit.js';

const VIA = 'SIP/2.0/TCP client.invalid;branch=z9hG4bK';

describe('TCP transport', () => {
  let layer: TransportLayer;
  let ep: Endpoint;
  const peers: StreamPeer[] = [];
  const connect = async (): Promise<StreamPeer> => {
    const p = await StreamPeer.connect(ep.port);
    peers.push(p);
    return p;
  };

  beforeEach(async () => {
    layer = new TransportLayer({ maxStreamBytes: 4096 });
    [ep] = await layer.listen([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await layer.close();
  });

  it('delivers a request with received stamped and answers on the same connection', async () => {
    const peer = await connect();
    const got = next<Inbound>(layer, 'message');
    peer.write(sipRequest({ via: `${VIA}1;rport` }));
    const inbound = await got;
    expect(inbound.connectionId).toMatch(/^tcp-/);
    expect(inbound.source.transport).toBe('tcp');
    expect(inbound.message.topVia().received).toBe('127.0.0.1');
    expect(inbound.message.topVia().rport).toBe(peer.socket.localPort);
    await layer.sendResponse(createResponse(inbound.message as SipRequest, 200), inbound);
    await peer.until((d) => d.startsWith('SIP/2.0 200 '));
    expect(layer.stats.connectionsOpen).toBe(1);
    expect(layer.stats.connectionsAccepted).toBe(1);
  });

  it('frames two messages in one write', async () => {
    const peer = await connect();
    const msgs: Inbound[] = [];
    layer.on('message', (m) => msgs.push(m));
    peer.write(sipRequest({ via: `${VIA}2a`, callId: 'a' }) + sipRequest({ via: `${VIA}2b`, callId: 'b', method: 'MESSAGE', body: 'hi', extra: ['Content-Type: text/plain'] }));
    await waitFor(() => msgs.length === 2);
    expect(msgs.map((m) => m.message.callId())).toEqual(['a', 'b']);
    expect(msgs[1].message.body.toString()).toBe('hi');
  });

  it('reassembles one message split over several writes', async () => {
    const peer = await connect();
    const text = sipRequest({ method: 'MESSAGE', via: `${VIA}3`, body: 'hello world', extra: ['Content-Type: text/plain'] });
    const got = next<Inbound>(layer, 'message');
    for (const part of [text.slice(0, 10), text.slice(10, 60), text.slice(60, text.length - 3), text.slice(text.length - 3)]) {
      peer.write(part);
      await sleep(20);
    }
    expect((await got).message.body.toString()).toBe('hello world');
  });

  it('answers a response on the connection even when Via says otherwise', async () => {
    const peer = await connect();
    const got = next<Inbound>(layer, 'message');
    peer.write(sipRequest({ via: 'SIP/2.0/TCP 10.1.1.1:9;branch=z9hG4bK4' }));
    const inbound = await got;
    await layer.sendResponse(createResponse(inbound.message as SipRequest, 180), inbound);
    await peer.until((d) => d.startsWith('SIP/2.0 180 '));
  });

  it('reuses an inbound connection for requests to that flow', async () => {
    const peer = await connect();
    const got = next<Inbound>(layer, 'message');
    peer.write(sipRequest({ method: 'REGISTER', via: `${VIA}5` }));
    const inbound = await got;
    const req = parseMessage(Buffer.from(sipRequest({ via: 'SIP/2.0/TCP 0.0.0.0;branch=z9hG4bK5b' }))) as SipRequest;
    await layer.sendRequest(req, inbound.source);
    await peer.until((d) => d.startsWith('OPTIONS '));
    expect(layer.stats.connectionsOpen).toBe(1);
    expect(layer.stats.connectionsOpened).toBe(0);
    // The placeholder sent-by was replaced by our listening endpoint.
    expect(peer.data).toContain(`SIP/2.0/TCP 127.0.0.1:${ep.port};branch=z9hG4bK5b`);
  });

  it('opens one outbound connection for two requests to the same peer and reads responses on it', async () => {
    const accepted: Socket[] = [];
    const server: Server = createServer((s) => {
      accepted.push(s);
      s.on('data', (d) => {
        for (const line of d.toString().split('\r\n')) {
          const m = /^Via: (.*)$/.exec(line);
          if (m) s.write(sipResponse(m[1]));
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const responses: Inbound[] = [];
      layer.on('message', (m) => responses.push(m));
      const dest: Endpoint = { transport: 'tcp', address: '127.0.0.1', port };
      const mk = (b: string): SipRequest => parseMessage(Buffer.from(sipRequest({ via: `SIP/2.0/TCP 127.0.0.1:${ep.port};branch=z9hG4bK${b}` }))) as SipRequest;
      await Promise.all([layer.sendRequest(mk('6a'), dest), layer.sendRequest(mk('6b'), dest)]);
      await waitFor(() => responses.length === 2);
      expect(accepted.length).toBe(1);
      expect(responses.every((r) => r.message.kind === 'response')).toBe(true);
      expect(new Set(responses.map((r) => r.connectionId)).size).toBe(1);
      expect(layer.stats.connectionsOpened).toBe(1);
    } finally {
      for (const s of accepted) s.destroy();
      server.close();
    }
  });

  it('rejects when the peer refuses the connection', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const req = parseMessage(Buffer.from(sipRequest({ via: 'SIP/2.0/TCP 0.0.0.0;branch=z9hG4bK7' }))) as SipRequest;
    await expect(layer.sendRequest(req, { transport: 'tcp', address: '127.0.0.1', port })).rejects.toThrow();
  });

  it('answers CRLFCRLF ping with a CRLF pong (RFC 5626 §4.4.1)', async () => {
    const peer = await connect();
    peer.write('\r\n\r\n');
    await peer.until((d) => d === '\r\n');
    expect(layer.stats.keepAlives).toBe(1);
  });

  it('answers 413 to an oversized message and closes', async () => {
    const peer = await connect();
    peer.write(sipRequest({ method: 'MESSAGE', via: `${VIA}8`, body: 'x'.repeat(5000), extra: ['Content-Type: text/plain'] }));
    await peer.until((d, ended) => d.startsWith('SIP/2.0 413 ') && ended);
    expect(layer.stats.tooLarge).toBe(1);
    await waitFor(() => layer.stats.connectionsOpen === 0);
  });

  it('answers 400 to a request without Content-Length and closes', async () => {
    const peer = await connect();
    peer.write(sipRequest({ via: `${VIA}9`, contentLength: false }));
    await peer.until((d, ended) => d.startsWith('SIP/2.0 400 ') && ended);
  });

  it('answers 400 to a malformed request with a readable Via and keeps the connection', async () => {
    const peer = await connect();
    peer.write(sipRequest({ via: `${VIA}10` }).replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS'));
    await peer.until((d) => d.startsWith('SIP/2.0 400 '));
    const got = next<Inbound>(layer, 'message');
    peer.write(sipRequest({ via: `${VIA}10b` }));
    await got;
    expect(layer.stats.parseErrors).toBe(1);
  });

  it('drops pure garbage and closes', async () => {
    const peer = await connect();
    const dropped = next<DroppedInfo>(layer, 'dropped');
    peer.write('\x16\x03\x01 definitely not SIP\r\n\r\n');
    await dropped;
    await peer.until((_d, ended) => ended);
    expect(layer.stats.dropped).toBe(1);
    expect(countStartLines(peer.data)).toBe(0);
  });

  it('falls back to another flow when the original connection is gone (reliable §18.2.2)', async () => {
    const peer = await connect();
    const got = next<Inbound>(layer, 'message');
    peer.write(sipRequest({ via: `${VIA}11` }));
    const inbound = await got;
    const res = createResponse(inbound.message as SipRequest, 200);
    await layer.sendResponse(res, { connectionId: 'tcp-does-not-exist', source: inbound.source });
    await peer.until((d) => d.startsWith('SIP/2.0 200 '));
  });

  it('opens a new connection to received + sent-by port when the request connection is gone (§18.2.2)', async () => {
    const accepted: Socket[] = [];
    let data = '';
    const server = createServer((s) => {
      accepted.push(s);
      s.on('data', (d) => (data += d.toString()));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const peer = await connect();
      const got = next<Inbound>(layer, 'message');
      peer.write(sipRequest({ via: `SIP/2.0/TCP client.invalid:${port};branch=z9hG4bK13` }));
      const inbound = await got;
      peer.close();
      await waitFor(() => layer.stats.connectionsOpen === 0);
      await layer.sendResponse(createResponse(inbound.message as SipRequest, 200), inbound);
      await waitFor(() => data.startsWith('SIP/2.0 200 '));
      expect(accepted.length).toBe(1);
    } finally {
      for (const s of accepted) s.destroy();
      server.close();
    }
  });

  it('drops a request without Via silently', async () => {
    const peer = await connect();
    const dropped = next<DroppedInfo>(layer, 'dropped');
    peer.write(sipRequest({ via: 'x' }).replace('Via: x\r\n', ''));
    await dropped;
    await sleep(50);
    expect(peer.data).toBe('');
  });
});

describe('TCP idle timeout', () => {
  it('keeps a connection that sends keep-alives', async () => {
    const layer = new TransportLayer({ idleTimeoutMs: 200 });
    try {
      const [ep] = await layer.listen([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
      const peer = await StreamPeer.connect(ep.port);
      for (let i = 0; i < 5; i++) {
        await sleep(100);
        peer.write('\r\n\r\n');
      }
      expect(peer.ended).toBe(false);
      expect(layer.stats.connectionsIdleClosed).toBe(0);
      peer.close();
    } finally {
      await layer.close();
    }
  });

  it('closes a connection with no traffic', async () => {
    const layer = new TransportLayer({ idleTimeoutMs: 150 });
    try {
      const [ep] = await layer.listen([{ transport: 'tcp', address: '127.0.0.1', port: 0 }]);
      const peer = await StreamPeer.connect(ep.port);
      await waitFor(() => layer.stats.connectionsOpen === 1);
      await peer.until((_d, ended) => ended, 2000);
      await waitFor(() => layer.stats.connectionsOpen === 0);
      expect(layer.stats.connectionsIdleClosed).toBe(1);
    } finally {
      await layer.close();
    }
  });
});

describe('TCP over IPv6', () => {
  it('receives on ::1 and answers on the connection', async () => {
    const layer = new TransportLayer();
    try {
      const [ep] = await layer.listen([{ transport: 'tcp', address: '::1', port: 0 }]);
      const peer = await StreamPeer.connect(ep.port, '::1');
      const got = next<Inbound>(layer, 'message');
      peer.write(sipRequest({ via: 'SIP/2.0/TCP [2001:db8::2];branch=z9hG4bK12;rport' }));
      const inbound = await got;
      expect(inbound.source.address).toBe('::1');
      expect(inbound.message.topVia().received).toBe('::1');
      await layer.sendResponse(createResponse(inbound.message as SipRequest, 200), inbound);
      await peer.until((d) => d.startsWith('SIP/2.0 200 '));
      peer.close();
    } finally {
      await layer.close();
    }
  });
});
