// Calls through real sockets with SIPp as the peer: SIPp calls our test UAS (answer, CANCEL,
// packet loss over UDP) and our stack calls a SIPp UAS. Each test asserts SIPp's verdict, what
// the UAS saw (ACK, BYE, CANCEL) and that the stack keeps nothing once the calls are over.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipStack } from '../src/sip/index.js';
import { UasApp } from './support/uas-app.js';
import { callCounts, runSipp, type SippResult } from './support/sipp.js';
import { LOOPBACK, endpointOf, freePort, isIdle, loopbackConfig, until, waitForBound } from './support/net.js';

const transports = ['udp', 'tcp'] as const;

let stack: SipStack;
let uas: UasApp;

/** SIPp's complaint plus what our side saw of the calls it names, for a failing assertion. */
function sippFailure(r: SippResult): string {
  const ids = new Set([...r.errors.matchAll(/Call-Id '([^']+)'/g)].map((m) => m[1]));
  const ours = uas === undefined ? [] : uas.summary().filter((c) => ids.has(c.callId));
  return `sipp exit ${r.code}\n${r.errors.slice(0, 3000)}\n${r.stderr.slice(-2000)}\nour side: ${JSON.stringify(ours)} ${JSON.stringify(stack.stats().dialog)}`;
}

/** Every dialog, request and transaction of the calls has gone (Timers J / L are 64*T1 = 1.28 s). */
async function expectIdle(timeoutMs = 4000): Promise<void> {
  await until(() => isIdle(stack), timeoutMs, () => `stack not idle: ${JSON.stringify(stack.dump())}`);
  expect(stack.dialogs()).toEqual([]);
}

describe('SIPp calls our UAS', () => {
  beforeEach(async () => {
    stack = await SipStack.start(loopbackConfig(['udp', 'tcp']));
    uas = new UasApp(stack);
  });

  afterEach(async () => {
    uas?.detach();
    await stack?.close();
  });

  it.each(transports)('over %s: INVITE, 100, 180, 200 + SDP, ACK, BYE, 200', async (transport) => {
    const r = await runSipp({ scenario: 'invite-uac', target: endpointOf(stack, transport), transport, calls: 1, timeoutSeconds: 15 });
    expect(r.code, sippFailure(r)).toBe(0);
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await uas.until((c) => c.length === 1 && c[0]!.ended !== undefined);
    expect(uas.summary()).toMatchObject([
      { transport, ringing: true, answered: true, cancelled: false, acked: true, byeReceived: true, ended: 'bye-received' },
    ]);
    expect(uas.calls[0]!.dialog?.state).toBe('terminated');
    await expectIdle();
  });

  it.each(transports)('over %s: CANCEL while ringing gets 200, the INVITE 487, the caller ACKs', async (transport) => {
    const r = await runSipp({
      scenario: 'cancel-uac',
      target: endpointOf(stack, transport),
      transport,
      service: 'noanswer',
      calls: 1,
      timeoutSeconds: 15,
    });
    expect(r.code, sippFailure(r)).toBe(0);
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await uas.until((c) => c.length === 1 && c[0]!.cancelled);
    expect(uas.summary()).toMatchObject([
      { user: 'noanswer', ringing: true, answered: false, cancelled: true, acked: false, byeReceived: false, ended: 'cancelled' },
    ]);
    // The ACK for the 487 is absorbed by the INVITE server transaction (§17.2.1): the stack
    // then drains completely, which it would not if the ACK were missing (Timer H) or leaked.
    await expectIdle();
    expect(stack.stats().dialog.acksDropped).toBe(0);
  });
});

describe('SIPp calls our UAS over lossy UDP', () => {
  // T1 = 50 ms: Timer J (64*T1 = 3.2 s) outlasts five of SIPp's BYE retransmissions (100, 200,
  // 400, 800, 1600 ms). With T1 = 20 ms it ended after two, and a BYE whose first two copies
  // (or their 200s) were lost then got a correct, but scenario-breaking, 481.
  beforeEach(async () => {
    stack = await SipStack.start(loopbackConfig(['udp'], { t1: 50, t2: 800, t4: 1000 }));
    uas = new UasApp(stack);
  });

  afterEach(async () => {
    uas?.detach();
    await stack?.close();
  });

  it('over udp with 10 % packet loss: 20 calls all succeed (retransmissions absorb the loss)', async () => {
    const calls = 20;
    const r = await runSipp({
      scenario: 'invite-uac',
      target: endpointOf(stack, 'udp'),
      transport: 'udp',
      calls,
      rate: 10,
      lost: 10,
      timeoutSeconds: 25,
    });
    expect(r.code, sippFailure(r)).toBe(0);
    expect(callCounts(r)).toEqual({ ok: calls, failed: 0 });
    // SIPp counts a call as successful once its scenario ran to the end; the UAS must agree:
    // one INVITE each (retransmissions absorbed, never a second call), each ended by the BYE.
    await uas.until((c) => c.length === calls && c.every((x) => x.ended !== undefined), 5000);
    expect(new Set(uas.calls.map((c) => c.callId)).size).toBe(calls);
    expect(uas.summary().filter((c) => !(c.answered && c.byeReceived && c.ended === 'bye-received'))).toEqual([]);
    // Loss really happened and was repaired: SIPp retransmitted (its INVITE / BYE or their
    // answers were lost) and/or our transactions absorbed retransmissions.
    const sippRetransmissions = Number(r.stats['Retransmissions(C)'] ?? 0);
    expect(sippRetransmissions + stack.stats().transaction.absorbed).toBeGreaterThan(0);
    await expectIdle(6000);
  }, 40_000);
});

describe('our stack calls a SIPp UAS', () => {
  beforeEach(async () => {
    stack = await SipStack.start(loopbackConfig(['udp', 'tcp']));
  });

  afterEach(async () => {
    await stack?.close();
  });

  it.each(transports)('over %s: we send INVITE, get 180 and 200, send ACK and BYE', async (transport) => {
    const port = await freePort();
    const sipp = runSipp({ scenario: 'invite-uas', transport, localPort: port, calls: 1, timeoutSeconds: 15 });
    await waitForBound(port, transport);

    const uri = `sip:sipp@${LOOPBACK}:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    const statuses: number[] = [];
    const inv = await stack.invite(uri, { body: 'v=0\r\no=sb 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n' });
    inv.on('response', (res) => statuses.push(res.status));
    const final = await inv.final;
    expect(final.status).toBe(200);
    expect(statuses).toContain(180);
    const dialog = inv.dialog;
    expect(dialog?.state).toBe('confirmed');
    expect(dialog?.role).toBe('uac');
    expect(dialog?.transport).toBe(transport);

    const byeRes = await dialog!.bye();
    expect(byeRes.status).toBe(200);
    expect(dialog!.state).toBe('terminated');

    const r = await sipp;
    expect(r.code, sippFailure(r)).toBe(0);
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    await expectIdle();
  });
});
