// OPTIONS ping from SIPp (a real peer) over UDP and TCP: the default core answers 200 with Allow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipStack, attachDefaultCore } from '../src/sip/index.js';
import { callCounts, runSipp } from './support/sipp.js';
import { endpointOf, isIdle, loopbackConfig, until } from './support/net.js';

let stack: SipStack;

beforeAll(async () => {
  stack = await SipStack.start(loopbackConfig(['udp', 'tcp']));
  attachDefaultCore(stack);
});

afterAll(async () => {
  await stack?.close();
});

describe('OPTIONS from SIPp', () => {
  it.each(['udp', 'tcp'] as const)('over %s: 200 with an Allow listing INVITE', async (transport) => {
    const before = stack.stats().transaction.serverStarted;
    const r = await runSipp({ scenario: 'options-uac', target: endpointOf(stack, transport), transport, calls: 1, timeoutSeconds: 10 });
    expect(r.code, r.errors || r.stderr).toBe(0);
    expect(callCounts(r)).toEqual({ ok: 1, failed: 0 });
    // The request really went through our transaction layer (not answered by something else).
    expect(stack.stats().transaction.serverStarted).toBe(before + 1);
    await until(() => isIdle(stack), 3000, () => JSON.stringify(stack.dump()));
  });
});
