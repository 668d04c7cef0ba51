// connectSignalling against real sockets on 127.0.0.1: the embedded stack + drachtio server, an
// "external" drachtio server (ours, started separately, as a stand-in for drachtio-server), a
// wrong secret and nobody listening.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { startDrachtioServer } from '../sip/drachtio/index.js';
import { SipStack } from '../sip/index.js';
import { UdpPeer, freePort, isResponseTo, loopbackConfig, optionsRequest, until } from '../../test/support/net.js';
import { allowOf, connectSignalling, type Signalling } from './connect.js';
import { verbs } from './srf-types.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

const config = (drachtio: Partial<Parameters<typeof connectSignalling>[0]['drachtio']> = {}) => ({
  sip: loopbackConfig(['udp']),
  drachtio: { secret: 's3cret', embedded: { address: '127.0.0.1', port: 0 }, ...drachtio },
});

async function options(port: number, method = 'OPTIONS'): Promise<{ status: number; allow: string[] }> {
  const peer = await UdpPeer.open();
  try {
    const text = optionsRequest('UDP', `127.0.0.1:${peer.port}`, `127.0.0.1:${port}`).replace(/OPTIONS/g, method);
    await peer.send(text, port);
    const res = await peer.wait(isResponseTo(method), 3000, `${method} answer`);
    return { status: res.kind === 'response' ? res.status : 0, allow: res.headers.getAll('Allow') };
  } finally {
    peer.close();
  }
}

describe('connectSignalling', () => {
  it('embedded: starts the stack and the drachtio server (ephemeral port) and connects srf to it', async () => {
    const s: Signalling = await connectSignalling(config());
    opened.push(s);
    expect(s.embedded).toBeDefined();
    const { stack, drachtio } = s.embedded!;
    expect(drachtio.address).toBe('127.0.0.1');
    expect(drachtio.port).toBeGreaterThan(0);
    expect(s.hostports).toEqual([`udp/127.0.0.1:${stack.endpoints[0]!.port}`]);
    expect(drachtio.dump().apps).toBe(1);
    // No app routes OPTIONS yet: the stack's default core answers (200), not the server's 503.
    expect((await options(stack.endpoints[0]!.port)).status).toBe(200);
    await s.close();
    await s.close(); // idempotent
    expect(drachtio.dump().apps).toBe(0);
  });

  it('embedded: a routed verb goes to the srf app', async () => {
    const s = await connectSignalling(config());
    opened.push(s);
    verbs(s.srf).options((_req, res) => res.send(200, 'OK', { headers: { Allow: 'OPTIONS, X-TEST' } }));
    await new Promise((r) => setTimeout(r, 50)); // the route command reaches the server
    expect((await options(s.embedded!.stack.endpoints[0]!.port)).allow).toEqual(['OPTIONS', 'X-TEST']);
  });

  it('embedded: unrouted verbs get the default core answers through onUnrouted; Allow lists routed methods', async () => {
    const s = await connectSignalling(config());
    opened.push(s);
    const port = s.embedded!.stack.endpoints[0]!.port;
    // RFC 3261 §8.2.1: a known method nobody offers is 405 with Allow, not the server's 503.
    expect(await options(port, 'MESSAGE')).toEqual({ status: 405, allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'] });
    verbs(s.srf).register((_req, res) => res.send(403, 'Forbidden', {}));
    await until(() => s.embedded!.drachtio.dump().routes === 1, 2000, 'the register route');
    expect(await options(port)).toEqual({ status: 200, allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER'] });
    expect((await options(port, 'MESSAGE')).allow).toContain('REGISTER');
  });

  it('external: connects to a drachtio server it did not start, and leaves it running on close', async () => {
    const stack = await SipStack.start(loopbackConfig(['udp']));
    const server = await startDrachtioServer({ stack, listen: { address: '127.0.0.1', port: 0 }, secret: 'ext' });
    opened.push({ close: () => stack.close() }, { close: () => server.close() });
    const s = await connectSignalling(config({ secret: 'ext', external: { host: '127.0.0.1', port: server.port } }));
    expect(s.embedded).toBeUndefined();
    expect(s.hostports).toEqual([`udp/127.0.0.1:${stack.endpoints[0]!.port}`]);
    expect(server.dump().apps).toBe(1);
    await s.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(server.dump().apps).toBe(0);
    expect(stack.endpoints).toHaveLength(1);
  });

  it('a wrong secret is refused, and what was started is stopped again', async () => {
    const stack = await SipStack.start(loopbackConfig(['udp']));
    const server = await startDrachtioServer({ stack, listen: { address: '127.0.0.1', port: 0 }, secret: 'right' });
    opened.push({ close: () => stack.close() }, { close: () => server.close() });
    await expect(connectSignalling(config({ secret: 'wrong', external: { host: '127.0.0.1', port: server.port } }))).rejects.toThrow(/authenticate/);
  });

  it('nobody listening: rejects within connectTimeoutMs', async () => {
    // A port that was free a moment ago; a listener that accepts and never answers would do too.
    const port = await freePort();
    const t0 = Date.now();
    await expect(connectSignalling(config({ external: { host: '127.0.0.1', port } }), { connectTimeoutMs: 700 })).rejects.toThrow(/within 700 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
    // srf would keep redialling with backoff; after the rejection nothing dials that port again.
    let dialled = 0;
    const late = createServer((sock) => {
      dialled++;
      sock.destroy();
    });
    await new Promise<void>((r) => late.listen(port, '127.0.0.1', r));
    opened.push({ close: () => new Promise<void>((r) => late.close(() => r())) });
    await new Promise((r) => setTimeout(r, 1000));
    expect(dialled).toBe(0);
  });

  it('a silent server (accepts, never answers authenticate): rejects within connectTimeoutMs', async () => {
    const closed: Promise<void>[] = [];
    // resume(): a socket nobody reads never sees the peer's FIN ('end' waits for the data).
    const silent = createServer((s) => {
      s.resume();
      closed.push(new Promise((r) => s.on('close', () => r())));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    opened.push({ close: () => new Promise<void>((r) => silent.close(() => r())) });
    const port = (silent.address() as { port: number }).port;
    await expect(connectSignalling(config({ external: { host: '127.0.0.1', port } }), { connectTimeoutMs: 500 })).rejects.toThrow(/within 500 ms/);
    // The half-open connection is closed by us, and srf does not dial again.
    await Promise.all(closed);
    await new Promise((r) => setTimeout(r, 400));
    expect(closed).toHaveLength(1);
  });
});

describe('allowOf', () => {
  it.each([
    [[], 'INVITE, ACK, CANCEL, BYE, OPTIONS'],
    [['register'], 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER'],
    [['invite', 'cdr:attempt', 'message', 'register'], 'INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, REGISTER'],
  ])('routes %j -> %s', (verbsRouted, allow) => {
    expect(allowOf({ routed: (v) => verbsRouted.includes(v), verbs: () => verbsRouted })).toBe(allow);
  });
});
