// UAS behaviour of the dialog layer, driven through the public stack API by a raw UDP peer, with
// protocol time on a ManualClock: §13.3.1.4 2xx retransmission and ACK timeout -> BYE, BYE
// handling, CANCEL, 481 for unknown dialogs and 500 for out-of-order CSeq.
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { InvalidStateError } from '../../lib/errors.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { SipStack } from '../stack.js';
import { RawUdpPeer, isRequest, isResponse, loopbackConfig, sipText } from './testkit.js';
import type { Dialog, DialogEndReason, IncomingRequest } from './types.js';

const T1 = 500;
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

let clock: ManualClock;
let stack: SipStack;
let peer: RawUdpPeer;
let port: number;
let seq = 0;

beforeEach(async () => {
  clock = new ManualClock();
  stack = await SipStack.start(loopbackConfig(['udp']), { clock });
  peer = await RawUdpPeer.open();
  port = stack.endpoints[0].port;
});

afterEach(async () => {
  peer.close();
  await stack.close();
});

/** A call from the raw peer: its identifiers and the request texts it sends. */
function call() {
  const id = `c${++seq}-${Date.now()}`;
  const from = `<sip:peer@127.0.0.1:${peer.port}>;tag=peer-${id}`;
  const to = `<sip:svc@127.0.0.1:${port}>`;
  const via = (branch: string) => `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-${branch}-${id};rport`;
  const common = (toTag?: string) => [`From: ${from}`, `To: ${to}${toTag ? `;tag=${toTag}` : ''}`, `Call-ID: ${id}@test`, 'Max-Forwards: 70'];
  return {
    id,
    invite: () =>
      sipText(
        [`INVITE sip:svc@127.0.0.1:${port} SIP/2.0`, via('inv'), ...common(), 'CSeq: 1 INVITE', `Contact: <sip:peer@127.0.0.1:${peer.port}>`, 'Content-Type: application/sdp'],
        SDP,
      ),
    cancel: () => sipText([`CANCEL sip:svc@127.0.0.1:${port} SIP/2.0`, via('inv'), ...common(), 'CSeq: 1 CANCEL']),
    ack: (toTag: string, branch = 'ack', cseq = 1) => sipText([`ACK sip:svc@127.0.0.1:${port} SIP/2.0`, via(branch), ...common(toTag), `CSeq: ${cseq} ACK`]),
    inDialog: (method: string, toTag: string, cseq: number, branch: string) =>
      sipText([`${method} sip:svc@127.0.0.1:${port} SIP/2.0`, via(branch), ...common(toTag), `CSeq: ${cseq} ${method}`]),
  };
}

/** Answers the next INVITE with `status` and hands back the request and its dialog. */
function answerNextInvite(status: number): Promise<{ req: IncomingRequest; dialog: Dialog | undefined }> {
  return new Promise((resolve) => {
    stack.once('request', (req) => {
      req.respond(status, status < 300 ? { body: SDP } : {});
      resolve({ req, dialog: req.dialog });
    });
  });
}

async function established(): Promise<{ c: ReturnType<typeof call>; ok: SipResponse; dialog: Dialog }> {
  const c = call();
  const answered = answerNextInvite(200);
  await peer.send(c.invite(), port);
  const { dialog } = await answered;
  await peer.nextResponse(100, 'INVITE');
  const ok = await peer.nextResponse(200, 'INVITE');
  return { c, ok, dialog: dialog! };
}

const toTagOf = (m: SipResponse) => m.to().params.get('tag') as string;

