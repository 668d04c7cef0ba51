'use strict';
// Standalone smoke test for the rtp-io add-on (native/rtp-io/rtp_io.c).
// Exercises every exported function over loopback (127.0.0.1 and ::1) against
// plain node:dgram peers, prints OK/FAIL per check, exits 1 on any failure.
// Run after `npm run build:native`:   node native/rtp-io/smoke.cjs
// Threaded mode (init(..., { thread: true })):  RTP_IO_THREAD=1 node native/rtp-io/smoke.cjs
// runs the same checks (adapted where the mode is inherently different: sends
// are queued and leave at the end of the JS turn) plus thread-only ones.
// Either threaded mode with RTP_IO_COALESCE_US=<us> (init option coalesceUs) also checks that
// the I/O thread then takes datagrams about once per window, not once per arrival.
// Threaded mode with sends on the JS thread (init(..., { thread: true, sendOnThread: false })):
//   RTP_IO_THREAD=1 RTP_IO_SEND_ON_THREAD=0 node native/rtp-io/smoke.cjs
// the I/O thread only receives (receive checks as in threaded mode), sends are
// synchronous syscalls on the JS thread (send checks as in poll mode).
// Some checks run short child processes of this same file (`--child <mode>`)
// because they are about how the process exits; they inherit the mode (env).

const path = require('node:path');
const dgram = require('node:dgram');
const os = require('node:os');
const { spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');

const ADDON = path.join(__dirname, 'build', 'Release', 'rtp_io.node');
const E = os.constants.errno;
// RECV_THREAD: an I/O thread exists (recv ring, async delivery, fd close deferred to the thread).
// SEND_QUEUED: sends go through the send ring to that thread (else: synchronous, as in poll mode).
const RECV_THREAD = process.env.RTP_IO_THREAD === '1';
const SEND_QUEUED = RECV_THREAD && process.env.RTP_IO_SEND_ON_THREAD !== '0';
// RTP_IO_COALESCE_US: the I/O thread's gathering window (init option coalesceUs; threaded modes).
const COALESCE_US = RECV_THREAD && process.env.RTP_IO_COALESCE_US ? Number(process.env.RTP_IO_COALESCE_US) : 0;
const INIT_OPTS = !RECV_THREAD
  ? undefined
  : { thread: true, ...(SEND_QUEUED ? {} : { sendOnThread: false }), ...(COALESCE_US > 0 ? { coalesceUs: COALESCE_US } : {}) };
const MODE = !RECV_THREAD ? 'poll' : SEND_QUEUED ? 'threaded' : 'threaded, sends on the JS thread';

// ---------------------------------------------------------------------------

let failures = 0;
function check(name, cond, detail) {
  console.log(`${cond ? 'OK  ' : 'FAIL'} ${name}${detail !== undefined ? ` (${detail})` : ''}`);
  if (!cond) failures++;
  return cond;
}
function throwsType(fn) {
  try {
    fn();
    return false;
  } catch (e) {
    return e instanceof TypeError;
  }
}
function throwsAny(fn) {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function until(pred, ms = 2000) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    (function tick() {
      if (pred()) return resolve(true);
      if (Date.now() - t0 > ms) return resolve(false);
      setTimeout(tick, 2);
    })();
  });
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// --- addon wiring: route batch entries to per-socket record arrays ---------
let rtp;
const META_ENTRIES = 1024;
const meta = new Int32Array(META_ENTRIES * 4);
const bufs = new Map(); // id -> registered recv Buffer
const recs = new Map(); // id -> [{ len, changed, port, data }]
let batchHook = null;
let batchesSeen = 0;

function onBatch(count) {
  batchesSeen++;
  for (let i = 0; i < count; i++) {
    const id = meta[i * 4];
    const len = meta[i * 4 + 1];
    const changed = meta[i * 4 + 2];
    const port = meta[i * 4 + 3];
    const rec = recs.get(id);
    if (rec) {
      // The buffer is only valid during this call: copy what we check later.
      rec.push({ len, changed, port, data: len >= 0 ? Buffer.from(bufs.get(id).subarray(0, len)) : null });
    }
  }
  if (batchHook) batchHook(count);
}

function openRtp(v6, addr, port = 0, size = 2048) {
  const buf = Buffer.alloc(size);
  const id = rtp.open(v6, addr, port, buf, 1 << 18, 1 << 18);
  if (id >= 0) {
    bufs.set(id, buf);
    recs.set(id, []);
  }
  return id;
}
function closeRtp(id) {
  bufs.delete(id);
  recs.delete(id);
  return rtp.close(id);
}

function peer(type, addr) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(type);
    s.msgs = [];
    s.on('message', (msg, rinfo) => s.msgs.push({ msg, rinfo }));
    s.once('error', reject);
    s.bind(0, addr, () => resolve(s));
  });
}
function dsend(sock, data, port, addr) {
  return new Promise((resolve, reject) => sock.send(data, port, addr, (err) => (err ? reject(err) : resolve())));
}
const closeSock = (s) => new Promise((r) => s.close(r));

// ---------------------------------------------------------------------------

