// SIP helpers for the wire server: applications send *partial* messages (a response with only
// status line, Call-ID, CSeq, From and To; a request with only a Request-URI and the headers the
// app cares about — drachtio-wire.md §3–§4), which the strict RFC 4475 parser would refuse for
// the missing headers. Here they are read leniently and split into what the stack builds itself
// and what the app adds.
import { SipParseError, parseMessage, type SipMessage, type SipRequest } from '../message/index.js';
import type { IncomingRequest } from '../dialog/types.js';

/**
 * Parses an app's message. A message the parser rejects only because a mandatory header is
 * missing (the parser reports those last, after everything else passed) is returned as parsed;
 * anything malformed throws SipParseError.
 */
export function parseAppMessage(buf: Buffer): SipMessage {
  // Nearly every app message lacks some header, so the parser throws for most of them; the
  // error is only a carrier for `partial`, and capturing its stack trace was a measurable share
  // of the server's CPU (profiled at 500 calls/s).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return parseMessage(buf);
  } catch (err) {
    if (err instanceof SipParseError && err.partial !== undefined && err.reason.startsWith('Bad Request - Missing ')) {
      return err.partial;
    }
    throw err;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Headers the stack writes itself: never copied from the app's message. */
const STACK_OWNED = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'content-type', 'max-forwards']);

export interface AppExtras {
  headers: [string, string][];
  contentType: string | undefined;
  body: Buffer | undefined;
}

/** The headers, Content-Type and body an app added to a response or in-dialog request. */
export function extrasOf(m: SipMessage, keep: ReadonlySet<string> = EMPTY_SET): AppExtras {
  const headers: [string, string][] = [];
  const names = m.headers.rawNames();
  const keys = m.headers.rawKeys();
  const values = m.headers.rawValues();
  for (let i = 0; i < keys.length; i++) {
    if (STACK_OWNED.has(keys[i]) && !keep.has(keys[i])) continue;
    headers.push([names[i], values[i]]);
  }
  const body = m.body.length > 0 ? m.body : undefined;
  return { headers, contentType: body ? m.headers.get('Content-Type') : undefined, body };
}

const EMPTY_SET: ReadonlySet<string> = new Set();

/** The bytes of a received request as they arrived (drachtio-wire.md §3: the raw message). */
export function rawOf(req: IncomingRequest): Buffer {
  return req.inbound.raw;
}

export function tagParam(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // Only header parameters count: a ';tag=' inside <...> belongs to the URI.
  const gt = value.lastIndexOf('>');
  const m = /;\s*tag\s*=\s*([^;>\s]+)/i.exec(gt < 0 ? value : value.slice(gt));
  return m?.[1];
}

/** `<Call-ID>;from-tag=<tag in From>` (drachtio-wire.md §3, §5). */
export function dialogIdOf(m: SipMessage): string {
  const tag = tagParam(m.headers.get('From')) ?? '';
  return `${m.headers.get('Call-ID') ?? ''};from-tag=${tag}`;
}

export function isRequest(m: SipMessage): m is SipRequest {
  return m.kind === 'request';
}
