// Extension-to-extension calls as `npm start` runs them, between real SIPp endpoints on loopback:
// each callee registers from a SIPp REGISTER run, then a SIPp UAS takes the call on the same
// address and port; the caller is a SIPp UAC that answers the 407 challenge with its extension's
// password. Forking uses two UAS instances on 127.0.0.2 and 127.0.0.3 registered to one AOR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK, freePort, until } from './support/net.js';
import { callCounts, runSipp, type SippResult } from './support/sipp.js';
import { EXTENSIONS, receivedMatching, received, sippRegister, startSwitchboard, waitForBoundOn, type Running } from './support/switchboard.js';

/** Extra extensions so every test calls a number nobody else registered. */
const MORE = Array.from({ length: 8 }, (_v, i) => ({ user: `200${i + 1}`, password: `200${i + 1}pass`, name: `Agent 200${i + 1}` }));

let sb: Running;
beforeAll(async () => {
  sb = await startSwitchboard({ registrar: { extensions: [...EXTENSIONS, ...MORE] } });
});
afterAll(async () => {
  await sb?.cleanup();
});

interface Callee {
  ip: string;
  port: number;
  run: Promise<SippResult>;
}

/** Registers `user` from ip:port (UDP or TCP), then starts a SIPp UAS with `scenario` there. */
async function callee(user: string, scenario: string, o: { ip?: string; transport?: 'udp' | 'tcp' } = {}): Promise<Callee> {
  const ip = o.ip ?? LOOPBACK;
  const transport = o.transport ?? 'udp';
  const port = await freePort();
  const reg = await sippRegister(sb, user, { localIp: ip, localPort: port, transport });
  expect(callCounts(reg), reg.errors).toEqual({ ok: 1, failed: 0 });
  const run = runSipp({ scenario, localIp: ip, localPort: port, transport, timeoutSeconds: 15, traceMessages: true });
  await waitForBoundOn(ip, port, transport);
  return { ip, port, run };
}

function caller(scenario: string, dialled: string, o: { user?: string; password?: string; transport?: 'udp' | 'tcp'; pauseMs?: number } = {}): Promise<SippResult> {
  const user = o.user ?? '1001';
  const transport = o.transport ?? 'udp';
  return runSipp({
    scenario,
    target: { host: LOOPBACK, port: sb.port(transport) },
    transport,
    service: dialled,
    timeoutSeconds: 15,
    traceMessages: true,
    // SIPp signs sip:<host>:<port> unless told the Request-URI (it prepends the "sip:").
    extraArgs: ['-au', user, '-ap', o.password ?? `${user}pass`, '-auth_uri', `${dialled}@${LOOPBACK}:${sb.port(transport)}`, '-d', String(o.pauseMs ?? 300)],
  });
}

function finalStatus(r: SippResult): number | undefined {
  const finals = received(r)
    .map((m) => /^SIP\/2\.0 (\d{3}) .*\r?\n(?:[^\r\n]*\r?\n)*?CSeq: *2 INVITE/m.exec(m)?.[1])
    .filter((s): s is string => s !== undefined && Number(s) >= 200);
  return finals.length > 0 ? Number(finals[finals.length - 1]) : undefined;
}