async function main() {
  rtp = require(ADDON);
  console.log(`mode: ${MODE}${INIT_OPTS ? ` (init options ${JSON.stringify(INIT_OPTS)})` : ''}`);

  // --- API misuse -----------------------------------------------------------
  check('openCount() before init() throws', throwsAny(() => rtp.openCount()));
  check('init(Uint32Array) throws TypeError', throwsType(() => rtp.init(new Uint32Array(8), () => {})));
  check('init(Int32Array(2)) throws TypeError', throwsType(() => rtp.init(new Int32Array(2), () => {})));
  check('init(meta, non-function) throws TypeError', throwsType(() => rtp.init(meta, 5)));
  check('init(meta, fn, 5) throws TypeError', throwsType(() => rtp.init(meta, () => {}, 5)));
  check('init(meta, fn, {thread: "yes"}) throws TypeError', throwsType(() => rtp.init(meta, () => {}, { thread: 'yes' })));
  check('init(meta, fn, {thread: true, sendOnThread: "no"}) throws TypeError',
    throwsType(() => rtp.init(meta, () => {}, { thread: true, sendOnThread: 'no' })));
  for (const bad of [-1, 20001, 1.5, '200']) {
    check(`init(meta, fn, {thread: true, coalesceUs: ${JSON.stringify(bad)}}) throws TypeError`,
      throwsType(() => rtp.init(meta, () => {}, { thread: true, coalesceUs: bad })));
  }
  rtp.init(meta, onBatch, INIT_OPTS);
  check('init() succeeds', true);
  check('second init() throws', throwsAny(() => rtp.init(meta, onBatch, INIT_OPTS)));
  check(`stats().threaded is ${RECV_THREAD}`, rtp.stats().threaded === RECV_THREAD);
  check('openCount() is 0 after init', rtp.openCount() === 0);

  const b = Buffer.alloc(16);
  check('open(ipv6 non-boolean) throws TypeError', throwsType(() => rtp.open(1, '127.0.0.1', 0, b, 0, 0)));
  check('open(address non-string) throws TypeError', throwsType(() => rtp.open(false, 127, 0, b, 0, 0)));
  check('open(port string) throws TypeError', throwsType(() => rtp.open(false, '127.0.0.1', '0', b, 0, 0)));
  check('open(recvBuffer string) throws TypeError', throwsType(() => rtp.open(false, '127.0.0.1', 0, 'x', 0, 0)));
  check('open(rcvbuf missing) throws TypeError', throwsType(() => rtp.open(false, '127.0.0.1', 0, b)));
  check('send(buf string) throws TypeError', throwsType(() => rtp.send(0, 'abc', 0, 1)));
  check('send(buf DataView) throws TypeError', throwsType(() => rtp.send(0, new DataView(new ArrayBuffer(4)), 0, 1)));
  check('send(id string) throws TypeError', throwsType(() => rtp.send('0', b, 0, 1)));
  check('sendTo(address number) throws TypeError', throwsType(() => rtp.sendTo(0, b, 0, 1, 9, 5)));
  check('close(id string) throws TypeError', throwsType(() => rtp.close('x')));
  check('connect(port string) throws TypeError', throwsType(() => rtp.connect(0, '9', '127.0.0.1')));
  check('open(unparsable address) returns -EINVAL', rtp.open(false, 'not-an-ip', 0, b, 0, 0) === -E.EINVAL);
  check('open(IPv6 literal on IPv4) returns -EINVAL', rtp.open(false, '::1', 0, b, 0, 0) === -E.EINVAL);
  check('open(port 70000) returns -EINVAL', rtp.open(false, '127.0.0.1', 70000, b, 0, 0) === -E.EINVAL);
  check('openCount() still 0 after failed opens', rtp.openCount() === 0);

  await familyTests(false);
  await familyTests(true);
  await reentrancyTests();
  await exceptionTest();
  await manySockets(500);
  await workerTest();
  await exitAfterSendTest();
  if (RECV_THREAD) await threadTests();
  await timing();

  const st = rtp.stats();
  const keys = ['batches', 'datagrams', 'rounds', 'recvErrors', 'sendQueued', 'sendErrors', 'sendRingFull', 'recvRingFull', 'wakeups', 'asyncCallbacks'];
  check(`stats() has numeric ${keys.join('/')}`, keys.every((k) => typeof st[k] === 'number'), JSON.stringify(st));
  check('stats().batches matches onBatch calls', st.batches === batchesSeen, `${st.batches} vs ${batchesSeen}`);
  if (RECV_THREAD && !SEND_QUEUED) {
    // (the send ring still carries CLOSE commands, so sendRingBytes may be nonzero here)
    check('js-sends: no send of the whole run went through the send ring or the I/O thread',
      st.sendQueued === 0 && st.sent === 0 && st.sendRingFull === 0 && st.sendErrors === 0 && st.sendDropped === 0,
      `sendQueued=${st.sendQueued} sent=${st.sent} sendRingFull=${st.sendRingFull} sendErrors=${st.sendErrors}`);
  }

  childTests();

  check('openCount() is 0 at the end', rtp.openCount() === 0, rtp.openCount());
  console.log(failures ? `\n${failures} check(s) FAILED` : '\nall checks passed');
  process.exitCode = failures ? 1 : 0;
  // Natural exit is itself a check (uv_unref of the poll handle): if
  // something keeps the loop alive, this unref'd timer fires and fails.
  setTimeout(() => {
    console.log('FAIL process did not exit by itself within 3 s');
    process.exit(1);
  }, 3000).unref();
  process.on('exit', (code) => console.log(`process exiting by itself, code ${code}`));
}

// ---------------------------------------------------------------------------

