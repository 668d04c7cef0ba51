// The embedded drachtio server at the byte level, with a raw TCP client: authenticate, route,
// ping, a hostile client, and the exact frames a network INVITE and an app answer produce
// (drachtio-wire.md §2, §3).
import { createConnection, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame, splitPayload } from '../src/sip/drachtio/framing.js';
import type { RouteInfo, UnroutedHandler } from '../src/sip/drachtio/index.js';
import type { IncomingRequest } from '../src/sip/index.js';
import { SECRET, startHarness, until, type Harness } from './support/drachtio.js';
import { UdpPeer, isResponseTo, optionsRequest } from './support/net.js';
import { callCounts, runSipp } from './support/sipp.js';

/** A hand-driven drachtio client: sends frames, collects decoded payloads. */
class RawClient {
  readonly frames: string[] = [];
  closed = false;
  readonly #sock: Socket;
  readonly #dec = new FrameDecoder();

  constructor(port: number) {
    this.#sock = createConnection({ host: '127.0.0.1', port });
    this.#sock.on('data', (c) => this.#dec.push(c, (p) => this.frames.push(p.toString('utf8'))));
    this.#sock.on('close', () => (this.closed = true));
    this.#sock.on('error', () => undefined);
  }

  send(payload: string): void {
    this.#sock.write(encodeFrame(payload));
  }

  raw(bytes: string): void {
    this.#sock.write(bytes);
  }

  async reply(id: string): Promise<string[]> {
    await until(() => this.frames.some((f) => f.split('|')[2] === id && f.split('|')[1] === 'response'));
    const f = this.frames.find((x) => x.split('|')[2] === id)!;
    return f.split('\r\n')[0].split('|');
  }

  end(): void {
    this.#sock.destroy();
  }
}

describe('drachtio wire protocol, raw', () => {
  let h: Harness;
  let c: RawClient;

  beforeEach(async () => {
    h = await startHarness({ t1: 100 });
    c = new RawClient(h.server.port);
  });
  afterEach(async () => {
    c.end();
    await h.close();
  });

  it('authenticates: OK | hostports | version | local hostports', async () => {
    c.send('a1|authenticate|' + SECRET + '|');
    const r = await c.reply('a1');
    expect(r.slice(3, 4)).toEqual(['OK']);
    expect(r[4]).toBe(`udp/127.0.0.1:${h.sipPort}`);
    expect(r[5]).toMatch(/^v\d+\.\d+\.\d+/);
    expect(r[6]).toBe(r[4]);
  });

  it('refuses a wrong secret with NO|incorrect secret and drops the client', async () => {
    c.send('a1|authenticate|nope|');
    expect((await c.reply('a1')).slice(3)).toEqual(['NO', 'incorrect secret']);
    await until(() => c.closed);
  });

  it('drops a client that sends anything before authenticating', async () => {
    c.send('r1|route|invite');
    await until(() => c.closed);
    expect(h.server.dump().apps).toBe(0);
  });

  it('answers ping with pong and acknowledges route / remove_route', async () => {
    c.send('a1|authenticate|' + SECRET + '|');
    await c.reply('a1');
    c.send('p1|ping');
    expect((await c.reply('p1')).slice(3)).toEqual(['OK', 'pong']);
    c.send('r1|route|invite');
    expect((await c.reply('r1')).slice(3)).toEqual(['OK']);
    expect(h.server.dump().routes).toBe(1);
    c.send('r2|remove_route|invite');
    expect((await c.reply('r2')).slice(3)).toEqual(['OK']);
    expect(h.server.dump().routes).toBe(0);
  });

  it('drops a client that sends garbage instead of a length', async () => {
    c.send('a1|authenticate|' + SECRET + '|');
    await c.reply('a1');
    c.raw('GET / HTTP/1.1\r\n\r\n');
    await until(() => c.closed);
    expect(h.server.dump().apps).toBe(0);
  });

  it('drops a client that announces an oversize frame', async () => {
    c.send('a1|authenticate|' + SECRET + '|');
    await c.reply('a1');
    c.raw('99999999#');
    await until(() => c.closed);
  });

  it('hands a network INVITE over with the §3 fields and echoes the response it built', async () => {
    c.send('a1|authenticate|' + SECRET + '|');
    await c.reply('a1');
    c.send('r1|route|invite');
    await c.reply('r1');
    const call = runSipp({ scenario: 'invite-uac-expect-486', target: { host: '127.0.0.1', port: h.sipPort }, timeoutSeconds: 10 });
    await until(() => c.frames.some((f) => f.split('|')[1] === 'sip'));
    const frame = c.frames.find((f) => f.split('|')[1] === 'sip')!;
    const { tokens, sip } = splitPayload(Buffer.from(frame));
    expect(tokens[2]).toBe('network');
    expect(Number(tokens[3])).toBe(sip.length);
    expect(tokens.slice(4, 6)).toEqual(['udp', '127.0.0.1']);
    expect(tokens[7]).toMatch(/^\d\d:\d\d:\d\d\.\d{6}$/);
    const txn = tokens[8];
    expect(tokens.slice(9)).toEqual(['', '127.0.0.1', String(h.sipPort), '']);
    const text = sip.toString();
    expect(text.startsWith('INVITE sip:service@')).toBe(true);
    const hdr = (n: string) => new RegExp(`^${n}:\\s*(.*)$`, 'im').exec(text)![1];
    // The app's answer: status line, Call-ID, CSeq, From, To only (§3).
    const answer = [`SIP/2.0 486 Busy Here`, `Call-ID: ${hdr('Call-ID')}`, `cseq: ${hdr('CSeq')}`, `from: ${hdr('From')}`, `to: ${hdr('To')}`, 'Content-Length: 0', '', ''].join('\r\n');
    c.send(`s1|sip|${txn}|\r\n${answer}`);
    const reply = await c.reply('s1');
    expect(reply.slice(3, 5)).toEqual(['OK', 'application']);
    expect(reply[10]).toBe(txn);
    const fromTag = /tag=([^;\s]+)/.exec(hdr('From'))![1];
    expect(reply[11]).toBe(`${hdr('Call-ID')};from-tag=${fromTag}`);
    expect(reply.slice(12)).toEqual(['', 'Msg sent:', '']);
    const sent = c.frames.find((f) => f.split('|')[2] === 's1')!.split('\r\n').slice(1).join('\r\n');
    expect(sent).toMatch(/^SIP\/2\.0 486 Busy Here\r\n/);
    expect(sent).toMatch(/\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:/);
    expect(sent).toMatch(/\r\nTo: [^\r]*;tag=/);
    expect(callCounts(await call)).toEqual({ ok: 1, failed: 0 });
    // The same transaction again: it is gone.
    c.send(`s2|sip|${txn}|\r\n${answer}`);
    expect((await c.reply('s2'))[3]).toBe('NOK');
  });
});

