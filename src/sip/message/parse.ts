// parseMessage: one datagram or one stream-framed message -> SipRequest | SipResponse.
// One pass over the header block; the headers RFC 4475 requires us to validate (Via, From, To,
// Contact, CSeq, Call-ID, Max-Forwards, Content-Length, Request-URI) are parsed here and their
// results seeded into the message's cache, everything else stays a string until asked for.
import { SipError } from '../../lib/errors.js';
import { TOKEN, parseDigits, skipWs, skipWsBack } from './chars.js';
import { SipParseError } from './errors.js';
import { Headers } from './headers.js';
import { SipRequest, SipResponse, type SipMessage } from './message.js';
import { headerName, knownHeaderAt } from './names.js';
import { validateUriHeaders } from './uri.js';
import { HeaderChecks, MAX_CONTENT_LENGTH } from './validate.js';

export { MAX_CONTENT_LENGTH };

/** Set by findHeadEnd: index of the first body byte. Module scratch avoids an allocation. */
let scratchBodyStart = 0;

/**
 * Find the blank line ending the header block in buf[start, end). Accepts CRLF and bare LF line
 * ends. Returns the index where the last header line's terminator begins (the head excludes it)
 * and sets the body start for bodyStartOf(); -1 when the block is not complete.
 */
export function findHeadEnd(buf: Buffer, start: number, end: number = buf.length): number {
  let i = start;
  for (;;) {
    const nl = buf.indexOf(10, i);
    if (nl < 0 || nl >= end) return -1;
    const n1 = nl + 1;
    if (n1 < end) {
      const c = buf[n1];
      if (c === 10) {
        scratchBodyStart = n1 + 1;
        return nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      }
      if (c === 13 && n1 + 1 < end && buf[n1 + 1] === 10) {
        scratchBodyStart = n1 + 2;
        return nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      }
    } else return -1;
    i = n1;
  }
}

/** Body start of the last successful findHeadEnd call. */
export function bodyStartOf(): number {
  return scratchBodyStart;
}

/** RFC 3261 §7.5: CRLFs before the start line are ignored. */
export function skipLeadingCrlf(buf: Buffer, i: number): number {
  while (i < buf.length && (buf[i] === 13 || buf[i] === 10)) i++;
  return i;
}

function fail(status: number, reason: string, partial?: SipMessage): never {
  throw new SipParseError(status, reason, partial);
}

/** "SIP/2.0" exactly (case-insensitive "SIP"); 0 ok, 505 other version, 400 not a version. */
function checkVersion(s: string, start: number, end: number): number {
  if (end - start === 7 && s.charCodeAt(start + 3) === 47 && s.startsWith('2.0', start + 4) && (s.charCodeAt(start) | 0x20) === 115 && (s.charCodeAt(start + 1) | 0x20) === 105 && (s.charCodeAt(start + 2) | 0x20) === 112) return 0;
  return /^SIP\/\d+\.\d+$/i.test(s.slice(start, end)) ? 505 : 400;
}

/**
 * Parse a complete message (datagram semantics, RFC 3261 §18.3): the body is Content-Length
 * bytes (a view into `buf`, not a copy); extra bytes are ignored, too few is a 400; without
 * Content-Length the body runs to the end of the buffer. Throws SipParseError only.
 */
export function parseMessage(buf: Buffer): SipMessage {
  try {
    return parseInner(buf);
  } catch (e) {
    if (e instanceof SipParseError) throw e;
    // Defensive: helpers throw SipError; anything else is a parser bug we still contain.
    if (e instanceof SipError) throw new SipParseError(e.status, e.reason);
    throw new SipParseError(400, 'Bad Request - Unparseable message');
  }
}