async function familyTests(v6) {
  const fam = v6 ? 'IPv6' : 'IPv4';
  const addr = v6 ? '::1' : '127.0.0.1';
  const type = v6 ? 'udp6' : 'udp4';
  const base = rtp.openCount();

  const id = openRtp(v6, addr);
  check(`${fam} open(port 0) returns id >= 0`, id >= 0, `id=${id}`);
  const port = rtp.localPort(id);
  check(`${fam} localPort() is an ephemeral port`, port > 0 && port < 65536, `port=${port}`);
  check(`${fam} openCount() incremented`, rtp.openCount() === base + 1);
  check(`${fam} source() is null before any datagram`, rtp.source(id) === null);

  const A = await peer(type, addr);
  const B = await peer(type, addr);
  const aPort = A.address().port;
  const bPort = B.address().port;
  const rec = recs.get(id);

  // three datagrams from A
  const d3 = Buffer.alloc(300);
  for (let i = 0; i < d3.length; i++) d3[i] = (i * 7) & 0xff;
  await dsend(A, Buffer.from('first'), port, addr);
  await dsend(A, Buffer.from('second!!'), port, addr);
  await dsend(A, d3, port, addr);
  check(`${fam} 3 datagrams from peer A delivered`, await until(() => rec.length >= 3), `got ${rec.length}`);
  check(`${fam} lengths match`, same(rec.slice(0, 3).map((r) => r.len), [5, 8, 300]), JSON.stringify(rec.map((r) => r.len)));
  check(`${fam} contents match the registered buffer`,
    rec[0]?.data?.toString() === 'first' && rec[1]?.data?.toString() === 'second!!' && rec[2]?.data?.equals(d3));
  check(`${fam} sourceChanged = [1,0,0]`, same(rec.slice(0, 3).map((r) => r.changed), [1, 0, 0]));
  check(`${fam} sourcePort = A's port`, rec.slice(0, 3).every((r) => r.port === aPort));
  check(`${fam} source() = [addr, A port]`, same(rtp.source(id), [addr, aPort]), JSON.stringify(rtp.source(id)));

  // second peer
  await dsend(B, Buffer.from('from-b'), port, addr);
  check(`${fam} datagram from peer B delivered`, await until(() => rec.length >= 4));
  check(`${fam} new source B -> changed=1, port=B`, rec[3]?.changed === 1 && rec[3]?.port === bPort && rec[3]?.data?.toString() === 'from-b');
  check(`${fam} source() = [addr, B port]`, same(rtp.source(id), [addr, bPort]));
  await dsend(A, Buffer.from('back-to-a'), port, addr);
  await dsend(A, Buffer.from('a-again'), port, addr);
  await until(() => rec.length >= 6);
  check(`${fam} back to A -> changed=1 then 0`, rec[4]?.changed === 1 && rec[5]?.changed === 0 && rec[5]?.port === aPort);

  // sendTo
  const payload = Buffer.from('sendTo-payload');
  let r = rtp.sendTo(id, payload, 0, payload.length, aPort, addr);
  check(`${fam} sendTo returns length`, r === payload.length, r);
  await until(() => A.msgs.length >= 1);
  check(`${fam} sendTo bytes arrive at peer, from our port`,
    A.msgs[0]?.msg.equals(payload) && A.msgs[0]?.rinfo.port === port);
  const big = Buffer.from('XXXXhello-viewYYYY');
  r = rtp.sendTo(id, big, 4, 10, aPort, addr); // same address: cached path
  await until(() => A.msgs.length >= 2);
  check(`${fam} sendTo with offset (cached address)`, r === 10 && A.msgs[1]?.msg.toString() === 'hello-view');
  const ab = new ArrayBuffer(32);
  new Uint8Array(ab).set(Buffer.from('....abcdefgh....'));
  const view = new Uint8Array(ab, 4, 8);
  r = rtp.sendTo(id, view, 0, 8, aPort, addr);
  const r2 = rtp.sendTo(id, view, 2, 3, aPort, addr);
  await until(() => A.msgs.length >= 4);
  check(`${fam} sendTo of a view with byteOffset=4`, r === 8 && A.msgs[2]?.msg.toString() === 'abcdefgh', A.msgs[2]?.msg.toString());
  check(`${fam} sendTo of a view with byteOffset=4 and offset=2`, r2 === 3 && A.msgs[3]?.msg.toString() === 'cde', A.msgs[3]?.msg.toString());
  r = rtp.sendTo(id, payload, 0, 4, bPort, addr); // same string, other port: cache must miss
  await until(() => B.msgs.length >= 1);
  check(`${fam} sendTo to another port after cache (peer B)`, r === 4 && B.msgs[0]?.msg.toString() === 'send');
  check(`${fam} sendTo out-of-range offset+length -> -EINVAL`, rtp.sendTo(id, view, 6, 3, aPort, addr) === -E.EINVAL);
  check(`${fam} sendTo negative offset -> -EINVAL`, rtp.sendTo(id, view, -1, 2, aPort, addr) === -E.EINVAL);
  check(`${fam} sendTo unparsable address -> -EINVAL`, rtp.sendTo(id, payload, 0, 3, aPort, 'nope') === -E.EINVAL);
  check(`${fam} sendTo wrong-family address -> -EINVAL`,
    rtp.sendTo(id, payload, 0, 3, aPort, v6 ? '127.0.0.1' : '::1') === -E.EINVAL);
  check(`${fam} sendTo port 70000 -> -EINVAL`, rtp.sendTo(id, payload, 0, 3, 70000, addr) === -E.EINVAL);

  // connect + send
  check(`${fam} connect() returns 0`, rtp.connect(id, aPort, addr) === 0);
  const cs = Buffer.from('connected-send');
  r = rtp.send(id, cs, 0, cs.length);
  check(`${fam} send() on connected socket returns length`, r === cs.length, r);
  const pooled = Buffer.from('zzconnected-viewzz').subarray(2, 16);
  check(`${fam} (pooled subarray has nonzero byteOffset)`, pooled.byteOffset > 0, `byteOffset=${pooled.byteOffset}`);
  r = rtp.send(id, pooled, 0, pooled.length);
  const u8 = new Uint8Array(ab, 4, 8);
  const r3 = rtp.send(id, u8, 1, 6);
  await until(() => A.msgs.length >= 7);
  check(`${fam} connect+send bytes arrive`, A.msgs[4]?.msg.equals(cs));
  check(`${fam} connect+send of a Buffer subarray view`, r === 14 && A.msgs[5]?.msg.toString() === 'connected-view', A.msgs[5]?.msg.toString());
  check(`${fam} connect+send of a Uint8Array view with offset`, r3 === 6 && A.msgs[6]?.msg.toString() === 'bcdefg', A.msgs[6]?.msg.toString());
  check(`${fam} send() out of range -> -EINVAL`, rtp.send(id, u8, 0, 9) === -E.EINVAL);
  const n0 = rec.length;
  await dsend(B, Buffer.from('dropped'), port, addr);
  await dsend(A, Buffer.from('kept'), port, addr);
  await until(() => rec.length > n0);
  await sleep(30);
  check(`${fam} connected: peer A received, other source dropped by kernel`,
    rec.length === n0 + 1 && rec[n0].data.toString() === 'kept', rec.slice(n0).map((x) => x.data?.toString()).join(','));

  // disconnect
  check(`${fam} disconnect() returns 0`, rtp.disconnect(id) === 0);
  check(`${fam} localPort() unchanged after disconnect`, rtp.localPort(id) === port, rtp.localPort(id));
  const n1 = rec.length;
  await dsend(B, Buffer.from('after-disc'), port, addr);
  check(`${fam} after disconnect other sources are received again`,
    (await until(() => rec.length > n1)) && rec[n1].data.toString() === 'after-disc' && rec[n1].changed === 1);

  // truncation
  const tid = openRtp(v6, addr, 0, 64);
  const tport = rtp.localPort(tid);
  const trec = recs.get(tid);
  await dsend(A, Buffer.alloc(200, 1), tport, addr);
  await dsend(A, Buffer.from('0123456789'), tport, addr);
  await until(() => trec.length >= 2);
  check(`${fam} datagram larger than buffer -> -EMSGSIZE entry`, trec[0]?.len === -E.EMSGSIZE, trec[0]?.len);
  check(`${fam} next datagram after truncation is intact`, trec[1]?.len === 10 && trec[1]?.data.toString() === '0123456789');

  // port already bound
  check(`${fam} open() on our own bound port -> -EADDRINUSE (-98)`, rtp.open(v6, addr, port, b16(), 0, 0) === -E.EADDRINUSE);
  check(`${fam} open() on a dgram-bound port -> -EADDRINUSE (-98)`, rtp.open(v6, addr, aPort, b16(), 0, 0) === -E.EADDRINUSE);
  if (v6) {
    // IPV6_V6ONLY: a v6 wildcard socket may share the port number with a v4 one.
    const v4 = openRtp(false, '0.0.0.0', 0);
    const p4 = rtp.localPort(v4);
    const v6w = openRtp(true, '::', p4);
    check('IPv6 IPV6_V6ONLY: [::]:P binds while 0.0.0.0:P is ours', v6w >= 0, `port=${p4} id=${v6w}`);
    closeRtp(v4);
    if (v6w >= 0) closeRtp(v6w);
  }

  // ICMP port unreachable on a connected socket
  const iid = openRtp(v6, addr);
  const irec = recs.get(iid);
  const gone = await peer(type, addr);
  const gonePort = gone.address().port;
  await closeSock(gone);
  check(`${fam} connect() to a closed port returns 0`, rtp.connect(iid, gonePort, addr) === 0);
  const sendResults = [];
  const ok = await until(() => {
    if (irec.some((x) => x.len < 0)) return true;
    const s = rtp.send(iid, Buffer.from('ping'), 0, 4);
    sendResults.push(s);
    return s < 0;
  }, 2000);
  const errEntry = irec.find((x) => x.len < 0);
  check(`${fam} ICMP unreachable surfaces as a negative errno, no crash`, ok,
    errEntry ? `batch entry ${errEntry.len}` : `send results ${sendResults.join(',')}`);

  // close
  for (const x of [tid, iid]) closeRtp(x);
  check(`${fam} close() returns 0`, closeRtp(id) === 0);
  check(`${fam} close() again returns -EBADF (idempotent)`, rtp.close(id) === -E.EBADF);
  check(`${fam} close(unknown ids) returns -EBADF`, rtp.close(99999) === -E.EBADF && rtp.close(-1) === -E.EBADF);
  check(`${fam} calls on a closed id return -EBADF / null`,
    rtp.localPort(id) === -E.EBADF && rtp.send(id, payload, 0, 1) === -E.EBADF &&
    rtp.sendTo(id, payload, 0, 1, aPort, addr) === -E.EBADF && rtp.connect(id, aPort, addr) === -E.EBADF &&
    rtp.disconnect(id) === -E.EBADF && rtp.source(id) === null);
  check(`${fam} openCount() back to ${base}`, rtp.openCount() === base, rtp.openCount());
  await closeSock(A);
  await closeSock(B);
}
function b16() {
  return Buffer.alloc(16);
}

