// TransactionLayer, client side (RFC 3261 §17.1, §9.1, RFC 6026 §8.4): real TransportLayer on
// 127.0.0.1 over UDP and TCP, a raw node:dgram / node:net peer as the UAS, ManualClock timers.
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMessage, serializeMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { isRequest, nextEvent, recvUntil, request, responseTo, rig, settle, type Proto, type Rig } from './testkit.js';
import type { ClientTransaction } from './types.js';

describe.each(['udp', 'tcp'] as Proto[])('client transactions over %s', (proto) => {
  let r: Rig;
  const udp = proto === 'udp';
  beforeEach(async () => {
    r = await rig(proto);
  });
  afterEach(async () => {
    await r.close();
  });

  /** A request from us: top Via with our sent-by and a fresh branch, as the dialog layer builds it. */
  const ours = (method: string, branch: string, extra: string[] = []): SipRequest =>
    parseMessage(
      Buffer.from(
        request({
          method,
          via: [`SIP/2.0/${proto.toUpperCase()} 127.0.0.1:${r.local.port};branch=z9hG4bK${branch}`],
          callId: `client-${branch}`,
          extra,
        }),
      ),
    ) as SipRequest;
  const responses = (tx: ClientTransaction): SipResponse[] => {
    const out: SipResponse[] = [];
    tx.on('response', (res) => out.push(res));
    return out;
  };

  it(`§17.1.1.2: Timer A ${udp ? 'retransmits the INVITE at 500, 1500, 3500 ms' : 'is not used'}; a provisional stops it`, async () => {
    const tx = r.layer.sendRequest(ours('INVITE', 'a1'), r.peer.endpoint);
    const inv = await r.peer.recv();
    expect(isRequest(inv, 'INVITE')).toBe(true);
    const at: number[] = [];
    for (const step of [500, 1000, 2000]) {
      r.clock.advance(step);
      if (await r.peer.recv(udp ? 1000 : 100)) at.push(r.clock.now());
    }
    expect(at).toEqual(udp ? [500, 1500, 3500] : []);
    const got = responses(tx);
    await r.peer.send(responseTo(inv as SipRequest, 180, 'Ringing', 'uas'));
    await nextEvent(tx, 'response');
    expect(got.map((x) => x.status)).toEqual([180]);
    r.clock.advance(20_000);
    expect(await r.peer.recv(100)).toBeUndefined();
    expect(tx.state).toBe('proceeding');
  });

  it('§17.1.1.3: a non-2xx final is ACKed by the transaction (Request-URI, Call-ID, From, CSeq, top Via, response To, Route) and its retransmissions never reach the TU', async () => {
    const req = ours('INVITE', 'ack1', [
      'Route: <sip:proxy1.example.com;lr>',
      'Route: <sip:proxy2.example.com;lr>',
      'Contact: <sip:alice@127.0.0.1>',
      'Require: 100rel',
    ]);
    const tx = r.layer.sendRequest(req, r.peer.endpoint);
    const got = responses(tx);
    const inv = (await r.peer.recv()) as SipRequest;
    const final = responseTo(inv, 486, 'Busy Here', 'busy');
    await r.peer.send(final);
    const ack = await recvUntil(r.peer, (m) => isRequest(m, 'ACK'));
    expect(isRequest(ack, 'ACK')).toBe(true);
    const a = ack as SipRequest;
    expect(a.uri).toBe(inv.uri);
    expect(a.callId()).toBe(inv.callId());
    expect(a.headers.get('From')).toBe(inv.headers.get('From'));
    expect(a.cseq()).toEqual({ seq: inv.cseq().seq, method: 'ACK' });
    expect(a.vias()).toHaveLength(1);
    expect(a.topVia().branch).toBe(inv.topVia().branch);
    expect(a.to().params.get('tag')).toBe('busy');
    expect(a.headers.getAll('Route')).toEqual(['<sip:proxy1.example.com;lr>', '<sip:proxy2.example.com;lr>']);
    expect(a.headers.has('Contact')).toBe(false);
    expect(a.headers.has('Require')).toBe(false);
    if (udp) {
      // §17.1.1.2: a retransmitted final is ACKed again, not passed to the TU (a reliable
      // transport never retransmits, and Timer D is 0 there).
      await r.peer.send(final);
      const again = await recvUntil(r.peer, (m) => isRequest(m, 'ACK'));
      expect(again && serializeMessage(again).equals(serializeMessage(a))).toBe(true);
    }
    await settle();
    expect(got.map((x) => x.status)).toEqual([486]);
    expect(tx.state).toBe(udp ? 'completed' : 'terminated');
    r.clock.advance(32_000); // Timer D
    expect(tx.state).toBe('terminated');
  });

  it('§17.1.1.2: Timer B (64*T1) without any response gives the TU a 408', async () => {
    const tx = r.layer.sendRequest(ours('INVITE', 'b1'), r.peer.endpoint);
    const timeout = nextEvent<[SipResponse]>(tx, 'timeout');
    r.clock.advance(32_000);
    const [res] = await timeout;
    expect(res.status).toBe(408);
    expect(tx.state).toBe('terminated');
    expect(r.layer.clientTransaction(tx.id)).toBeUndefined();
  });

  it(`§17.1.2.2: a non-INVITE ${udp ? 'is retransmitted on Timer E' : 'is sent once'}; the final reaches the TU once`, async () => {
    const tx = r.layer.sendRequest(ours('OPTIONS', 'e1'), r.peer.endpoint);
    const got = responses(tx);
    const opt = (await r.peer.recv()) as SipRequest;
    r.clock.advance(500);
    expect((await r.peer.recv(udp ? 1000 : 100)) !== undefined).toBe(udp);
    const ok = responseTo(opt, 200, 'OK', 'o');
    await r.peer.send(ok);
    await nextEvent(tx, 'response');
    await r.peer.send(ok);
    await settle();
    expect(got.map((x) => x.status)).toEqual([200]);
    expect(tx.state).toBe(udp ? 'completed' : 'terminated');
    r.clock.advance(5_000); // Timer K
    expect(tx.state).toBe('terminated');
    expect(r.layer.size.clients).toBe(0);
  });

  it('§9.1: cancel() waits for a provisional, then sends a CANCEL built from the INVITE', async () => {
    const req = ours('INVITE', 'c1', ['Route: <sip:proxy.example.com;lr>', 'Require: timer']);
    const tx = r.layer.sendRequest(req, r.peer.endpoint);
    const got = responses(tx);
    const inv = (await r.peer.recv()) as SipRequest;
    tx.cancel('SIP;cause=200;text="Call completed elsewhere"');
    // §9.1: no provisional yet: the CANCEL MUST NOT be sent.
    r.clock.advance(100);
    expect(await r.peer.recv(150)).toBeUndefined();
    await r.peer.send(responseTo(inv, 180, 'Ringing', 'uas'));
    const cancel = (await recvUntil(r.peer, (m) => isRequest(m, 'CANCEL'))) as SipRequest;
    expect(cancel).toBeDefined();
    expect(cancel.uri).toBe(inv.uri);
    expect(cancel.callId()).toBe(inv.callId());
    expect(cancel.headers.get('To')).toBe(inv.headers.get('To'));
    expect(cancel.headers.get('From')).toBe(inv.headers.get('From'));
    expect(cancel.cseq()).toEqual({ seq: inv.cseq().seq, method: 'CANCEL' });
    expect(cancel.vias()).toHaveLength(1);
    expect(cancel.topVia().branch).toBe(inv.topVia().branch);
    expect(cancel.headers.getAll('Route')).toEqual(['<sip:proxy.example.com;lr>']);
    expect(cancel.headers.has('Require')).toBe(false);
    expect(cancel.headers.get('Reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    tx.cancel(); // idempotent
    await r.peer.send(responseTo(cancel, 200, 'OK', 'uas'));
    await r.peer.send(responseTo(inv, 487, 'Request Terminated', 'uas'));
    expect(isRequest(await recvUntil(r.peer, (m) => isRequest(m, 'ACK')), 'ACK')).toBe(true);
    expect(await r.peer.recv(100)).toBeUndefined(); // one CANCEL only
    expect(got.map((x) => x.status)).toEqual([180, 487]);
  });

  it('§9.1: cancel() before any provisional is dropped when a final arrives first', async () => {
    const tx = r.layer.sendRequest(ours('INVITE', 'c2'), r.peer.endpoint);
    const inv = (await r.peer.recv()) as SipRequest;
    tx.cancel();
    await r.peer.send(responseTo(inv, 200, 'OK', 'uas'));
    await nextEvent(tx, 'response');
    expect(await r.peer.recv(150)).toBeUndefined();
    expect(tx.state).toBe('accepted');
  });

  it('RFC 6026 §8.4: 2xx retransmissions reach the TU while Accepted; after Timer M they go to the layer', async () => {
    const tx = r.layer.sendRequest(ours('INVITE', 'm1'), r.peer.endpoint);
    const got = responses(tx);
    const inv = (await r.peer.recv()) as SipRequest;
    const ok = responseTo(inv, 200, 'OK', 'uas');
    await r.peer.send(ok);
    await nextEvent(tx, 'response');
    await r.peer.send(ok);
    await nextEvent(tx, 'response');
    expect(got.map((x) => x.status)).toEqual([200, 200]);
    expect(await r.peer.recv(100)).toBeUndefined(); // the ACK for 2xx is the TU's job
    r.clock.advance(32_000);
    expect(tx.state).toBe('terminated');
    const stray = nextEvent(r.layer, 'response');
    await r.peer.send(ok);
    await stray;
  });
});

describe('client transport errors', () => {
  it('§17.1.4: a request the transport cannot send gives the TU a 503', async () => {
    const r = await rig('udp');
    const req = parseMessage(
      Buffer.from(request({ method: 'OPTIONS', via: [`SIP/2.0/UDP 127.0.0.1:${r.local.port};branch=z9hG4bKte1`] })),
    ) as SipRequest;
    await r.transport.close();
    const tx = r.layer.sendRequest(req, { transport: 'udp', address: '127.0.0.1', port: 9 });
    const [res, err] = await nextEvent<[SipResponse, Error]>(tx, 'transport-error');
    expect(res.status).toBe(503);
    expect(err).toBeInstanceOf(Error);
    expect(tx.state).toBe('terminated');
    expect(r.layer.size.clients).toBe(0);
    await r.close();
  });

  it('§17.1.4: a TCP connection refused gives the TU a 503', async () => {
    const r = await rig('tcp');
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((res) => probe.close(res));
    const req = parseMessage(
      Buffer.from(request({ via: [`SIP/2.0/TCP 127.0.0.1:${r.local.port};branch=z9hG4bKte2`] })),
    ) as SipRequest;
    const tx = r.layer.sendRequest(req, { transport: 'tcp', address: '127.0.0.1', port });
    const [res] = await nextEvent<[SipResponse, Error]>(tx, 'transport-error', 3000);
    expect(res.status).toBe(503);
    expect(tx.state).toBe('terminated');
    await r.close();
  });
});

describe('listener isolation on client transactions', () => {
  it("a throwing 'response' listener does not stop the ACK for a non-2xx final", async () => {
    const r = await rig('udp');
    try {
      const req = parseMessage(
        Buffer.from(request({ via: [`SIP/2.0/UDP 127.0.0.1:${r.local.port};branch=z9hG4bKiso`], callId: 'iso' })),
      ) as SipRequest;
      const tx = r.layer.sendRequest(req, r.peer.endpoint);
      tx.on('response', () => {
        throw new Error('TU bug');
      });
      const inv = (await r.peer.recv()) as SipRequest;
      await r.peer.send(responseTo(inv, 404, 'Not Found', 'nf'));
      expect(isRequest(await recvUntil(r.peer, (m) => isRequest(m, 'ACK')), 'ACK')).toBe(true);
      expect(tx.state).toBe('completed');
    } finally {
      await r.close();
    }
  });
});