describe('extension to extension calls', () => {
  it.each(['udp', 'tcp'] as const)('over %s: 407 then the callee rings, answers, SDP passes end to end, BYE reaches it', async (transport) => {
    const dialled = transport === 'udp' ? '2001' : '2002';
    const b = await callee(dialled, 'invite-uas', { transport });
    const a = await caller('ext-call-uac', dialled, { transport });
    const rb = await b.run;
    expect(callCounts(a), `${a.errors}\n${a.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(rb), `${rb.errors}\n${rb.messages}`).toEqual({ ok: 1, failed: 0 });

    // The caller was challenged (407 + Proxy-Authenticate, MD5 first).
    expect(receivedMatching(a, /^SIP\/2\.0 407/)).toMatch(/Proxy-Authenticate: Digest realm="switchboard\.local"[^\r\n]*algorithm=MD5/);
    // The callee saw the authenticated extension as the caller, and the caller's own SDP.
    const invite = receivedMatching(rb, /^INVITE /)!;
    expect(invite).toMatch(new RegExp(`^INVITE sip:${dialled}@127\\.0\\.0\\.1:${b.port};transport=${transport.toUpperCase()} SIP/2\\.0`));
    expect(invite).toMatch(/\r\nFrom: "Agent 1001" <sip:1001@switchboard\.local>;tag=/);
    expect(invite).toContain('o=caller 1 1 IN IP4 127.0.0.1');
    // The caller got the callee's SDP.
    expect(receivedMatching(a, /^SIP\/2\.0 200/)).toContain('o=sipp 1 1 IN IP4 127.0.0.1');
    expect(receivedMatching(rb, /^BYE /)).toBeDefined();
    await until(() => sb.services.extCalls.active === 0, 3000, 'the call to be over');
    expect(await sb.services.metrics.value('switchboard_ext_calls_total', { result: 'answered' })).toBeGreaterThanOrEqual(1);
  });

  it('the callee re-INVITEs (relayed, answered with the caller’s new SDP) and hangs up: the BYE reaches the caller', async () => {
    const b = await callee('2008', 'uas-send-reinvite-bye');
    const a = await caller('ext-call-uac-wait-bye', '2008');
    const rb = await b.run;
    expect(callCounts(a), `${a.errors}\n${a.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(rb), `${rb.errors}\n${rb.messages}`).toEqual({ ok: 1, failed: 0 });
    // The callee's re-INVITE got the caller's answer (o=caller 1 2), not a canned one.
    const reAnswer = received(rb).find((m) => /^SIP\/2\.0 200/.test(m) && /CSeq: *1 INVITE/.test(m));
    expect(reAnswer).toContain('o=caller 1 2 IN IP4 127.0.0.1');
    await until(() => sb.services.extCalls.active === 0, 3000, 'the call to be over');
  });

  it('forks to both contacts of one extension: one answers, the other gets CANCEL', async () => {
    const answering = await callee('2003', 'invite-uas', { ip: '127.0.0.2' });
    const ringing = await callee('2003', 'uas-cancel', { ip: '127.0.0.3' });
    expect(sb.services.registrar.lookup('2003').map((x) => x.sourceAddress).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
    const a = await caller('ext-call-uac', '2003');
    const [r1, r2] = await Promise.all([answering.run, ringing.run]);
    expect(callCounts(a), `${a.errors}\n${a.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(r1), `${r1.errors}\n${r1.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(r2), `${r2.errors}\n${r2.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(receivedMatching(r2, /^CANCEL /)).toBeDefined();
    expect(receivedMatching(r1, /^BYE /)).toBeDefined();
  });

  it('a CANCEL from the caller reaches every ringing contact', async () => {
    const one = await callee('2004', 'uas-cancel', { ip: '127.0.0.2' });
    const two = await callee('2004', 'uas-cancel', { ip: '127.0.0.3' });
    const a = await caller('ext-cancel-uac', '2004', { pauseMs: 500 });
    const [r1, r2] = await Promise.all([one.run, two.run]);
    expect(callCounts(a), `${a.errors}\n${a.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(r1), `${r1.errors}\n${r1.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(r2), `${r2.errors}\n${r2.messages}`).toEqual({ ok: 1, failed: 0 });
    await until(() => sb.services.extCalls.active === 0, 3000, 'the call to be over');
    expect(await sb.services.metrics.value('switchboard_ext_calls_total', { result: 'cancelled' })).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['uas-486', 486],
    ['uas-603', 603],
  ])('the callee’s rejection (%s) is passed back to the caller', async (scenario, status) => {
    const dialled = status === 486 ? '2005' : '2006';
    const b = await callee(dialled, scenario);
    const a = await caller('ext-call-uac-failure', dialled);
    const rb = await b.run;
    expect(callCounts(a), `${a.errors}\n${a.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(callCounts(rb), rb.errors).toEqual({ ok: 1, failed: 0 });
    expect(finalStatus(a)).toBe(status);
  });

  it.each([
    ['an extension that is not registered', '2007', {}, 480],
    ['a number that is no extension', '5555', {}, 404],
    ['a wrong password', '2001', { password: 'wrong' }, 403],
    ['an unknown caller', '2001', { user: '9999', password: 'x' }, 403],
  ] as const)('%s: %i', async (_what, dialled, o, status) => {
    const a = await caller('ext-call-uac-failure', dialled, o);
    expect(callCounts(a), `${a.errors}\n${a.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(finalStatus(a)).toBe(status);
  });
});
