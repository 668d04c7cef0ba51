// Test helpers for the transport tests: SIP message builders and small loopback peers written
// with node:dgram / node:net / node:tls. Not used by production code.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReqOpts {
  method?: string;
  uri?: string;
  via: string;
  callId?: string;
  cseq?: number;
  body?: string;
  /** false: omit Content-Length; a number: write that value instead of the body length. */
  contentLength?: number | false;
  extra?: string[];
}

/** A minimal valid request as wire text. */
export function sipRequest(o: ReqOpts): string {
  const method = o.method ?? 'OPTIONS';
  const body = o.body ?? '';
  const lines = [
    `${method} ${o.uri ?? 'sip:service@127.0.0.1'} SIP/2.0`,
    `Via: ${o.via}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:service@example.com>',
    `Call-ID: ${o.callId ?? `call-${Math.random().toString(36).slice(2)}`}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    ...(o.extra ?? []),
  ];
  if (o.contentLength !== false) lines.push(`Content-Length: ${o.contentLength ?? Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export function sipResponse(via: string, status = 200, reason = 'OK'): string {
  return [
    `SIP/2.0 ${status} ${reason}`,
    `Via: ${via}`,
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:service@example.com>;tag=b2',
    'Call-ID: resp-1',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Resolves with the first argument of the next `event`, or rejects after `ms`. */
export async function next<T = unknown>(em: EventEmitter, event: string, ms = 3000): Promise<T> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  try {
    const [v] = await once(em, event, { signal: ac.signal });
    return v as T;
  } finally {
    clearTimeout(t);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A UDP peer on loopback collecting datagrams. */
export class UdpPeer {
  readonly socket: UdpSocket;
  readonly received: Buffer[] = [];
  #waiters: Array<(b: Buffer) => void> = [];

  private constructor(socket: UdpSocket) {
    this.socket = socket;
    socket.on('message', (b) => {
      const w = this.#waiters.shift();
      if (w) w(b);
      else this.received.push(b);
    });
  }

  static async open(address = '127.0.0.1'): Promise<UdpPeer> {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((r) => s.bind(0, address, () => r()));
    return new UdpPeer(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: string | Buffer, port: number, address = '127.0.0.1'): Promise<void> {
    return new Promise((res, rej) => this.socket.send(data, port, address, (e) => (e ? rej(e) : res())));
  }

  /** The next datagram, or undefined after `ms`. */
  recv(ms = 2000): Promise<Buffer | undefined> {
    const b = this.received.shift();
    if (b) return Promise.resolve(b);
    return new Promise((resolve) => {
      const w = (x: Buffer): void => {
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

  close(): void {
    this.socket.close();
  }
}

/** Accumulates everything a stream socket receives; `until()` waits for a condition on it. */
export class StreamPeer {
  data = '';
  ended = false;
  #check: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.data += c.toString('latin1');
      this.#check?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.#check?.();
    });
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<StreamPeer> {
    const s = connect({ port, host });
    await once(s, 'connect');
    return new StreamPeer(s);
  }

  write(d: string | Buffer): void {
    this.socket.write(d);
  }

  /** Waits until `pred(data, ended)` holds; rejects after `ms`. */
  until(pred: (data: string, ended: boolean) => boolean, ms = 3000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#check = undefined;
        reject(new Error(`timeout; got ${JSON.stringify(this.data)} ended=${this.ended}`));
      }, ms);
      this.#check = () => {
        if (pred(this.data, this.ended)) {
          clearTimeout(t);
          this.#check = undefined;
          resolve(this.data);
        }
      };
      this.#check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Number of complete SIP messages (start lines) in `data`. */
export function countStartLines(data: string, prefix = 'SIP/2.0 '): number {
  return data.split('\r\n').filter((l) => l.startsWith(prefix)).length;
}

export async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A throw-away self-signed certificate for localhost / 127.0.0.1 / ::1, made with openssl. */
export function selfSignedCert(): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { dir, cert, key };
}