function parseInner(buf: Buffer): SipMessage {
  const start = skipLeadingCrlf(buf, 0);
  if (start >= buf.length) fail(400, 'Bad Request - Empty message');
  const headEnd = findHeadEnd(buf, start);
  if (headEnd < 0) fail(400, 'Bad Request - Incomplete header block');
  const bodyStart = scratchBodyStart;
  const h = buf.toString('utf8', start, headEnd);
  const hl = h.length;

  // A CR not followed by LF would survive into a header value and break the framing on output.
  for (let cr = h.indexOf('\r'); cr >= 0; cr = h.indexOf('\r', cr + 2)) {
    if (h.charCodeAt(cr + 1) !== 10) fail(400, 'Bad Request - Bare CR in header block');
  }

  // ---- Start line (RFC 3261 §7.1, §7.2): single SPs, no leading/trailing whitespace.
  let nl = h.indexOf('\n');
  if (nl < 0) nl = hl;
  const sl = nl > 0 && h.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  let msg: SipMessage;
  let startErr: SipError | undefined;
  const sp1 = h.indexOf(' ', 0);
  if (sp1 <= 0 || sp1 >= sl) fail(400, 'Bad Request - Malformed start line');
  if ((h.charCodeAt(0) | 0x20) === 115 && (h.charCodeAt(1) | 0x20) === 105 && (h.charCodeAt(2) | 0x20) === 112 && h.charCodeAt(3) === 47) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    let sp2 = h.indexOf(' ', sp1 + 1);
    if (sp2 < 0 || sp2 > sl) sp2 = sl;
    const status = sp2 - sp1 === 4 ? parseDigits(h, sp1 + 1, sp2, 699) : -1;
    const reason = sp2 < sl ? h.slice(sp2 + 1, sl) : '';
    msg = new SipResponse(status < 0 ? 0 : status, reason);
    const v = checkVersion(h, 0, sp1);
    if (v !== 0) startErr = new SipError(v, v === 505 ? 'Version Not Supported' : 'Bad Request - Malformed SIP version');
    else if (status < 100) startErr = new SipError(400, 'Bad Request - Malformed status code');
  } else {
    // Request-Line = Method SP Request-URI SP SIP-Version
    for (let i = 0; i < sp1; i++) {
      const c = h.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) fail(400, 'Bad Request - Malformed start line');
    }
    const sp3 = h.lastIndexOf(' ', sl - 1);
    const uriStart = skipWs(h, sp1, sl);
    const uriEnd = skipWsBack(h, uriStart, sp3 > sp1 ? sp3 : sl);
    msg = new SipRequest(h.slice(0, sp1), h.slice(uriStart, uriEnd));
    // Tabs or other whitespace inside the elements are caught by the token, URI and version checks.
    if (sp3 <= sp1 + 1 || h.indexOf(' ', sp1 + 1) !== sp3) {
      startErr = new SipError(400, 'Bad Request - Malformed Request-Line');
    } else {
      const v = checkVersion(h, sp3 + 1, sl);
      if (v !== 0) startErr = new SipError(v, v === 505 ? 'Version Not Supported' : 'Bad Request - Malformed Request-Line');
    }
  }

  // ---- Header fields (RFC 3261 §7.3): name HCOLON value, LWS continuation lines unfolded.
  const names: string[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  let err: SipError | undefined;
  const chk = new HeaderChecks();
  let pos = nl + 1;
  while (pos < hl) {
    const ls = pos;
    let lineEnd = h.indexOf('\n', pos);
    if (lineEnd < 0) lineEnd = hl;
    let next = lineEnd + 1;
    const le = lineEnd > pos && h.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
    const first = h.charCodeAt(pos);
    if (first === 32 || first === 9) {
      // A continuation line with no header to continue.
      err ??= new SipError(400, 'Bad Request - Malformed header line');
      pos = next;
      continue;
    }
    const colon = h.indexOf(':', pos);
    if (colon < 0 || colon >= le) {
      err ??= new SipError(400, 'Bad Request - Malformed header line');
      pos = next;
      continue;
    }
    const nameEnd = skipWsBack(h, pos, colon);
    let tokenOk = nameEnd > pos;
    for (let i = pos; i < nameEnd; i++) {
      const c = h.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) {
        tokenOk = false;
        break;
      }
    }
    const vs = skipWs(h, colon + 1, le);
    let value = h.slice(vs, skipWsBack(h, vs, le));
    // Unfold: each continuation line joins the value with one SP (RFC 3261 §7.3.1).
    while (next < hl) {
      const c = h.charCodeAt(next);
      if (c !== 32 && c !== 9) break;
      let ce = h.indexOf('\n', next);
      if (ce < 0) ce = hl;
      const nextNext = ce + 1;
      if (ce > next && h.charCodeAt(ce - 1) === 13) ce--;
      const cs = skipWs(h, next, ce);
      const cv = h.slice(cs, skipWsBack(h, cs, ce));
      if (cv.length > 0) value = value.length > 0 ? value + ' ' + cv : cv;
      next = nextNext;
    }
    pos = next;
    if (!tokenOk) {
      err ??= new SipError(400, 'Bad Request - Malformed header name');
      continue;
    }
    const hn = knownHeaderAt(h, ls, nameEnd) ?? headerName(h.slice(ls, nameEnd));
    names.push(hn.name);
    keys.push(hn.key);
    values.push(value);
    if (err !== undefined) continue;
    err = chk.check(hn.key, hn.name, value);
  }

  const headers = Headers.fromParsed(names, keys, values);
  msg.headers = headers;
  // The partial message's body: what the datagram holds, bounded by Content-Length if sane.
  const { cseq, contentLength } = chk;
  const avail = buf.length - bodyStart;
  msg.body = buf.subarray(bodyStart, contentLength >= 0 && contentLength <= avail ? bodyStart + contentLength : buf.length);

  if (startErr !== undefined) fail(startErr.status, startErr.reason, msg);
  if (err !== undefined) fail(err.status, err.reason, msg);
  if (chk.viaCount === 0) fail(400, 'Bad Request - Missing Via', msg);
  if (!chk.fromSeen) fail(400, 'Bad Request - Missing From', msg);
  if (!chk.toSeen) fail(400, 'Bad Request - Missing To', msg);
  if (!chk.callIdSeen) fail(400, 'Bad Request - Missing Call-ID', msg);
  if (cseq === undefined) fail(400, 'Bad Request - Missing CSeq', msg);
  if (msg.kind === 'request') {
    // RFC 3261 §8.2.3 / RFC 4475 §3.1.2.17: the CSeq method must match the request method.
    if (cseq.method !== msg.method) fail(400, 'Bad Request - CSeq method does not match', msg);
    let hasHeaders = false;
    try {
      hasHeaders = validateUriHeaders(msg.uri);
    } catch {
      fail(400, 'Bad Request - Malformed Request-URI', msg);
    }
    // RFC 3261 §19.1.1 table: URI headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    if (hasHeaders) fail(400, 'Bad Request - Headers in Request-URI', msg);
  }
  // RFC 3261 §18.3: a datagram shorter than Content-Length is an error; longer is truncated.
  if (contentLength > avail) fail(400, 'Bad Request - Content-Length exceeds body', msg);

  msg.seedCache({ headers, version: headers.version, topVia: chk.topVia, cseq });
  return msg;
}

