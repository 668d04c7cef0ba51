// serializeMessage: SipMessage -> wire bytes. Header lines in stored order, canonical names,
// and exactly one Content-Length that matches the body (RFC 3261 §18.3, §20.14).
import { SipError } from '../../lib/errors.js';
import { TOKEN } from './chars.js';
import type { SipMessage } from './message.js';

function unsafe(what: string): SipError {
  return new SipError(500, `Server Internal Error - invalid ${what}`);
}

/** Start-line elements must not smuggle CR/LF; method is a token, URI has no whitespace. */
function checkStartLine(m: SipMessage): void {
  if (m.kind === 'request') {
    const meth = m.method;
    if (meth.length === 0) throw unsafe('method');
    for (let i = 0; i < meth.length; i++) {
      const c = meth.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) throw unsafe('method');
    }
    const uri = m.uri;
    if (uri.length === 0) throw unsafe('Request-URI');
    for (let i = 0; i < uri.length; i++) if (uri.charCodeAt(i) <= 32) throw unsafe('Request-URI');
  } else {
    if (!Number.isInteger(m.status) || m.status < 100 || m.status > 699) throw unsafe('status code');
    if (/[\r\n]/.test(m.reason)) throw unsafe('reason phrase');
  }
}

/** Serialize to a new Buffer. Content-Length is always written and always equals body.length. */
export function serializeMessage(m: SipMessage): Buffer {
  checkStartLine(m);
  let head = m.kind === 'request' ? `${m.method} ${m.uri} SIP/2.0\r\n` : `SIP/2.0 ${m.status} ${m.reason}\r\n`;
  const names = m.headers.rawNames();
  const keys = m.headers.rawKeys();
  const values = m.headers.rawValues();
  let clWritten = false;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] === 'content-length') {
      if (clWritten) continue;
      clWritten = true;
      head += `Content-Length: ${m.body.length}\r\n`;
      continue;
    }
    head += `${names[i]}: ${values[i]}\r\n`;
  }
  if (!clWritten) head += `Content-Length: ${m.body.length}\r\n`;
  head += '\r\n';
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + m.body.length);
  out.write(head, 0, 'utf8');
  m.body.copy(out, headLen);
  return out;
}
