// A real drachtio-srf application placing calls through the embedded drachtio server towards a
// SIPp callee on 127.0.0.2: the UAC half of drachtio-wire.md §4 (empty transaction and dialog
// ids, ACK and BYE by dialog id, CANCEL by transaction id) over real sockets.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { callCounts, runSipp, type SippResult } from './support/sipp.js';
import { SDP, connectApp, sleep, startHarness, until, waitEvent, type Harness } from './support/drachtio.js';

const CALLEE_IP = '127.0.0.2';

describe('srf UAC behind the embedded drachtio server', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ t1: 100 });
  });
  afterEach(async () => {
    await h.close();
  });

  /** Starts a SIPp callee; resolves with its URI once it had time to bind, and its result. */
  async function callee(scenario: string): Promise<{ uri: string; done: Promise<SippResult> }> {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const done = runSipp({ scenario, localIp: CALLEE_IP, localPort: port, timeoutSeconds: 15 });
    await sleep(300);
    return { uri: `sip:service@${CALLEE_IP}:${port}`, done };
  }

  it('calls SIPp, gets 200 + SDP, ACKs and hangs up; nothing leaks', async () => {
    const srf = await connectApp(h);
    const { uri, done } = await callee('invite-uas');
    const dialog = await srf.createUAC(uri, { localSdp: SDP });
    expect(dialog.remote.sdp).toContain('m=audio');
    expect(dialog.sip.localTag).toBeTruthy();
    expect((dialog as unknown as { id: string }).id).toBe(`${dialog.sip.callId};from-tag=${dialog.sip.localTag}`);
    await sleep(100);
    await new Promise<void>((resolve, reject) => dialog.destroy(undefined, (err) => (err ? reject(err) : resolve())));
    const r = await done;
    expect(r.errors).toBe('');
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await until(() => h.stack.dump().dialogs === 0 && h.stack.dump().clientRequests === 0);
    expect(h.server.dump()).toMatchObject({ serverTxns: 0, clientTxns: 0, dialogs: 0, ownedDialogs: 0 });
  });

  it('re-INVITEs from the app (dialog.modify) and gets the new answer', async () => {
    const srf = await connectApp(h);
    const { uri, done } = await callee('uas-recv-reinvite');
    const dialog = await srf.createUAC(uri, { localSdp: SDP });
    const answer = await dialog.modify(SDP.replace('a=sendrecv', 'a=sendonly'));
    expect(answer).toContain('o=sipp 1 2');
    dialog.destroy();
    const r = await done;
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
  });

  it('takes a re-INVITE and then a BYE from the callee', async () => {
    const srf = await connectApp(h);
    const { uri, done } = await callee('uas-send-reinvite-bye');
    const dialog = await srf.createUAC(uri, { localSdp: SDP });
    const modified = waitEvent<[Srf.SrfRequest, Srf.SrfResponse]>((cb) => dialog.on('modify', cb));
    const destroyed = waitEvent<[Srf.SrfRequest]>((cb) => dialog.on('destroy', cb));
    const [req, res] = await modified;
    expect(req.body).toContain('o=sipp 1 2');
    res.send(200, { body: SDP });
    await destroyed;
    const r = await done;
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await until(() => h.stack.dump().dialogs === 0 && h.server.dump().ownedDialogs === 0);
  });

  it('cancels its INVITE while the callee rings: 487', async () => {
    const srf = await connectApp(h);
    const { uri, done } = await callee('uas-cancel');
    let sent: Srf.SrfRequest | undefined;
    // srf calls cbRequest(err, req), whatever its typings say.
    const cbRequest = ((_err: unknown, r: Srf.SrfRequest) => (sent = r)) as unknown as (r: Srf.SrfRequest) => void;
    const call = srf.createUAC(uri, { localSdp: SDP }, { cbRequest, cbProvisional: () => sent?.cancel(() => undefined) });
    await expect(call).rejects.toMatchObject({ status: 487 });
    const r = await done;
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await until(() => h.stack.dump().clientRequests === 0 && h.server.dump().clientTxns === 0);
  });

  it('reports a busy callee (486); the ACK srf sends for it gets NOK, harmlessly', async () => {
    const srf = await connectApp(h);
    const { uri, done } = await callee('uas-486');
    await expect(srf.createUAC(uri, { localSdp: SDP })).rejects.toMatchObject({ status: 486 });
    const r = await done;
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
  });

  it('an in-dialog request for an unknown dialog is refused (srf sees ENODIALOG)', async () => {
    const srf = await connectApp(h);
    const agent = (srf as unknown as { _app: { client: { request: (o: object, cb: (err: { code?: string } | null) => void) => void } } })._app.client;
    const err = await new Promise<{ code?: string } | null>((resolve) =>
      agent.request({ method: 'INFO', stackDialogId: 'nope;from-tag=x', headers: {} }, resolve),
    );
    expect(err?.code).toBe('ENODIALOG');
  });
});
