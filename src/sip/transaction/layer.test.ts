// TransactionLayer, server side (RFC 3261 §17.2, §9.2, §8.2.2.2, §16.3) and the layer-wide
// guarantees (no leaks, listener isolation). Real TransportLayer on 127.0.0.1 over UDP and TCP,
// a raw node:dgram / node:net peer as the UAC, a ManualClock for the transaction timers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResponse, parseMessage, type SipRequest } from '../message/index.js';
import {
  isRequest,
  isResponse,
  nextEvent,
  recvUntil,
  request,
  responseTo,
  rig,
  settle,
  type Proto,
  type Rig,
} from './testkit.js';
import type { ServerTransaction } from './types.js';

describe.each(['udp', 'tcp'] as Proto[])('server transactions over %s', (proto) => {
  let r: Rig;
  const udp = proto === 'udp';
  beforeEach(async () => {
    r = await rig(proto);
  });
  afterEach(async () => {
    await r.close();
  });
  const via = (b: string): string => `SIP/2.0/${proto.toUpperCase()} ${r.peer.sentBy};branch=z9hG4bK${b}`;
  const collect = (): ServerTransaction[] => {
    const seen: ServerTransaction[] = [];
    r.layer.on('request', (st) => seen.push(st));
    return seen;
  };

  it('§17.2.1: an INVITE is answered 100 Trying at once and reaches the TU once; a retransmission gets the 100 again', async () => {
    const seen = collect();
    const inv = request({ via: [via('s1')] });
    await r.peer.send(inv);
    expect(isResponse(await r.peer.recv(), 100)).toBe(true);
    await r.peer.send(inv);
    expect(isResponse(await r.peer.recv(), 100)).toBe(true);
    await settle();
    expect(seen).toHaveLength(1);
    expect(seen[0].state).toBe('proceeding');
    expect(r.layer.serverTransaction(seen[0].id)).toBe(seen[0]);
  });

  it(`§17.2.1: a non-2xx final is ${udp ? 'retransmitted on Timer G' : 'sent once'} until the ACK, which is absorbed`, async () => {
    const seen = collect();
    r.layer.on('request', (st) => st.respond(createResponse(st.request, 486, undefined, { toTag: 'x1' })));
    const unmatchedAcks: unknown[] = [];
    r.layer.on('ack', (a) => unmatchedAcks.push(a));
    const inv = request({ via: [via('s2')] });
    await r.peer.send(inv);
    expect(isResponse(await r.peer.recv(), 100)).toBe(true);
    expect(isResponse(await r.peer.recv(), 486)).toBe(true);
    r.clock.advance(500);
    if (udp) {
      expect(isResponse(await r.peer.recv(), 486)).toBe(true); // G = 500
      r.clock.advance(999);
      expect(await r.peer.recv(100)).toBeUndefined();
      r.clock.advance(1);
      expect(isResponse(await r.peer.recv(), 486)).toBe(true); // G = 1000
    } else {
      r.clock.advance(10_000);
      expect(await r.peer.recv(100)).toBeUndefined();
    }
    // §17.2.1: a retransmitted INVITE in Completed gets the final again.
    await r.peer.send(inv);
    expect(isResponse(await r.peer.recv(), 486)).toBe(true);
    const st = seen[0];
    const acked = nextEvent(st, 'ack');
    await r.peer.send(request({ method: 'ACK', via: [via('s2')], toTag: 'x1' }));
    await acked;
    expect(st.state).toBe(udp ? 'confirmed' : 'terminated');
    r.clock.advance(4_999);
    expect(await r.peer.recv(100)).toBeUndefined();
    // §17.2.1: ACK retransmissions in Confirmed are absorbed, not handed to the dialog layer.
    if (udp) await r.peer.send(request({ method: 'ACK', via: [via('s2')], toTag: 'x1' }));
    await settle();
    expect(unmatchedAcks).toHaveLength(0);
    r.clock.advance(1);
    expect(st.state).toBe('terminated');
    expect(seen).toHaveLength(1);
  });

  it('§17.2.1: Timer H (64*T1) without ACK tells the TU and ends the transaction', async () => {
    const seen = collect();
    r.layer.on('request', (st) => st.respond(createResponse(st.request, 503, undefined, { toTag: 'x' })));
    await r.peer.send(request({ via: [via('s3')] }));
    await recvUntil(r.peer, (m) => isResponse(m, 503));
    const st = seen[0];
    let timedOut = 0;
    st.on('timeout', () => timedOut++);
    r.clock.advance(31_999);
    expect(timedOut).toBe(0);
    r.clock.advance(1);
    expect(timedOut).toBe(1);
    expect(st.state).toBe('terminated');
    expect(r.layer.serverTransaction(st.id)).toBeUndefined();
  });

  it('§17.2.2: a non-INVITE retransmission gets the last response and never reaches the TU', async () => {
    const seen = collect();
    r.layer.on('request', (st) => st.respond(createResponse(st.request, 200, undefined, { toTag: 'o' })));
    const opt = request({ method: 'OPTIONS', via: [via('s4')] });
    await r.peer.send(opt);
    expect(isResponse(await r.peer.recv(), 200)).toBe(true);
    if (udp) {
      expect(seen[0].state).toBe('completed');
      await r.peer.send(opt);
      expect(isResponse(await r.peer.recv(), 200)).toBe(true);
      await settle();
      expect(seen).toHaveLength(1);
      r.clock.advance(32_000); // Timer J
    }
    // §17.2.2: Timer J is 0 on reliable transports.
    expect(seen[0].state).toBe('terminated');
    expect(r.layer.size.servers).toBe(0);
  });

  it('§9.2: CANCEL of an INVITE in Proceeding: 200 to the CANCEL, 487 to the INVITE (same To tag), TU told', async () => {
    const seen = collect();
    r.layer.on('request', (st) => st.respond(createResponse(st.request, 180, undefined, { toTag: 'ring' })));
    await r.peer.send(request({ via: [via('s5')] }));
    expect(isResponse(await recvUntil(r.peer, (m) => isResponse(m, 180)), 180)).toBe(true);
    const st = seen[0];
    const layerCancel = nextEvent(r.layer, 'cancel');
    const stCancelled = nextEvent(st, 'cancelled');
    await r.peer.send(request({ method: 'CANCEL', via: [via('s5')] }));
    const ok = await r.peer.recv();
    const terminated = await r.peer.recv();
    expect(isResponse(ok, 200) && ok.cseq().method === 'CANCEL').toBe(true);
    expect(isResponse(terminated, 487) && terminated.cseq().method === 'INVITE').toBe(true);
    expect(ok!.to().params.get('tag')).toBe('ring');
    expect(terminated!.to().params.get('tag')).toBe('ring');
    const [cst] = await layerCancel;
    expect(cst).toBe(st);
    await stCancelled;
    expect(seen).toHaveLength(1); // the CANCEL itself is not a TU request
    expect(st.state).toBe('completed');
    // The TU's late final is discarded (§17.2.1).
    st.respond(createResponse(st.request, 200, undefined, { toTag: 'ring' }));
    expect(await r.peer.recv(100)).toBeUndefined();
    const acked = nextEvent(st, 'ack');
    await r.peer.send(request({ method: 'ACK', via: [via('s5')], toTag: 'ring' }));
    await acked;
  });

  it('§9.2: a CANCEL matching nothing gets 481', async () => {
    const seen = collect();
    await r.peer.send(request({ method: 'CANCEL', via: [via('nothing')] }));
    const res = await r.peer.recv();
    expect(isResponse(res, 481)).toBe(true);
    expect(seen).toHaveLength(0);
  });

  it('§9.2: a CANCEL after the final response gets 200 and changes nothing', async () => {
    const seen = collect();
    r.layer.on('request', (st) => st.respond(createResponse(st.request, 200, undefined, { toTag: 'ok' })));
    let cancels = 0;
    r.layer.on('cancel', () => cancels++);
    await r.peer.send(request({ via: [via('s7')] }));
    await recvUntil(r.peer, (m) => isResponse(m, 200));
    await r.peer.send(request({ method: 'CANCEL', via: [via('s7')] }));
    const res = await r.peer.recv();
    expect(isResponse(res, 200) && res.cseq().method === 'CANCEL').toBe(true);
    expect(await r.peer.recv(100)).toBeUndefined();
    expect(cancels).toBe(0);
    expect(seen[0].state).toBe('accepted');
  });

  it('RFC 6026 §8.7: after a 2xx, INVITE retransmissions are absorbed and the 2xx ACK goes to the dialog layer', async () => {
    const seen = collect();
    r.layer.on('request', (st) => st.respond(createResponse(st.request, 200, undefined, { toTag: 'd' })));
    const inv = request({ via: [via('s8')] });
    await r.peer.send(inv);
    await recvUntil(r.peer, (m) => isResponse(m, 200));
    await r.peer.send(inv);
    expect(await r.peer.recv(150)).toBeUndefined();
    // The TU (UAS core, §13.3.1.4) retransmits its 2xx through the transaction.
    seen[0].respond(createResponse(seen[0].request, 200, undefined, { toTag: 'd' }));
    expect(isResponse(await r.peer.recv(), 200)).toBe(true);
    const ack = nextEvent(r.layer, 'ack');
    await r.peer.send(request({ method: 'ACK', via: [via('s8-ack')], toTag: 'd' }));
    const [inbound] = (await ack) as [{ message: SipRequest }];
    expect(inbound.message.method).toBe('ACK');
    expect(seen).toHaveLength(1);
    r.clock.advance(32_000); // Timer L
    expect(seen[0].state).toBe('terminated');
  });

  it('§17.2.3: RFC 2543 peers (no magic cookie) are matched by Request-URI, tags, Call-ID, CSeq and top Via', async () => {
    const seen = collect();
    r.layer.on('request', (st) => st.respond(createResponse(st.request, 404, undefined, { toTag: 'old' })));
    const v = `SIP/2.0/${proto.toUpperCase()} ${r.peer.sentBy}`;
    const inv = request({ via: [v], callId: 'rfc2543' });
    await r.peer.send(inv);
    await recvUntil(r.peer, (m) => isResponse(m, 404));
    await r.peer.send(inv);
    expect(isResponse(await r.peer.recv(), 404)).toBe(true);
    const acked = nextEvent(seen[0], 'ack');
    await r.peer.send(request({ method: 'ACK', via: [v], callId: 'rfc2543', toTag: 'old' }));
    await acked;
    // A different CSeq is a new transaction.
    await r.peer.send(request({ via: [v], callId: 'rfc2543', cseq: 2 }));
    await recvUntil(r.peer, (m) => isResponse(m, 404));
    expect(seen).toHaveLength(2);
  });

  describe('checks on new requests (§8.2, §16.3), answered with a transaction', () => {
    it.each([
      ['Max-Forwards 0 on INVITE -> 483', { maxForwards: 0 }, 483],
      ['Max-Forwards 0 on MESSAGE -> 483', { method: 'MESSAGE', maxForwards: 0 }, 483],
      ['Max-Forwards 0 on OPTIONS -> the TU answers', { method: 'OPTIONS', maxForwards: 0 }, 'TU'],
      ['no Max-Forwards is fine', { method: 'OPTIONS', maxForwards: null }, 'TU'],
      ['Max-Forwards 1 is fine', { maxForwards: 1 }, 'TU'],
    ] as const)('%s', async (_name, spec, expected) => {
      const seen = collect();
      await r.peer.send(request({ via: [via(`chk${Math.random()}`)], ...spec }));
      if (expected === 'TU') {
        await nextEvent(r.layer, 'request').catch(() => undefined);
        expect(seen).toHaveLength(1);
      } else {
        const res = await recvUntil(r.peer, (m) => m.kind === 'response' && (m as { status: number }).status >= 200);
        expect(isResponse(res, expected)).toBe(true);
        expect(seen).toHaveLength(0);
      }
    });

    it('§8.2: an unreadable Max-Forwards gets 400 instead of reaching the TU', async () => {
      const seen = collect();
      await r.peer.send(request({ method: 'OPTIONS', via: [via('bad-mf')], maxForwards: null, extra: ['Max-Forwards: lots'] }));
      const res = await recvUntil(r.peer, (m) => m.kind === 'response');
      expect(isResponse(res, 400)).toBe(true);
      expect(seen).toHaveLength(0);
    });

    it('§8.2.2.2: a merged request (same From tag, Call-ID, CSeq, no To tag, other branch) -> 482', async () => {
      const seen = collect();
      await r.peer.send(request({ via: [via('m1')], callId: 'merge' }));
      await nextEvent(r.layer, 'request');
      await r.peer.send(request({ via: [via('m2')], callId: 'merge' }));
      const res = await recvUntil(r.peer, (m) => isResponse(m, 482));
      expect(isResponse(res, 482)).toBe(true);
      expect(seen).toHaveLength(1);
      // §17.2.1: the 482 INVITE transaction waits for its ACK like any other.
      await r.peer.send(request({ method: 'ACK', via: [via('m2')], callId: 'merge', toTag: res!.to().params.get('tag') ?? '' }));
      await settle();
    });

    it('§16.3: a request carrying our own Via (sent-by + branch of a live client transaction) -> 482', async () => {
      const seen = collect();
      const ours = `SIP/2.0/${proto.toUpperCase()} 127.0.0.1:${r.local.port};branch=z9hG4bKours1`;
      const out = request({ method: 'OPTIONS', via: [ours], callId: 'loop' });
      r.layer.sendRequest(parseMessage(Buffer.from(out)) as SipRequest, r.peer.endpoint);
      const got = await recvUntil(r.peer, (m) => isRequest(m, 'OPTIONS'));
      expect(got).toBeDefined();
      // The request comes back to us through some proxy (its Via on top of ours).
      await r.peer.send(request({ method: 'OPTIONS', via: [via('proxy1'), ours], callId: 'loop' }));
      const res = await recvUntil(r.peer, (m) => isResponse(m, 482));
      expect(isResponse(res, 482)).toBe(true);
      expect(seen).toHaveLength(0);
    });
  });
});