describe('requests no app routed: the onUnrouted hook', () => {
  let h: Harness | undefined;
  let c: RawClient | undefined;
  afterEach(async () => {
    c?.end();
    await h?.close();
    h = c = undefined;
  });

  /** Sends `method` (an OPTIONS turned into it) over UDP; the final status and Allow. */
  async function ask(method: string): Promise<{ status: number; allow: string | undefined }> {
    const peer = await UdpPeer.open();
    try {
      const text = optionsRequest('UDP', `127.0.0.1:${peer.port}`, `127.0.0.1:${h!.sipPort}`, method.toLowerCase()).replace(/OPTIONS/g, method);
      await peer.send(text, h!.sipPort);
      const res = await peer.wait(isResponseTo(method), 3000, `${method} answer`);
      return { status: res.kind === 'response' ? res.status : 0, allow: res.headers.getAll('Allow').join(', ') || undefined };
    } finally {
      peer.close();
    }
  }

  async function withApp(onUnrouted?: UnroutedHandler): Promise<void> {
    h = await startHarness(onUnrouted ? { onUnrouted } : {});
    c = new RawClient(h.server.port);
    c.send('a1|authenticate|' + SECRET + '|');
    await c.reply('a1');
    c.send('r1|route|register');
    await c.reply('r1');
  }

  it('by default answers 503, as drachtio-server does', async () => {
    await withApp();
    expect((await ask('MESSAGE')).status).toBe(503);
  });

  it('hands the request and the live routes to the handler, which answers', async () => {
    const seen: [string, boolean, boolean, string[]][] = [];
    await withApp((req: IncomingRequest, routes: RouteInfo) => {
      seen.push([req.method, routes.routed('register'), routes.routed('MESSAGE'), routes.verbs()]);
      req.respond(405, { headers: [['Allow', 'INVITE, REGISTER']] });
    });
    expect(await ask('MESSAGE')).toEqual({ status: 405, allow: 'INVITE, REGISTER' });
    expect(seen).toEqual([['MESSAGE', true, false, ['register']]]);
  });

  it('a handler that leaves the request unanswered gets 503 sent for it; one that throws, 500', async () => {
    await withApp((req) => {
      if (req.method === 'MESSAGE') throw new Error('boom');
    });
    expect((await ask('PUBLISH')).status).toBe(503);
    expect((await ask('MESSAGE')).status).toBe(500);
  });
});

