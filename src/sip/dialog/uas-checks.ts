// RFC 3261 §8.2: what a UAS core checks on every new request before any TU sees it, in the
// RFC's order — Request-URI scheme (416), Require (420), body type and encoding (415), and for
// INVITE an Accept that excludes SDP (406, RFC 4475 §3.3.15). Method support (405 / 501) is the
// TU's call (see core.ts); Max-Forwards, loops and merged requests are the transaction layer's.
import type { SipRequest } from '../message/index.js';

export interface UasCapabilities {
  /** Request-URI schemes we serve. */
  schemes: readonly string[];
  /** Option tags we implement (RFC 3261 §8.2.2.3 Require). */
  supported: readonly string[];
  /** Body media types we take (RFC 3261 §8.2.3). The first is the one our answers carry. */
  accept: readonly string[];
}

export const DEFAULT_CAPABILITIES: Readonly<UasCapabilities> = Object.freeze({
  schemes: ['sip', 'sips', 'tel'],
  supported: [],
  // SDP for sessions; DTMF relay (INFO), sipfrag (REFER NOTIFY), text (MESSAGE), multipart bodies.
  accept: ['application/sdp', 'application/dtmf-relay', 'application/dtmf', 'message/sipfrag', 'text/plain', 'multipart/mixed'],
});

export interface Rejection {
  status: number;
  headers: [string, string][];
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

function mediaType(v: string): string {
  const semi = v.indexOf(';');
  return (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
}

/** RFC 3261 §20.1: does an Accept list admit `type` (wildcards included)? */
function admits(accept: string[], type: string): boolean {
  const [major] = type.split('/');
  return accept.some((a) => {
    const m = mediaType(a);
    return m === type || m === '*/*' || m === `${major}/*`;
  });
}

/** The answer a UAS core gives `req` by itself, or undefined when the request may go on. */
export function checkIncomingRequest(req: SipRequest, caps: UasCapabilities = DEFAULT_CAPABILITIES): Rejection | undefined {
  const method = req.method.toUpperCase();
  if (method === 'ACK' || method === 'CANCEL') return undefined;

  // RFC 3261 §8.2.2.1: a Request-URI scheme the UAS does not support gets 416.
  const scheme = SCHEME.exec(req.uri)?.[1]?.toLowerCase();
  if (scheme === undefined || !caps.schemes.includes(scheme)) return { status: 416, headers: [] };

  // RFC 3261 §8.2.2.3: option tags in Require we do not implement get 420 with Unsupported
  // listing them. (Proxy-Require is for proxies; a UAS ignores it.)
  const unsupported = req.headers
    .getAll('Require')
    .map((t) => t.trim())
    .filter((t) => t !== '' && !caps.supported.includes(t.toLowerCase()));
  if (unsupported.length > 0) return { status: 420, headers: [['Unsupported', unsupported.join(', ')]] };

  // RFC 3261 §8.2.3: a body we cannot process gets 415, listing what we take.
  if (req.body.length > 0) {
    const ct = req.headers.get('Content-Type');
    if (ct !== undefined && !caps.accept.includes(mediaType(ct))) {
      return { status: 415, headers: [['Accept', caps.accept.join(', ')]] };
    }
    const enc = req.headers.getAll('Content-Encoding').map((e) => e.trim().toLowerCase());
    if (enc.some((e) => e !== '' && e !== 'identity')) {
      return { status: 415, headers: [['Accept-Encoding', 'identity']] };
    }
  }

  // RFC 3261 §20.1 + RFC 4475 §3.3.15: an INVITE whose Accept excludes SDP cannot be answered
  // with a session description: 406. (No Accept header means application/sdp.)
  if (method === 'INVITE' && req.headers.has('Accept')) {
    if (!admits(req.headers.getAll('Accept'), 'application/sdp')) return { status: 406, headers: [] };
  }
  return undefined;
}
