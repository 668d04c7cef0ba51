// TLS transport with a self-signed certificate made by openssl for the test: inbound requests and
// responses on the same connection, outbound connects verified against the configured CA.
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.js';
import { createResponse, parseMessage, type SipRequest } from '../message/index.js';
import { TransportLayer } from './layer.js';
import type { Inbound } from './types.js';
import { next, selfSignedCert, sipRequest, sipResponse, StreamPeer, waitFor } from './testkit.js';

describe('TLS transport', () => {
  let pem: { dir: string; cert: string; key: string };
  beforeAll(() => {
    pem = selfSignedCert();
  });
  afterAll(() => rmSync(pem.dir, { recursive: true, force: true }));

  it('receives a request over TLS and answers on the same connection', async () => {
    const layer = new TransportLayer();
    try {
      const [ep] = await layer.listen([{ transport: 'tls', address: '127.0.0.1', port: 0, tls: { cert: pem.cert, key: pem.key } }]);
      const sock = connect({ host: '127.0.0.1', port: ep.port, ca: readFileSync(pem.cert) });
      await once(sock, 'secureConnect');
      const peer = new StreamPeer(sock);
      const got = next<Inbound>(layer, 'message');
      peer.write(sipRequest({ via: 'SIP/2.0/TLS client.invalid;branch=z9hG4bKt1;rport' }));
      const inbound = await got;
      expect(inbound.source.transport).toBe('tls');
      expect(inbound.message.topVia().received).toBe('127.0.0.1');
      await layer.sendResponse(createResponse(inbound.message as SipRequest, 200), inbound);
      await peer.until((d) => d.startsWith('SIP/2.0 200 '));
      const before = peer.data.length;
      peer.write('\r\n\r\n');
      await peer.until((d) => d.length === before + 2 && d.endsWith('\r\n'));
      peer.close();
    } finally {
      await layer.close();
    }
  });

  it('opens an outbound TLS connection verified against the configured CA', async () => {
    const accepted: TLSSocket[] = [];
    const server = createServer({ cert: readFileSync(pem.cert), key: readFileSync(pem.key) }, (s) => {
      accepted.push(s);
      s.on('data', (d) => {
        const m = /\r\nVia: ([^\r]*)/.exec(d.toString());
        if (m) s.write(sipResponse(m[1]));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const layer = new TransportLayer();
    try {
      const [ep] = await layer.listen([
        { transport: 'tls', address: '127.0.0.1', port: 0, tls: { cert: pem.cert, key: pem.key, ca: pem.cert } },
      ]);
      const got = next<Inbound>(layer, 'message');
      const req = parseMessage(Buffer.from(sipRequest({ via: `SIP/2.0/TLS 127.0.0.1:${ep.port};branch=z9hG4bKt2` }))) as SipRequest;
      await layer.sendRequest(req, { transport: 'tls', address: '127.0.0.1', port });
      const res = await got;
      expect(res.message.kind).toBe('response');
      await layer.sendRequest(req, { transport: 'tls', address: '127.0.0.1', port });
      await waitFor(() => layer.stats.received === 2);
      expect(accepted.length).toBe(1);
    } finally {
      await layer.close();
      for (const s of accepted) s.destroy();
      server.close();
    }
  });

  it('refuses an untrusted server certificate', async () => {
    const server = createServer({ cert: readFileSync(pem.cert), key: readFileSync(pem.key) }, (s) => s.destroy());
    server.on('tlsClientError', () => undefined);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const layer = new TransportLayer();
    try {
      const req = parseMessage(Buffer.from(sipRequest({ via: 'SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKt3' }))) as SipRequest;
      await expect(layer.sendRequest(req, { transport: 'tls', address: '127.0.0.1', port })).rejects.toThrow();
      expect(layer.stats.connectionsOpen).toBe(0);
    } finally {
      await layer.close();
      server.close();
    }
  });

  it('reports missing certificate files as a ConfigError', async () => {
    const layer = new TransportLayer();
    try {
      await expect(
        layer.listen([{ transport: 'tls', address: '127.0.0.1', port: 0, tls: { cert: '/nonexistent.pem', key: '/nonexistent.key' } }]),
      ).rejects.toBeInstanceOf(ConfigError);
    } finally {
      await layer.close();
    }
  });
});
