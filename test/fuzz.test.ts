// A bounded, reproducible fuzz storm against a live stack over UDP and TCP: valid SIP messages
// mutated (byte flips, truncations, duplicated / removed headers, huge headers, bad
// Content-Length, bad start lines, random garbage) from a fixed seed. Afterwards the stack must
// still answer a clean OPTIONS with 200 on both transports, the process must have seen no
// uncaught exception or unhandled rejection, and the transport counters must show that the
// garbage was noticed (parse errors, 400s, over-size messages).
// A crasher found here goes to src/sip/message/fixtures/crashers/ (see rfc4475/SOURCE.md).
import { createSocket, type Socket } from 'node:dgram';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/lib/prng.js';
import { SipStack, attachDefaultCore } from '../src/sip/index.js';
import { LOOPBACK, TcpPeer, UdpPeer, endpointOf, isIdle, isResponseTo, loopbackConfig, optionsRequest, sleep, until } from './support/net.js';

const SEED = 0x4475_5eed;
const UDP_MESSAGES = 5000;
const TCP_CONNECTIONS = 100;
const MESSAGES_PER_CONNECTION = 20;
/** The storm stops here whatever the counts say, so the test stays bounded on a slow machine. */
const STORM_BUDGET_MS = 14_000;
const MAX_UDP_BYTES = 8192;
const MAX_STREAM_BYTES = 16384;

type Rand = () => number;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const SDP = 'v=0\r\no=fz 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40006 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n';

