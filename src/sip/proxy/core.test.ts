// The proxy core's response context (RFC 3261 §16.7 – §16.10) against fake transactions and a
// manual clock: what is relayed upstream and when, which branches start and which get CANCEL.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { moduleLogger } from '../../lib/log.js';
import { Headers, SipRequest, SipResponse, createResponse } from '../message/index.js';
import type { ClientTransaction, ServerTransaction } from '../transaction/index.js';
import type { Endpoint, Inbound } from '../transport/index.js';
import { ProxyCore } from './core.js';
import { oursFrom } from './rules.js';
import type { ProxyHost, ProxyOptions, ProxyResult } from './types.js';

const US: Endpoint = { transport: 'udp', address: '10.0.0.1', port: 5060 };

class FakeServer extends EventEmitter {
  readonly id = 'st-1';
  readonly method: string;
  readonly request: SipRequest;
  readonly inbound: Inbound;
  readonly state = 'proceeding';
  readonly sent: SipResponse[] = [];
  constructor(req: SipRequest) {
    super();
    this.method = req.method;
    this.request = req;
    this.inbound = { message: req, raw: Buffer.alloc(0), source: { transport: 'udp', address: '192.0.2.1', port: 5060 }, local: US, receivedAt: 0 };
  }
  respond(res: SipResponse): void {
    this.sent.push(res);
  }
}

class FakeClient extends EventEmitter {
  readonly id: string;
  readonly method: string;
  readonly state = 'calling';
  cancelled: string | true | undefined;
  constructor(
    readonly request: SipRequest,
    readonly dest: Endpoint,
  ) {
    super();
    this.id = `ct-${dest.address}`;
    this.method = request.method;
  }
  cancel(reason?: string): void {
    this.cancelled ??= reason ?? true;
  }
  /** The downstream element answers `status`. */
  answer(status: number): SipResponse {
    const res = createResponse(this.request, status, undefined, { toTag: status > 100 ? `tag-${this.dest.address}` : undefined });
    const inbound: Inbound = { message: res, raw: Buffer.from('x'), source: this.dest, local: US, receivedAt: 0 };
    this.emit('response', res, inbound);
    if (status >= 200) this.emit('terminated');
    return res;
  }
}

