// Test helpers for the transaction layer tests: a real TransportLayer on 127.0.0.1 wired to a
// TransactionLayer on a ManualClock, and raw node:dgram / node:net peers that speak SIP as text.
// Not used by production code.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ManualClock } from '../../lib/clock.js';
import { parseMessage, type SipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { TransportLayer, type Endpoint } from '../transport/index.js';
import { TransactionLayer } from './layer.js';
import { DEFAULT_TIMERS } from './timers.js';

export type Proto = 'udp' | 'tcp';

/** A raw SIP peer: sends wire text, receives parsed messages. */
export interface Peer {
  readonly proto: Proto;
  /** Where the layer sends requests to reach this peer. */
  readonly endpoint: Endpoint;
  /** The sent-by this peer puts in its Via. */
  readonly sentBy: string;
  send(text: string): Promise<void>;
  /** The next message, or undefined after `ms`. */
  recv(ms?: number): Promise<SipMessage | undefined>;
  close(): void;
}

class Inbox {
  readonly #queue: SipMessage[] = [];
  #waiters: Array<(m: SipMessage) => void> = [];

  push(m: SipMessage): void {
    const w = this.#waiters.shift();
    if (w) w(m);
    else this.#queue.push(m);
  }

  recv(ms: number): Promise<SipMessage | undefined> {
    const m = this.#queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => {
      const w = (x: SipMessage): void => {
        clearTimeout(t);
        resolve(x);
      };
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((f) => f !== w);
        resolve(undefined);
      }, ms);
      this.#waiters.push(w);
    });
  }
}

export class UdpPeer implements Peer {
  readonly proto = 'udp';
  readonly #inbox = new Inbox();
  private constructor(
    readonly socket: UdpSocket,
    readonly target: Endpoint,
  ) {
    socket.on('message', (b) => this.#inbox.push(parseMessage(b)));
  }

  static async open(target: Endpoint): Promise<UdpPeer> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new UdpPeer(s, target);
  }

  get endpoint(): Endpoint {
    return { transport: 'udp', address: '127.0.0.1', port: this.socket.address().port };
  }

  get sentBy(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }

  send(text: string): Promise<void> {
    return new Promise((res, rej) => this.socket.send(text, this.target.port, this.target.address, (e) => (e ? rej(e) : res())));
  }

  recv(ms = 1000): Promise<SipMessage | undefined> {
    return this.#inbox.recv(ms);
  }

  close(): void {
    this.socket.close();
  }
}

/** Splits a TCP byte stream into SIP messages by Content-Length (RFC 3261 §18.3). */
function frame(buf: Buffer, out: (m: SipMessage) => void): Buffer {
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return buf;
    const head = buf.subarray(0, end).toString('latin1');
    const m = /\r\n(?:Content-Length|l)\s*:\s*(\d+)/i.exec(head);
    const total = end + 4 + (m ? Number(m[1]) : 0);
    if (buf.length < total) return buf;
    out(parseMessage(Buffer.from(buf.subarray(0, total))));
    buf = buf.subarray(total);
  }
}

/** A TCP peer that both listens (the layer connects to it) and can connect to the layer. */
export class TcpPeer implements Peer {
  readonly proto = 'tcp';
  readonly #inbox = new Inbox();
  #sock: Socket | undefined;
  readonly #all: Socket[] = [];

  private constructor(
    readonly server: Server,
    readonly target: Endpoint,
  ) {
    server.on('connection', (s) => this.#adopt(s));
  }

  static async open(target: Endpoint): Promise<TcpPeer> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new TcpPeer(server, target);
  }

  #adopt(s: Socket): void {
    this.#sock = s;
    this.#all.push(s);
    let pending: Buffer = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      pending = frame(Buffer.concat([pending, c]), (m) => this.#inbox.push(m));
    });
    s.on('error', () => undefined);
  }

  get endpoint(): Endpoint {
    const a = this.server.address();
    return { transport: 'tcp', address: '127.0.0.1', port: typeof a === 'object' && a ? a.port : 0 };
  }

  get sentBy(): string {
    return `127.0.0.1:${this.endpoint.port}`;
  }

  async send(text: string): Promise<void> {
    if (!this.#sock) {
      const s = connect({ port: this.target.port, host: this.target.address });
      await once(s, 'connect');
      this.#adopt(s);
    }
    const s = this.#sock!;
    await new Promise<void>((res, rej) => s.write(text, (e) => (e ? rej(e) : res())));
  }

  recv(ms = 1000): Promise<SipMessage | undefined> {
    return this.#inbox.recv(ms);
  }

  close(): void {
    for (const s of this.#all) s.destroy();
    this.server.close();
  }
}