/** Valid messages whose top Via is `sentBy` (our socket) with rport, so answers come back to us. */
function seeds(transport: 'UDP' | 'TCP', sentBy: string, target: string, n: number): string[] {
  const via = `Via: SIP/2.0/${transport} ${sentBy};branch=z9hG4bK-fz${n};rport`;
  const common = (method: string, cseq: number, toTag = ''): string[] => [
    via,
    'Max-Forwards: 70',
    `From: "Fuzz" <sip:fuzz@example.invalid>;tag=fz${n}`,
    `To: <sip:svc@${target}>${toTag}`,
    `Call-ID: fz-${n}@example.invalid`,
    `CSeq: ${cseq} ${method}`,
  ];
  const msg = (start: string, lines: string[], body = '', type?: string): string =>
    [start, ...lines, ...(type ? [`Content-Type: ${type}`] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  return [
    msg(`OPTIONS sip:svc@${target} SIP/2.0`, [...common('OPTIONS', 1), 'Accept: application/sdp']),
    msg(`INVITE sip:svc@${target} SIP/2.0`, [...common('INVITE', 2), `Contact: <sip:fuzz@${sentBy}>`, 'Supported: timer'], SDP, 'application/sdp'),
    msg(`REGISTER sip:${target} SIP/2.0`, [...common('REGISTER', 3), `Contact: <sip:fuzz@${sentBy}>;expires=60`]),
    msg(`BYE sip:svc@${target} SIP/2.0`, common('BYE', 4, ';tag=abc')),
    msg(`MESSAGE sip:svc@${target} SIP/2.0`, common('MESSAGE', 5), 'hello, world', 'text/plain'),
    msg(`CANCEL sip:svc@${target} SIP/2.0`, common('CANCEL', 2)),
    msg('SIP/2.0 200 OK', common('INVITE', 2, ';tag=xyz'), SDP, 'application/sdp'),
    msg('SIP/2.0 180 Ringing', common('INVITE', 2, ';tag=xyz')),
  ];
}

function splitHead(s: string): { lines: string[]; body: string } {
  const i = s.indexOf('\r\n\r\n');
  return i < 0 ? { lines: s.split('\r\n'), body: '' } : { lines: s.slice(0, i).split('\r\n'), body: s.slice(i + 4) };
}
const join = (lines: string[], body: string): string => `${lines.join('\r\n')}\r\n\r\n${body}`;

const MUTATORS: readonly ((r: Rand, s: string) => Buffer | string)[] = [
  // byte flips
  (r, s) => {
    const b = Buffer.from(s);
    for (let k = 1 + int(r, 8); k > 0; k--) {
      const i = int(r, b.length);
      b[i] = b[i]! ^ (1 + int(r, 255));
    }
    return b;
  },
  // truncation
  (r, s) => Buffer.from(s).subarray(0, int(r, Buffer.byteLength(s))),
  // duplicated header
  (r, s) => {
    const { lines, body } = splitHead(s);
    const i = 1 + int(r, lines.length - 1);
    lines.splice(i, 0, lines[i] ?? 'Via: SIP/2.0/UDP 127.0.0.1');
    return join(lines, body);
  },
  // removed header
  (r, s) => {
    const { lines, body } = splitHead(s);
    lines.splice(1 + int(r, lines.length - 1), 1);
    return join(lines, body);
  },
  // huge header (sometimes over the size limits)
  (r, s) => {
    const { lines, body } = splitHead(s);
    const size = pick(r, [1000, 5000, 8000, 12000, 20000, 60000]);
    const name = pick(r, ['X-Huge', 'Subject', 'Via', 'Contact', 'Route']);
    const filler = name === 'Via' ? `SIP/2.0/UDP ${'h'.repeat(size)}.invalid` : name === 'Contact' || name === 'Route' ? `<sip:${'u'.repeat(size)}@x>` : 'a'.repeat(size);
    lines.splice(1 + int(r, lines.length - 1), 0, `${name}: ${filler}`);
    return join(lines, body);
  },
  // bad Content-Length
  (r, s) => {
    const { lines, body } = splitHead(s);
    const v = pick(r, ['-1', '99999999', 'abc', '', '1e3', ' 0x10', String(body.length + 1 + int(r, 500)), String(Math.max(0, body.length - 1 - int(r, 20))), '18446744073709551616']);
    return join(lines.filter((l) => !/^(content-length|l)\s*:/i.test(l)).concat(`Content-Length: ${v}`), body);
  },
  // bad start line
  (r, s) => {
    const { lines, body } = splitHead(s);
    lines[0] = pick(r, [
      'INVITE sip:x SIP/3.0',
      'SIP/2.0 99999 Huge',
      'SIP/2.0 2000 OK',
      ' OPTIONS sip:x SIP/2.0',
      'OPTIONS  sip:x  SIP/2.0',
      'OPTIONS <sip:x> SIP/2.0',
      'OPTIONS sip:x SIP/2.0 ',
      'OPT\0IONS sip:x SIP/2.0',
      'HTTP/1.1 200 OK',
      'GET / HTTP/1.1',
      '',
      `${'A'.repeat(3000)} sip:x SIP/2.0`,
    ]);
    return join(lines, body);
  },
  // random garbage
  (r) => {
    const b = Buffer.alloc(1 + int(r, 1500));
    for (let i = 0; i < b.length; i++) b[i] = int(r, 256);
    return b;
  },
  // bytes inserted (NUL, CR, LF, high bytes, separators) at random places
  (r, s) => {
    let out = s;
    for (let k = 1 + int(r, 6); k > 0; k--) {
      const i = int(r, out.length);
      out = out.slice(0, i) + pick(r, ['\0', '\r', '\n', '\r\n', '\r\n\r\n', ';', ',', ':', '<', '"', '\\', '\u00ff', '%00', ' \t ']) + out.slice(i);
    }
    return out;
  },
  // two messages glued together
  (r, s) => s + s.slice(0, int(r, s.length)),
  // header values replaced with hostile ones
  (r, s) => {
    const { lines, body } = splitHead(s);
    const i = 1 + int(r, lines.length - 1);
    const name = (lines[i] ?? 'X').split(':')[0];
    lines[i] = `${name}: ${pick(r, ['', ';;;;', ',,,,', '<>', '<sip:>', 'sip:@', '"unterminated <sip:a@b>', '4294967296 INVITE', '-1', 'SIP/2.0/UDP', 'SIP/2.0/UDP [::1', `${'x;'.repeat(2000)}`])}`;
    return join(lines, body);
  },
];

/** One mutated message; never one that could steer an answer off loopback (maddr). */
function mutate(r: Rand, base: string): Buffer {
  for (;;) {
    let out: Buffer | string = base;
    for (let k = 1 + int(r, 2); k > 0; k--) out = pick(r, MUTATORS)(r, typeof out === 'string' ? out : out.toString('latin1'));
    const b = typeof out === 'string' ? Buffer.from(out, 'latin1') : out;
    if (!/maddr/i.test(b.toString('latin1')) && b.length > 0) return b;
  }
}

const processErrors: { kind: string; err: unknown }[] = [];
const onUncaught = (err: unknown): void => {
  processErrors.push({ kind: 'uncaughtException', err });
};
const onUnhandled = (err: unknown): void => {
  processErrors.push({ kind: 'unhandledRejection', err });
};

/** The last messages sent, to name a crasher when something does go wrong. */
const recent: Buffer[] = [];
function remember(b: Buffer): void {
  recent.push(b);
  if (recent.length > 10) recent.shift();
}

let stack: SipStack;

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  const cfg = loopbackConfig(['udp', 'tcp']);
  cfg.limits = { maxUdpBytes: MAX_UDP_BYTES, maxStreamBytes: MAX_STREAM_BYTES, idleTimeoutSeconds: 5 };
  stack = await SipStack.start(cfg);
  attachDefaultCore(stack);
});

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
  await stack?.close();
});

