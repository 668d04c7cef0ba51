// Kernel-timestamped view of the media server's RTP for bench/media.ts: a bounded dumpcap capture
// on the loopback interface during a step's measured window, and its analysis.
//
// Why: the load generator timestamps arrivals in its JS 'message' callbacks, which run only when
// its own event loop gets to them — behind its send loop (~1 ms), timers and GC — so its
// inter-arrival figure measures the load generator as much as the server. An AF_PACKET capture
// stamps every datagram in the kernel on the sending thread's transmit path (loopback has no
// NIC queue), i.e. at the moment the server's send() hands the packet to the kernel, whatever
// the receiver (or dumpcap itself) is doing. Those stamps are the server's *send* times.
//   - play: per egress stream (server port → phone port), |Δt − 20 ms| between consecutive RTP
//     audio packets (PT 0; RTCP and telephone-event left out, as in the load generator);
//   - bridge: the same inter-departure figure, which passes our phones' own send jitter through,
//     and the deviation the relay adds: transit = t(server sends it) − t(phone sent it), both
//     kernel stamps, matched by the phone's send time written in the payload; |Δ transit| between
//     consecutive relayed packets of a stream.
// A capture that dropped packets (dumpcap's "received/dropped" line), stopped early (size or
// time cap) or holds far fewer packets than the streams should have sent is a measurement
// failure, not a pass.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const FRAME_MS = 20;
const HDR = 12;
const BIN_MS = 0.01;
const BINS = 20000; // 200 ms
const MAGIC0 = 0x5a;
const MAGIC1 = 0xa5;
/** Ethernet 14 + IPv4 20 + UDP 8 + RTP 12 + counter 4 + magic 2 + pad 2 + send time 8 (+ slack). */
const SNAPLEN = 80;

export interface CaptureOptions {
  /** Server RTP port range (RTCP included: odd ports; left out by payload type). */
  portMin: number;
  portMax: number;
  /** Also capture the phones' packets to the server (bridge: the relay's transit time). */
  ingress: boolean;
  file: string;
  /** Hard bounds: dumpcap stops by itself after this long or this size. */
  maxSeconds: number;
  maxMegabytes: number;
}

export interface CaptureRun {
  /** dumpcap's own counters (kernel ring + dumpcap), from its exit summary. */
  received: number;
  dropped: number;
  error: string;
}

export class RtpCapture {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #stderr = '';