// ---------------------------------------------------------------------------

async function reentrancyTests() {
  const addr = '127.0.0.1';
  const P = await peer('udp4', addr);
  const X = openRtp(false, addr);
  const Y = openRtp(false, addr);
  const xp = rtp.localPort(X);
  const yp = rtp.localPort(Y);
  let Z = -1;
  let sawBoth = false;
  let sendInside = null;
  batchHook = (count) => {
    const ids = [];
    for (let i = 0; i < count; i++) ids.push(meta[i * 4]);
    if (!ids.includes(X) && !ids.includes(Y)) return;
    batchHook = null;
    sawBoth = ids.includes(X) && ids.includes(Y);
    // close both (one may still have a later entry in this batch), open a new one, send
    rtp.close(X);
    rtp.close(Y);
    Z = openRtp(false, addr);
    sendInside = rtp.sendTo(Z, Buffer.from('re'), 0, 2, P.address().port, addr);
  };
  // queue both datagrams before the loop polls so they land in one batch
  P.send('x', xp, addr);
  P.send('y', yp, addr);
  await until(() => Z >= 0);
  check('re-entrant close()/open()/sendTo() inside onBatch', Z >= 0 && sendInside === 2, `Z=${Z} sendTo=${sendInside} bothInOneBatch=${sawBoth}`);
  check('closed ids are not reused within the same callback', Z !== X && Z !== Y, `X=${X} Y=${Y} Z=${Z}`);
  recs.delete(X);
  recs.delete(Y);
  bufs.delete(X);
  bufs.delete(Y);
  // after the next poll callback begins, X and Y become reusable
  const zrec = recs.get(Z);
  await dsend(P, Buffer.from('z'), rtp.localPort(Z), addr);
  await until(() => zrec.length >= 1);
  const W = openRtp(false, addr);
  check('closed ids become reusable after the next poll callback', W === X || W === Y, `W=${W}`);
  closeRtp(W);
  closeRtp(Z);
  await closeSock(P);
}

async function exceptionTest() {
  const addr = '127.0.0.1';
  const P = await peer('udp4', addr);
  const id = openRtp(false, addr);
  const port = rtp.localPort(id);
  const rec = recs.get(id);
  let caught = null;
  const handler = (err) => {
    caught = err;
  };
  process.on('uncaughtException', handler);
  batchHook = () => {
    batchHook = null;
    throw new Error('boom-from-onBatch');
  };
  await dsend(P, Buffer.from('t1'), port, addr);
  await until(() => caught !== null);
  check('exception thrown in onBatch reaches process uncaughtException', caught?.message === 'boom-from-onBatch', caught?.message);
  await dsend(P, Buffer.from('t2'), port, addr);
  check('datagrams still delivered after a throwing onBatch', await until(() => rec.some((r) => r.data?.toString() === 't2')));
  process.off('uncaughtException', handler);
  closeRtp(id);
  await closeSock(P);
}

async function manySockets(N) {
  const addr = '127.0.0.1';
  const P = await peer('udp4', addr);
  const ids = [];
  for (let i = 0; i < N; i++) {
    const id = openRtp(false, addr, 0, 256);
    if (id < 0) break;
    ids.push(id);
  }
  check(`${N} sockets opened`, ids.length === N && rtp.openCount() === N, `openCount=${rtp.openCount()}`);
  const ports = ids.map((id) => rtp.localPort(id));
  const b0 = rtp.stats().batches;
  for (let i = 0; i < N; i++) P.send(`pkt-${i}`, ports[i], addr);
  const all = await until(() => ids.every((id) => recs.get(id).length >= 1), 5000);
  const batches = rtp.stats().batches - b0;
  const correct = ids.every((id, i) => {
    const r = recs.get(id);
    return r.length === 1 && r[0].data.toString() === `pkt-${i}` && r[0].changed === 1;
  });
  check(`${N} sockets each received their one datagram`, all && correct);
  check(`${N} datagrams arrived in fewer than ${N} batches`, batches < N, `batches=${batches}`);
  for (const id of ids) closeRtp(id);
  check(`openCount() is 0 after closing ${N} sockets`, rtp.openCount() === 0);
  await closeSock(P);
}

