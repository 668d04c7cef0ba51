// SDP text <-> SessionDescription (RFC 8866). Tolerant where real devices are sloppy (LF-only
// line ends, trailing blank lines, missing s=), strict where we could not work (v=0 first, a
// valid o=, m= with a numeric port): anything else raises SdpError('malformed') with the line.
import { SdpError } from './errors.js';
import type {
  Direction,
  MediaDescription,
  RtpMap,
  SdpAttribute,
  SdpConnection,
  SdpLine,
  SessionDescription,
} from './types.js';

/** Refuse absurd bodies before splitting them (a SIP body is far smaller in practice). */
export const MAX_SDP_BYTES = 64 * 1024;
export const MAX_SDP_MEDIA = 32;

function malformed(lineNo: number, why: string): SdpError {
  return new SdpError('malformed', lineNo > 0 ? `line ${lineNo}: ${why}` : why);
}

function parseConnection(value: string, lineNo: number): SdpConnection {
  // RFC 8866 §5.7: c=<nettype> <addrtype> <connection-address>
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 3) throw malformed(lineNo, `c= needs "<nettype> <addrtype> <address>", got "${value}"`);
  const [netType, addrType, full] = parts as [string, string, string];
  const slash = addrType === 'IP6' ? full.indexOf('/', full.lastIndexOf(':') + 1) : full.indexOf('/');
  const address = slash >= 0 ? full.slice(0, slash) : full;
  if (address === '') throw malformed(lineNo, 'c= has an empty address');
  return { netType, addrType, address, suffix: slash >= 0 ? full.slice(slash) : '' };
}

/** Parses SDP text. Throws SdpError('malformed') saying which line is wrong. */
export function parseSdp(text: string): SessionDescription {
  if (text.length > MAX_SDP_BYTES) throw malformed(0, `body exceeds ${MAX_SDP_BYTES} bytes`);
  const lines = text.split(/\r?\n/);
  let sawVersion = false;
  let desc: SessionDescription | null = null;
  let origin: SessionDescription['origin'] | null = null;
  let sessionName = '-';
  let sessionConn: SdpConnection | null = null;
  const sessionExtra: SdpLine[] = [];
  const sessionAttrs: SdpAttribute[] = [];
  const media: MediaDescription[] = [];
  let cur: MediaDescription | null = null;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (line.length < 2 || line[1] !== '=' || !/^[a-z]$/.test(line[0]!)) {
      throw malformed(lineNo, `expected "<letter>=<value>", got "${line.slice(0, 40)}"`);
    }
    const type = line[0]!;
    const value = line.slice(2);
    if (!sawVersion) {
      // RFC 8866 §5: v= comes first and is 0.
      if (type !== 'v') throw malformed(lineNo, 'first line must be v=0');
      if (value.trim() !== '0') throw malformed(lineNo, `unsupported SDP version "${value}"`);
      sawVersion = true;
      continue;
    }
    switch (type) {
      case 'v':
        throw malformed(lineNo, 'second v= line');
      case 'o': {
        if (cur || origin) throw malformed(lineNo, 'misplaced o= line');
        const p = value.trim().split(/\s+/);
        if (p.length !== 6) throw malformed(lineNo, `o= needs 6 fields, got ${p.length}`);
        if (!/^\d+$/.test(p[1]!) || !/^\d+$/.test(p[2]!)) throw malformed(lineNo, 'o= session id and version must be numeric');
        origin = { username: p[0]!, sessionId: p[1]!, sessionVersion: p[2]!, netType: p[3]!, addrType: p[4]!, address: p[5]! };
        break;
      }
      case 's':
        if (cur) throw malformed(lineNo, 's= inside a media section');
        sessionName = value;
        break;
      case 'c':
        if (cur) cur.connection ??= parseConnection(value, lineNo);
        else sessionConn = parseConnection(value, lineNo);
        break;
      case 'm': {
        // RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ...
        if (media.length >= MAX_SDP_MEDIA) throw malformed(lineNo, `more than ${MAX_SDP_MEDIA} m= lines`);
        const p = value.trim().split(/\s+/);
        if (p.length < 3) throw malformed(lineNo, `m= needs "<media> <port> <proto> <fmt>..."`);
        const pm = /^(\d{1,5})(?:\/(\d+))?$/.exec(p[1]!);
        if (!pm || Number(pm[1]) > 65535) throw malformed(lineNo, `bad m= port "${p[1]}"`);
        cur = {
          media: p[0]!,
          port: Number(pm[1]),
          portCount: pm[2] !== undefined ? Number(pm[2]) : null,
          proto: p[2]!,
          formats: p.slice(3),
          connection: null,
          extra: [],
          attributes: [],
        };
        media.push(cur);
        break;
      }
      case 'a': {
        const colon = value.indexOf(':');
        const attr: SdpAttribute =
          colon < 0 ? { name: value.trim(), value: null } : { name: value.slice(0, colon).trim(), value: value.slice(colon + 1) };
        if (attr.name === '') throw malformed(lineNo, 'a= with an empty name');
        (cur ? cur.attributes : sessionAttrs).push(attr);
        break;
      }
      default:
        (cur ? cur.extra : sessionExtra).push({ type, value });
    }
  }
  if (!sawVersion) throw malformed(0, 'empty SDP (no v= line)');
  if (!origin) throw malformed(0, 'missing o= line');
  desc = { origin, sessionName, connection: sessionConn, extra: sessionExtra, attributes: sessionAttrs, media };
  for (let i = 0; i < media.length; i++) {
    const m = media[i]!;
    if (m.port !== 0 && !m.connection && !sessionConn) {
      throw malformed(0, `m= line ${i + 1} (${m.media}) has no c= line and there is no session-level c=`);
    }
  }
  return desc;
}

