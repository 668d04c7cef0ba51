// A WebRTC-style agent: SIP.js 0.21 (UserAgent, Registerer, Inviter) over WebSocket registers as
// an extension and calls another extension, a SIPp UAS on UDP. No WebRTC in Node: the session
// description handler hands out a fixed SDP and records the remote one. SIP.js needs a WebSocket
// global; `ws` provides it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Session, SessionDescriptionHandler, UserAgent as UserAgentType } from 'sip.js';
import { LOOPBACK, freePort, until } from './support/net.js';
import { callCounts, runSipp } from './support/sipp.js';
import { received, receivedMatching, sippRegister, startSwitchboard, waitForBoundOn, type Running } from './support/switchboard.js';

const AGENT_SDP = ['v=0', 'o=sipjs 7 7 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 41000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');

/** Gives out AGENT_SDP, keeps what the other side sent. */
class FixedSdh implements SessionDescriptionHandler {
  remote: string | undefined;
  close(): void {}
  getDescription(): Promise<{ body: string; contentType: string }> {
    return Promise.resolve({ body: AGENT_SDP, contentType: 'application/sdp' });
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  setDescription(sdp: string): Promise<void> {
    this.remote = sdp;
    return Promise.resolve();
  }
  sendDtmf(): boolean {
    return false;
  }
}

let sb: Running;
let sipjs: typeof import('sip.js');
const agents: UserAgentType[] = [];

beforeAll(async () => {
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  sipjs = await import('sip.js');
  // MD5 only, as shipped: SIP.js answers the last challenge and gives up on SHA-256.
  sb = await startSwitchboard({ transports: ['udp', 'ws'], registrar: { digestAlgorithms: ['MD5'] } });
});
afterAll(async () => {
  // Bounded: stop() waits for SIP.js's own transactions, which a half-routed dialog can hold.
  for (const ua of agents) await Promise.race([ua.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  await sb?.cleanup();
});

async function agent(user: string): Promise<{ ua: UserAgentType; registerer: InstanceType<typeof sipjs.Registerer> }> {
  const ua = new sipjs.UserAgent({
    uri: sipjs.UserAgent.makeURI(`sip:${user}@switchboard.local`)!,
    transportOptions: { server: `ws://${LOOPBACK}:${sb.port('ws')}/` },
    authorizationUsername: user,
    authorizationPassword: `${user}pass`,
    sessionDescriptionHandlerFactory: () => new FixedSdh(),
    logLevel: (process.env.SIPJS_LOG as 'debug' | undefined) ?? 'error',
  });
  agents.push(ua);
  await ua.start();
  const registerer = new sipjs.Registerer(ua, { expires: 300 });
  const registered = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('SIP.js did not register')), 5000);
    registerer.stateChange.addListener((s) => {
      if (s === sipjs.RegistererState.Registered) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  await registerer.register();
  await registered;
  return { ua, registerer };
}

function established(session: Session): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`session not established (state ${session.state})`)), 8000);
    session.stateChange.addListener((s) => {
      if (s === sipjs.SessionState.Established) {
        clearTimeout(t);
        resolve();
      } else if (s === sipjs.SessionState.Terminated) {
        clearTimeout(t);
        reject(new Error('session terminated before it was established'));
      }
    });
  });
}

