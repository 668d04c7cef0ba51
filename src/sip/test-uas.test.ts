// The test UAS (test/support/test-uas.ts) against a SipStack caller and, when SIPp is installed,
// against SIPp's scenarios: the fixture the SIPp integration tests build on must itself work.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { callCounts, runSipp } from '../../test/support/sipp.js';
import { TestUas, TEST_UAS_SDP } from '../../test/support/test-uas.js';
import { loopbackConfig } from './dialog/testkit.js';
import { SipStack } from './stack.js';

const hasSipp = (() => {
  try {
    execFileSync('sipp', ['-v'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // sipp -v exits non-zero but runs; only a missing binary throws ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();

let uas: TestUas | undefined;
let caller: SipStack | undefined;

afterEach(async () => {
  await caller?.close();
  await uas?.close();
  caller = uas = undefined;
});

describe('TestUas', () => {
  it('answers 180 then 200 + SDP, takes the ACK and the BYE', async () => {
    uas = await TestUas.start();
    caller = await SipStack.start(loopbackConfig(['udp']));
    const ic = await caller.invite(`sip:svc@127.0.0.1:${uas.endpoints[0].port}`);
    const seen: number[] = [];
    ic.on('response', (r) => seen.push(r.status));
    const ok = await ic.final;
    expect(seen).toEqual([100, 180, 200]);
    expect(ok.body.toString()).toBe(TEST_UAS_SDP);
    expect((await ic.dialog!.bye()).status).toBe(200);
    expect(uas.counts).toMatchObject({ invites: 1, answered: 1, byes: 1 });
    expect(uas.counts.acks).toBe(1);
    expect(uas.dialogs.size).toBe(0);
  });

  it('can be told to answer with another status', async () => {
    uas = await TestUas.start({ status: 486 });
    caller = await SipStack.start(loopbackConfig(['udp']));
    const ic = await caller.invite(`sip:svc@127.0.0.1:${uas.endpoints[0].port}`);
    expect((await ic.final).status).toBe(486);
    uas.answerWith({ status: 603, ring: false });
    const ic2 = await caller.invite(`sip:svc@127.0.0.1:${uas.endpoints[0].port}`);
    expect((await ic2.final).status).toBe(603);
    expect(uas.counts).toMatchObject({ invites: 2, rejected: 2 });
  });

  it.skipIf(!hasSipp).each(['udp', 'tcp'] as const)('SIPp invite-uac and cancel-uac over %s', async (transport) => {
    uas = await TestUas.start({ listen: [{ transport, address: '127.0.0.1', port: 0 }] });
    const target = { host: '127.0.0.1', port: uas.endpoints[0].port };
    const calls = await runSipp({ scenario: 'invite-uac', target, transport, calls: 5, rate: 50, timeoutSeconds: 15 });
    expect(callCounts(calls)).toEqual({ ok: 5, failed: 0 });
    uas.answerWith({ answerAfterMs: null });
    const cancels = await runSipp({ scenario: 'cancel-uac', target, transport, calls: 3, rate: 50, timeoutSeconds: 15 });
    expect(callCounts(cancels)).toEqual({ ok: 3, failed: 0 });
    expect(uas.counts).toMatchObject({ invites: 8, answered: 5, acks: 5, byes: 5, cancelled: 3 });
    expect(uas.stack.dump()).toMatchObject({ dialogs: 0, dialogIds: 0, serverRequests: 0 });
  });
});
