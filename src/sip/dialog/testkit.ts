// Test support for the dialog layer and the stack: a raw UDP peer that sends hand-written SIP
// and collects what the stack sends back, and a SipConfig for loopback stacks. Not shipped code.
import { createSocket, type Socket } from 'node:dgram';
import type { SipConfig } from '../../config/types.js';
import { parseMessage, serializeMessage, type SipMessage, type SipRequest, type SipResponse, type TransportName } from '../message/index.js';

export function loopbackConfig(transports: TransportName[] = ['udp'], timers = { t1: 500, t2: 4000, t4: 5000 }): SipConfig {
  return {
    listen: transports.map((transport) => ({ transport, address: '127.0.0.1', port: 0 })),
    timers,
    limits: { maxUdpBytes: 65535, maxStreamBytes: 65536, idleTimeoutSeconds: 60 },
    userAgent: 'Switchboard-test',
  };
}

/** CRLF-joined SIP text with a correct Content-Length. */
export function sipText(lines: string[], body = ''): string {
  return [...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

export type Pred = (m: SipMessage) => boolean;

export const isRequest =
  (method: string): Pred =>
  (m) =>
    m.kind === 'request' && m.method === method;
export const isResponse =
  (status: number, method?: string): Pred =>
  (m) =>
    m.kind === 'response' && m.status === status && (method === undefined || m.cseq().method === method);

export class RawUdpPeer {
  readonly #sock: Socket;
  readonly #queue: SipMessage[] = [];
  #waiters: { pred: Pred; resolve: (m: SipMessage) => void }[] = [];

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.on('message', (buf) => {
      let m: SipMessage;
      try {
        m = parseMessage(buf);
      } catch {
        return;
      }
      const i = this.#waiters.findIndex((w) => w.pred(m));
      if (i >= 0) {
        const [w] = this.#waiters.splice(i, 1);
        w.resolve(m);
      } else {
        this.#queue.push(m);
      }
    });
  }

  static async open(): Promise<RawUdpPeer> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    return new RawUdpPeer(sock);
  }

  get port(): number {
    return this.#sock.address().port;
  }

  send(msg: string | SipMessage, port: number): Promise<void> {
    const buf = typeof msg === 'string' ? Buffer.from(msg) : serializeMessage(msg);
    return new Promise((resolve, reject) => this.#sock.send(buf, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }

  /** The first message matching `pred` (queued or arriving within `ms`), removed from the queue. */
  next(pred: Pred = () => true, ms = 2000): Promise<SipMessage> {
    const i = this.#queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (m: SipMessage) => {
          clearTimeout(t);
          resolve(m);
        },
      };
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error('no matching SIP message arrived'));
      }, ms);
      this.#waiters.push(w);
    });
  }

  nextRequest(method: string, ms?: number): Promise<SipRequest> {
    return this.next(isRequest(method), ms) as Promise<SipRequest>;
  }

  nextResponse(status: number, method?: string, ms?: number): Promise<SipResponse> {
    return this.next(isResponse(status, method), ms) as Promise<SipResponse>;
  }

  /** Waits `ms` of real time and returns (and removes) everything queued that matches. */
  async collect(pred: Pred = () => true, ms = 50): Promise<SipMessage[]> {
    await new Promise((r) => setTimeout(r, ms));
    const out = this.#queue.filter(pred);
    for (const m of out) this.#queue.splice(this.#queue.indexOf(m), 1);
    return out;
  }

  close(): void {
    this.#sock.close();
  }
}