async function workerTest() {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const rtp = require(workerData);
    const res = {};
    try { rtp.init(new Int32Array(8), () => {}); res.init = 'returned'; } catch (e) { res.init = 'threw'; }
    try { rtp.openCount(); res.openCount = 'returned'; } catch (e) { res.openCount = 'threw'; }
    parentPort.postMessage(res);`;
  const res = await new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: ADDON });
    w.once('message', resolve);
    w.once('error', reject);
  });
  check('worker thread: init() and calls throw (single env only)', res.init === 'threw' && res.openCount === 'threw', JSON.stringify(res));
}

// A datagram sent right before process.exit() in the same JS turn still leaves (threaded mode:
// exit() skips the env cleanup hook; an atexit handler lets the I/O thread drain the send ring;
// with sends on the JS thread it left synchronously, as in poll mode).
async function exitAfterSendTest() {
  const P = await peer('udp4', '127.0.0.1');
  const r = spawnSync(process.execPath, [__filename, '--child', 'exit-after-send', String(P.address().port)], { timeout: 10000, encoding: 'utf8' });
  const got = await until(() => P.msgs.some((m) => m.msg.toString() === 'exit-words'), 2000);
  check('child: a datagram sent right before process.exit() is delivered', r.status === 0 && got,
    `status=${r.status} signal=${r.signal} received=${got} err=${r.stderr.trim()}`);
  await closeSock(P);
}

// --- threaded modes only (an I/O thread exists) ----------------------------
// Blocks under `if (SEND_QUEUED)` are about sends going through the send ring; their
// counterparts under `else` (named "js-sends:") check that with sendOnThread: false the I/O
// thread only receives and sends behave as in poll mode.

const fs = require('node:fs');
const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const ringsIdle = () => {
  const st = rtp.stats();
  return st.sendRingBytes === 0 && st.recvRingBytes === 0;
};

// With a gathering window W the I/O thread looks at the sockets about once per W while traffic
// flows, not once per arrival: 100 datagrams sent ~1 ms apart (to 50 sockets in turn, so one
// window's datagrams fit one JS batch, which holds one per socket) must all arrive in far fewer
// I/O rounds and JS batches than datagrams (per-arrival wake-ups: ~100 each).
// A loaded machine only bunches the sends further, which lowers both counts.
async function coalesceTest(addr) {
  const p = await peer('udp4', addr);
  const rcv = Array.from({ length: 50 }, () => openRtp(false, addr));
  const ports = rcv.map((id) => rtp.localPort(id));
  const N = 100;
  const rounds0 = rtp.stats().ioRounds;
  const batches0 = batchesSeen;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await dsend(p, Buffer.from(`d${i}`), ports[i % rcv.length], addr);
    await sleep(1);
  }
  const span = performance.now() - t0;
  const arrived = () => rcv.reduce((n, id) => n + recs.get(id).length, 0);
  await until(() => arrived() === N, 3000);
  const rounds = rtp.stats().ioRounds - rounds0;
  const batches = batchesSeen - batches0;
  check(`coalesce ${COALESCE_US} us: all ${N} datagrams arrive`, arrived() === N, `${arrived()}`);
  const most = Math.ceil(span / (COALESCE_US / 1000)) * 2 + 10;
  check(`coalesce ${COALESCE_US} us: about one I/O round and one JS batch per window (${span.toFixed(0)} ms of sends: at most ${most})`,
    rounds <= most && batches <= most, `${rounds} rounds, ${batches} batches`);
  for (const id of rcv) closeRtp(id);
  await closeSock(p);
}

async function threadTests() {
  const addr = '127.0.0.1';
  const comms = fs.readdirSync('/proc/self/task').map((tid) => {
    try {
      return fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  });
  check('thread: an I/O thread named "rtp-io" runs', comms.filter((c) => c === 'rtp-io').length === 1, comms.join(','));
  const fd0 = fdCount();
  if (COALESCE_US >= 10000) await coalesceTest(addr);

  // 1,000 datagrams queued in one JS turn (10 senders x 100) arrive complete and in order per socket.
  {
    const snd = [];
    const rcv = [];
    for (let i = 0; i < 10; i++) {
      snd.push(openRtp(false, addr));
      rcv.push(openRtp(false, addr));
    }
    const rports = rcv.map((id) => rtp.localPort(id));
    const sports = snd.map((id) => rtp.localPort(id));
    const pkt = Buffer.alloc(8);
    let queued = 0;
    for (let k = 0; k < 100; k++) {
      for (let i = 0; i < 10; i++) {
        pkt.writeUInt32BE(i, 0);
        pkt.writeUInt32BE(k, 4);
        if (rtp.sendTo(snd[i], pkt, 0, 8, rports[i], addr) === 8) queued++;
      }
    }
    check(`thread: 1,000 sendTo() in one JS turn all ${SEND_QUEUED ? 'queued' : 'sent synchronously'} (returned 8)`, queued === 1000, `queued=${queued}`);
    const all = await until(() => rcv.every((id) => recs.get(id).length >= 100), 5000);
    const inOrder = rcv.every((id, i) => {
      const r = recs.get(id);
      return r.length === 100 && r.every((x, k) => x.len === 8 && x.data.readUInt32BE(0) === i && x.data.readUInt32BE(4) === k && x.port === sports[i]);
    });
    check('thread: all 1,000 arrive, in order per socket, from the right source port', all && inOrder,
      rcv.map((id) => recs.get(id).length).join(','));
    for (const id of [...snd, ...rcv]) closeRtp(id);
  }

  // close() right after send(): the queued packets still leave, through the old socket (checked
  // by source port), and a socket opened right after never carries the old stream. Rounds vary:
  // all in one turn; the new socket opened only once the I/O thread has closed the old fd (so the
  // kernel hands out the same fd number again); closes spread over turns.
  // (Sends on the JS thread: the packets left before close() returned; the fd close is still
  // deferred to the I/O thread, so the same expectations hold.)
  {
    const P = await peer('udp4', addr);
    const Q = await peer('udp4', addr);
    const ROUNDS = 200;
    const oldSent = [];
    const newSent = [];
    let allQueued = true;
    const q = (id, text, list) => {
      const m = Buffer.from(text);
      if (rtp.send(id, m, 0, m.length) !== m.length) allQueued = false;
      list.push(`${text}@${rtp.localPort(id)}`);
    };
    for (let r = 0; r < ROUNDS; r++) {
      const a = openRtp(false, addr);
      rtp.connect(a, P.address().port, addr);
      for (let k = 0; k < 3; k++) q(a, `old-${r}-${k}`, oldSent);
      const fds = fdCount();
      closeRtp(a);
      if (r % 4 === 3) await until(() => fdCount() < fds, 1000); // the I/O thread closed a's fd
      const b = openRtp(false, addr);
      rtp.connect(b, Q.address().port, addr);
      q(b, `new-${r}`, newSent);
      if (r % 4 === 0) closeRtp(b);
      else {
        await (r % 4 === 1 ? new Promise(setImmediate) : sleep(1));
        closeRtp(b);
      }
    }
    await until(() => P.msgs.length >= oldSent.length && Q.msgs.length >= newSent.length, 5000);
    await sleep(50);
    const got = (X) => X.msgs.map((m) => `${m.msg}@${m.rinfo.port}`);
    const pGot = got(P);
    const qGot = got(Q);
    check(`thread: close() right after send() still delivers every ${SEND_QUEUED ? 'queued' : 'sent'} packet, from the closed socket's port`,
      allQueued && same(pGot.slice().sort(), oldSent.slice().sort()), `sent ${oldSent.length}, peer got ${pGot.length}`);
    check('thread: the socket opened right after a close() never carries the old stream',
      same(qGot.slice().sort(), newSent.slice().sort()), `peer got ${qGot.length} (${qGot.filter((x) => !x.startsWith('new-')).length} foreign)`);
    check('thread: no send was dropped for a stale id', rtp.stats().sendDropped === 0);
    await closeSock(P);
    await closeSock(Q);
  }

  // Send ring full: 6 MB queued in one JS turn -> the overflow returns -ENOBUFS (counted), then
  // the ring drains and sending works again.
  if (SEND_QUEUED) {
    const sink = await peer('udp4', addr);
    const id = openRtp(false, addr);
    rtp.connect(id, sink.address().port, addr);
    const big = Buffer.alloc(1000, 0x41);
    const st0 = rtp.stats();
    let ok = 0;
    let nobufs = 0;
    let other = 0;
    for (let i = 0; i < 6000; i++) {
      const r = rtp.send(id, big, 0, big.length);
      if (r === big.length) ok++;
      else if (r === -E.ENOBUFS) nobufs++;
      else other++;
    }
    const st1 = rtp.stats();
    check('thread: 6 MB of sends in one turn -> overflow returns -ENOBUFS', ok > 3000 && nobufs > 0 && other === 0,
      `ok=${ok} ENOBUFS=${nobufs} other=${other}`);
    check('thread: stats().sendRingFull counts the -ENOBUFS returns', st1.sendRingFull - st0.sendRingFull === nobufs);
    check('thread: the full send ring drains', await until(() => rtp.stats().sendRingBytes === 0, 5000));
    const mk = Buffer.from('after-full');
    const r = rtp.send(id, mk, 0, mk.length);
    const got = await until(() => sink.msgs.some((m) => m.msg.toString() === 'after-full'), 3000);
    check('thread: sending works again after the ring was full', r === mk.length && got, `send=${r}`);
    closeRtp(id);
    await closeSock(sink);
  } else {
    // Sends on the JS thread: the same 6 MB burst never touches the send ring; every send() is a
    // synchronous syscall that returns the length (on loopback the receiver drops the excess).
    const sink = await peer('udp4', addr);
    const id = openRtp(false, addr);
    rtp.connect(id, sink.address().port, addr);
    const big = Buffer.alloc(1000, 0x41);
    const st0 = rtp.stats();
    let ok = 0;
    const other = new Set();
    for (let i = 0; i < 6000; i++) {
      const r = rtp.send(id, big, 0, big.length);
      if (r === big.length) ok++;
      else other.add(r);
    }
    const st1 = rtp.stats();
    check('js-sends: 6 MB of sends in one turn all return the length at once, the send ring is not used',
      ok === 6000 && st1.sendQueued === st0.sendQueued && st1.sendRingFull === st0.sendRingFull,
      `ok=${ok} other=${[...other].join(',')} sendQueued+=${st1.sendQueued - st0.sendQueued} sendRingFull+=${st1.sendRingFull - st0.sendRingFull}`);
    // let the sink read what its socket kept, then a marker still gets through
    for (let n = -1, i = 0; n !== sink.msgs.length && i < 100; i++) {
      n = sink.msgs.length;
      await sleep(20);
    }
    const mk = Buffer.from('after-burst');
    const r = rtp.send(id, mk, 0, mk.length);
    const got = await until(() => sink.msgs.some((m) => m.msg.toString() === 'after-burst'), 3000);
    check('js-sends: sending works after the burst', r === mk.length && got, `send=${r}`);
    closeRtp(id);
    await closeSock(sink);
  }

  // Send errors (ECONNREFUSED after ICMP on a connected socket) of one 50-packet burst: reported
  // as batch entries, at most one per socket per 100 ms from the send path (a recvmsg() may
  // pick up one more), the rest only counted.
  // A socket connected to a port nobody listens on any more: sends draw ICMP port unreachable.
  const connectedToGone = async () => {
    const gone = await peer('udp4', addr);
    const gonePort = gone.address().port;
    await closeSock(gone);
    const id = openRtp(false, addr);
    rtp.connect(id, gonePort, addr);
    return id;
  };
  const ping = Buffer.from('ping');
  if (SEND_QUEUED) {
    const id = await connectedToGone();
    const st0 = rtp.stats();
    for (let i = 0; i < 50; i++) rtp.send(id, ping, 0, 4);
    await until(() => rtp.stats().sendRingBytes === 0);
    await sleep(50);
    const st1 = rtp.stats();
    const errs = recs.get(id).filter((x) => x.len < 0);
    const sendErrs = st1.sendErrors - st0.sendErrors;
    const suppressed = st1.sendErrorsSuppressed - st0.sendErrorsSuppressed;
    check('thread: send errors arrive as batch entries (-ECONNREFUSED)', errs.length >= 1 && errs.every((x) => x.len === -E.ECONNREFUSED),
      errs.map((x) => x.len).join(','));
    check('thread: send errors are rate-limited (<= 1 per 100 ms from sends) and all counted',
      errs.length <= 2 && sendErrs >= 5 && suppressed >= sendErrs - 1, `entries=${errs.length} sendErrors=${sendErrs} suppressed=${suppressed}`);
    closeRtp(id);
  } else {
    // Sends on the JS thread: the error is returned by send() itself, as in poll mode, never
    // queued and reported later. The I/O thread, woken by EPOLLERR, may take a pending error
    // first with its recvmsg() (then it is a recv-error batch entry, as in poll mode), so send
    // in bursts until one send() returns it.
    const id = await connectedToGone();
    const st0 = rtp.stats();
    const results = [];
    const got = await until(() => {
      for (let i = 0; i < 20; i++) {
        const r = rtp.send(id, ping, 0, 4);
        results.push(r);
        if (r === -E.ECONNREFUSED) return true;
      }
      return false;
    }, 5000);
    await sleep(50); // let any recv-error entry reach JS
    const st1 = rtp.stats();
    const odd = results.filter((r) => r !== 4 && r !== -E.ECONNREFUSED);
    check('js-sends: send() itself returns -ECONNREFUSED (-111) after an ICMP on a connected socket', got && odd.length === 0,
      `${results.length} sends, last=${results[results.length - 1]}, unexpected=${odd.join(',')}`);
    const errs = recs.get(id).filter((x) => x.len < 0);
    check('js-sends: send errors are not queued for the I/O thread (error entries only from recvmsg())',
      st1.sendErrors === st0.sendErrors && st1.sendQueued === st0.sendQueued &&
      errs.every((x) => x.len === -E.ECONNREFUSED) && errs.length === st1.recvErrors - st0.recvErrors,
      `sendErrors+=${st1.sendErrors - st0.sendErrors} sendQueued+=${st1.sendQueued - st0.sendQueued} entries=${errs.map((x) => x.len).join(',')} recvErrors+=${st1.recvErrors - st0.recvErrors}`);
    closeRtp(id);
  }

  // Recv ring full: while the JS thread is blocked (spawnSync), a separate process sends 6 MB to 40
  // sockets with 64 KiB buffers; the I/O thread fills the 4 MiB ring, stops reading, and resumes
  // once JS drained it. Every datagram arrives, in order per socket.
  {
    const N = 40;
    const PER = 150;
    const ids = [];
    for (let i = 0; i < N; i++) ids.push(openRtp(false, addr, 0, 65536));
    const ports = ids.map((id) => rtp.localPort(id));
    const st0 = rtp.stats();
    const sender = `
      const dgram = require('node:dgram');
      const ports = JSON.parse(process.argv[1]);
      const s = dgram.createSocket('udp4');
      const buf = Buffer.alloc(1000, 0x42);
      let left = ports.length * ${PER};
      s.bind(0, '127.0.0.1', () => {
        for (let k = 0; k < ${PER}; k++) ports.forEach((p, i) => {
          const b = Buffer.from(buf);
          b.writeUInt32BE(i, 0);
          b.writeUInt32BE(k, 4);
          s.send(b, p, '127.0.0.1', () => { if (--left === 0) s.close(); });
        });
      });`;
    const r = spawnSync(process.execPath, ['-e', sender, JSON.stringify(ports)], { timeout: 20000, encoding: 'utf8' });
    const st1 = rtp.stats();
    check('thread: (flood sender ran)', r.status === 0, `status=${r.status} ${r.stderr}`);
    check('thread: recv ring filled up while JS was blocked (stats().recvRingFull)', st1.recvRingFull > st0.recvRingFull,
      `recvRingFull=${st1.recvRingFull - st0.recvRingFull} ringBytes=${st1.recvRingBytes}`);
    const all = await until(() => ids.every((id) => recs.get(id).length >= PER), 5000);
    const got = ids.reduce((n, id) => n + recs.get(id).length, 0);
    const inOrder = ids.every((id, i) => recs.get(id).every((x, k) => x.len === 1000 && x.data.readUInt32BE(0) === i && x.data.readUInt32BE(4) === k));
    check(`thread: after the ring drained all ${N * PER} datagrams arrived, in order per socket`, all && inOrder && got === N * PER, `got=${got}`);
    for (const id of ids) closeRtp(id);
  }

  // disconnect() of an auto-bound socket briefly unbinds it (Linux) and re-binds its port; the
  // I/O thread, busy sending on that very socket, must not slip a sendto() into that window (it
  // would bind the socket to a new random port).
  {
    const P = await peer('udp4', addr);
    const pkt = Buffer.alloc(100, 0x43);
    const port0 = [];
    let moved = 0;
    for (let round = 0; round < 10; round++) {
      const id = openRtp(false, addr);
      port0.push(rtp.localPort(id));
      pkt.writeUInt32BE(round, 0);
      for (let i = 0; i < 3000; i++) rtp.sendTo(id, pkt, 0, pkt.length, P.address().port, addr);
      await new Promise(setImmediate); // the I/O thread is sending them now (js-sends: already sent)
      const rc = rtp.disconnect(id);
      if (rc !== 0 || rtp.localPort(id) !== port0[round]) moved++;
      if (SEND_QUEUED) await until(() => rtp.stats().sendRingBytes === 0, 5000);
      closeRtp(id);
    }
    // let P read what the kernel queued for it (the count settles)
    for (let n = -1, i = 0; n !== P.msgs.length && i < 100; i++) {
      n = P.msgs.length;
      await sleep(20);
    }
    const foreign = P.msgs.filter((m) => m.rinfo.port !== port0[m.msg.readUInt32BE(0)]).length;
    check(SEND_QUEUED ? 'thread: disconnect() during a send burst keeps the port (no send in the re-bind window)'
      : 'js-sends: disconnect() right after a send burst keeps the port (no packet from another port)',
      moved === 0 && foreign === 0 && P.msgs.length > 0,
      `moved=${moved} received=${P.msgs.length} from another port=${foreign}`);
    await closeSock(P);
  }

  await until(ringsIdle, 2000);
  // (<=: fds of earlier tests, e.g. the worker's, may still be closing when fd0 is taken)
  await until(() => fdCount() <= fd0, 2000);
  check('thread: no fd leaked (the I/O thread closed every closed socket)', fdCount() <= fd0, `${fd0} -> ${fdCount()}`);
}

