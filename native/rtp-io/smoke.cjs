'use strict';
// Standalone smoke test for the rtp-io add-on (native/rtp-io/rtp_io.c).
// Exercises every exported function over loopback (127.0.0.1 and ::1) against
// plain node:dgram peers, prints OK/FAIL per check, exits 1 on any failure.
// Run after `npm run build:native`:   node native/rtp-io/smoke.cjs
// Some checks run short child processes of this same file (`--child <mode>`)
// because they are about how the process exits.

const path = require('node:path');
const dgram = require('node:dgram');
const os = require('node:os');
const { spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');

const ADDON = path.join(__dirname, 'build', 'Release', 'rtp_io.node');
const E = os.constants.errno;

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

  // --- API misuse -----------------------------------------------------------
  check('openCount() before init() throws', throwsAny(() => rtp.openCount()));
  check('init(Uint32Array) throws TypeError', throwsType(() => rtp.init(new Uint32Array(8), () => {})));
  check('init(Int32Array(2)) throws TypeError', throwsType(() => rtp.init(new Int32Array(2), () => {})));
  check('init(meta, non-function) throws TypeError', throwsType(() => rtp.init(meta, 5)));
  rtp.init(meta, onBatch);
  check('init() succeeds', true);
  check('second init() throws', throwsAny(() => rtp.init(meta, onBatch)));
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
  await timing();

  const st = rtp.stats();
  check('stats() has numeric batches/datagrams/rounds/recvErrors',
    ['batches', 'datagrams', 'rounds', 'recvErrors'].every((k) => typeof st[k] === 'number'), JSON.stringify(st));
  check('stats().batches matches onBatch calls', st.batches === batchesSeen, `${st.batches} vs ${batchesSeen}`);

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

// ---------------------------------------------------------------------------

async function timing() {
  const N = 200000;
  const addr = '127.0.0.1';
  const sink = await peer('udp4', addr);
  sink.removeAllListeners('message'); // drain silently; drops are fine
  const sinkPort = sink.address().port;
  const payload = Buffer.alloc(172, 0x55); // 12-byte RTP header + 20 ms PCMU

  const id = openRtp(false, addr);
  check('timing: connect() native socket to sink', rtp.connect(id, sinkPort, addr) === 0);
  for (let i = 0; i < 10000; i++) rtp.send(id, payload, 0, payload.length);
  let errs = 0;
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (rtp.send(id, payload, 0, payload.length) !== 172) errs++;
  let t1 = process.hrtime.bigint();
  const nativeUs = Number(t1 - t0) / 1000 / N;
  check(`timing: ${N} native send() calls all returned 172`, errs === 0, `errors=${errs}`);

  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (rtp.sendTo(id, payload, 0, payload.length, sinkPort, addr) < 0) errs++;
  t1 = process.hrtime.bigint();
  // sendTo on a connected socket to the same address is allowed on Linux
  const nativeToUs = Number(t1 - t0) / 1000 / N;
  closeRtp(id);

  const client = dgram.createSocket('udp4');
  await new Promise((r) => client.bind(0, addr, r));
  await new Promise((r) => client.connect(sinkPort, addr, r));
  for (let i = 0; i < 10000; i++) client.send(payload);
  await new Promise((r) => client.send(payload, r));
  t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) client.send(payload);
  const tLoop = process.hrtime.bigint();
  await new Promise((r) => client.send(payload, r)); // wait until the queue has drained
  t1 = process.hrtime.bigint();
  const dgramLoopUs = Number(tLoop - t0) / 1000 / N;
  const dgramUs = Number(t1 - t0) / 1000 / N;
  await closeSock(client);
  await closeSock(sink);

  console.log(`TIME native send()   on connected socket: ${nativeUs.toFixed(3)} us/call (${N} calls)`);
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
    });
    const id = rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0);
    const c = dgram.createSocket('udp4');
    c.send('x', rtp.localPort(id), addr, () => c.close());
    process.on('exit', () => console.log(`child-exit got=${got} open=${rtp.openCount()}`));
  } else if (mode === 'stay-open') {
    rtp.init(meta, () => {});
    rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0);
  } else if (mode === 'throw') {
    rtp.init(meta, () => {
      throw new Error('boom-from-onBatch');
    });
    const id = rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0);
    rtp.sendTo(id, Buffer.from('x'), 0, 1, rtp.localPort(id), addr);
  } else if (mode === 'exit-open') {
    rtp.init(meta, () => {
      console.log('exit-open ok');
      process.exit(0);
    });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(rtp.open(false, addr, 0, Buffer.alloc(64), 0, 0));
    rtp.sendTo(ids[0], Buffer.from('x'), 0, 1, rtp.localPort(ids[1]), addr);
  } else if (mode === 'open-close-no-traffic') {
    // open and close many sockets without any traffic, then let the process end
    rtp.init(meta, () => {});
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