function invite(uri = 'sip:bob@10.0.0.1'): SipRequest {
  const h = new Headers();
  h.append('Via', 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcaller');
  h.append('From', '<sip:alice@example.com>;tag=a');
  h.append('To', '<sip:bob@example.com>');
  h.append('Call-ID', 'c1');
  h.append('CSeq', '1 INVITE');
  h.append('Max-Forwards', '70');
  return new SipRequest('INVITE', uri, h, Buffer.alloc(0));
}

function setup(targets: string[], opts: ProxyOptions = {}, requestUri?: string) {
  const clock = new ManualClock();
  const clients: FakeClient[] = [];
  const host: ProxyHost = {
    clock,
    logger: moduleLogger('proxy-test'),
    ours: oursFrom([US]),
    resolve: (req, via) => {
      const host = (via ?? req.requestUri()).host;
      if (host.endsWith('.invalid')) return Promise.reject(new Error('no such host'));
      return Promise.resolve({ transport: 'udp', address: host, port: 5060 });
    },
    via: (_d, branch) => `SIP/2.0/UDP 10.0.0.1:5060;branch=${branch};rport`,
    localFor: () => US,
    startClient: (req, dest) => {
      const c = new FakeClient(req, dest);
      clients.push(c);
      return c as unknown as ClientTransaction;
    },
    sendStateless: () => Promise.resolve(),
    sendResponse: () => Promise.resolve(),
  };
  const st = new FakeServer(invite(requestUri));
  let closed = false;
  const core = new ProxyCore(host, st as unknown as ServerTransaction, targets, opts, () => (closed = true));
  const results: ProxyResult[] = [];
  const reported: number[] = [];
  core.on('done', (r) => results.push(r));
  core.on('response', (res) => reported.push(res.status));
  core.start();
  const upstream = () => st.sent.map((r) => r.status);
  return { clock, clients, st, core, results, reported, upstream, closed: () => closed };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('proxy core (RFC 3261 §16.7)', () => {
  it('relays provisionals but not 100, then the 2xx at once, without our Via', async () => {
    const t = setup(['sip:bob@192.0.2.10']);
    await tick();
    expect(t.clients).toHaveLength(1);
    expect(t.clients[0].request.headers.getAll('Via')).toHaveLength(2);
    t.clients[0].answer(100);
    t.clients[0].answer(180);
    t.clients[0].answer(200);
    expect(t.upstream()).toEqual([180, 200]);
    expect(t.st.sent[1].vias().map((v) => v.branch)).toEqual(['z9hG4bKcaller']);
    expect(t.results).toEqual([{ status: 200, cancelled: false }]);
    expect(t.closed()).toBe(true);
  });

  it('serial: a failure starts the next target; the best final goes upstream when all failed', async () => {
    const t = setup(['sip:a@192.0.2.10', 'sip:b@192.0.2.11']);
    await tick();
    expect(t.clients).toHaveLength(1);
    t.clients[0].answer(503);
    await tick();
    expect(t.clients).toHaveLength(2);
    expect(t.clients[1].request.uri).toBe('sip:b@192.0.2.11');
    expect(t.upstream()).toEqual([]);
    t.clients[1].answer(486);
    expect(t.upstream()).toEqual([486]);
    expect(t.reported).toEqual([503, 486]);
  });

  it('a lone 503 is sent upstream as a 500 of our own', async () => {
    const t = setup(['sip:a@192.0.2.10']);
    await tick();
    t.clients[0].answer(503);
    expect(t.upstream()).toEqual([500]);
    expect(t.results[0].status).toBe(500);
  });

  it('simultaneous: a 2xx cancels the other branches with "Call completed elsewhere"', async () => {
    const t = setup(['sip:a@192.0.2.10', 'sip:b@192.0.2.11'], { mode: 'simultaneous' });
    await tick();
    expect(t.clients).toHaveLength(2);
    t.clients[1].answer(180);
    t.clients[0].answer(180);
    t.clients[0].answer(200);
    expect(t.clients[1].cancelled).toMatch(/Call completed elsewhere/);
    expect(t.clients[0].cancelled).toBeUndefined();
    t.clients[1].answer(487);
    expect(t.upstream()).toEqual([180, 180, 200]);
    expect(t.reported).toEqual([200, 487]);
    expect(t.closed()).toBe(true);
  });

  it('a 6xx ends the search, cancels the others and is the best response', async () => {
    const t = setup(['sip:a@192.0.2.10', 'sip:b@192.0.2.11', 'sip:c@192.0.2.12'], { mode: 'simultaneous' });
    await tick();
    t.clients[1].answer(180);
    t.clients[0].answer(603);
    expect(t.clients[1].cancelled).toBe(true);
    expect(t.upstream()).toEqual([180]);
    t.clients[1].answer(487);
    expect(t.upstream()).toEqual([180, 603]);
  });

  it('2xx retransmissions are relayed again, reported once', async () => {
    const t = setup(['sip:a@192.0.2.10']);
    await tick();
    const c = t.clients[0];
    c.answer(200);
    c.answer(200);
    expect(t.upstream()).toEqual([200, 200]);
    expect(t.reported).toEqual([200]);
  });

  it('a CANCEL from upstream cancels every branch; done once the ringing one ended', async () => {
    const t = setup(['sip:a@192.0.2.10', 'sip:b@192.0.2.11'], { mode: 'simultaneous' });
    await tick();
    t.clients[0].answer(180);
    t.st.emit('cancelled', {});
    expect(t.clients.map((c) => c.cancelled)).toEqual([true, true]);
    expect(t.results).toEqual([]);
    t.clients[0].answer(487);
    expect(t.results).toEqual([{ status: undefined, cancelled: true }]);
    expect(t.upstream()).toEqual([180]);
  });

  it('provisional timeout: a silent branch is given up (408) and the next target tried', async () => {
    const t = setup(['sip:a@192.0.2.10', 'sip:b@192.0.2.11'], { provisionalTimeoutMs: 1000 });
    await tick();
    t.clock.advance(999);
    expect(t.clients).toHaveLength(1);
    t.clock.advance(1);
    await tick();
    expect(t.clients[0].cancelled).toBe(true);
    expect(t.clients).toHaveLength(2);
    t.clients[1].answer(180);
    t.clock.advance(5000);
    expect(t.clients).toHaveLength(2);
  });

  it('Timer C (finalTimeout): a ringing branch without final is cancelled; 408 upstream', async () => {
    const t = setup(['sip:a@192.0.2.10'], { finalTimeoutMs: 2000 });
    await tick();
    t.clients[0].answer(180);
    t.clock.advance(1500);
    t.clients[0].answer(183); // §16.7 step 2: restarts Timer C
    t.clock.advance(1500);
    expect(t.upstream()).toEqual([180, 183]);
    t.clock.advance(500);
    expect(t.clients[0].cancelled).toBe(true);
    expect(t.upstream()).toEqual([180, 183, 408]);
  });

  it('followRedirects: the Contacts of a 3xx are tried next', async () => {
    const t = setup(['sip:a@192.0.2.10'], { followRedirects: true });
    await tick();
    const c = t.clients[0];
    const res = createResponse(c.request, 302, undefined, { toTag: 'r', headers: [['Contact', '<sip:bob@192.0.2.20:5080>']] });
    c.emit('response', res, { raw: Buffer.from('x'), source: c.dest });
    await tick();
    expect(t.clients).toHaveLength(2);
    expect(t.clients[1].request.uri).toBe('sip:bob@192.0.2.20:5080');
  });

  it('an unreachable target counts as 503 (§16.9) and the next one is tried', async () => {
    const t = setup(['sip:a@unresolvable.invalid', 'sip:b@192.0.2.11']);
    await tick();
    await tick();
    expect(t.clients.map((c) => c.request.uri)).toEqual(['sip:b@192.0.2.11']);
    t.clients[0].answer(404);
    expect(t.upstream()).toEqual([404]);
  });

  describe("'destination' targets (drachtio-server's proxyRequest)", () => {
    it('a Request-URI that is not ours is kept: the destination is only where the branch goes', async () => {
      const t = setup(['sip:127.0.0.2', 'sip:127.0.0.3:5070'], { targets: 'destination' }, 'sip:bob@example.com');
      await tick();
      expect(t.clients[0].request.uri).toBe('sip:bob@example.com');
      expect(t.clients[0].dest).toEqual({ transport: 'udp', address: '127.0.0.2', port: 5060 });
      t.clients[0].answer(486);
      await tick();
      expect(t.clients[1].request.uri).toBe('sip:bob@example.com');
      expect(t.clients[1].dest.address).toBe('127.0.0.3');
    });

    it('a Request-URI naming us is replaced by the destination, verbatim (it would loop back to us)', async () => {
      const t = setup(['sip:carol@127.0.0.2'], { targets: 'destination' });
      await tick();
      expect(t.clients[0].request.uri).toBe('sip:carol@127.0.0.2');
      expect(t.clients[0].dest.address).toBe('127.0.0.2');
    });

    it("by default (RFC 3261 §16.5) the target is the Request-URI, user part and all", async () => {
      const t = setup(['sip:127.0.0.2'], {}, 'sip:bob@example.com');
      await tick();
      expect(t.clients[0].request.uri).toBe('sip:127.0.0.2');
    });
  });
});

