// Several drachtio-srf applications on one embedded server, what happens when one goes away, the
// server's own BYE after an ACK timeout (drachtio-wire.md §7) and CDRs.
import { afterEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { callCounts, runSipp } from './support/sipp.js';
import { SDP, connectApp, disconnect, sleep, startHarness, until, waitEvent, type Harness } from './support/drachtio.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;

describe('applications on the embedded drachtio server', () => {
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const sipp = (harness: Harness, scenario: string, calls = 1) =>
    runSipp({ scenario, target: { host: '127.0.0.1', port: harness.sipPort }, calls, rate: 20, timeoutSeconds: 15 });

  function answering(srf: Srf, count: { n: number }): void {
    srf.invite((req: Req, res: Res) => {
      count.n++;
      srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined);
    });
  }

  it('shares new INVITEs between two apps round robin', async () => {
    h = await startHarness({ t1: 100 });
    const a = { n: 0 };
    const b = { n: 0 };
    answering(await connectApp(h), a);
    answering(await connectApp(h), b);
    const r = await sipp(h, 'invite-uac', 4);
    expect(callCounts(r)).toEqual({ ok: 4, failed: 0 });
    expect([a.n, b.n]).toEqual([2, 2]);
    await until(() => h!.stack.dump().dialogs === 0);
    expect(h.server.dump()).toMatchObject({ apps: 2, serverTxns: 0, clientTxns: 0, dialogs: 0 });
  });

  it('sends BYE itself when the 200 is never ACKed, and tells the app (srf: "ACK timeout")', async () => {
    h = await startHarness({ t1: 15 }); // 64*T1 ≈ 1 s
    const srf = await connectApp(h);
    const reason = waitEvent<[string]>((cb) =>
      srf.invite((req: Req, res: Res) => {
        srf.createUAS(req, res, { localSdp: SDP }).then(
          (d) => (d as unknown as NodeJS.EventEmitter).on('destroy', (_msg: Req, why: string) => cb(why)),
          () => undefined,
        );
      }),
    );
    const r = await sipp(h, 'invite-uac-no-ack');
    expect(r.errors).toBe('');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(await reason).toEqual(['ACK timeout']);
    await until(() => h!.stack.dump().dialogs === 0 && h!.server.dump().ownedDialogs === 0);
  });

  it('answers the caller and forgets everything when the app disconnects mid-call setup', async () => {
    h = await startHarness({ t1: 100 });
    const srf = await connectApp(h);
    const harness = h;
    srf.invite((_req: Req, res: Res) => {
      res.send(180);
      // The app dies before answering.
      setTimeout(() => disconnect(srf), 50);
    });
    const r = await runSipp({ scenario: 'invite-uac-expect-480', target: { host: '127.0.0.1', port: harness.sipPort }, timeoutSeconds: 15 });
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await until(() => harness.server.dump().apps === 0);
    expect(harness.server.dump()).toEqual({ apps: 0, routes: 0, serverTxns: 0, clientTxns: 0, dialogs: 0, ownedDialogs: 0 });
    await until(() => harness.stack.dump().serverRequests === 0 && harness.stack.dump().dialogs === 0);
  });

  it('a second app keeps serving after the first one disconnected', async () => {
    h = await startHarness({ t1: 100 });
    const first = await connectApp(h);
    const b = { n: 0 };
    answering(first, { n: 0 });
    answering(await connectApp(h), b);
    disconnect(first);
    await until(() => h!.server.dump().apps === 1);
    const r = await sipp(h, 'invite-uac', 2);
    expect(callCounts(r)).toEqual({ ok: 2, failed: 0 });
    expect(b.n).toBe(2);
  });

  it('posts cdr:attempt, cdr:start and cdr:stop to an app that asked for them', async () => {
    h = await startHarness({ t1: 100 });
    const srf = await connectApp(h);
    const cdrs: string[] = [];
    srf.on('cdr:attempt', (source: string) => cdrs.push(`attempt:${source}`));
    srf.on('cdr:start', (source: string, _t: string, role: string) => cdrs.push(`start:${source}:${role}`));
    srf.on('cdr:stop', (source: string, _t: string, reason: string) => cdrs.push(`stop:${source}:${reason}`));
    await sleep(50);
    answering(srf, { n: 0 });
    const r = await sipp(h, 'invite-uac');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await until(() => cdrs.length >= 3);
    expect(cdrs).toEqual(['attempt:network', 'start:application:uas', 'stop:network:normal-release']);
  });

  it('serves a call that arrives over TCP (transport field "tcp")', async () => {
    h = await startHarness({ t1: 100, transports: ['tcp'] });
    const srf = await connectApp(h);
    let protocol = '';
    srf.invite((req: Req, res: Res) => {
      protocol = req.protocol;
      res.send(180);
      srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined);
    });
    const r = await runSipp({ scenario: 'invite-uac', transport: 'tcp', target: { host: '127.0.0.1', port: h.sipPort }, timeoutSeconds: 15 });
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(protocol).toBe('tcp');
    await until(() => h!.stack.dump().dialogs === 0);
  });
});
