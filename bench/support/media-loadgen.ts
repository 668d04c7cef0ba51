// Load generator for bench/media.ts, run as a separate process (fork + tsx): it plays the phones.
// For each stream it owns one UDP socket on 127.0.0.1, connected to the server session's RTP port
// (connected sockets are ~20% cheaper per send), sends one 20 ms PCMU packet per stream per
// 20 ms — streams spread over 10 phases 2 ms apart, as unsynchronised phones would — and checks
// what comes back:
//   - inter-arrival deviation |Δt − 20 ms| per stream, into a 50 µs histogram (p50/p99/max);
//   - 'bridge' also: the deviation the relay adds, |Δ transit time| between consecutive packets
//     of a stream (our send time travels in the payload), which leaves out our own send jitter
//     (Node timers fire with ~1 ms granularity) that the raw inter-arrival figure includes;
//   - loss: 'play' — gaps in the server stream's RTP timestamps (a skipped tick shows too, not
//     only a lost packet); 'bridge' — gaps in the counter we wrote into the first payload bytes
//     of the other phone's packets (the server relays payloads untouched), end to end;
//   - streams that went quiet before the end of the window count their missing packets as lost.
// 'play' payloads are G.711 speech-band noise with one DTMF digit ('5', 100 ms) per 2 s loop, so
// the server's in-band detectors have something to find. No allocation per packet of our own.
import { createSocket, type Socket } from 'node:dgram';
import { playLoop } from './media-audio.js';
import type { FromLoadgen, LoadKind, LoadReport, ToLoadgen } from './media-protocol.js';

const PHASES = 10;
const FRAME_MS = 20;
const HDR = 12;
const PAYLOAD = 160;
const BIN_MS = 0.05;
const BINS = 4000; // 200 ms
const LOOP_FRAMES = 100; // 2 s
const MAGIC0 = 0x5a;
const MAGIC1 = 0xa5;

function send(m: FromLoadgen): void {
  process.send?.(m);
}

const loop = playLoop();

let kind: LoadKind = 'play';
let n = 0;
let sockets: Socket[] = [];
let bufs: Buffer[] = [];
let seq = new Uint16Array(0);
let ts = new Uint32Array(0);
let counter = new Uint32Array(0);
let frameOff = new Uint32Array(0);
let lastArrival = new Float64Array(0);
let lastMark = new Uint32Array(0);
let lastTransit = new Float64Array(0); // last timestamp (play) or counter (bridge) received
let havePrev = new Uint8Array(0);
let recvInWindow = new Uint32Array(0);

const hist = new Uint32Array(BINS);
const transitHist = new Uint32Array(BINS);
const lateHist = new Uint32Array(BINS);
let measuring = false;
let windowStart = 0;
let cpuStart = process.cpuUsage();
let received = 0;
let lost = 0;
let devMax = 0;
/** 'bridge': packets the server sent on its own (no relayed payload) inside the window. */
let fills = 0;

let timer: NodeJS.Timeout | undefined;
/**
 * MEDIA_LOADGEN_SPIN=1, busy-poll (off by default; it costs a whole core): the event loop never sleeps — a
 * setImmediate loop checks the send schedule and libuv polls the sockets with a zero timeout.
 * Co-hosting the phones with the server is a bench artefact: a sleeping receiver makes every
 * server send pay a cross-CPU wake-up (an IPI, costly and variable in a VM), which real phones
 * behind a NIC never cost it; a polling one also timestamps arrivals promptly and sends on time
 * instead of with Node's ~1 ms timer granularity. Costs one core (the one this process has).
 */
const SPIN = process.env.MEDIA_LOADGEN_SPIN === '1';
let spinning = false;
let t0 = 0;
let slot = 0; // phase index since t0

