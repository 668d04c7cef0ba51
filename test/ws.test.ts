// SIP over WebSocket (RFC 7118) by hand with the `ws` client: the 'sip' subprotocol is
// negotiated, an OPTIONS is answered 200, and a whole call (INVITE, 180, 200, ACK, BYE, 200)
// runs over one WebSocket connection, which stays the flow for every message both ways —
// including the requests we send in the dialog to a client whose Contact is `*.invalid`
// (RFC 7118 §5, RFC 5626 §5.3), whether it called us or we called it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SipError } from '../src/lib/errors.js';
import { SipStack, attachDefaultCore, type Dialog, type IncomingRequest } from '../src/sip/index.js';
import {
  createResponse,
  parseMessage,
  serializeMessage,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../src/sip/message/index.js';
import { UasApp } from './support/uas-app.js';
import { endpointOf, isIdle, loopbackConfig, optionsRequest, until } from './support/net.js';

/** A WebSocket SIP client: one SIP message per WS message, every message kept in order. */
class WsSipClient {
  readonly received: SipMessage[] = [];
  readonly #ws: WebSocket;
  #waiters: { pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: WebSocket.RawData) => {
      const m = parseMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      this.received.push(m);
      const i = this.#waiters.findIndex((w) => w.pred(m));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
    });
  }

  static open(url: string): Promise<WsSipClient> {
    const ws = new WebSocket(url, 'sip');
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsSipClient(ws)));
      ws.once('error', reject);
    });
  }

  get protocol(): string {
    return this.#ws.protocol;
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    this.#ws.send(text);
  }

  response(method: string, status: number, timeoutMs = 3000): Promise<SipResponse> {
    const pred = (m: SipMessage): boolean => m.kind === 'response' && m.cseq().method === method && m.status === status;
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen as SipResponse);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${status} to ${method} over WS`)), timeoutMs);
      this.#waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m as SipResponse);
        },
      });
    });
  }

  /** The first request of `method` received (now or later). */
  request(method: string, timeoutMs = 3000): Promise<SipRequest> {
    const pred = (m: SipMessage): boolean => m.kind === 'request' && m.method === method;
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen as SipRequest);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${method} over WS`)), timeoutMs);
      this.#waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m as SipRequest);
        },
      });
    });
  }

  /** Answers a request received over the WS. */
  answer(req: SipRequest, status: number, opts: Parameters<typeof createResponse>[3] = {}): void {
    this.#ws.send(serializeMessage(createResponse(req, status, undefined, opts)));
  }

  close(): void {
    this.#ws.terminate();
  }
}

// RFC 7118 §5.2: a WS client has no reachable address; it puts an .invalid host in Via/Contact.
const VIA_HOST = 'df7jal23ls0d.invalid';

