// A tiny libpcap (classic .pcap, not pcapng) reader for tests: UDP datagrams over IPv4/IPv6 from
// Ethernet, Linux cooked (SLL), BSD loopback or raw-IP captures. Allocates freely (test helper);
// each datagram's payload is a view into the file buffer.
import { readFileSync } from 'node:fs';

export interface PcapUdp {
  /** Capture time, ms since the first record. */
  timeMs: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** View into the file buffer. */
  payload: Buffer;
}

const LINK_NULL = 0;
const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const LINK_LINUX_SLL = 113;

export function readPcapUdp(path: string): PcapUdp[] {
  const buf = readFileSync(path);
  if (buf.length < 24) throw new Error(`${path}: too short for a pcap header`);
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  let nanos = false;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${path}: not a classic pcap file (magic ${magic.toString(16)})`);
  if (magic === 0xa1b23c4d || magic === 0x4d3cb2a1) nanos = true;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20) & 0xffff;
  const out: PcapUdp[] = [];
  let first: number | undefined;
  for (let off = 24; off + 16 <= buf.length; ) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const start = off + 16;
    off = start + incl;
    if (off > buf.length) break;
    const t = sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3);
    first ??= t;
    const frame = buf.subarray(start, start + incl);
    let ip: number;
    let etherType: number;
    if (link === LINK_ETHERNET) {
      ip = 14;
      etherType = frame.readUInt16BE(12);
      if (etherType === 0x8100) {
        etherType = frame.readUInt16BE(16);
        ip = 18;
      }
    } else if (link === LINK_LINUX_SLL) {
      ip = 16;
      etherType = frame.readUInt16BE(14);
    } else if (link === LINK_NULL) {
      ip = 4;
      etherType = (frame[4] >> 4) === 6 ? 0x86dd : 0x0800;
    } else if (link === LINK_RAW) {
      ip = 0;
      etherType = (frame[0] >> 4) === 6 ? 0x86dd : 0x0800;
    } else {
      throw new Error(`${path}: unsupported link type ${link}`);
    }
    let udp: number;
    let src: string;
    let dst: string;
    if (etherType === 0x0800) {
      if (frame[ip + 9] !== 17) continue;
      udp = ip + (frame[ip] & 0x0f) * 4;
      src = [...frame.subarray(ip + 12, ip + 16)].join('.');
      dst = [...frame.subarray(ip + 16, ip + 20)].join('.');
    } else if (etherType === 0x86dd) {
      if (frame[ip + 6] !== 17) continue; // no extension-header walking
      udp = ip + 40;
      const hex = (o: number) => [0, 2, 4, 6, 8, 10, 12, 14].map((i) => frame.readUInt16BE(o + i).toString(16)).join(':');
      src = hex(ip + 8);
      dst = hex(ip + 24);
    } else {
      continue;
    }
    if (udp + 8 > frame.length) continue;
    const len = frame.readUInt16BE(udp + 4);
    out.push({
      timeMs: t - first,
      src,
      dst,
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: frame.subarray(udp + 8, Math.min(frame.length, udp + len)),
    });
  }
  return out;
}
