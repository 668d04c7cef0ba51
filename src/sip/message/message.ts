// SipRequest / SipResponse: a start line, Headers and a byte-exact body. Structured header
// accessors (from(), vias(), cseq()...) parse on first use and cache the result until the
// Headers change (tracked by Headers.version).
import { SipError } from '../../lib/errors.js';
import { parseDigits } from './chars.js';
import { parseCSeq, type CSeq } from './cseq.js';
import { Headers } from './headers.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { splitList } from './split.js';
import { parseUri, type SipUri } from './uri.js';
import { parseVia, type Via } from './via.js';

export type TransportName = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Parsed structured headers of one Headers version. @internal */
export interface ParsedCache {
  headers: Headers;
  version: number;
  vias?: Via[];
  topVia?: Via;
  from?: NameAddr;
  to?: NameAddr;
  cseq?: CSeq;
  contacts?: NameAddr[];
  requestUri?: SipUri;
  requestUriRaw?: string;
}

function missing(name: string): SipError {
  return new SipError(400, `Bad Request - Missing ${name}`);
}

abstract class SipMessageBase {
  headers: Headers;
  /** The body bytes. From parseMessage this is a view into the parsed buffer, not a copy. */
  body: Buffer;
  #cache: ParsedCache | undefined;

  constructor(headers: Headers, body: Buffer) {
    this.headers = headers;
    this.body = body;
  }

  /** @internal the parser seeds the cache with what it validated. */
  seedCache(c: ParsedCache): void {
    this.#cache = c;
  }

  #c(): ParsedCache {
    const h = this.headers;
    const c = this.#cache;
    if (c !== undefined && c.headers === h && c.version === h.version) return c;
    return (this.#cache = { headers: h, version: h.version });
  }

  callId(): string {
    const v = this.headers.get('Call-ID');
    if (v === undefined) throw missing('Call-ID');
    return v;
  }

  cseq(): CSeq {
    const c = this.#c();
    if (c.cseq !== undefined) return c.cseq;
    const v = this.headers.get('CSeq');
    if (v === undefined) throw missing('CSeq');
    return (c.cseq = parseCSeq(v));
  }

  from(): NameAddr {
    const c = this.#c();
    if (c.from !== undefined) return c.from;
    const v = this.headers.get('From');
    if (v === undefined) throw missing('From');
    return (c.from = parseNameAddr(v));
  }

  to(): NameAddr {
    const c = this.#c();
    if (c.to !== undefined) return c.to;
    const v = this.headers.get('To');
    if (v === undefined) throw missing('To');
    return (c.to = parseNameAddr(v));
  }

  vias(): Via[] {
    const c = this.#c();
    if (c.vias !== undefined) return c.vias;
    const out: Via[] = [];
    for (const v of this.headers.getAll('Via')) out.push(parseVia(v));
    return (c.vias = out);
  }

  topVia(): Via {
    const c = this.#c();
    if (c.topVia !== undefined) return c.topVia;
    if (c.vias !== undefined && c.vias.length > 0) return c.vias[0];
    const v = this.headers.get('Via');
    if (v === undefined) throw missing('Via');
    return (c.topVia = parseVia(v));
  }

  /** Contact bindings; empty for the "*" wildcard (see isWildcardContact()). */
  contacts(): NameAddr[] {
    const c = this.#c();
    if (c.contacts !== undefined) return c.contacts;
    const out: NameAddr[] = [];
    for (const v of this.headers.getAll('Contact')) if (v !== '*') out.push(parseNameAddr(v));
    return (c.contacts = out);
  }

  /** RFC 3261 §10.2.2: "Contact: *" (only valid in REGISTER with Expires: 0). */
  isWildcardContact(): boolean {
    return isWildcardContact(this);
  }

  maxForwards(): number | undefined {
    const v = this.headers.get('Max-Forwards');
    if (v === undefined) return undefined;
    // RFC 3261 §20.22: 0-255; leading zeros are legal ("0068", RFC 4475 §3.1.1.1).
    const n = parseDigits(v, 0, v.length, 255);
    if (n < 0) throw new SipError(400, 'Bad Request - Malformed Max-Forwards');
    return n;
  }

  /** Parsed Content-Length header, or undefined when absent. */
  contentLength(): number | undefined {
    const v = this.headers.get('Content-Length');
    if (v === undefined) return undefined;
    const n = parseDigits(v, 0, v.length, 0x7fffffff);
    if (n < 0) throw new SipError(400, 'Bad Request - Malformed Content-Length');
    return n;
  }

  protected cacheOf(): ParsedCache {
    return this.#c();
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = 'request' as const;
  method: string;
  /** The Request-URI as on the wire; see requestUri() for the parsed form. */
  uri: string;

  constructor(method: string, uri: string, headers: Headers = new Headers(), body: Buffer = EMPTY) {
    super(headers, body);
    this.method = method;
    this.uri = uri;
  }

  /** Parsed Request-URI, cached while `uri` is unchanged. */
  requestUri(): SipUri {
    const c = this.cacheOf();
    if (c.requestUri !== undefined && c.requestUriRaw === this.uri) return c.requestUri;
    c.requestUriRaw = this.uri;
    return (c.requestUri = parseUri(this.uri));
  }

  clone(): SipRequest {
    return new SipRequest(this.method, this.uri, this.headers.clone(), Buffer.from(this.body));
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(status: number, reason: string, headers: Headers = new Headers(), body: Buffer = EMPTY) {
    super(headers, body);
    this.status = status;
    this.reason = reason;
  }

  clone(): SipResponse {
    return new SipResponse(this.status, this.reason, this.headers.clone(), Buffer.from(this.body));
  }
}

export type SipMessage = SipRequest | SipResponse;

export const EMPTY: Buffer = Buffer.alloc(0);

export function isWildcardContact(m: { headers: Headers }): boolean {
  const all = m.headers.getAll('Contact');
  return all.length === 1 && all[0] === '*';
}

/** Split a list header strictly (empty elements kept) for validation. */
export function strictElements(value: string): string[] {
  return splitList(value, [], true);
}