// ---------------------------------------------------------------------------

async function timing() {
  const N = 200000;
  const addr = '127.0.0.1';
  const sink = await peer('udp4', addr);
  sink.removeAllListeners('message'); // drain silently; drops are fine
  const sinkPort = sink.address().port;
  const payload = Buffer.alloc(172, 0x55); // 12-byte RTP header + 20 ms PCMU

  const st0 = rtp.stats();
  const id = openRtp(false, addr);
  check('timing: connect() native socket to sink', rtp.connect(id, sinkPort, addr) === 0);
  // Threaded mode: the send ring holds ~19,000 of these, so send in chunks and
  // let the I/O thread drain the ring between them (time counts the calls only).
  const CHUNK = SEND_QUEUED ? 2000 : N;
  async function sendLoop(n, fn) {
    let errs = 0;
    let ns = 0n;
    for (let done = 0; done < n; done += CHUNK) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < CHUNK && done + i < n; i++) if (fn() !== 172) errs++;
      ns += process.hrtime.bigint() - t0;
      if (SEND_QUEUED) await until(() => rtp.stats().sendRingBytes === 0, 5000);
    }
    return { errs, us: Number(ns) / 1000 / n };
  }
  await sendLoop(10000, () => rtp.send(id, payload, 0, payload.length));
  const r1 = await sendLoop(N, () => rtp.send(id, payload, 0, payload.length));
  const nativeUs = r1.us;
  check(`timing: ${N} native send() calls all returned 172`, r1.errs === 0, `errors=${r1.errs}`);
  // sendTo on a connected socket to the same address is allowed on Linux
  const r2 = await sendLoop(N, () => rtp.sendTo(id, payload, 0, payload.length, sinkPort, addr));
  const nativeToUs = r2.us;
  check(`timing: ${N} native sendTo() calls all returned 172`, r2.errs === 0, `errors=${r2.errs}`);
  if (SEND_QUEUED) {
    const st = rtp.stats();
    const d = (k) => st[k] - st0[k];
    check('timing: the I/O thread performed every queued send without error',
      d('sent') === d('sendQueued') && d('sendErrors') === 0 && d('sendDropped') === 0,
      `queued=${d('sendQueued')} sent=${d('sent')} errors=${d('sendErrors')} dropped=${d('sendDropped')}`);
  } else if (RECV_THREAD) {
    const st = rtp.stats();
    const d = (k) => st[k] - st0[k];
    check('js-sends: timing: every send was a syscall on the JS thread (nothing queued or sent by the I/O thread)',
      d('sendQueued') === 0 && d('sent') === 0 && d('sendErrors') === 0,
      `queued=${d('sendQueued')} sent=${d('sent')} errors=${d('sendErrors')}`);
  }
  closeRtp(id);

  const client = dgram.createSocket('udp4');
  await new Promise((r) => client.bind(0, addr, r));
  await new Promise((r) => client.connect(sinkPort, addr, r));
  for (let i = 0; i < 10000; i++) client.send(payload);
  await new Promise((r) => client.send(payload, r));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) client.send(payload);
  const tLoop = process.hrtime.bigint();
  await new Promise((r) => client.send(payload, r)); // wait until the queue has drained
  const t1 = process.hrtime.bigint();
  const dgramLoopUs = Number(tLoop - t0) / 1000 / N;
  const dgramUs = Number(t1 - t0) / 1000 / N;
  await closeSock(client);
  await closeSock(sink);

  const how = SEND_QUEUED ? ' (threaded: queued, JS thread only)' : RECV_THREAD ? ' (threaded, sends on the JS thread: synchronous)' : '';
  console.log(`TIME native send()   on connected socket: ${nativeUs.toFixed(3)} us/call (${N} calls)${how}`);
  console.log(`TIME native sendTo() (cached address):    ${nativeToUs.toFixed(3)} us/call (${N} calls)`);
  console.log(`TIME dgram socket.send() on connected socket: ${dgramUs.toFixed(3)} us/call incl. drain (${dgramLoopUs.toFixed(3)} us/call for the JS loop alone)`);
}

