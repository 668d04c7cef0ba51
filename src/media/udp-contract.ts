// The MediaSocket contract, checked over loopback for both implementations (native rtp-io and
// Node's dgram) against plain dgram peers. Registered by the udp*.test.ts files, one per rtp-io
// mode (the add-on has one mode per process, read from SWITCHBOARD_RTP_IO_THREAD at load).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { DgramMediaSocket, type DatagramSource, type MediaSocket, type MediaSocketKind } from './udp.js';
import { NATIVE_RECV_BYTES, nativeIoMode, nativeIoStats, nativeLoadError, nativeMediaSockets, type RtpIoMode } from './udp-native.js';
import { sleep, until } from '../../test/support/wait.js';

const open: { close(): void }[] = [];
function closeAll(): void {
  for (const s of open.splice(0)) {
    try {
      s.close();
    } catch {
      // a peer the test closed itself
    }
  }
}


// Media sockets bind explicit ports, as the allocator does: on Linux, disconnecting a UDP socket
// that was bound to port 0 also drops its port. A range per test process (vitest forks).
const BASE = 54000 + (process.pid % 20) * 400;
let nextPort = BASE;

async function bindMedia(kind: MediaSocketKind, address = '127.0.0.1'): Promise<MediaSocket> {
  const bind = kind === 'native' ? nativeMediaSockets() : DgramMediaSocket.bind;
  if (!bind) throw nativeLoadError() ?? new Error('native sockets unavailable');
  for (let tries = 0; tries < 400; tries++) {
    const port = nextPort;
    nextPort = nextPort + 1 >= BASE + 400 ? BASE : nextPort + 1;
    const s = await bind(address, port, {});
    if (!s) continue; // taken by someone else
    open.push(s);
    return s;
  }
  throw new Error('no free port');
}

async function peer(address = '127.0.0.1'): Promise<Socket> {
  const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  open.push(s);
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  return s;
}

interface Got {
  text: string;
  from: { address: string; port: number };
}
/** Records every datagram (copied: the socket may reuse buffer and source) and every error. */
function record(s: MediaSocket): { got: Got[]; errors: Error[]; sources: DatagramSource[] } {
  const r = { got: [] as Got[], errors: [] as Error[], sources: [] as DatagramSource[] };
  s.setHandlers({
    datagram: (buf, len, from) => {
      r.got.push({ text: buf.toString('latin1', 0, len), from: { address: from.address, port: from.port } });
      r.sources.push(from);
    },
    error: (err) => r.errors.push(err),
  });
  return r;
}

function received(p: Socket): { msg: string; rinfo: RemoteInfo }[] {
  const out: { msg: string; rinfo: RemoteInfo }[] = [];
  p.on('message', (m, rinfo) => out.push({ msg: m.toString('latin1'), rinfo }));
  return out;
}

