// Via header values (RFC 3261 §20.42, §18.2.1; RFC 3581 rport):
//   SIP / 2.0 / UDP host[:port] ;branch=z9hG4bK... ;received=... ;rport[=n] ;maddr=...
import { SipError } from '../../lib/errors.js';
import { HOST, IPV6, TOKEN, skipWs } from './chars.js';
import { formatParams, parseHeaderParams } from './params.js';

export interface Via {
  /** "SIP/2.0" */
  protocol: string;
  /** Upper-case: "UDP", "TCP", "TLS", "WS", "WSS", "SCTP", or whatever the peer sent. */
  transport: string;
  host: string;
  port?: number;
  params: Map<string, string | null>;
  branch?: string;
  received?: string;
  /** null = flag present without value (RFC 3581 §4). */
  rport?: number | null;
  maddr?: string;
}

function bad(): SipError {
  return new SipError(400, 'Bad Request - Malformed Via');
}

function token(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) break;
    i++;
  }
  return i;
}

/** Parse ONE via-parm (callers split the header value at top-level commas). */
export function parseVia(s: string): Via {
  return scanVia(s, true)!;
}

/** Validate one via-parm without building it. Throws SipError(400). */
export function validateVia(s: string): void {
  scanVia(s, false);
}

function scanVia(s: string, build: boolean): Via | null {
  const end = s.length;
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, SWS around "/".
  let i = skipWs(s, 0, end);
  let j = token(s, i, end);
  if (j === i) throw bad();
  const ns = i;
  const ne = j;
  i = skipWs(s, j, end);
  if (s.charCodeAt(i) !== 47) throw bad();
  i = skipWs(s, i + 1, end);
  j = token(s, i, end);
  if (j === i) throw bad();
  const vs = i;
  const ve = j;
  i = skipWs(s, j, end);
  if (s.charCodeAt(i) !== 47) throw bad();
  i = skipWs(s, i + 1, end);
  j = token(s, i, end);
  if (j === i) throw bad();
  const ts = i;
  const te = j;
  i = skipWs(s, j, end);
  if (i === j) throw bad(); // LWS required before sent-by
  // sent-by = host [ COLON port ]
  const hs = i;
  if (s.charCodeAt(i) === 91 /* [ */) {
    i++;
    while (i < end && s.charCodeAt(i) !== 93) {
      const c = s.charCodeAt(i);
      if (c >= 128 || IPV6[c] === 0) throw bad();
      i++;
    }
    if (i >= end || i === hs + 1) throw bad();
    i++;
  } else {
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c >= 128 || HOST[c] === 0) break;
      i++;
    }
    if (i === hs) throw bad();
  }
  const he = i;
  i = skipWs(s, i, end);
  let port = -1;
  if (i < end && s.charCodeAt(i) === 58 /* : */) {
    i = skipWs(s, i + 1, end);
    const ps = i;
    port = 0;
    while (i < end) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      port = port * 10 + c;
      i++;
    }
    if (i === ps || i - ps > 5 || port > 65535) throw bad();
  }
  if (!build) {
    if (parseHeaderParams(s, i, null) !== null) throw bad();
    return null;
  }
  const name = s.slice(ns, ne);
  const version = s.slice(vs, ve);
  const protocol = name === 'SIP' && version === '2.0' ? 'SIP/2.0' : `${name.toUpperCase()}/${version}`;
  const via: Via = { protocol, transport: transportName(s, ts, te), host: s.slice(hs, he), params: new Map() };
  if (port >= 0) via.port = port;
  if (parseHeaderParams(s, i, via.params) !== null) throw bad();
  const p = via.params;
  if (p.size > 0) {
    const branch = p.get('branch');
    if (branch !== undefined) {
      if (branch === null) throw bad();
      via.branch = branch;
    }
    const received = p.get('received');
    if (received !== undefined) {
      if (received === null) throw bad();
      via.received = received;
    }
    const rport = p.get('rport');
    if (rport !== undefined) {
      if (rport === null) via.rport = null;
      else {
        const n = /^\d{1,5}$/.test(rport) ? Number(rport) : -1;
        if (n < 0 || n > 65535) throw bad();
        via.rport = n;
      }
    }
    const maddr = p.get('maddr');
    if (maddr !== undefined) {
      if (maddr === null) throw bad();
      via.maddr = maddr;
    }
  }
  return via;
}

/** Upper-case transport, without allocating for the common spellings. */
function transportName(s: string, start: number, end: number): string {
  const t = s.slice(start, end);
  switch (t) {
    case 'UDP':
    case 'TCP':
    case 'TLS':
    case 'WS':
    case 'WSS':
      return t;
    default:
      return t.toUpperCase();
  }
}

/** Serialise from `params` (the source of truth for order); the typed fields override values. */
export function formatVia(v: Via): string {
  const params = new Map(v.params);
  if (v.branch !== undefined) params.set('branch', v.branch);
  if (v.received !== undefined) params.set('received', v.received);
  if (v.rport !== undefined) params.set('rport', v.rport === null ? null : String(v.rport));
  if (v.maddr !== undefined) params.set('maddr', v.maddr);
  return `${v.protocol}/${v.transport} ${v.host}${v.port !== undefined ? ':' + v.port : ''}${formatParams(params)}`;
}