// ---------------------------------------------------------------------------

function childTests() {
  const run = (mode, timeout) =>
    spawnSync(process.execPath, [__filename, '--child', mode], { timeout, encoding: 'utf8' });

  let r = run('idle-exit', 10000);
  check('child: process exits by itself once all sockets are closed (uv_unref)',
    r.status === 0 && r.signal === null && /child-exit got=1 open=0/.test(r.stdout), `status=${r.status} signal=${r.signal} out=${r.stdout.trim()}`);

  r = run('stay-open', 1500);
  check('child: an open socket keeps the process alive (uv_ref)', r.signal === 'SIGTERM', `status=${r.status} signal=${r.signal}`);

  r = run('throw', 10000);
  check('child: uncaught throw in onBatch -> uncaught exception, exit code 1',
    r.status === 1 && /boom-from-onBatch/.test(r.stderr), `status=${r.status} signal=${r.signal}`);

  r = run('exit-open', 10000);
  check('child: process.exit() inside onBatch with sockets open, no crash',
    r.status === 0 && r.signal === null && /exit-open ok/.test(r.stdout), `status=${r.status} signal=${r.signal} err=${r.stderr.trim()}`);

  r = run('close-after-send', 10000);
  check('child: a datagram sent right before close() is delivered, then natural exit',
    r.status === 0 && r.signal === null && /got last-words/.test(r.stdout), `status=${r.status} signal=${r.signal} out=${r.stdout.trim()} err=${r.stderr.trim()}`);

  r = run('open-close-no-traffic', 10000);
  check('child: 100 open/close cycles without traffic, then natural exit (cleanup hook), no crash',
    r.status === 0 && r.signal === null, `status=${r.status} signal=${r.signal} err=${r.stderr.trim()}`);
}