function onPacket(i: number, msg: Buffer): void {
  const now = performance.now();
  if (msg.length < HDR + 6) return;
  const b1 = msg[1];
  if ((b1 & 0x7f) !== 0) return; // RTCP (200–204) or telephone-event: not our audio stream
  let mark: number;
  let valid = true;
  if (kind === 'play') mark = msg.readUInt32BE(4);
  else {
    mark = msg.readUInt32BE(HDR);
    valid = msg[HDR + 4] === MAGIC0 && msg[HDR + 5] === MAGIC1; // else: the server's own fill packet
  }
  if (measuring) {
    received++;
    recvInWindow[i]++;
    const prev = havePrev[i];
    if ((prev & 1) !== 0) {
      const dev = Math.abs(now - lastArrival[i] - FRAME_MS);
      hist[dev / BIN_MS < BINS ? (dev / BIN_MS) | 0 : BINS - 1]++;
      if (dev > devMax) devMax = dev;
    }
    if (valid && kind === 'bridge') {
      const transit = now - msg.readDoubleLE(HDR + 8);
      if ((prev & 2) !== 0) {
        const dt = Math.abs(transit - lastTransit[i]);
        transitHist[dt / BIN_MS < BINS ? (dt / BIN_MS) | 0 : BINS - 1]++;
      }
      lastTransit[i] = transit;
    }
    if (!valid) fills++;
    else if ((prev & 2) !== 0) {
      const d = (mark - lastMark[i]) >>> 0;
      if (kind === 'play') {
        if (d > PAYLOAD && d < PAYLOAD * 5000) lost += Math.round(d / PAYLOAD) - 1;
      } else if (d > 1 && d < 5000) lost += d - 1;
    }
  }
  lastArrival[i] = now;
  if (valid) {
    lastMark[i] = mark;
    havePrev[i] = 3;
  } else havePrev[i] |= 1;
}

function sendPhase(phase: number): void {
  for (let i = phase; i < n; i += PHASES) {
    const b = bufs[i];
    b[1] = seq[i] === 0 ? 0x80 : 0; // marker on the first packet; PT 0 (PCMU)
    b.writeUInt16BE(seq[i], 2);
    b.writeUInt32BE(ts[i], 4);
    if (kind === 'play') {
      loop.copy(b, HDR, frameOff[i] * PAYLOAD, frameOff[i] * PAYLOAD + PAYLOAD);
      frameOff[i] = frameOff[i] + 1 === LOOP_FRAMES ? 0 : frameOff[i] + 1;
    } else {
      b.writeUInt32BE(counter[i]++, HDR);
      b.writeDoubleLE(performance.now(), HDR + 8);
    }
    seq[i] = (seq[i] + 1) & 0xffff;
    ts[i] = (ts[i] + PAYLOAD) >>> 0;
    sockets[i].send(b);
  }
}

function spin(): void {
  if (!spinning) return;
  const now = performance.now();
  const due = t0 + slot * (FRAME_MS / PHASES);
  if (now >= due) {
    if (measuring) lateHist[(now - due) / BIN_MS < BINS ? ((now - due) / BIN_MS) | 0 : BINS - 1]++;
    sendPhase(slot % PHASES);
    slot++;
  }
  setImmediate(spin);
}

function onTimer(): void {
  timer = undefined;
  const now = performance.now();
  const due = t0 + slot * (FRAME_MS / PHASES);
  const late = now - due;
  if (measuring && late >= 0) lateHist[late / BIN_MS < BINS ? (late / BIN_MS) | 0 : BINS - 1]++;
  sendPhase(slot % PHASES);
  slot++;
  const next = t0 + slot * (FRAME_MS / PHASES) - performance.now();
  timer = setTimeout(onTimer, next > 0 ? next : 0);
}

function percentile(h: Uint32Array, q: number): number {
  let total = 0;
  for (let k = 0; k < h.length; k++) total += h[k];
  if (total === 0) return 0;
  const want = Math.ceil(total * q);
  let acc = 0;
  for (let k = 0; k < h.length; k++) {
    acc += h[k];
    if (acc >= want) return (k + 1) * BIN_MS;
  }
  return h.length * BIN_MS;
}