  private constructor(readonly opts: CaptureOptions) {
    const filter = `udp and ${opts.ingress ? '' : 'src '}portrange ${opts.portMin}-${opts.portMax}`;
    this.#child = spawn(
      'dumpcap',
      ['-i', 'lo', '-f', filter, '-P', '-s', String(SNAPLEN), '-B', '256', '-q', '-w', opts.file, '-a', `duration:${opts.maxSeconds}`, '-a', `filesize:${opts.maxMegabytes * 1000}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#child.stderr!.setEncoding('utf8');
    this.#child.stderr!.on('data', (s: string) => void (this.#stderr += s));
    this.#exited = new Promise((resolve) => {
      this.#child.on('error', (err) => {
        this.#stderr += `\nspawn: ${err.message}`;
        resolve(-1);
      });
      this.#child.on('exit', (code) => resolve(code));
    });
  }

  /** Starts dumpcap and resolves once it is capturing (its "File:" line), or with an error string. */
  static async start(opts: CaptureOptions): Promise<RtpCapture | string> {
    const c = new RtpCapture(opts);
    const t0 = performance.now();
    while (!/^File: /m.test(c.#stderr)) {
      if (c.#child.exitCode !== null || c.#stderr.includes('spawn:')) return `dumpcap did not start: ${c.#stderr.trim().slice(0, 300)}`;
      if (performance.now() - t0 > 5000) {
        c.#child.kill('SIGKILL');
        return 'dumpcap did not start within 5 s';
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return c;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** SIGINT (dumpcap flushes and prints its counters), then waits for it. */
  async stop(): Promise<CaptureRun> {
    if (this.#child.exitCode === null) this.#child.kill('SIGINT');
    const timeout = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    const code = await this.#exited;
    clearTimeout(timeout);
    const m = /Packets received\/dropped on interface '[^']*': (\d+)\/(\d+)/.exec(this.#stderr);
    let error = '';
    if (!m) error = `no dumpcap summary (exit ${code}): ${this.#stderr.trim().slice(-300)}`;
    return { received: m ? Number(m[1]) : 0, dropped: m ? Number(m[2]) : 0, error };
  }

  remove(): void {
    if (process.env.MEDIA_KEEP_CAPTURE !== '1') rmSync(this.opts.file, { force: true });
  }
}

export interface CaptureStats {
  /** Server → phone RTP audio packets inside the window. */
  packets: number;
  streams: number;
  /** |inter-departure − 20 ms| over all egress streams, ms. */
  devP50: number;
  devP99: number;
  devMax: number;
  /** bridge: p99 of |Δ transit| (kernel stamps at both ends) between consecutive relayed packets; −1 for play. */
  relayDevP99: number;
  relayDevMax: number;
  /** bridge: relayed packets whose ingress packet was not found in the capture. */
  unmatched: number;
  /** Capture time of the last packet in the file (epoch ms), to detect a capture that stopped early. */
  lastEpochMs: number;
}

function percentile(h: Uint32Array, q: number): number {
  let total = 0;
  for (let k = 0; k < h.length; k++) total += h[k]!;
  if (total === 0) return 0;
  const want = Math.ceil(total * q);
  let acc = 0;
  for (let k = 0; k < h.length; k++) {
    acc += h[k]!;
    if (acc >= want) return (k + 1) * BIN_MS;
  }
  return h.length * BIN_MS;
}

/**
 * Reads a classic pcap (µs or ns; Ethernet link type, as Linux `lo` gives) written by RtpCapture
 * and computes the figures over packets stamped in [fromEpochMs, toEpochMs]. One pass, no
 * per-packet allocation except the bridge's send-time → ingress-time map.
 */
export function analyseCapture(file: string, o: { portMin: number; portMax: number; fromEpochMs: number; toEpochMs: number; bridge: boolean }): CaptureStats {
  const buf = readFileSync(file);
  const stats: CaptureStats = { packets: 0, streams: 0, devP50: 0, devP99: 0, devMax: 0, relayDevP99: -1, relayDevMax: 0, unmatched: 0, lastEpochMs: 0 };
  if (buf.length < 24) return stats;
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error(`${file}: not a classic pcap file`);
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (off: number) => (le ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
  const link = u32(20) & 0xffff;
  const ipOff = link === 1 ? 14 : link === 113 ? 16 : link === 101 ? 0 : -1;
  if (ipOff < 0) throw new Error(`${file}: unsupported link type ${link}`);

  const hist = new Uint32Array(BINS);
  const relayHist = new Uint32Array(BINS);
  /** Egress stream key (server port << 16 | phone port) → index into the per-stream arrays. */
  const streamIx = new Map<number, number>();
  let lastT: number[] = [];
  let lastTransit: number[] = [];
  /** bridge: the phone's send time (payload double) → kernel stamp of its packet to the server. */
  const ingress = new Map<number, number>();
  let devMax = 0;
  let relayMax = 0;
  let packets = 0;
  let unmatched = 0;
  let last = 0;
  const { portMin, portMax, fromEpochMs: from, toEpochMs: to } = o;
  for (let off = 24; off + 16 <= buf.length; ) {
    const t = u32(off) * 1000 + (nanos ? u32(off + 4) / 1e6 : u32(off + 4) / 1e3);
    const incl = u32(off + 8);
    const f = off + 16;
    off = f + incl;
    if (off > buf.length) break;
    last = t;
    const ip = f + ipOff;
    if (link === 1 && buf.readUInt16BE(f + 12) !== 0x0800) continue; // IPv4 only (we bind 127.0.0.1)
    if ((buf[ip]! >> 4) !== 4 || buf[ip + 9] !== 17) continue;
    const udp = ip + (buf[ip]! & 0x0f) * 4;
    const rtp = udp + 8;
    if (rtp + HDR + 6 > off) continue;
    if ((buf[rtp + 1]! & 0x7f) !== 0) continue; // RTCP, telephone-event: not the audio stream
    const sport = buf.readUInt16BE(udp);
    const dport = buf.readUInt16BE(udp + 2);
    const fromServer = sport >= portMin && sport <= portMax;
    const valid = buf[rtp + HDR + 4] === MAGIC0 && buf[rtp + HDR + 5] === MAGIC1 && rtp + HDR + 16 <= off;
    if (!fromServer) {
      // A phone's packet to the server (bridge only): remember when the kernel saw it.
      if (o.bridge && valid && t >= from - 500 && t <= to) ingress.set(buf.readDoubleLE(rtp + HDR + 8), t);
      continue;
    }
    if (t < from || t > to) continue;
    packets++;
    const key = sport * 65536 + dport;
    let i = streamIx.get(key);
    if (i === undefined) {
      i = lastT.length;
      streamIx.set(key, i);
      lastT.push(-1);
      lastTransit.push(Number.NaN);
    }
    const prev = lastT[i]!;
    if (prev >= 0) {
      const dev = Math.abs(t - prev - FRAME_MS);
      hist[dev / BIN_MS < BINS ? (dev / BIN_MS) | 0 : BINS - 1]++;
      if (dev > devMax) devMax = dev;
    }
    lastT[i] = t;
    if (o.bridge && valid) {
      const sent = ingress.get(buf.readDoubleLE(rtp + HDR + 8));
      if (sent === undefined) {
        unmatched++;
        continue;
      }
      const transit = t - sent;
      const pt = lastTransit[i]!;
      if (!Number.isNaN(pt)) {
        const d = Math.abs(transit - pt);
        relayHist[d / BIN_MS < BINS ? (d / BIN_MS) | 0 : BINS - 1]++;
        if (d > relayMax) relayMax = d;
      }
      lastTransit[i] = transit;
    }
  }
  lastT = [];
  lastTransit = [];
  stats.packets = packets;
  stats.streams = streamIx.size;
  stats.devP50 = percentile(hist, 0.5);
  stats.devP99 = percentile(hist, 0.99);
  stats.devMax = devMax;
  stats.relayDevP99 = o.bridge ? percentile(relayHist, 0.99) : -1;
  stats.relayDevMax = relayMax;
  stats.unmatched = unmatched;
  stats.lastEpochMs = last;
  return stats;
}