function runChild(mode) {
  const rtp = require(ADDON);
  const meta = new Int32Array(64);
  const addr = '127.0.0.1';
  if (mode === 'idle-exit') {
    let got = 0;
    rtp.init(meta, (n) => {
      got += n;
      rtp.close(meta[0]);
    }, INIT_OPTS);
    const id = rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0);
    const c = dgram.createSocket('udp4');
    c.send('x', rtp.localPort(id), addr, () => c.close());
    process.on('exit', () => console.log(`child-exit got=${got} open=${rtp.openCount()}`));
  } else if (mode === 'stay-open') {
    rtp.init(meta, () => {}, INIT_OPTS);
    rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0);
  } else if (mode === 'throw') {
    rtp.init(meta, () => {
      throw new Error('boom-from-onBatch');
    }, INIT_OPTS);
    const id = rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0);
    rtp.sendTo(id, Buffer.from('x'), 0, 1, rtp.localPort(id), addr);
  } else if (mode === 'exit-open') {
    rtp.init(meta, () => {
      console.log('exit-open ok');
      process.exit(0);
    }, INIT_OPTS);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0));
    rtp.sendTo(ids[0], Buffer.from('x'), 0, 1, rtp.localPort(ids[1]), addr);
  } else if (mode === 'exit-after-send') {
    rtp.init(meta, () => {}, INIT_OPTS);
    const id = rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0);
    const m = Buffer.from('exit-words');
    rtp.sendTo(id, m, 0, m.length, Number(process.argv[4]), addr);
    process.exit(0);
  } else if (mode === 'close-after-send') {
    // the only socket is closed right after a send: threaded mode must still send it (js-sends:
    // already sent; the fd close is deferred to the I/O thread)
    rtp.init(meta, () => {}, INIT_OPTS);
    const d = dgram.createSocket('udp4');
    d.on('message', (m) => {
      console.log(`got ${m}`);
      d.close();
    });
    d.bind(0, addr, () => {
      const id = rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0);
      const m = Buffer.from('last-words');
      rtp.sendTo(id, m, 0, m.length, d.address().port, addr);
      rtp.close(id);
    });
  } else if (mode === 'open-close-no-traffic') {
    // open and close many sockets without any traffic, then let the process end
    rtp.init(meta, () => {}, INIT_OPTS);
    for (let i = 0; i < 100; i++) rtp.close(rtp.open(i % 2 === 1, i % 2 ? '::1' : addr, 0, Buffer.alloc(64), 0, 0));
  }
}

// Entry point (at the end so every top-level binding above is initialised).
if (process.argv[2] === '--child') {
  runChild(process.argv[3]);
} else {
  main().catch((err) => {
    console.log('FAIL unexpected exception:', err && err.stack ? err.stack : err);
    process.exitCode = 1;
  });
}