describe('layer-wide guarantees', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig('udp');
  });
  afterEach(async () => {
    await r.close();
  });
  const via = (b: string): string => `SIP/2.0/UDP ${r.peer.sentBy};branch=z9hG4bK${b}`;

  it("a listener's exception does not unwind into the layer; other listeners still run", async () => {
    let second = 0;
    r.layer.on('request', () => {
      throw new Error('TU bug');
    });
    r.layer.on('request', (st) => {
      second++;
      st.respond(createResponse(st.request, 200, undefined, { toTag: 't' }));
    });
    await r.peer.send(request({ method: 'OPTIONS', via: [via('x1')] }));
    expect(isResponse(await r.peer.recv(), 200)).toBe(true);
    expect(second).toBe(1);
  });

  it('runs many transactions to completion and leaves every map empty (no leaks)', async () => {
    const N = 40;
    r.layer.on('request', (st) => {
      const status = st.method === 'INVITE' ? (st.request.callId().endsWith('ok') ? 200 : 486) : 200;
      st.respond(createResponse(st.request, status, undefined, { toTag: 'leak' }));
    });
    for (let i = 0; i < N; i++) {
      await r.peer.send(request({ method: 'OPTIONS', via: [via(`o${i}`)], callId: `o${i}` }));
      await r.peer.send(request({ via: [via(`i${i}`)], callId: `i${i}-ok` }));
      await r.peer.send(request({ via: [via(`f${i}`)], callId: `f${i}` }));
      await r.peer.send(request({ method: 'ACK', via: [via(`f${i}`)], callId: `f${i}`, toTag: 'leak' }));
    }
    // Client side too: requests to the peer, answered by it.
    for (let i = 0; i < N; i++) {
      const ours = `SIP/2.0/UDP 127.0.0.1:${r.local.port};branch=z9hG4bKc${i}`;
      r.layer.sendRequest(parseMessage(Buffer.from(request({ method: i % 2 ? 'INVITE' : 'INFO', via: [ours], callId: `c${i}` }))) as SipRequest, r.peer.endpoint);
    }
    let answered = 0;
    while (answered < N) {
      const m = await r.peer.recv(2000);
      if (m === undefined) break;
      if (isRequest(m) && m.method !== 'ACK') {
        await r.peer.send(responseTo(m, m.method === 'INVITE' ? 603 : 200, 'X', 'peer'));
        answered++;
      }
    }
    expect(answered).toBe(N);
    await settle(100);
    expect(r.layer.size.servers).toBeGreaterThan(0);
    r.clock.advance(64_000);
    expect(r.layer.size).toEqual({ clients: 0, servers: 0, clientsById: 0, serversById: 0, branches: 0, merge: 0 });
    expect(r.clock.pending).toBe(0);
    expect(r.layer.stats.serverStarted).toBe(3 * N);
    expect(r.layer.stats.clientStarted).toBe(N);
  });
});