describe('UAS 2xx retransmission (RFC 3261 §13.3.1.4)', () => {
  it('retransmits at T1, 2T1, 4T1 up to T2 and stops when the ACK arrives', async () => {
    const { c, ok, dialog } = await established();
    expect(ok.headers.get('Content-Type')).toBe('application/sdp');
    expect(ok.headers.get('Contact')).toBe(`<sip:127.0.0.1:${port}>`);
    expect(dialog.state).toBe('confirmed');
    const gaps = [T1, 2 * T1, 4 * T1, 8 * T1, 8 * T1];
    for (const gap of gaps) {
      clock.advance(gap - 1);
      expect(await peer.collect(isResponse(200), 20)).toHaveLength(0);
      clock.advance(1);
      await peer.nextResponse(200, 'INVITE');
    }
    const acked = once(dialog as never, 'ack');
    await peer.send(c.ack(toTagOf(ok)), port);
    await acked;
    clock.advance(64 * T1);
    expect(await peer.collect(() => true, 30)).toHaveLength(0);
    expect(dialog.state).toBe('confirmed');
  });

  it('without an ACK gives up after 64*T1: ack-timeout, then BYE to the remote target', async () => {
    const { ok, dialog } = await established();
    let ackTimeout = 0;
    dialog.on('ack-timeout', () => ackTimeout++);
    const ended = new Promise<DialogEndReason>((r) => dialog.on('terminated', r));
    let retransmissions = 0;
    for (let t = 0; t < 64 * T1 - 500; t += 500) {
      clock.advance(500);
      retransmissions += (await peer.collect(isResponse(200), 10)).length;
    }
    expect(ackTimeout).toBe(0);
    clock.advance(500);
    const bye = await peer.nextRequest('BYE');
    retransmissions += (await peer.collect(isResponse(200), 10)).length;
    // 500, 1500, 3500, 7500, then every 4000 ms up to 31500.
    expect(retransmissions).toBe(10);
    expect(ackTimeout).toBe(1);
    expect(await ended).toBe('ack-timeout');
    expect(bye.uri).toBe(`sip:peer@127.0.0.1:${peer.port}`);
    expect(bye.from().params.get('tag')).toBe(toTagOf(ok));
    expect(bye.to().params.get('tag')).toMatch(/^peer-/);
    expect(bye.callId()).toBe(ok.callId());
    await peer.send(createResponse(bye, 200), port);
    expect(stack.dump()).toMatchObject({ dialogs: 0, dialogIds: 0, serverRequests: 0 });
  });

  it("an 'ack-timeout' listener may send the BYE itself (e.g. with a Reason); only one goes out", async () => {
    const { dialog } = await established();
    dialog.on('ack-timeout', () => {
      void dialog.request('BYE', { headers: [['Reason', 'SIP;cause=408;text="ACK timeout"']] });
    });
    clock.advance(64 * T1);
    const bye = await peer.nextRequest('BYE');
    expect(bye.headers.get('Reason')).toContain('ACK timeout');
    expect(await peer.collect(isRequest('BYE'), 30)).toHaveLength(0);
    expect(dialog.state).toBe('terminated');
  });

  it('a re-INVITE that overtakes the ACK: both 2xx wait for their own ACK', async () => {
    const { c, ok, dialog } = await established();
    const reinvites: string[] = [];
    dialog.on('request', (r) => {
      reinvites.push(r.id);
      r.respond(200, { body: SDP });
    });
    const acks: [number, string][] = [];
    dialog.on('ack', (ack, info) => acks.push([ack.cseq().seq, info.inviteId]));
    await peer.send(c.inDialog('INVITE', toTagOf(ok), 2, 'reinv'), port);
    await peer.next((m) => m.kind === 'response' && m.status === 200 && m.cseq().seq === 2);
    await peer.send(c.ack(toTagOf(ok), 'ack2', 2), port);
    await peer.send(c.ack(toTagOf(ok), 'ack1', 1), port);
    await peer.collect(() => true, 30);
    expect(acks.map(([seq]) => seq)).toEqual([2, 1]);
    expect(acks[0][1]).toBe(reinvites[0]);
    clock.advance(64 * T1);
    expect(await peer.collect((m) => m.kind === 'request' || m.status === 200, 30)).toHaveLength(0);
    expect(dialog.state).toBe('confirmed');
  });

  it('bye() before the ACK waits for it (RFC 3261 §15)', async () => {
    const { c, ok, dialog } = await established();
    const byeDone = dialog.bye();
    expect(await peer.collect(isRequest('BYE'), 30)).toHaveLength(0);
    await peer.send(c.ack(toTagOf(ok)), port);
    const bye = await peer.nextRequest('BYE');
    await peer.send(createResponse(bye, 200), port);
    expect((await byeDone).status).toBe(200);
    expect(dialog.state).toBe('terminated');
  });

  it('a BYE before the ACK ends the dialog and the retransmissions', async () => {
    const { c, ok, dialog } = await established();
    const reasons: DialogEndReason[] = [];
    dialog.on('terminated', (r) => reasons.push(r));
    await peer.send(c.inDialog('BYE', toTagOf(ok), 2, 'bye'), port);
    await peer.nextResponse(200, 'BYE');
    clock.advance(64 * T1);
    expect(await peer.collect(() => true, 30)).toHaveLength(0);
    expect(reasons).toEqual(['bye-received']);
    expect(stack.dump()).toMatchObject({ dialogs: 0, dialogIds: 0, serverRequests: 0 });
  });
});