function request(method: string, uri: string, lines: { branch: string; callId: string; cseq: number; to: string; extra?: string[] }, body = ''): string {
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/WS ${VIA_HOST};branch=${lines.branch}`,
    'Max-Forwards: 70',
    `From: <sip:alice@example.invalid>;tag=ws-alice`,
    `To: ${lines.to}`,
    `Call-ID: ${lines.callId}`,
    `CSeq: ${lines.cseq} ${method}`,
    ...(lines.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

let stack: SipStack;
let client: WsSipClient | undefined;

beforeEach(async () => {
  stack = await SipStack.start(loopbackConfig(['ws']));
});

afterEach(async () => {
  client?.close();
  client = undefined;
  await stack?.close();
});

describe('SIP over WebSocket', () => {
  it('negotiates the sip subprotocol and answers OPTIONS with 200', async () => {
    attachDefaultCore(stack);
    const ep = endpointOf(stack, 'ws');
    client = await WsSipClient.open(`ws://${ep.host}:${ep.port}/`);
    expect(client.protocol).toBe('sip');
    client.send(optionsRequest('WS', VIA_HOST, `${ep.host}:${ep.port}`));
    const res = await client.response('OPTIONS', 200);
    expect(res.headers.get('Allow')).toMatch(/INVITE/);
    expect(stack.stats().transport.received).toBe(1);
  });

  it('runs INVITE -> 180 -> 200 -> ACK -> BYE -> 200 over one connection', async () => {
    const uas = new UasApp(stack);
    const ep = endpointOf(stack, 'ws');
    client = await WsSipClient.open(`ws://${ep.host}:${ep.port}/`);
    const target = `sip:bob@${ep.host}:${ep.port};transport=ws`;
    const callId = `ws-call-${Date.now()}`;
    const sdp = 'v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40004 RTP/AVP 0\r\n';
    client.send(
      request('INVITE', target, {
        branch: 'z9hG4bK-ws-inv',
        callId,
        cseq: 1,
        to: `<${target}>`,
        extra: [`Contact: <sip:alice@${VIA_HOST};transport=ws>`, 'Content-Type: application/sdp'],
      }, sdp),
    );
    await client.response('INVITE', 180);
    const ok = await client.response('INVITE', 200);
    expect(ok.headers.get('Content-Type')).toBe('application/sdp');
    expect(ok.body.toString()).toMatch(/^v=0/);
    // The 200 names our WS listener as the remote target of the dialog.
    expect(ok.contacts()[0]?.uri.params.get('transport')).toBe('ws');
    const to = ok.headers.get('To')!;
    expect(ok.to().params.get('tag')).toBeTruthy();

    client.send(request('ACK', target, { branch: 'z9hG4bK-ws-ack', callId, cseq: 1, to }));
    await uas.until((c) => c.length === 1 && c[0]!.acked);

    client.send(request('BYE', target, { branch: 'z9hG4bK-ws-bye', callId, cseq: 2, to }));
    await client.response('BYE', 200);
    await uas.until((c) => c[0]!.ended !== undefined);
    expect(uas.summary()).toMatchObject([{ transport: 'ws', answered: true, acked: true, byeReceived: true, ended: 'bye-received' }]);
    expect(client.open).toBe(true);
    // Everything went over the one connection we opened.
    expect(stack.stats().transport.connectionsAccepted).toBe(1);
    expect(stack.stats().transport.connectionsOpened).toBe(0);
    // Timer J is 0 on a reliable transport; the INVITE server transaction ends with Timer L
    // (RFC 6026: 64*T1 on every transport), then nothing is left.
    await until(() => isIdle(stack), 2000, () => JSON.stringify(stack.dump()));
  });

  it('sends our BYE to a WS caller (Contact *.invalid) over the connection its INVITE came on', async () => {
    const uas = new UasApp(stack);
    const ep = endpointOf(stack, 'ws');
    client = await WsSipClient.open(`ws://${ep.host}:${ep.port}/`);
    const target = `sip:bob@${ep.host}:${ep.port};transport=ws`;
    const callId = `ws-uas-bye-${Date.now()}`;
    client.send(
      request('INVITE', target, {
        branch: 'z9hG4bK-ws-inv2',
        callId,
        cseq: 1,
        to: `<${target}>`,
        extra: [`Contact: <sip:alice@${VIA_HOST};transport=ws>`],
      }),
    );
    const ok = await client.response('INVITE', 200);
    client.send(request('ACK', target, { branch: 'z9hG4bK-ws-ack2', callId, cseq: 1, to: ok.headers.get('To')! }));
    await uas.until((c) => c.length === 1 && c[0]!.acked);
    const dialog = uas.calls[0]!.dialog!;
    expect(dialog.remoteTarget).toBe(`sip:alice@${VIA_HOST};transport=ws`);
    expect(dialog.flow?.remote.transport).toBe('ws');

    const final = dialog.bye();
    const bye = await client.request('BYE');
    expect(bye.uri).toBe(`sip:alice@${VIA_HOST};transport=ws`);
    expect(bye.topVia().transport.toUpperCase()).toBe('WS');
    client.answer(bye, 200);
    expect((await final).status).toBe(200);
    expect(stack.stats().transport.connectionsAccepted).toBe(1);
  });

  it('calls a WS client over its connection; ACK and BYE follow it there, and fail with 503 once it closed', async () => {
    const ep = endpointOf(stack, 'ws');
    // The client shows up with an OPTIONS (as a REGISTER would): its flow is where we reach it.
    const seen = new Promise<IncomingRequest>((resolve) => {
      stack.once('request', (r: IncomingRequest) => {
        r.respond(200);
        resolve(r);
      });
    });
    client = await WsSipClient.open(`ws://${ep.host}:${ep.port}/`);
    client.send(optionsRequest('WS', VIA_HOST, `${ep.host}:${ep.port}`));
    const flow = (await seen).source;

    const contact = `sip:alice@${VIA_HOST};transport=ws`;
    const call = stack.invite(contact, { dest: flow });
    const invite = await client.request('INVITE');
    client.answer(invite, 200, { toTag: 'ws-callee', headers: [['Contact', `<${contact}>`]] });
    const ic = await call;
    expect((await ic.final).status).toBe(200);
    const dialog: Dialog = ic.dialog!;
    expect(dialog.flow).toMatchObject({ remote: { transport: 'ws', address: flow.address, port: flow.port } });
    // RFC 3261 §13.2.2.4: the ACK for the 2xx goes to the remote target — over the WS.
    const ack = await client.request('ACK');
    expect(ack.uri).toBe(contact);

    const byeDone = dialog.bye();
    const bye = await client.request('BYE');
    client.answer(bye, 200);
    expect((await byeDone).status).toBe(200);

    // A second call on the same flow, then the client goes away: no way left to reach it.
    const call2 = stack.invite(contact, { dest: flow });
    const invites = (): SipRequest[] => client!.received.filter((m): m is SipRequest => m.kind === 'request' && m.method === 'INVITE');
    await until(() => invites().length === 2, 2000, 'the second INVITE');
    const second = invites()[1]!;
    client.answer(second, 200, { toTag: 'ws-callee-2', headers: [['Contact', `<${contact}>`]] });
    const ic2 = await call2;
    expect((await ic2.final).status).toBe(200);
    client.close();
    client = undefined;
    await until(() => stack.stats().transport.connectionsOpen === 0, 2000, 'the WS to close');
    const err = await ic2.dialog!.bye().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SipError);
    expect((err as SipError).status).toBe(503);
  });
});
