// UAC behaviour of the dialog layer through the public stack API, against a raw UDP peer playing
// the UAS (and its forks): early dialogs per To tag, the first 2xx wins, the ACK for 2xx
// (RFC 3261 §13.2.2.4) and its re-sending, route sets, CANCEL, failures and timeouts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { SipStack } from '../stack.js';
import { RawUdpPeer, isRequest, loopbackConfig } from './testkit.js';
import type { Dialog, DialogEndReason, InviteClient } from './types.js';

const T1 = 500;
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

let clock: ManualClock;
let stack: SipStack;
let peer: RawUdpPeer;

beforeEach(async () => {
  clock = new ManualClock();
  stack = await SipStack.start(loopbackConfig(['udp']), { clock });
  peer = await RawUdpPeer.open();
});

afterEach(async () => {
  peer.close();
  await stack.close();
});

function reply(req: SipRequest, status: number, tag: string | undefined, headers: [string, string][] = [], body?: string): SipResponse {
  return createResponse(req, status, undefined, {
    toTag: tag,
    headers,
    body: body === undefined ? undefined : Buffer.from(body),
    contentType: body === undefined ? undefined : 'application/sdp',
  });
}

const contact = (user: string): [string, string] => ['Contact', `<sip:${user}@127.0.0.1:${peer.port}>`];
const ended = (d: Dialog) => new Promise<DialogEndReason>((r) => d.on('terminated', r));

async function startCall(opts = {}): Promise<{ ic: InviteClient; inv: SipRequest }> {
  const ic = await stack.invite(`sip:bob@127.0.0.1:${peer.port}`, { body: SDP, ...opts });
  const inv = await peer.nextRequest('INVITE');
  return { ic, inv };
}