describe('UAS requests and dialogs', () => {
  it('a rejected INVITE creates no dialog and leaves nothing behind', async () => {
    const c = call();
    const answered = answerNextInvite(486);
    await peer.send(c.invite(), port);
    const { dialog } = await answered;
    const busy = await peer.nextResponse(486, 'INVITE');
    expect(dialog).toBeUndefined();
    await peer.send(c.ack(toTagOf(busy), 'inv'), port);
    expect(stack.dump()).toMatchObject({ dialogs: 0, serverRequests: 0 });
  });

  it('180 creates an early dialog with the To tag every later response reuses', async () => {
    const c = call();
    const got = new Promise<IncomingRequest>((r) => stack.once('request', r));
    const created: Dialog[] = [];
    stack.on('dialog', (d) => created.push(d));
    await peer.send(c.invite(), port);
    const req = await got;
    req.respond(180);
    const ringing = await peer.nextResponse(180);
    expect(req.dialog?.state).toBe('early');
    expect(req.dialog?.id).toBe(`${c.id}@test;from-tag=peer-${c.id}`);
    expect(stack.dialog(req.dialog!.id)).toBe(req.dialog);
    req.respond(200, { body: SDP });
    const ok = await peer.nextResponse(200, 'INVITE');
    expect(toTagOf(ok)).toBe(toTagOf(ringing));
    expect(created).toHaveLength(1);
    expect(created[0].state).toBe('confirmed');
    expect(() => req.respond(500)).toThrow(InvalidStateError);
  });

  it('CANCEL before the answer: 200 to the CANCEL, 487 to the INVITE, early dialog gone', async () => {
    const c = call();
    const got = new Promise<IncomingRequest>((r) => stack.once('request', r));
    await peer.send(c.invite(), port);
    const req = await got;
    req.respond(180);
    await peer.nextResponse(180);
    const early = req.dialog!;
    const ended = new Promise<DialogEndReason>((r) => early.on('terminated', r));
    const cancelled = new Promise<SipRequest>((r) => req.on('cancel', r));
    await peer.send(c.cancel(), port);
    await peer.nextResponse(200, 'CANCEL');
    const terminated = await peer.nextResponse(487, 'INVITE');
    expect((await cancelled).method).toBe('CANCEL');
    expect(await ended).toBe('cancelled');
    expect(req.cancelled).toBe(true);
    expect(() => req.respond(200)).toThrow(InvalidStateError);
    await peer.send(c.ack(toTagOf(terminated), 'inv'), port);
    expect(stack.dump()).toMatchObject({ dialogs: 0, dialogIds: 0, serverRequests: 0 });
  });

  it('a BYE on an early dialog ends it; the pending INVITE gets 487 (RFC 3261 §15.1.2)', async () => {
    const c = call();
    const got = new Promise<IncomingRequest>((r) => stack.once('request', r));
    await peer.send(c.invite(), port);
    const req = await got;
    req.respond(180);
    const ringing = await peer.nextResponse(180);
    await peer.send(c.inDialog('BYE', toTagOf(ringing), 2, 'bye'), port);
    await peer.nextResponse(200, 'BYE');
    await peer.nextResponse(487, 'INVITE');
    expect(req.finalStatus).toBe(487);
    expect(stack.dump()).toMatchObject({ dialogs: 0, dialogIds: 0, serverRequests: 0 });
  });

  it('an in-dialog request nobody listens for is still answered', async () => {
    const { c, ok } = await established();
    await peer.send(c.ack(toTagOf(ok)), port);
    await peer.send(c.inDialog('INFO', toTagOf(ok), 2, 'info'), port);
    await peer.nextResponse(501, 'INFO');
    await peer.send(c.inDialog('OPTIONS', toTagOf(ok), 3, 'opt'), port);
    await peer.nextResponse(200, 'OPTIONS');
  });

  it('requests naming no dialog get 481; ACKs naming none are dropped', async () => {
    const c = call();
    await peer.send(c.inDialog('INFO', 'nope', 5, 'info'), port);
    const res = await peer.nextResponse(481, 'INFO');
    expect(res.headers.get('Server')).toBe('Switchboard-test');
    await peer.send(c.ack('nope'), port);
    expect(await peer.collect(() => true, 30)).toHaveLength(0);
    expect(stack.stats().dialog).toMatchObject({ unknownDialog: 1, acksDropped: 1 });
  });

  it('an in-dialog request with a lower CSeq gets 500 from the dialog layer itself', async () => {
    const { c, ok, dialog } = await established();
    await peer.send(c.ack(toTagOf(ok)), port);
    const seen: string[] = [];
    dialog.on('request', (r) => {
      seen.push(`${r.method} ${r.message.cseq().seq}`);
      r.respond(200);
    });
    await peer.send(c.inDialog('INFO', toTagOf(ok), 5, 'i5'), port);
    await peer.nextResponse(200, 'INFO');
    await peer.send(c.inDialog('INFO', toTagOf(ok), 3, 'i3'), port);
    const res = await peer.nextResponse(500, 'INFO');
    expect(res.cseq().seq).toBe(3);
    expect(seen).toEqual(['INFO 5']);
    expect(dialog.remoteSeq).toBe(5);
  });

  it('a listener that throws without answering: the stack answers 500', async () => {
    stack.on('request', () => {
      throw new Error('application bug');
    });
    const c = call();
    await peer.send(c.invite(), port);
    await peer.nextResponse(500, 'INVITE');
    expect(stack.dump()).toMatchObject({ serverRequests: 0, dialogs: 0 });
  });

  it('a listener that throws does not break the stack', async () => {
    stack.on('request', () => {
      throw new Error('application bug');
    });
    const c = call();
    const answered = answerNextInvite(486);
    await peer.send(c.invite(), port);
    await answered;
    await peer.nextResponse(486, 'INVITE');
  });
});