describe('SIP.js over WebSocket', () => {
  let agent1003: Awaited<ReturnType<typeof agent>> | undefined;
  it('registers as 1003 (digest, MD5), calls extension 1004 (SIPp on UDP), talks, hangs up', async () => {
    agent1003 = await agent('1003');
    const { ua } = agent1003;
    const binding = sb.services.registrar.lookup('1003');
    expect(binding).toHaveLength(1);
    expect(binding[0]).toMatchObject({ transport: 'ws', sourceAddress: LOOPBACK });
    expect(binding[0]!.contact).toMatch(/^sip:[^@]+@[^;]+\.invalid;transport=ws$/);

    // The callee: a SIPp UAS registered as 1004 over UDP.
    const port = await freePort();
    const reg = await sippRegister(sb, '1004', { localPort: port });
    expect(callCounts(reg), reg.errors).toEqual({ ok: 1, failed: 0 });
    const uas = runSipp({ scenario: 'invite-uas', localPort: port, timeoutSeconds: 15, traceMessages: true });
    await waitForBoundOn(LOOPBACK, port, 'udp');

    const inviter = new sipjs.Inviter(ua, sipjs.UserAgent.makeURI('sip:1004@switchboard.local')!);
    const up = established(inviter);
    await inviter.invite();
    await up;
    // End-to-end SDP: SIP.js got SIPp's answer, SIPp got SIP.js's offer.
    expect((inviter.sessionDescriptionHandler as FixedSdh).remote).toContain('o=sipp 1 1 IN IP4 127.0.0.1');
    await inviter.bye();
    const r = await uas;
    expect(callCounts(r), `${r.errors}\n${r.messages}`).toEqual({ ok: 1, failed: 0 });
    const invite = receivedMatching(r, /^INVITE /)!;
    expect(invite).toContain('o=sipjs 7 7 IN IP4 127.0.0.1');
    expect(invite).toMatch(/\r\nFrom: "Agent 1003" <sip:1003@switchboard\.local>;tag=/);
    expect(received(r).some((m) => m.startsWith('BYE '))).toBe(true);
    await until(() => sb.services.extCalls.active === 0, 3000, 'the call to be over');
  }, 30_000);

  /** SIPp as 1001 dials 1003 with `scenario`; resolves with SIP.js's Invitation and the SIPp run. */
  async function calledBySipp(scenario: string, extraArgs: string[] = []) {
    const { ua } = agent1003!;
    const invited = new Promise<InstanceType<typeof sipjs.Invitation>>((resolve) => {
      ua.delegate = { onInvite: (inv) => resolve(inv) };
    });
    const call = runSipp({
      scenario,
      target: { host: LOOPBACK, port: sb.port('udp') },
      service: '1003',
      timeoutSeconds: 15,
      traceMessages: true,
      extraArgs: ['-au', '1001', '-ap', '1001pass', '-auth_uri', `1003@${LOOPBACK}:${sb.port('udp')}`, ...extraArgs],
    });
    const invitation = await invited;
    expect(invitation.request.from.uri.user).toBe('1001');
    return { invitation, call };
  }

  /** Resolves when the session gets the ACK for its 2xx / is terminated (false after 5 s). */
  function acked(session: Session): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), 5000);
      session.delegate = {
        ...session.delegate,
        onAck: () => {
          clearTimeout(t);
          resolve(true);
        },
      };
    });
  }
  function terminated(session: Session): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), 5000);
      session.stateChange.addListener((st) => {
        if (st === sipjs.SessionState.Terminated) {
          clearTimeout(t);
          resolve(true);
        }
      });
    });
  }

  // Being called: the INVITE reaches SIP.js over the WebSocket it registered on (ext-calls sends
  // it to the REGISTER's source flow). The in-dialog requests that follow (ACK, BYE) target its
  // Contact `sip:…@….invalid;transport=ws`: the dialog remembers the flow it was set up on and
  // src/sip sends them there (RFC 5626 §5.3, RFC 7118 §5).
  it('is called: SIPp as 1001 dials 1003, SIP.js answers, gets the ACK and the caller’s BYE over its WebSocket', async () => {
    const { invitation, call } = await calledBySipp('ext-call-uac', ['-d', '300']);
    const gotAck = acked(invitation);
    const ended = terminated(invitation);
    await invitation.accept();
    expect((invitation.sessionDescriptionHandler as FixedSdh).remote).toContain('o=caller 1 1 IN IP4 127.0.0.1');
    expect(await gotAck).toBe(true);
    const r = await call;
    expect(callCounts(r), `${r.errors}\n${r.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(receivedMatching(r, /^SIP\/2\.0 200/)).toContain('o=sipjs 7 7 IN IP4 127.0.0.1');
    expect(await ended).toBe(true);
    await until(() => sb.services.extCalls.active === 0, 3000, 'the call to be over');
  }, 30_000);

  it('is called and hangs up: SIP.js’s BYE reaches the caller (SIPp as 1001), and its 200 comes back', async () => {
    const { invitation, call } = await calledBySipp('ext-call-uac-recv-bye');
    const gotAck = acked(invitation);
    await invitation.accept();
    expect(await gotAck).toBe(true);
    const byeAccepted = new Promise<number>((resolve) => {
      const t = setTimeout(() => resolve(0), 5000);
      void invitation.bye({
        requestDelegate: {
          onAccept: (res) => {
            clearTimeout(t);
            resolve(res.message.statusCode ?? 0);
          },
        },
      });
    });
    expect(await byeAccepted).toBe(200);
    const r = await call;
    expect(callCounts(r), `${r.errors}\n${r.messages}`).toEqual({ ok: 1, failed: 0 });
    expect(received(r).some((m) => m.startsWith('BYE '))).toBe(true);
    await until(() => sb.services.extCalls.active === 0, 3000, 'the call to be over');
  }, 30_000);

  it('calls 1004 (SIPp) and the callee hangs up: the BYE reaches SIP.js over its WebSocket', async () => {
    const { ua } = agent1003!;
    const port = await freePort();
    const reg = await sippRegister(sb, '1004', { localPort: port });
    expect(callCounts(reg), reg.errors).toEqual({ ok: 1, failed: 0 });
    const uas = runSipp({ scenario: 'uas-send-bye', localPort: port, timeoutSeconds: 15, traceMessages: true });
    await waitForBoundOn(LOOPBACK, port, 'udp');
    const inviter = new sipjs.Inviter(ua, sipjs.UserAgent.makeURI('sip:1004@switchboard.local')!);
    const up = established(inviter);
    const ended = terminated(inviter);
    await inviter.invite();
    await up;
    expect(await ended).toBe(true);
    const r = await uas;
    expect(callCounts(r), `${r.errors}\n${r.messages}`).toEqual({ ok: 1, failed: 0 });
    await until(() => sb.services.extCalls.active === 0, 3000, 'the call to be over');
  }, 30_000);
});