export interface Rig {
  clock: ManualClock;
  transport: TransportLayer;
  layer: TransactionLayer;
  /** Our listening endpoint for `proto`. */
  local: Endpoint;
  peer: Peer;
  close(): Promise<void>;
}

/** A real TransportLayer on 127.0.0.1 (ephemeral port), a TransactionLayer on a ManualClock, a raw peer. */
export async function rig(proto: Proto): Promise<Rig> {
  const transport = new TransportLayer();
  const [local] = await transport.listen([{ transport: proto, address: '127.0.0.1', port: 0 }]);
  const clock = new ManualClock();
  const layer = new TransactionLayer(transport, { clock, timers: DEFAULT_TIMERS });
  transport.on('message', (m) => layer.receive(m));
  const peer = proto === 'udp' ? await UdpPeer.open(local) : await TcpPeer.open(local);
  return {
    clock,
    transport,
    layer,
    local,
    peer,
    async close() {
      layer.close();
      peer.close();
      await transport.close();
    },
  };
}

export interface ReqSpec {
  method?: string;
  uri?: string;
  /** Full Via header value(s), top first. */
  via: string[];
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string;
  maxForwards?: number | null;
  extra?: string[];
}

/** A request as wire text. */
export function request(s: ReqSpec): string {
  const method = s.method ?? 'INVITE';
  const lines = [
    `${method} ${s.uri ?? 'sip:bob@127.0.0.1'} SIP/2.0`,
    ...s.via.map((v) => `Via: ${v}`),
    ...(s.maxForwards === null ? [] : [`Max-Forwards: ${s.maxForwards ?? 70}`]),
    `From: <sip:alice@example.com>;tag=${s.fromTag ?? 'a1'}`,
    `To: <sip:bob@example.com>${s.toTag ? `;tag=${s.toTag}` : ''}`,
    `Call-ID: ${s.callId ?? 'call-1'}`,
    `CSeq: ${s.cseq ?? 1} ${s.cseqMethod ?? method}`,
    ...(s.extra ?? []),
    'Content-Length: 0',
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A response to a request received by a peer, as wire text (copies Via, From, To, Call-ID, CSeq). */
export function responseTo(req: SipRequest, status: number, reason: string, toTag?: string): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of req.headers.getAll('Via')) lines.push(`Via: ${v}`);
  lines.push(`From: ${req.headers.get('From')}`);
  const to = req.headers.get('To') ?? '';
  lines.push(`To: ${toTag && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to}`);
  lines.push(`Call-ID: ${req.callId()}`, `CSeq: ${req.headers.get('CSeq')}`, 'Content-Length: 0');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function isResponse(m: SipMessage | undefined, status?: number): m is SipResponse {
  return m !== undefined && m.kind === 'response' && (status === undefined || m.status === status);
}

export function isRequest(m: SipMessage | undefined, method?: string): m is SipRequest {
  return m !== undefined && m.kind === 'request' && (method === undefined || m.method === method);
}

/** Lets socket I/O that is already under way complete (real time, short). */
export function settle(ms = 30): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Receives until `pred` holds, returning that message (others are skipped); undefined on timeout. */
export async function recvUntil(peer: Peer, pred: (m: SipMessage) => boolean, ms = 1000): Promise<SipMessage | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) return undefined;
    const m = await peer.recv(left);
    if (m === undefined) return undefined;
    if (pred(m)) return m;
  }
}

/** Resolves with the arguments of the next `event`, or rejects after `ms`. */
export async function nextEvent<T extends unknown[] = unknown[]>(em: NodeJS.EventEmitter, event: string, ms = 1000): Promise<T> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  try {
    return (await once(em, event, { signal: ac.signal })) as T;
  } finally {
    clearTimeout(t);
  }
}
