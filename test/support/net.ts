// Loopback helpers shared by the integration tests: a SipConfig with ephemeral ports and small
// timers, free-port discovery, waiting for a port to be bound, polling, and raw UDP / TCP peers
// that send hand-written SIP and collect what comes back. Only 127.0.0.1 is ever used.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Socket as TcpSocket } from 'node:net';
import type { SipConfig, SipTimersConfig } from '../../src/config/types.js';
import type { SipStack, TransportName } from '../../src/sip/index.js';
import { StreamFramer, parseMessage, type SipMessage } from '../../src/sip/message/index.js';

export const LOOPBACK = '127.0.0.1';

/** T1 = 20 ms: Timers J / L / H (64*T1) end after 1.28 s, so a test can wait for an empty dump. */
export const FAST_TIMERS: SipTimersConfig = { t1: 20, t2: 320, t4: 400 };

export function loopbackConfig(transports: TransportName[], timers: SipTimersConfig = FAST_TIMERS): SipConfig {
  return {
    listen: transports.map((transport) => ({ transport, address: LOOPBACK, port: 0 })),
    timers: { ...timers },
    limits: { maxUdpBytes: 65535, maxStreamBytes: 65536, idleTimeoutSeconds: 60 },
    userAgent: 'Switchboard-it',
  };
}

export function endpointOf(stack: SipStack, transport: TransportName): { host: string; port: number } {
  const ep = stack.endpoints.find((e) => e.transport === transport);
  if (ep === undefined) throw new Error(`stack does not listen on ${transport}`);
  return { host: ep.address, port: ep.port };
}

import { sleep } from './wait.js';
export { sleep, until } from './wait.js';

/** True when the stack keeps nothing per call: no dialog, request or transaction left. */
export function isIdle(stack: SipStack): boolean {
  const d = stack.dump();
  return (
    d.dialogs === 0 &&
    d.dialogIds === 0 &&
    d.serverRequests === 0 &&
    d.clientRequests === 0 &&
    (d.serverTransactions ?? 0) === 0 &&
    (d.clientTransactions ?? 0) === 0
  );
}

/** A port that was free a moment ago on 127.0.0.1 for both UDP and TCP (bind 0, close). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, LOOPBACK, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr !== null ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (await udpPortFree(port)) return port;
  }
  throw new Error('no free port found');
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, LOOPBACK, () => s.close(() => resolve(true)));
  });
}

/** Whether some socket is bound to 127.0.0.1:port (UDP) or listening there (TCP), read from
 *  /proc/net so that probing cannot steal the port from the process that is about to bind it. */
function portBound(port: number, transport: 'udp' | 'tcp'): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let table: string;
  try {
    table = readFileSync(`/proc/net/${transport}`, 'utf8');
  } catch {
    throw new Error('waitForBound needs /proc/net (Linux)');
  }
  return table.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    const state = f[3];
    if (local === undefined || !(local === `0100007F:${hexPort}` || local === `00000000:${hexPort}`)) return false;
    return transport === 'udp' || state === '0A';
  });
}

/** Waits until another process has bound `port` on 127.0.0.1 (TCP: is listening). */
export async function waitForBound(port: number, transport: 'udp' | 'tcp', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!portBound(port, transport)) {
    if (Date.now() > deadline) throw new Error(`nothing bound ${transport} port ${port} within ${timeoutMs} ms`);
    await sleep(25);
  }
}

type Pred = (m: SipMessage) => boolean;

export const isResponseTo =
  (method: string, status?: number): Pred =>
  (m) =>
    m.kind === 'response' && m.cseq().method === method && (status === undefined || m.status === status);

/** Collects parsed messages and lets a test wait for the first matching one. */
class Inbox {
  readonly received: SipMessage[] = [];
  #waiters: { pred: Pred; resolve: (m: SipMessage) => void }[] = [];

  push(m: SipMessage): void {
    this.received.push(m);
    const i = this.#waiters.findIndex((w) => w.pred(m));
    if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
  }

  /** The first message (already received or future) matching `pred`. */
  wait(pred: Pred, timeoutMs: number, what: string): Promise<SipMessage> {
    const seen = this.received.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
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
        reject(new Error(`no ${what} within ${timeoutMs} ms (got: ${this.received.map(summarize).join(' | ') || 'nothing'})`));
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }
}

export function summarize(m: SipMessage): string {
  return m.kind === 'response' ? `${m.status} (${m.cseq().method})` : `${m.method}`;
}

/** A raw UDP peer on 127.0.0.1 (ephemeral port). Every datagram is kept raw in `datagrams`;
 *  the ones our parser accepts also go to `inbox`, the others are counted in `unparsed`. */
export class UdpPeer {
  readonly inbox = new Inbox();
  readonly datagrams: Buffer[] = [];
  unparsed = 0;
  readonly #sock: Socket;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.on('message', (buf) => {
      this.datagrams.push(buf);
      try {
        this.inbox.push(parseMessage(buf));
      } catch {
        this.unparsed++;
      }
    });
  }

  static async open(): Promise<UdpPeer> {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, LOOPBACK, resolve));
    return new UdpPeer(sock);
  }

  get port(): number {
    return this.#sock.address().port;
  }

  send(data: Buffer | string, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.#sock.send(data, port, LOOPBACK, (err) => (err ? reject(err) : resolve())));
  }

  wait(pred: Pred, timeoutMs: number, what: string): Promise<SipMessage> {
    return this.inbox.wait(pred, timeoutMs, what);
  }

  close(): void {
    try {
      this.#sock.close();
    } catch {
      /* already closed */
    }
  }
}

/** A raw TCP connection to 127.0.0.1:port, framing what comes back. */
export class TcpPeer {
  readonly inbox = new Inbox();
  readonly #sock: TcpSocket;

  private constructor(sock: TcpSocket) {
    this.#sock = sock;
    const framer = new StreamFramer({ maxMessageBytes: 1 << 20 });
    sock.on('data', (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) {
        if (ev.type !== 'message') continue;
        try {
          this.inbox.push(parseMessage(ev.data));
        } catch {
          /* not for us to judge */
        }
      }
    });
    sock.on('error', () => undefined);
  }

  static connect(port: number): Promise<TcpPeer> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ host: LOOPBACK, port });
      s.once('connect', () => resolve(new TcpPeer(s)));
      s.once('error', reject);
    });
  }

  get localPort(): number {
    return this.#sock.localPort ?? 0;
  }

  send(data: Buffer | string): void {
    this.#sock.write(data);
  }

  wait(pred: Pred, timeoutMs: number, what: string): Promise<SipMessage> {
    return this.inbox.wait(pred, timeoutMs, what);
  }

  close(): void {
    this.#sock.destroy();
  }
}

/** A clean OPTIONS whose top Via names `sentBy` (with rport) over `transport`. */
export function optionsRequest(transport: 'UDP' | 'TCP' | 'WS', sentBy: string, target: string, tag = 'x'): string {
  const branch = `z9hG4bK-it-${tag}-${Math.random().toString(36).slice(2)}`;
  return [
    `OPTIONS sip:ping@${target} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${sentBy};branch=${branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:it@example.invalid>;tag=it-${tag}`,
    `To: <sip:ping@${target}>`,
    `Call-ID: it-${tag}-${branch}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

