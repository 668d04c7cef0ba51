// A real drachtio-srf application answering calls through the embedded drachtio server, with
// SIPp as the caller: the UAS half of drachtio-wire.md §3 and §5 over real sockets.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { callCounts, runSipp } from './support/sipp.js';
import { SDP, connectApp, startHarness, until, waitEvent, type Harness } from './support/drachtio.js';

type AnyReq = Srf.SrfRequest;
type AnyRes = Srf.SrfResponse;

describe('srf UAS behind the embedded drachtio server', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ t1: 100 });
  });
  afterEach(async () => {
    await h.close();
  });

  const sipp = (scenario: string, extra: Partial<Parameters<typeof runSipp>[0]> = {}) =>
    runSipp({ scenario, target: { host: '127.0.0.1', port: h.sipPort }, timeoutSeconds: 15, ...extra });

  it('answers a SIPp call with 180 then 200 + SDP; the caller hangs up; nothing leaks', async () => {
    const srf = await connectApp(h);
    const destroyed = waitEvent<[string]>((cb) =>
      srf.invite((req: AnyReq, res: AnyRes) => {
        res.send(180);
        srf.createUAS(req, res, { localSdp: SDP }).then(
          (d) => d.on('destroy', () => cb('destroy')),
          () => undefined,
        );
      }),
    );
    const r = await sipp('invite-uac');
    expect(r.errors).toBe('');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await destroyed;
    await until(() => h.stack.dump().dialogs === 0 && h.stack.dump().serverRequests === 0);
    const d = h.server.dump();
    expect(d).toMatchObject({ serverTxns: 0, clientTxns: 0, dialogs: 0, ownedDialogs: 0 });
  });

  it('sees the caller, the transaction id and the dialog id the way drachtio-server sends them', async () => {
    const srf = await connectApp(h);
    const seen: Record<string, string | undefined> = {};
    srf.invite((req: AnyReq, res: AnyRes) => {
      const meta = (req as unknown as { meta: { transactionId: string; dialogId: string } }).meta;
      seen.inviteTxn = meta.transactionId;
      seen.inviteDialog = meta.dialogId;
      seen.source = req.source_address;
      seen.protocol = req.protocol;
      seen.receivedOn = (req as unknown as { receivedOn?: string }).receivedOn;
      res.send(180);
      srf.createUAS(req, res, { localSdp: SDP }).then((d) => {
        d.on('ack', (ack: AnyReq) => {
          const m = (ack as unknown as { meta: { transactionId: string; dialogId: string; protocol: string } }).meta;
          seen.ackTxn = m.transactionId;
          seen.ackDialog = m.dialogId;
          seen.ackProtocol = m.protocol;
        });
        d.on('destroy', (bye: AnyReq) => {
          seen.byeDialog = (bye as unknown as { meta: { dialogId: string } }).meta.dialogId;
        });
      }, () => undefined);
    });
    const r = await sipp('invite-uac');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await until(() => seen.byeDialog !== undefined);
    expect(seen.inviteDialog).toBe('');
    expect(seen.source).toBe('127.0.0.1');
    expect(seen.protocol).toBe('udp');
    expect(seen.receivedOn).toBe(`127.0.0.1:${h.sipPort}`);
    expect(seen.ackTxn).toBe(seen.inviteTxn);
    expect(seen.ackProtocol).toBe('');
    expect(seen.ackDialog).toMatch(/;from-tag=\d+SIPpTag001$/);
    expect(seen.byeDialog).toBe(seen.ackDialog);
  });

  it('rejects a call with the app’s status (486)', async () => {
    const srf = await connectApp(h);
    srf.invite((_req: AnyReq, res: AnyRes) => res.send(486));
    const r = await sipp('invite-uac-expect-486');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await until(() => h.stack.dump().serverRequests === 0);
    expect(h.server.dump().serverTxns).toBe(0);
  });

  it('answers 503 when no application routed the verb', async () => {
    const r = await sipp('invite-uac-expect-503');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
  });

  it('hands CANCEL to the app after answering 200/487 itself', async () => {
    const srf = await connectApp(h);
    const cancelled = waitEvent<[number]>((cb) =>
      srf.invite((req: AnyReq, res: AnyRes) => {
        res.send(180);
        req.on('cancel', () => cb(1));
      }),
    );
    const r = await sipp('cancel-uac');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await cancelled;
    await until(() => h.server.dump().serverTxns === 0 && h.stack.dump().serverRequests === 0);
  });

  it('a BYE from the app ends the call (SIPp waits for it)', async () => {
    const srf = await connectApp(h);
    const sent = waitEvent<[number]>((cb) =>
      srf.invite((req: AnyReq, res: AnyRes) => {
        srf.createUAS(req, res, { localSdp: SDP }).then((d) => {
          d.on('ack', () => {
            setTimeout(() => {
              d.destroy(undefined, (err) => cb(err ? 0 : 1));
            }, 50);
          });
        }, () => undefined);
      }),
    );
    const r = await sipp('invite-uac-wait-bye');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(await sent).toEqual([1]);
    await until(() => h.stack.dump().dialogs === 0 && h.server.dump().ownedDialogs === 0);
  });

  it('INFO and a re-INVITE from the caller reach the dialog; srf answers them', async () => {
    const srf = await connectApp(h);
    const got: string[] = [];
    srf.invite((req: AnyReq, res: AnyRes) => {
      srf.createUAS(req, res, { localSdp: SDP }).then((d) => {
        d.on('info', (_r: AnyReq, rs: AnyRes) => {
          got.push('info');
          rs.send(200);
        });
        d.on('modify', (_r: AnyReq, rs: AnyRes) => {
          got.push('modify');
          rs.send(200, { body: SDP });
        });
      }, () => undefined);
    });
    const r = await sipp('invite-uac-info-reinvite');
    expect(r.errors).toBe('');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(got).toEqual(['info', 'modify']);
  });

  it('REFER in the dialog reaches the app', async () => {
    const srf = await connectApp(h);
    let referTo = '';
    srf.invite((req: AnyReq, res: AnyRes) => {
      srf.createUAS(req, res, { localSdp: SDP }).then((d) => {
        d.on('refer', (r: AnyReq, rs: AnyRes) => {
          referTo = r.get('Refer-To');
          rs.send(202);
        });
      }, () => undefined);
    });
    const r = await sipp('invite-uac-refer');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    expect(referTo).toContain('sip:carol@');
  });
});