/** Registers the contract tests; `mode` is the rtp-io mode this process runs (checked). */
export function mediaSocketContract(mode: RtpIoMode): void {
afterEach(closeAll);

it(`runs the rtp-io add-on in mode ${mode}`, () => {
  expect(nativeLoadError()).toBeNull();
  expect(nativeIoMode()).toBe(mode);
  expect(nativeIoStats()!.threaded).toBe(mode !== 'off');
});

describe.each(['native', 'dgram'] as const)('MediaSocket (%s)', (kind) => {
  it('delivers datagrams with their length and source, telling two senders apart', async () => {
    const s = await bindMedia(kind);
    expect(s.kind).toBe(kind);
    const r = record(s);
    const a = await peer();
    const b = await peer();
    a.send('one', s.port, '127.0.0.1');
    await until(() => r.got.length === 1);
    a.send('two!', s.port, '127.0.0.1');
    await until(() => r.got.length === 2);
    b.send('three', s.port, '127.0.0.1');
    await until(() => r.got.length === 3);
    a.send('4', s.port, '127.0.0.1');
    await until(() => r.got.length === 4);
    expect(r.got).toEqual([
      { text: 'one', from: { address: '127.0.0.1', port: a.address().port } },
      { text: 'two!', from: { address: '127.0.0.1', port: a.address().port } },
      { text: 'three', from: { address: '127.0.0.1', port: b.address().port } },
      { text: '4', from: { address: '127.0.0.1', port: a.address().port } },
    ]);
    expect(r.errors).toEqual([]);
  });

  it('sends with sendTo and, once connected, with send (views with an offset too), from its own port', async () => {
    const s = await bindMedia(kind);
    record(s);
    const p = await peer();
    const got = received(p);
    const backing = Buffer.from('xxhello worldyy');
    const view = backing.subarray(2, 13); // 'hello world'
    s.sendTo(view, 0, 5, p.address().port, '127.0.0.1');
    await until(() => got.length === 1);
    expect(s.connect(p.address().port, '127.0.0.1')).toBe(true);
    expect(s.connected).toBe(true);
    s.send(view, 6, 5);
    s.send(backing, 0, 2);
    await until(() => got.length === 3);
    expect(got.map((g) => g.msg)).toEqual(['hello', 'world', 'xx']);
    for (const g of got) expect(g.rinfo.port).toBe(s.port);
  });

  it('once connected, the kernel drops other sources; disconnect lets them in again', async () => {
    const s = await bindMedia(kind);
    const r = record(s);
    const p = await peer();
    const other = await peer();
    expect(s.connect(p.address().port, '127.0.0.1')).toBe(true);
    other.send('foreign', s.port, '127.0.0.1');
    p.send('peer', s.port, '127.0.0.1');
    await until(() => r.got.length === 1);
    await sleep(30);
    expect(r.got.map((g) => g.text)).toEqual(['peer']);
    s.disconnect();
    expect(s.connected).toBe(false);
    other.send('foreign again', s.port, '127.0.0.1');
    await until(() => r.got.length === 2);
    expect(r.got[1]).toEqual({ text: 'foreign again', from: { address: '127.0.0.1', port: other.address().port } });
  });

  it('connect takes IP literals only', async () => {
    const s = await bindMedia(kind);
    expect(s.connect(5004, 'localhost')).toBe(false);
    expect(s.connected).toBe(false);
  });

  it('reports an ICMP port-unreachable as an error and keeps working', async () => {
    const s = await bindMedia(kind);
    const r = record(s);
    const gone = await peer();
    const deadPort = gone.address().port;
    gone.close();
    expect(s.connect(deadPort, '127.0.0.1')).toBe(true);
    for (let i = 0; i < 3 && r.errors.length === 0; i++) {
      s.send(Buffer.from('ping'), 0, 4);
      await sleep(20);
    }
    expect(r.errors.length).toBeGreaterThan(0);
    expect((r.errors[0] as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    s.disconnect();
    const p = await peer();
    p.send('still alive', s.port, '127.0.0.1');
    await until(() => r.got.length === 1);
    expect(r.got[0]!.text).toBe('still alive');
  });

  it('works over IPv6', async () => {
    const s = await bindMedia(kind, '::1');
    const r = record(s);
    const p = await peer('::1');
    const got = received(p);
    p.send('v6', s.port, '::1');
    await until(() => r.got.length === 1);
    expect(r.got[0]).toEqual({ text: 'v6', from: { address: '::1', port: p.address().port } });
    s.sendTo(Buffer.from('back'), 0, 4, p.address().port, '::1');
    await until(() => got.length === 1);
    expect(got[0]!.msg).toBe('back');
  });

  it('close is idempotent; a closed socket neither sends nor delivers', async () => {
    const s = await bindMedia(kind);
    const r = record(s);
    const p = await peer();
    const got = received(p);
    s.close();
    s.close();
    s.sendTo(Buffer.from('late'), 0, 4, p.address().port, '127.0.0.1');
    p.send('to nobody', s.port, '127.0.0.1');
    await sleep(30);
    expect(got).toEqual([]);
    expect(r.got).toEqual([]);
  });

  it('close frees the port for the next socket at once', async () => {
    const bind = kind === 'native' ? nativeMediaSockets()! : DgramMediaSocket.bind;
    const s = await bindMedia(kind);
    const port = s.port;
    s.close();
    const again = await bind('127.0.0.1', port, {});
    expect(again?.port).toBe(port);
    const r = record(again!);
    const p = await peer();
    p.send('new owner', port, '127.0.0.1');
    await until(() => r.got.length === 1);
    again!.close();
  });
});

describe('MediaSocket (native only)', () => {
  it('drops a datagram longer than its buffer with an error, then goes on', async () => {
    const s = await bindMedia('native');
    const r = record(s);
    const p = await peer();
    p.send(Buffer.alloc(NATIVE_RECV_BYTES + 1, 1), s.port, '127.0.0.1');
    p.send('after', s.port, '127.0.0.1');
    await until(() => r.got.length === 1);
    expect(r.errors.map((e) => e.message)).toEqual([`datagram longer than ${NATIVE_RECV_BYTES} bytes dropped`]);
    expect(r.got[0]!.text).toBe('after');
  });

  it('reuses one source object while the source stays the same (no allocation per datagram)', async () => {
    const s = await bindMedia('native');
    const r = record(s);
    const p = await peer();
    for (let i = 0; i < 3; i++) {
      p.send(`n${i}`, s.port, '127.0.0.1');
      await until(() => r.got.length === i + 1);
    }
    expect(new Set(r.sources).size).toBe(1);
  });

  it('sendTo a host name resolves it once, then sends', async () => {
    const s = await bindMedia('native');
    record(s);
    const p = await peer();
    const got = received(p);
    const deadline = Date.now() + 2000;
    while (got.length === 0 && Date.now() < deadline) {
      s.sendTo(Buffer.from('by name'), 0, 7, p.address().port, 'localhost');
      await sleep(10);
    }
    expect(got[0]?.msg).toBe('by name');
  });

  it('delivers one datagram to each of 300 sockets in far fewer batches than datagrams', async () => {
    const socks = await Promise.all(Array.from({ length: 300 }, () => bindMedia('native')));
    let n = 0;
    const seen = new Set<number>();
    for (const s of socks) {
      s.setHandlers({
        datagram: (buf, len) => {
          n++;
          seen.add(Number(buf.toString('latin1', 0, len)));
        },
        error: () => {},
      });
    }
    const before = nativeIoStats()!;
    const p = await peer();
    // Sent back to back; the receiver has not run in between, so they queue up and come in batches.
    for (const s of socks) p.send(String(s.port), s.port, '127.0.0.1');
    await until(() => n === 300);
    const after = nativeIoStats()!;
    expect(seen).toEqual(new Set(socks.map((s) => s.port)));
    expect(after.datagrams - before.datagrams).toBe(300);
    expect(after.batches - before.batches).toBeLessThan(150);
  });
});
}