async function udpStorm(r: Rand, port: number, deadline: number): Promise<number> {
  const sock: Socket = createSocket('udp4');
  sock.on('message', () => undefined);
  sock.on('error', () => undefined);
  await new Promise<void>((resolve) => sock.bind(0, LOOPBACK, resolve));
  const bases = seeds('UDP', `${LOOPBACK}:${sock.address().port}`, `${LOOPBACK}:${port}`, 1);
  let sent = 0;
  try {
    for (let n = 0; n < UDP_MESSAGES && Date.now() < deadline; n++) {
      // A clean message now and then keeps transactions (and their answers) in the mix.
      const b = r() < 0.05 ? Buffer.from(pick(r, bases).replace(/fz1\b/g, `fz1-${n}`)) : mutate(r, pick(r, bases));
      remember(b);
      await new Promise<void>((resolve) => sock.send(b, port, LOOPBACK, () => resolve()));
      sent++;
      // Let the stack breathe: loopback drops datagrams when the receive buffer overflows.
      if (n % 25 === 0) await sleep(1);
    }
  } finally {
    sock.close();
  }
  return sent;
}

/** One TCP connection: a burst of mutated messages, then end; the stack may close it first. */
function tcpBurst(r: Rand, port: number, deadline: number): Promise<number> {
  return new Promise((resolve) => {
    const c = createConnection({ host: LOOPBACK, port });
    let sent = 0;
    const done = (): void => {
      clearTimeout(t);
      c.destroy();
      resolve(sent);
    };
    const t = setTimeout(done, 1000);
    c.on('error', done);
    c.on('close', done);
    c.on('data', () => undefined);
    c.on('connect', () => {
      const bases = seeds('TCP', `${LOOPBACK}:${c.localPort}`, `${LOOPBACK}:${port}`, 2);
      for (let k = 0; k < MESSAGES_PER_CONNECTION && Date.now() < deadline && !c.destroyed; k++) {
        const b = mutate(r, pick(r, bases));
        remember(b);
        c.write(b);
        sent++;
      }
      c.end();
    });
  });
}

/** Connections four at a time; each has its own PRNG so the bytes do not depend on timing. */
async function tcpStorm(seed: number, port: number, deadline: number): Promise<number> {
  let sent = 0;
  for (let i = 0; i < TCP_CONNECTIONS && Date.now() < deadline; i += 4) {
    const burst = await Promise.all([0, 1, 2, 3].map((j) => tcpBurst(mulberry32(seed + i + j), port, deadline)));
    sent += burst.reduce((a, b) => a + b, 0);
  }
  return sent;
}

describe('fuzz storm', () => {
  it(`survives mutated SIP over UDP and TCP (seed ${SEED.toString(16)})`, async () => {
    const r = mulberry32(SEED);
    const deadline = Date.now() + STORM_BUDGET_MS;
    const udp = endpointOf(stack, 'udp');
    const tcp = endpointOf(stack, 'tcp');
    const [udpSent, tcpSent] = await Promise.all([udpStorm(r, udp.port, deadline), tcpStorm(SEED + 1, tcp.port, deadline)]);
    // The storm really happened, even if the budget cut it short.
    expect(udpSent).toBeGreaterThan(500);
    expect(tcpSent).toBeGreaterThan(200);
    await sleep(200);

    const crashInfo = (): string =>
      `${JSON.stringify(processErrors.map((e) => ({ kind: e.kind, err: String((e.err as Error)?.stack ?? e.err) })))}\nlast messages (base64):\n${recent.map((b) => b.toString('base64')).join('\n')}`;
    expect(processErrors, crashInfo()).toEqual([]);

    // Still up: a clean OPTIONS on each transport is answered 200.
    const u = await UdpPeer.open();
    try {
      await u.send(optionsRequest('UDP', `${LOOPBACK}:${u.port}`, `${LOOPBACK}:${udp.port}`, 'after-udp'), udp.port);
      const res = await u.wait(isResponseTo('OPTIONS'), 3000, 'OPTIONS answer over UDP');
      expect(res.kind === 'response' && res.status).toBe(200);
    } finally {
      u.close();
    }
    const t = await TcpPeer.connect(tcp.port);
    try {
      t.send(optionsRequest('TCP', `${LOOPBACK}:${t.localPort}`, `${LOOPBACK}:${tcp.port}`, 'after-tcp'));
      const res = await t.wait(isResponseTo('OPTIONS'), 3000, 'OPTIONS answer over TCP');
      expect(res.kind === 'response' && res.status).toBe(200);
    } finally {
      t.close();
    }

    const s = stack.stats();
    expect(s.transport.received).toBeGreaterThan(500);
    expect(s.transport.parseErrors).toBeGreaterThan(100);
    expect(s.transport.rejected).toBeGreaterThan(0);
    expect(s.transport.tooLarge).toBeGreaterThan(0);
    // Some mutants were still valid requests and reached the UA core.
    expect(s.transaction.serverStarted).toBeGreaterThan(0);
    // Nothing the storm started leaks: every transaction ends by its timers (64*T1 = 1.28 s).
    await until(() => isIdle(stack), 5000, () => `not idle after the storm: ${JSON.stringify(stack.dump())}`);
    expect(processErrors, crashInfo()).toEqual([]);
  }, 30_000);
});
