// SIP over WebSocket (RFC 7118) by hand with the `ws` client: the 'sip' subprotocol is
// negotiated, an OPTIONS is answered 200, and a whole call (INVITE, 180, 200, ACK, BYE, 200)
// runs over one WebSocket connection, which stays the flow for every message both ways.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SipStack, attachDefaultCore } from '../src/sip/index.js';
import { parseMessage, type SipMessage, type SipResponse } from '../src/sip/message/index.js';
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
});
