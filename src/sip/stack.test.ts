// Two SipStacks calling each other over real UDP and TCP sockets on 127.0.0.1: the whole stack
// (transport, transactions, dialogs) through its public API only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loopbackConfig } from './dialog/testkit.js';
import type { Dialog, DialogEndReason, IncomingRequest, InviteClient } from './dialog/types.js';
import { SipStack } from './stack.js';
import type { TransportName } from './message/index.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

const waitFor = <T>(register: (resolve: (v: T) => void) => void): Promise<T> => new Promise<T>(register);
const settle = () => new Promise((r) => setTimeout(r, 30));

describe.each<TransportName>(['udp', 'tcp'])('two stacks over %s', (transport) => {
  let a: SipStack; // caller
  let b: SipStack; // callee
  let uri: string;
  const param = transport === 'udp' ? '' : `;transport=${transport}`;

  beforeEach(async () => {
    a = await SipStack.start(loopbackConfig([transport], { t1: 100, t2: 400, t4: 500 }));
    b = await SipStack.start(loopbackConfig([transport], { t1: 100, t2: 400, t4: 500 }));
    uri = `sip:service@127.0.0.1:${b.endpoints[0].port}${param}`;
  });

  afterEach(async () => {
    await a.close();
    await b.close();
  });

  /** B rings then answers every INVITE; resolves with B's side of the call. */
  function answerOnB(): Promise<{ req: IncomingRequest; dialog: Dialog }> {
    return waitFor((resolve) => {
      b.once('request', (req) => {
        req.respond(180);
        setTimeout(() => {
          req.respond(200, { body: SDP });
          resolve({ req, dialog: req.dialog! });
        }, 10);
      });
    });
  }

  async function call(): Promise<{ ic: InviteClient; ua: Dialog; ub: Dialog }> {
    const answered = answerOnB();
    const ic = await a.invite(uri, { body: SDP });
    const { dialog: ub } = await answered;
    const acked = waitFor((r) => ub.once('ack', r));
    const final = await ic.final;
    expect(final.status).toBe(200);
    await acked;
    return { ic, ua: ic.dialog!, ub };
  }

  it('INVITE / 180 / 200 / ACK / BYE, and nothing left behind', async () => {
    const answered = answerOnB();
    const ic = await a.invite(uri, { body: SDP });
    const statuses: number[] = [];
    ic.on('response', (res) => statuses.push(res.status));
    const early = waitFor<Dialog>((r) => ic.on('early', r));
    const { dialog: ub, req } = await answered;
    expect(req.message.body.toString()).toBe(SDP);
    const acked = waitFor<string>((r) => ub.on('ack', (_ack, info) => r(info.inviteId)));
    const final = await ic.final;
    expect(final.status).toBe(200);
    expect(final.body.toString()).toBe(SDP);
    expect(statuses).toContain(180);
    expect(await early).toBe(ic.dialog);
    expect(await acked).toBe(req.id);
    const ua = ic.dialog!;
    expect(ua.state).toBe('confirmed');
    expect(ub.state).toBe('confirmed');
    // Both sides name the dialog by the caller's From tag (drachtio-wire.md §4–5).
    expect(ua.id).toBe(ub.id);
    expect(a.dialog(ua.id)).toBe(ua);
    expect(b.dialog(ub.id)).toBe(ub);
    expect(ua.key).toEqual({ callId: ub.callId, localTag: ub.key.remoteTag, remoteTag: ub.key.localTag });

    const bEnded = waitFor<DialogEndReason>((r) => ub.on('terminated', r));
    const byeSeen = waitFor<IncomingRequest>((r) => ub.on('bye', r));
    const byeRes = await ua.bye();
    expect(byeRes.status).toBe(200);
    expect((await byeSeen).method).toBe('BYE');
    expect(await bEnded).toBe('bye-received');
    await settle();
    for (const s of [a, b]) expect(s.dump()).toMatchObject({ dialogs: 0, dialogIds: 0, serverRequests: 0, clientRequests: 0 });
  });

  it('CANCEL before the answer: 487 for the caller, cancel event for the callee', async () => {
    const ringing = waitFor<IncomingRequest>((resolve) =>
      b.once('request', (req) => {
        req.respond(180);
        resolve(req);
      }),
    );
    const ic = await a.invite(uri, { body: SDP });
    const req = await ringing;
    const cancelled = waitFor((r) => req.on('cancel', r));
    await waitFor((r) => ic.on('early', r));
    ic.cancel();
    expect((await ic.final).status).toBe(487);
    await cancelled;
    expect(req.finalStatus).toBe(487);
    await settle();
    for (const s of [a, b]) expect(s.dump()).toMatchObject({ dialogs: 0, serverRequests: 0, clientRequests: 0 });
  });

  it('re-INVITE updates the remote target on both sides', async () => {
    const { ua, ub } = await call();
    const before = ub.remoteTarget;
    const moved = `sip:moved@127.0.0.1:${a.endpoints[0].port}${param}`;
    ub.on('request', (r) => r.respond(200, { body: SDP }));
    const refreshed = waitFor<string>((r) => ub.on('target-refresh', r));
    const reAcked = waitFor((r) => ub.once('ack', r));
    const re = await ua.request('INVITE', { body: SDP, headers: [['Contact', `<${moved}>`]] });
    expect(re.message.headers.getAll('Contact')).toEqual([`<${moved}>`]);
    expect((await re.final).status).toBe(200);
    await reAcked;
    expect(await refreshed).toBe(moved);
    expect(before).not.toBe(moved);
    expect(ub.remoteTarget).toBe(moved);

    // The callee's re-INVITE changes the caller's view of the callee the same way.
    const movedB = `sip:movedb@127.0.0.1:${b.endpoints[0].port}${param}`;
    ua.on('request', (r) => r.respond(200, { body: SDP }));
    const re2 = await ub.request('INVITE', { body: SDP, headers: [['Contact', `<${movedB}>`]] });
    expect((await re2.final).status).toBe(200);
    expect(ua.remoteTarget).toBe(movedB);

    // BYE from the callee reaches the caller at its new target.
    const aBye = waitFor<IncomingRequest>((r) => ua.on('bye', r));
    expect((await ub.bye()).status).toBe(200);
    expect((await aBye).message.uri).toBe(moved);
  });

  it('an in-dialog request with a lower CSeq gets 500; one naming no dialog gets 481', async () => {
    const { ua, ub } = await call();
    const seen: number[] = [];
    ub.on('request', (r) => {
      seen.push(r.message.cseq().seq);
      r.respond(200);
    });
    const ok = await ua.request('INFO');
    expect((await ok.final).status).toBe(200);

    const stale = a.createRequest('INFO', ua.remoteTarget, {
      from: ua.local,
      to: ua.remote,
      callId: ua.callId,
      headers: [['CSeq', `${ua.localSeq - 5} INFO`]],
    });
    expect((await (await a.sendRequest(stale)).final).status).toBe(500);

    const unknown = a.createRequest('INFO', ua.remoteTarget, {
      from: ua.local,
      to: `${ua.remote.replace(/;tag=[^;>]*/, '')};tag=nosuchtag`,
      callId: ua.callId,
    });
    expect((await (await a.sendRequest(unknown)).final).status).toBe(481);
    expect(seen).toEqual([ua.localSeq]);
    expect(ub.state).toBe('confirmed');
  });

  it('close() is idempotent and ends live dialogs', async () => {
    const { ua } = await call();
    const why = waitFor<DialogEndReason>((r) => ua.on('terminated', r));
    await Promise.all([a.close(), a.close()]);
    expect(await why).toBe('closed');
    await expect(a.invite(uri)).rejects.toThrow();
  });
});