async function setup(k: LoadKind, ports: number[]): Promise<void> {
  kind = k;
  n = ports.length;
  seq = new Uint16Array(n);
  ts = new Uint32Array(n);
  counter = new Uint32Array(n);
  frameOff = new Uint32Array(n);
  lastArrival = new Float64Array(n);
  lastMark = new Uint32Array(n);
  lastTransit = new Float64Array(n);
  havePrev = new Uint8Array(n);
  recvInWindow = new Uint32Array(n);
  bufs = [];
  sockets = [];
  const pattern = Buffer.alloc(PAYLOAD, 0xff);
  loop.copy(pattern, 0, 20 * PAYLOAD, 21 * PAYLOAD); // some noise frame
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(HDR + PAYLOAD);
    b[0] = 0x80;
    b.writeUInt32BE((0x10000 + i * 7919) >>> 0, 8); // SSRC
    pattern.copy(b, HDR);
    b[HDR + 4] = MAGIC0;
    b[HDR + 5] = MAGIC1;
    bufs.push(b);
    ts[i] = (i * 104729) >>> 0;
    frameOff[i] = (i * 7) % LOOP_FRAMES;
  }
  const bindOne = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        s.connect(ports[i], '127.0.0.1', () => {
          s.off('error', reject);
          s.on('error', () => undefined); // ICMP errors after teardown of the server side
          s.on('message', (msg) => onPacket(i, msg));
          sockets[i] = s;
          resolve();
        });
      });
    });
  for (let i = 0; i < n; i += 100) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + 100); j++) batch.push(bindOne(j));
    await Promise.all(batch);
  }
  t0 = performance.now();
  slot = 0;
  if (SPIN) {
    spinning = true;
    setImmediate(spin);
  } else timer = setTimeout(onTimer, 0);
}

function startWindow(): void {
  hist.fill(0);
  transitHist.fill(0);
  lateHist.fill(0);
  recvInWindow.fill(0);
  received = 0;
  lost = 0;
  devMax = 0;
  fills = 0;
  windowStart = performance.now();
  cpuStart = process.cpuUsage();
  measuring = true;
}

function report(): LoadReport {
  measuring = false;
  const now = performance.now();
  const windowMs = now - windowStart;
  const cpu = process.cpuUsage(cpuStart);
  let silent = 0;
  let quiet = 0;
  for (let i = 0; i < n; i++) {
    if (recvInWindow[i] === 0) {
      silent++;
      quiet += Math.floor(windowMs / FRAME_MS);
    } else if (now - lastArrival[i] > 5 * FRAME_MS) quiet += Math.floor((now - lastArrival[i]) / FRAME_MS) - 1;
  }
  return {
    streams: n,
    windowMs,
    received,
    lost: lost + quiet,
    silentStreams: silent,
    devP50: percentile(hist, 0.5),
    devP99: percentile(hist, 0.99),
    devMax,
    relayDevP99: kind === 'bridge' ? percentile(transitHist, 0.99) : -1,
    cpuPct: ((cpu.user + cpu.system) / 1000 / windowMs) * 100,
    sendLateP99: percentile(lateHist, 0.99),
    fills,
  };
}

function teardown(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  spinning = false;
  measuring = false;
  for (const s of sockets) {
    try {
      s.close();
    } catch {
      // already closed
    }
  }
  sockets = [];
  bufs = [];
  n = 0;
}

process.on('message', (m: ToLoadgen) => {
  switch (m.t) {
    case 'setup':
      setup(m.kind, m.serverPorts).then(
        () => send({ t: 'ready', ports: sockets.map((s) => s.address().port) }),
        (err: unknown) => {
          console.error('loadgen setup failed', err);
          process.exit(2);
        },
      );
      break;
    case 'measure':
      startWindow();
      send({ t: 'measuring' });
      break;
    case 'report':
      send({ t: 'report', report: report() });
      break;
    case 'teardown':
      teardown();
      send({ t: 'done' });
      break;
    case 'exit':
      teardown();
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