// RFC 8866 §5 line order; r follows its t (same rank keeps t/r pairs together).
const SESSION_RANK: Record<string, number> = { i: 1, u: 2, e: 3, p: 4, b: 6, t: 7, r: 7, z: 9, k: 10 };
const MEDIA_RANK: Record<string, number> = { i: 1, b: 3, k: 4 };

function sorted(lines: SdpLine[], rank: Record<string, number>): SdpLine[] {
  return lines
    .map((l, i) => ({ l, i }))
    .sort((a, b) => (rank[a.l.type] ?? 20) - (rank[b.l.type] ?? 20) || a.i - b.i)
    .map((x) => x.l);
}

function formatConnection(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}${c.suffix}`;
}

/** Formats a description as SDP text with CRLF line ends, lines in RFC 8866 order. */
export function formatSdp(d: SessionDescription): string {
  const out: string[] = ['v=0'];
  const o = d.origin;
  out.push(`o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`);
  out.push(`s=${d.sessionName || '-'}`);
  const extra = sorted(d.extra, SESSION_RANK);
  let hasT = false;
  for (const l of extra) if (l.type === 't') hasT = true;
  let connDone = false;
  for (const l of extra) {
    const r = SESSION_RANK[l.type] ?? 20;
    if (!connDone && r > 5) {
      if (d.connection) out.push(formatConnection(d.connection));
      connDone = true;
    }
    if (!hasT && r > 7) {
      out.push('t=0 0');
      hasT = true;
    }
    out.push(`${l.type}=${l.value}`);
  }
  if (!connDone && d.connection) out.push(formatConnection(d.connection));
  if (!hasT) out.push('t=0 0');
  for (const a of d.attributes) out.push(formatAttr(a));
  for (const m of d.media) {
    out.push(`m=${m.media} ${m.port}${m.portCount !== null ? `/${m.portCount}` : ''} ${m.proto}${m.formats.length ? ' ' + m.formats.join(' ') : ''}`);
    let mConn = false;
    for (const l of sorted(m.extra, MEDIA_RANK)) {
      if (!mConn && (MEDIA_RANK[l.type] ?? 20) > 2) {
        if (m.connection) out.push(formatConnection(m.connection));
        mConn = true;
      }
      out.push(`${l.type}=${l.value}`);
    }
    if (!mConn && m.connection) out.push(formatConnection(m.connection));
    for (const a of m.attributes) out.push(formatAttr(a));
  }
  for (const l of out) {
    // Values we emit must never smuggle extra lines (or SIP headers) in.
    if (/[\r\n\0]/.test(l)) throw new SdpError('malformed', `refusing to format a value with CR/LF/NUL: ${JSON.stringify(l.slice(0, 40))}`);
  }
  return out.join('\r\n') + '\r\n';
}

function formatAttr(a: SdpAttribute): string {
  return a.value === null ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

// ——— helpers over the model ———

export function getAttribute(attrs: readonly SdpAttribute[], name: string): string | null | undefined {
  for (const a of attrs) if (a.name.toLowerCase() === name) return a.value;
  return undefined;
}

const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** RFC 3264 §5.1 / RFC 8866 §6.7: media-level direction, else session-level, else sendrecv. */
export function directionOf(session: SessionDescription, m: MediaDescription): Direction {
  for (const a of m.attributes) if (a.value === null && DIRECTIONS.has(a.name.toLowerCase())) return a.name.toLowerCase() as Direction;
  for (const a of session.attributes) if (a.value === null && DIRECTIONS.has(a.name.toLowerCase())) return a.name.toLowerCase() as Direction;
  return 'sendrecv';
}

/** The connection that applies to a media section (media-level c= overrides session-level). */
export function connectionOf(session: SessionDescription, m: MediaDescription): SdpConnection | null {
  return m.connection ?? session.connection;
}

/** Static payload types of RFC 3551 Table 4 that we may see without an rtpmap. */
const STATIC: Record<number, [string, number]> = {
  0: ['PCMU', 8000],
  3: ['GSM', 8000],
  4: ['G723', 8000],
  8: ['PCMA', 8000],
  9: ['G722', 8000],
  13: ['CN', 8000],
  18: ['G729', 8000],
};

/**
 * Payload formats of an RTP m= line in m= order. rtpmap wins over the static table (RFC 8866
 * §6.6); a dynamic type without rtpmap, or a non-numeric format, is skipped.
 */
export function rtpMapsOf(m: MediaDescription): RtpMap[] {
  const maps = new Map<number, { encoding: string; clockRate: number; channels: number }>();
  const fmtps = new Map<number, string>();
  for (const a of m.attributes) {
    const n = a.name.toLowerCase();
    if (a.value === null) continue;
    if (n === 'rtpmap') {
      // a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
      const r = /^\s*(\d{1,3})\s+([^/\s]+)\/(\d+)(?:\/(\d+))?\s*$/.exec(a.value);
      if (r) maps.set(Number(r[1]), { encoding: r[2]!, clockRate: Number(r[3]), channels: r[4] ? Number(r[4]) : 1 });
    } else if (n === 'fmtp') {
      const r = /^\s*(\d{1,3})\s+(.*)$/.exec(a.value);
      if (r) fmtps.set(Number(r[1]), r[2]!.trim());
    }
  }
  const out: RtpMap[] = [];
  for (const f of m.formats) {
    if (!/^\d{1,3}$/.test(f)) continue;
    const pt = Number(f);
    if (pt > 127) continue;
    const mapped = maps.get(pt);
    const st = STATIC[pt];
    if (mapped) out.push({ payloadType: pt, ...mapped, fmtp: fmtps.get(pt) ?? null });
    else if (st) out.push({ payloadType: pt, encoding: st[0], clockRate: st[1], channels: 1, fmtp: fmtps.get(pt) ?? null });
  }
  return out;
}

/** Parses "a=1;b=2" / "a=1; b=2" fmtp parameters into a map (lower-cased keys). */
export function parseFmtpParams(fmtp: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!fmtp) return out;
  for (const part of fmtp.split(';')) {
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (k) out.set(k, eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  return out;
}
