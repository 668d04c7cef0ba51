// The registrar as `npm start` runs it (startCallServices: embedded SIP stack + drachtio server +
// the srf registrar app), driven by SIPp over real loopback sockets, UDP and TCP. What SIPp saw is
// read back from its message trace; bindings from Registrar.lookup and the SQLite store; counters
// from the prom-client registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK, UdpPeer, freePort, isResponseTo, optionsRequest, sleep, until } from './support/net.js';
import { callCounts, runSipp } from './support/sipp.js';
import { receivedMatching, sippRegister, startSwitchboard, type Running } from './support/switchboard.js';

describe('registrar over SIPp (UDP and TCP)', () => {
  let sb: Running;
  beforeAll(async () => {
    sb = await startSwitchboard({ purgeIntervalMs: 200 });
  });
  afterAll(async () => {
    await sb?.cleanup();
  });

  it.each(['udp', 'tcp'] as const)('good password over %s: 401, then 200 with the contact and its expires', async (transport) => {
    const port = await freePort();
    const r = await sippRegister(sb, '1001', { transport, localPort: port, expires: 120 });
    expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    const challenge = receivedMatching(r, /^SIP\/2\.0 401/)!;
    // MD5 first: the only challenge SIPp and SIP.js answer; SHA-256 offered after it.
    expect(challenge).toMatch(/WWW-Authenticate: Digest realm="switchboard\.local",[^\r\n]*algorithm=MD5[^\r\n]*\r?\nWWW-Authenticate: [^\r\n]*algorithm=SHA-256/);
    const ok = receivedMatching(r, /^SIP\/2\.0 200/)!;
    const upper = transport.toUpperCase();
    // Every binding of the AOR is listed (one Contact line, comma-separated), ours with its expires.
    expect(ok).toMatch(new RegExp(`\\nContact: [^\\r\\n]*<sip:1001@127\\.0\\.0\\.1:${port};transport=${upper}>;expires=120`));
    const b = sb.services.registrar.lookup('1001').find((x) => x.contact === `sip:1001@127.0.0.1:${port};transport=${upper}`);
    expect(b).toMatchObject({ aor: 'sip:1001@switchboard.local', transport, sourceAddress: LOOPBACK, userAgent: 'SIPp reg-auth' });
    expect(b!.expiresAt - Date.now()).toBeGreaterThan(110_000);
    expect(await sb.services.metrics.value('switchboard_register_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(await sb.services.metrics.value('switchboard_register_total', { result: 'challenge' })).toBeGreaterThanOrEqual(1);
  });

  it('wrong password: 403, counted as an authentication failure', async () => {
    const before = await sb.services.metrics.value('switchboard_auth_failures_total');
    const r = await sippRegister(sb, '1002', { password: 'not-the-password', scenario: 'reg-auth-expect-403' });
    expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    expect(await sb.services.metrics.value('switchboard_auth_failures_total')).toBe(before + 1);
    expect(sb.services.registrar.lookup('1002')).toEqual([]);
  });

  it('unknown user: challenged like anyone, then 404, counted as an authentication failure', async () => {
    const before = await sb.services.metrics.value('switchboard_auth_failures_total');
    const r = await sippRegister(sb, '1999', { password: 'whatever', scenario: 'reg-auth-expect-404' });
    expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    expect(receivedMatching(r, /^SIP\/2\.0 404/)).not.toMatch(/Retry-After/);
    expect(await sb.services.metrics.value('switchboard_auth_failures_total')).toBe(before + 1);
  });

  it('a binding is gone once it expires (lookup at once, the store after the purge timer)', async () => {
    const port = await freePort();
    const r = await sippRegister(sb, '1003', { localPort: port, expires: 1 });
    expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    expect(sb.services.registrar.lookup('1003')).toHaveLength(1);
    await until(() => sb.services.registrar.lookup('1003').length === 0, 3000, 'the binding to expire');
    await until(
      () => sb.services.store.registrations.list('sip:1003@switchboard.local').length === 0,
      3000,
      'the purge timer to delete the expired row',
    );
    expect(sb.services.store.events.list(0, 1000).some((e) => e.kind === 'registrar.expired' && e.subject === 'sip:1003@switchboard.local')).toBe(true);
  });

  it('unregister: Expires: 0 removes that contact, Contact: * removes every contact', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    for (const p of [p1, p2]) expect(callCounts(await sippRegister(sb, '1004', { localPort: p, expires: 300 })).ok).toBe(1);
    expect(sb.services.registrar.lookup('1004')).toHaveLength(2);

    const r = await sippRegister(sb, '1004', { localPort: p1, expires: 0 });
    expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    // The 200 lists the contacts that remain (RFC 3261 §10.3 step 8).
    const ok = receivedMatching(r, /^SIP\/2\.0 200/)!;
    expect(ok).toContain(`Contact: <sip:1004@127.0.0.1:${p2};transport=UDP>;expires=`);
    expect(ok).not.toContain(`127.0.0.1:${p1};transport`);
    expect(sb.services.registrar.lookup('1004').map((b) => b.sourcePort)).toEqual([p2]);

    const w = await sippRegister(sb, '1004', { scenario: 'reg-wildcard' });
    expect(callCounts(w), w.errors).toEqual({ ok: 1, failed: 0 });
    expect(sb.services.registrar.lookup('1004')).toEqual([]);
  });

  it('OPTIONS gets 200 with Allow and Accept; a verb no app routes gets the default core answer', async () => {
    const peer = await UdpPeer.open();
    try {
      await peer.send(optionsRequest('UDP', `${LOOPBACK}:${peer.port}`, `${LOOPBACK}:${sb.port('udp')}`, 'opt'), sb.port('udp'));
      const res = await peer.wait(isResponseTo('OPTIONS'), 3000, 'OPTIONS answer');
      expect(res.kind === 'response' && res.status).toBe(200);
      expect(res.headers.getAll('Allow')).toEqual(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER']);
      expect(res.headers.get('Accept')).toBe('application/sdp');

      // MESSAGE: routed by no app, so the stack's default core answers 405 + Allow (not a 503).
      const msg = optionsRequest('UDP', `${LOOPBACK}:${peer.port}`, `${LOOPBACK}:${sb.port('udp')}`, 'msg')
        .replace(/^OPTIONS /, 'MESSAGE ')
        .replace('CSeq: 1 OPTIONS', 'CSeq: 1 MESSAGE');
      await peer.send(msg, sb.port('udp'));
      const m = await peer.wait(isResponseTo('MESSAGE'), 3000, 'MESSAGE answer');
      expect(m.kind === 'response' && m.status).toBe(405);
      expect(m.headers.getAll('Allow')).toContain('REGISTER');
    } finally {
      peer.close();
    }
  });
});

describe('registrar: stale nonce', () => {
  let sb: Running;
  beforeAll(async () => {
    // 1 s nonces (the config schema's floor is 10 s; the Registrar takes any positive value).
    sb = await startSwitchboard({ registrar: { nonceTtlSeconds: 1 } });
  });
  afterAll(async () => {
    await sb?.cleanup();
  });

  it('credentials for an expired nonce get 401 stale=true with a fresh nonce, which then works', async () => {
    const r = await sippRegister(sb, '1001', { scenario: 'reg-stale', extra: ['-d', '1600'] });
    expect(callCounts(r), `${r.errors}\n${r.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(sb.services.registrar.lookup('1001')).toHaveLength(1);
    // A stale nonce is not a failed login: nothing counted toward a ban.
    expect(await sb.services.metrics.value('switchboard_auth_failures_total')).toBe(0);
  }, 20_000);
});

describe('registrar: ban after repeated failures', () => {
  let sb: Running;
  beforeAll(async () => {
    sb = await startSwitchboard({ registrar: { ban: { maxFailures: 3, windowSeconds: 60, banSeconds: 300 } } });
  });
  afterAll(async () => {
    await sb?.cleanup();
  });

  it('the third wrong password bans the source: 403 + Retry-After even before any credentials', async () => {
    const attacker = '127.0.0.5';
    for (let i = 0; i < 3; i++) {
      const r = await sippRegister(sb, '1001', { localIp: attacker, password: `guess-${i}`, scenario: 'reg-auth-expect-403' });
      expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    }
    expect(await sb.services.metrics.value('switchboard_auth_failures_total')).toBe(3);
    expect(await sb.services.metrics.value('switchboard_auth_bans_total')).toBe(1);

    const banned = await sippRegister(sb, '1001', { localIp: attacker, scenario: 'reg-banned' });
    expect(callCounts(banned), banned.errors).toEqual({ ok: 1, failed: 0 });
    expect(receivedMatching(banned, /^SIP\/2\.0 403/)).toMatch(/Retry-After: (29\d|300)\r?\n/);
    expect(await sb.services.metrics.value('switchboard_register_total', { result: 'banned' })).toBe(1);
    expect(sb.services.store.events.list(0, 1000).filter((e) => e.kind === 'registrar.banned').map((e) => e.subject)).toEqual([attacker]);

    // Another address is unaffected.
    const good = await sippRegister(sb, '1001', { password: '1001pass' });
    expect(callCounts(good), good.errors).toEqual({ ok: 1, failed: 0 });
  }, 30_000);
});

describe('registrar: bindings survive a restart', () => {
  it('stop everything, start again on the same SQLite file: lookup still finds the binding', async () => {
    const first = await startSwitchboard();
    const port = await freePort();
    try {
      const r = await sippRegister(first, '1002', { localPort: port, expires: 600 });
      expect(callCounts(r), r.errors).toEqual({ ok: 1, failed: 0 });
    } finally {
      await first.stop();
    }
    const second = await startSwitchboard({ dir: first.dir });
    try {
      const b = second.services.registrar.lookup('1002');
      expect(b.map((x) => [x.contact, x.sourcePort])).toEqual([[`sip:1002@127.0.0.1:${port};transport=UDP`, port]]);
      expect(second.services.store.path).toBe(first.services.store.path);
      // And the new process still accepts a refresh from the same phone (new nonce secret: a fresh challenge).
      await sleep(10);
      const again = await runSipp({
        scenario: 'reg-auth',
        target: { host: LOOPBACK, port: second.port('udp') },
        service: '1002',
        localPort: port,
        timeoutSeconds: 10,
        extraArgs: ['-au', '1002', '-ap', '1002pass', '-set', 'expires', '600'],
      });
      expect(callCounts(again), again.errors).toEqual({ ok: 1, failed: 0 });
      expect(second.services.registrar.lookup('1002')).toHaveLength(1);
    } finally {
      await second.cleanup();
    }
  }, 30_000);
});