describe('UAC INVITE', () => {
  it('fills in what a UA core must (RFC 3261 §8.1.1)', async () => {
    const { inv } = await startCall();
    const via = inv.topVia();
    expect(via.branch).toMatch(/^z9hG4bK/);
    expect(via.host).toBe('127.0.0.1');
    expect(via.port).toBe(stack.endpoints[0].port);
    expect(via.rport).toBeNull();
    expect(inv.maxForwards()).toBe(70);
    expect(inv.from().params.get('tag')).toBeTruthy();
    expect(inv.to().params.has('tag')).toBe(false);
    expect(inv.callId()).toBeTruthy();
    expect(inv.cseq().method).toBe('INVITE');
    expect(inv.headers.get('Contact')).toBe(`<sip:127.0.0.1:${stack.endpoints[0].port}>`);
    expect(inv.headers.get('Content-Type')).toBe('application/sdp');
    expect(inv.body.toString()).toBe(SDP);
  });

  it('forks: one early dialog per To tag; the first 2xx wins; a later fork is ACKed and BYEd', async () => {
    const { ic, inv } = await startCall();
    const early: Dialog[] = [];
    ic.on('early', (d) => early.push(d));
    await peer.send(reply(inv, 180, 'f1', [contact('f1')]), stack.endpoints[0].port);
    await peer.send(reply(inv, 180, 'f2', [contact('f2')]), stack.endpoints[0].port);
    await peer.send(reply(inv, 180, 'f2', [contact('f2')]), stack.endpoints[0].port);
    await new Promise((r) => setTimeout(r, 30));
    expect(early.map((d) => d.state)).toEqual(['early', 'early']);
    const fromTag = inv.from().params.get('tag');
    // Forks share the drachtio id; the RFC 3261 keys differ.
    expect(early.map((d) => d.id)).toEqual([`${inv.callId()};from-tag=${fromTag}`, `${inv.callId()};from-tag=${fromTag}`]);
    expect(early.map((d) => d.key.remoteTag)).toEqual(['f1', 'f2']);
    const f2Ended = ended(early[1]);

    const rr1 = `<sip:127.0.0.1:${peer.port};lr;r=1>`;
    const rr2 = `<sip:127.0.0.1:${peer.port};lr;r=2>`;
    const ok = reply(inv, 200, 'f1', [['Record-Route', rr1], ['Record-Route', rr2], contact('f1-final')], SDP);
    await peer.send(ok, stack.endpoints[0].port);
    const final = await ic.final;
    expect(final.status).toBe(200);
    const d = ic.dialog!;
    expect(d).toBe(early[0]);
    expect(d.state).toBe('confirmed');
    // RFC 3261 §12.1.2: UAC route set is the Record-Route list reversed.
    expect(d.routeSet).toEqual([rr2, rr1]);
    expect(d.remoteTarget).toBe(`sip:f1-final@127.0.0.1:${peer.port}`);
    expect(await f2Ended).toBe('fork');

    const ack = await peer.nextRequest('ACK');
    expect(ack.uri).toBe(d.remoteTarget);
    expect(ack.headers.getAll('Route')).toEqual([rr2, rr1]);
    expect(ack.cseq()).toEqual({ seq: inv.cseq().seq, method: 'ACK' });
    expect(ack.topVia().branch).not.toBe(inv.topVia().branch);
    expect(ack.to().params.get('tag')).toBe('f1');

    // RFC 3261 §13.2.2.4: every retransmission of the 2xx gets the same ACK.
    await peer.send(ok, stack.endpoints[0].port);
    const again = await peer.nextRequest('ACK');
    expect(again.topVia().branch).toBe(ack.topVia().branch);

    // A second fork answers late: ACK + BYE for it, the call stays up.
    await peer.send(reply(inv, 200, 'f2', [contact('f2')], SDP), stack.endpoints[0].port);
    const ack2 = await peer.nextRequest('ACK');
    const bye2 = await peer.nextRequest('BYE');
    expect(ack2.to().params.get('tag')).toBe('f2');
    expect(bye2.to().params.get('tag')).toBe('f2');
    await peer.send(createResponse(bye2, 200), stack.endpoints[0].port);
    expect(d.state).toBe('confirmed');

    // In-dialog requests: next CSeq, the route set, the remote target.
    const infoSent = d.request('INFO', { body: 'hello', contentType: 'text/plain' });
    const info = await peer.nextRequest('INFO');
    expect(info.cseq().seq).toBe(inv.cseq().seq + 1);
    expect(info.headers.getAll('Route')).toEqual([rr2, rr1]);
    await peer.send(createResponse(info, 200), stack.endpoints[0].port);
    expect((await (await infoSent).final).status).toBe(200);

    const byeDone = d.bye();
    const bye = await peer.nextRequest('BYE');
    expect(bye.cseq().seq).toBe(inv.cseq().seq + 2);
    await peer.send(createResponse(bye, 200), stack.endpoints[0].port);
    expect((await byeDone).status).toBe(200);
    expect(stack.dump()).toMatchObject({ dialogs: 0, dialogIds: 0, clientRequests: 0 });
  });

  it('a 2xx retransmission after the INVITE transaction ended is ACKed again (stray response)', async () => {
    const { ic, inv } = await startCall();
    const ok = reply(inv, 200, 'f1', [contact('f1')], SDP);
    await peer.send(ok, stack.endpoints[0].port);
    await ic.final;
    const ack = await peer.nextRequest('ACK');
    // RFC 6026 Timer M: the client transaction is gone after 64*T1.
    clock.advance(64 * T1);
    expect(stack.dump().clientTransactions).toBe(0);
    await peer.send(ok, stack.endpoints[0].port);
    const again = await peer.nextRequest('ACK');
    expect(again.topVia().branch).toBe(ack.topVia().branch);
    expect(again.cseq()).toEqual(ack.cseq());
  });

  it('a failure final ends the early dialogs (rejected)', async () => {
    const { ic, inv } = await startCall();
    await peer.send(reply(inv, 180, 'f1', [contact('f1')]), stack.endpoints[0].port);
    const early = await new Promise<Dialog>((r) => ic.on('early', r));
    const why = ended(early);
    await peer.send(reply(inv, 486, 'f1'), stack.endpoints[0].port);
    expect((await ic.final).status).toBe(486);
    expect(await why).toBe('rejected');
    expect(ic.dialog).toBeUndefined();
    // The INVITE client transaction ACKs the 486 itself (RFC 3261 §17.1.1.3).
    const ack = await peer.nextRequest('ACK');
    expect(ack.topVia().branch).toBe(inv.topVia().branch);
    expect(stack.dump()).toMatchObject({ dialogs: 0, clientRequests: 0 });
  });

  it('no answer at all: a locally made 408 after Timer B', async () => {
    const { ic } = await startCall();
    const responses: (string | undefined)[] = [];
    ic.on('response', (res, inbound) => responses.push(`${res.status} ${inbound === undefined ? 'local' : 'network'}`));
    clock.advance(64 * T1);
    expect((await ic.final).status).toBe(408);
    expect(responses).toEqual(['408 local']);
  });

  it('autoAck false: the application sends the ACK (with the SDP answer)', async () => {
    const { ic, inv } = await startCall({ autoAck: false });
    await peer.send(reply(inv, 200, 'f1', [contact('f1')], SDP), stack.endpoints[0].port);
    await ic.final;
    expect(await peer.collect(isRequest('ACK'), 30)).toHaveLength(0);
    await ic.dialog!.ack({ body: SDP });
    const ack = await peer.nextRequest('ACK');
    expect(ack.body.toString()).toBe(SDP);
    expect(ack.headers.get('Content-Type')).toBe('application/sdp');
  });

  it('cancel(): CANCEL after the provisional, 487 final, early dialog cancelled', async () => {
    const { ic, inv } = await startCall();
    await peer.send(reply(inv, 180, 'f1', [contact('f1')]), stack.endpoints[0].port);
    const early = await new Promise<Dialog>((r) => ic.on('early', r));
    const why = ended(early);
    ic.cancel();
    const cancel = await peer.nextRequest('CANCEL');
    expect(cancel.topVia().branch).toBe(inv.topVia().branch);
    expect(cancel.cseq()).toEqual({ seq: inv.cseq().seq, method: 'CANCEL' });
    await peer.send(createResponse(cancel, 200), stack.endpoints[0].port);
    await peer.send(reply(inv, 487, 'f1'), stack.endpoints[0].port);
    expect((await ic.final).status).toBe(487);
    expect(await why).toBe('cancelled');
  });

  it('a 481 to an in-dialog request ends the dialog (RFC 3261 §12.2.1.2)', async () => {
    const { ic, inv } = await startCall();
    await peer.send(reply(inv, 200, 'f1', [contact('f1')], SDP), stack.endpoints[0].port);
    await ic.final;
    const d = ic.dialog!;
    const why = ended(d);
    const cr = await d.request('OPTIONS');
    const opt = await peer.nextRequest('OPTIONS');
    await peer.send(createResponse(opt, 481), stack.endpoints[0].port);
    expect((await cr.final).status).toBe(481);
    expect(await why).toBe('remote-gone');
    expect(stack.dump()).toMatchObject({ dialogs: 0 });
  });
});
