// SIP over WebSocket (RFC 7118) with the `ws` client: subprotocol enforcement, one SIP message per
// WS message, responses and later requests over the inbound flow, no outbound WS connects.
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NotFoundError } from '../../lib/errors.js';
import { createResponse, parseMessage, type SipRequest } from '../message/index.js';
import { TransportLayer } from './layer.js';
import type { Endpoint, Inbound } from './types.js';
import { next, selfSignedCert, sipRequest, waitFor } from './testkit.js';

const VIA = 'SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKw';

async function open(url: string, protocols: string[] = ['sip'], ca?: Buffer): Promise<{ ws: WebSocket; inbox: string[] }> {
  const ws = new WebSocket(url, protocols, { ca });
  const inbox: string[] = [];
  ws.on('message', (d) => inbox.push(d.toString()));
  await once(ws, 'open');
  return { ws, inbox };
}

describe('WebSocket transport', () => {
  let layer: TransportLayer;
  let ep: Endpoint;
  beforeEach(async () => {
    layer = new TransportLayer({ maxStreamBytes: 4096 });
    [ep] = await layer.listen([{ transport: 'ws', address: '127.0.0.1', port: 0, path: '/sip' }]);
  });
  afterEach(() => layer.close());

  it("accepts 'sip', delivers a request with received, answers on the same flow", async () => {
    const { ws, inbox } = await open(`ws://127.0.0.1:${ep.port}/sip`);
    expect(ws.protocol).toBe('sip');
    const got = next<Inbound>(layer, 'message');
    ws.send(sipRequest({ method: 'REGISTER', via: `${VIA}1` }));
    const inbound = await got;
    expect(inbound.source.transport).toBe('ws');
    expect(inbound.connectionId).toMatch(/^ws-/);
    expect(inbound.message.topVia().received).toBe('127.0.0.1');
    await layer.sendResponse(createResponse(inbound.message as SipRequest, 200), inbound);
    await waitFor(() => inbox.length === 1);
    expect(inbox[0]).toMatch(/^SIP\/2\.0 200 /);

    // A later request to the registered flow goes over the same WebSocket.
    const req = parseMessage(Buffer.from(sipRequest({ via: 'SIP/2.0/WS 0.0.0.0;branch=z9hG4bKw1b' }))) as SipRequest;
    await layer.sendRequest(req, inbound.source);
    await waitFor(() => inbox.length === 2);
    expect(inbox[1]).toMatch(/^OPTIONS /);
    ws.close();
  });

  it("refuses an upgrade without the 'sip' subprotocol", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ep.port}/sip`, ['chat']);
    const [err] = (await once(ws, 'error')) as [Error];
    expect(err.message).toMatch(/400/);
    expect(layer.stats.wsRejected).toBe(1);
    expect(layer.stats.connectionsOpen).toBe(0);
  });

  it('refuses an upgrade on another path', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ep.port}/other`, ['sip']);
    const [err] = (await once(ws, 'error')) as [Error];
    expect(err.message).toMatch(/404/);
  });

  it('fails clearly when sending to a WS peer with no open connection', async () => {
    const req = parseMessage(Buffer.from(sipRequest({ via: `${VIA}2` }))) as SipRequest;
    await expect(layer.sendRequest(req, { transport: 'ws', address: '127.0.0.1', port: 40000 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('answers a CRLFCRLF keep-alive with CRLF', async () => {
    const { ws, inbox } = await open(`ws://127.0.0.1:${ep.port}/sip`);
    ws.send('\r\n\r\n');
    await waitFor(() => inbox.length === 1);
    expect(inbox[0]).toBe('\r\n');
    ws.close();
  });

  it('answers 400 to a malformed request, drops garbage', async () => {
    const { ws, inbox } = await open(`ws://127.0.0.1:${ep.port}/sip`);
    ws.send(sipRequest({ via: `${VIA}3` }).replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS'));
    await waitFor(() => inbox.length === 1);
    expect(inbox[0]).toMatch(/^SIP\/2\.0 400 /);
    const dropped = next(layer, 'dropped');
    ws.send('garbage');
    await dropped;
    ws.close();
  });

  it('closes the flow on a message over the size limit', async () => {
    const { ws } = await open(`ws://127.0.0.1:${ep.port}/sip`);
    const closed = once(ws, 'close');
    ws.send(sipRequest({ method: 'MESSAGE', via: `${VIA}4`, body: 'x'.repeat(5000) }));
    const [code] = (await closed) as [number];
    expect(code).toBe(1009);
    await waitFor(() => layer.stats.tooLarge === 1 && layer.stats.connectionsOpen === 0);
  });
});

describe('Secure WebSocket transport', () => {
  it('accepts wss with the sip subprotocol', async () => {
    const pem = selfSignedCert();
    const layer = new TransportLayer();
    try {
      const [ep] = await layer.listen([{ transport: 'wss', address: '127.0.0.1', port: 0, tls: { cert: pem.cert, key: pem.key } }]);
      const { ws, inbox } = await open(`wss://127.0.0.1:${ep.port}/`, ['sip'], readFileSync(pem.cert));
      const got = next<Inbound>(layer, 'message');
      ws.send(sipRequest({ via: 'SIP/2.0/WSS x.invalid;branch=z9hG4bKw5' }));
      const inbound = await got;
      expect(inbound.source.transport).toBe('wss');
      await layer.sendResponse(createResponse(inbound.message as SipRequest, 200), inbound);
      await waitFor(() => inbox.length === 1);
      ws.close();
    } finally {
      await layer.close();
      rmSync(pem.dir, { recursive: true, force: true });
    }
  });
});
