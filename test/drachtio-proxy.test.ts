// A real drachtio-srf app proxying calls through the embedded drachtio server
// (`srf.proxyRequest(req, destinations, opts)`, RFC 3261 §16): a SIPp caller on 127.0.0.1, SIPp
// callees on 127.0.0.2 / 127.0.0.3, one scenario file per case. The stack must relay without
// creating dialogs and hold nothing once the calls end.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { callCounts, runSipp, type SippResult } from './support/sipp.js';
import { connectApp, sleep, startHarness, until, type Harness } from './support/drachtio.js';
import { receivedMatching } from './support/switchboard.js';

const CALLEE_A = '127.0.0.2';
const CALLEE_B = '127.0.0.3';

interface ProxyResults {
  connected: boolean;
  finalStatus?: number;
  responses: { address: string; port: number; msgs: { status: number }[] }[];
}

describe('srf.proxyRequest through the embedded drachtio server', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ t1: 50 });
  });
  afterEach(async () => {
    await h.close();
  });

  /** Starts a SIPp callee on `ip`; resolves with its URI once it had time to bind. */
  async function callee(scenario: string, ip: string): Promise<{ uri: string; hostport: string; done: Promise<SippResult> }> {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const done = runSipp({ scenario, localIp: ip, localPort: port, timeoutSeconds: 15, traceMessages: true });
    await sleep(300);
    return { uri: `sip:service@${ip}:${port}`, hostport: `${ip}:${port}`, done };
  }

  const caller = (scenario: string) =>
    runSipp({ scenario, target: { host: '127.0.0.1', port: h.sipPort }, timeoutSeconds: 15 });

  /** The app proxies every INVITE; resolves with srf's results (or its error). */
  function proxyApp(srf: Srf, dest: string[], opts: Record<string, unknown>): Promise<ProxyResults> {
    return new Promise((resolve, reject) => {
      srf.invite((req: Srf.SrfRequest) => {
        (srf.proxyRequest(req, dest, opts) as unknown as Promise<ProxyResults>).then(resolve, reject);
      });
    });
  }

  async function expectIdle(): Promise<void> {
    await until(() => {
      const d = h.stack.dump();
      return d.proxies === 0 && d.serverRequests === 0 && d.dialogs === 0 && d.clientRequests === 0;
    }, 5000);
    expect(h.server.dump()).toMatchObject({ serverTxns: 0, clientTxns: 0, dialogs: 0, ownedDialogs: 0 });
  }

  // drachtio-server (sip-proxy-controller.cpp, ClientTransaction::forwardRequest): a destination
  // is the next hop; the Request-URI is replaced by it only when it names the proxy itself.
  it('a destination is where the request goes: a Request-URI for a domain keeps its user and host', async () => {
    const srf = await connectApp(h);
    const a = await callee('proxy-uas', CALLEE_A);
    const result = proxyApp(srf, [a.hostport], { remainInDialog: true });
    const r = await caller('proxy-uac-domain');
    expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    const rb = await a.done;
    expect(receivedMatching(rb, /^INVITE /)?.split('\r\n', 1)[0]).toBe('INVITE sip:service@example.test SIP/2.0');
    expect((await result).finalStatus).toBe(200);
    await expectIdle();
  });

  it('a Request-URI naming the proxy itself is replaced by the destination (as drachtio-server)', async () => {
    const srf = await connectApp(h);
    const a = await callee('proxy-uas', CALLEE_A);
    const result = proxyApp(srf, [a.uri], { remainInDialog: true });
    const r = await caller('proxy-uac');
    expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    const rb = await a.done;
    expect(receivedMatching(rb, /^INVITE /)?.split('\r\n', 1)[0]).toBe(`INVITE ${a.uri} SIP/2.0`);
    expect((await result).finalStatus).toBe(200);
    await expectIdle();
  });

  it('relays a call with Record-Route; ACK and BYE follow the route set through us; no dialog is created', async () => {
    const srf = await connectApp(h);
    const a = await callee('proxy-uas', CALLEE_A);
    const result = proxyApp(srf, [a.uri], { remainInDialog: true });
    const r = await caller('proxy-uac');
    expect(r.errors).toBe('');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    const rb = await a.done;
    expect(rb.errors).toBe('');
    expect(callCounts(rb)).toEqual({ ok: 1, failed: 0 });
    const res = await result;
    expect(res.connected).toBe(true);
    expect(res.finalStatus).toBe(200);
    expect(res.responses.map((x) => x.msgs.map((m) => m.status))).toEqual([[200]]);
    expect(res.responses[0].address).toBe(CALLEE_A);
    expect(h.stack.stats().dialog.unknownDialog).toBe(0);
    expect(h.stack.stats().proxy).toMatchObject({ inDialog: 1, acksForwarded: 1 });
    await expectIdle();
  });

  it('serial: the first callee answers 503, the second one takes the call', async () => {
    const srf = await connectApp(h);
    const a = await callee('proxy-uas-503', CALLEE_A);
    const b = await callee('proxy-uas', CALLEE_B);
    const result = proxyApp(srf, [a.uri, b.uri], { remainInDialog: true });
    const r = await caller('proxy-uac');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(await a.done)).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(await b.done)).toEqual({ ok: 1, failed: 0 });
    const res = await result;
    expect(res.connected).toBe(true);
    expect(res.responses.map((x) => [x.address, x.msgs.map((m) => m.status)])).toEqual([
      [CALLEE_A, [503]],
      [CALLEE_B, [200]],
    ]);
    await expectIdle();
  });

  it('simultaneous: both callees ring, one answers, the other is cancelled', async () => {
    const srf = await connectApp(h);
    const a = await callee('proxy-uas-answer-late', CALLEE_A);
    const b = await callee('proxy-uas-ring-cancel', CALLEE_B);
    const result = proxyApp(srf, [a.uri, b.uri], { remainInDialog: true, forking: 'simultaneous' });
    const r = await caller('proxy-uac-fork');
    expect(r.errors).toBe('');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(await a.done)).toEqual({ ok: 1, failed: 0 });
    const rb = await b.done;
    expect(rb.errors).toBe('');
    expect(callCounts(rb)).toEqual({ ok: 1, failed: 0 });
    const res = await result;
    expect(res.connected).toBe(true);
    expect(res.finalStatus).toBe(200);
    await expectIdle();
  });

  it('a CANCEL from the caller cancels the ringing branch', async () => {
    const srf = await connectApp(h);
    const a = await callee('proxy-uas-ring-cancel', CALLEE_A);
    const result = proxyApp(srf, [a.uri], {});
    const r = await caller('proxy-uac-cancel');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    const ra = await a.done;
    expect(ra.errors).toBe('');
    expect(callCounts(ra)).toEqual({ ok: 1, failed: 0 });
    const res = await result;
    expect(res.connected).toBe(false);
    expect(res.finalStatus).toBe(487);
    await expectIdle();
  });

  it('every callee fails: the caller gets the best final response (486 over 503)', async () => {
    const srf = await connectApp(h);
    const a = await callee('proxy-uas-503', CALLEE_A);
    const b = await callee('proxy-uas-486', CALLEE_B);
    const result = proxyApp(srf, [a.uri, b.uri], {});
    const r = await caller('proxy-uac-expect-486');
    expect(r.errors).toBe('');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(await a.done)).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(await b.done)).toEqual({ ok: 1, failed: 0 });
    const res = await result;
    expect(res.connected).toBe(false);
    expect(res.responses.flatMap((x) => x.msgs.map((m) => m.status))).toEqual([503, 486]);
    await expectIdle();
  });

  it('answers NOK for an unknown transaction', async () => {
    const srf = await connectApp(h);
    const err = new Promise<unknown>((resolve) => {
      srf.invite((req: Srf.SrfRequest, res: Srf.SrfResponse) => {
        res.send(486);
        setTimeout(() => {
          (srf.proxyRequest(req, [`sip:nobody@${CALLEE_A}:9`]) as unknown as Promise<unknown>).then(resolve, resolve);
        }, 20);
      });
    });
    const r = await caller('proxy-uac-expect-486');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(String(await err)).toMatch(/Unknown transaction id/);
  });
});
