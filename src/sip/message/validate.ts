// Per-header validation during parseMessage: the checks RFC 4475 §3.1.2 / §3.3 expect of a
// parser (malformed or repeated single-value headers, scalar ranges, Date time zone). The
// structured values it parses are kept so the message's accessors do not parse them again.
import { SipError } from '../../lib/errors.js';
import { parseDigits } from './chars.js';
import { parseCSeq, type CSeq } from './cseq.js';
import { validateNameAddr } from './name-addr.js';
import { splitList, topLevelComma } from './split.js';
import { parseVia, validateVia, type Via } from './via.js';

/** Largest Content-Length we accept at all; real limits are the transport's maxMessageBytes. */
export const MAX_CONTENT_LENGTH = 0x7fffffff;

/** RFC 3261 §20.17: rfc1123-date, and the time zone MUST be "GMT" (RFC 4475 §3.1.2.12). */
const DATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

function malformed(name: string): SipError {
  return new SipError(400, `Bad Request - Malformed ${name}`);
}

function multiple(name: string): SipError {
  return new SipError(400, `Bad Request - Multiple ${name}`);
}

/**
 * Validates header by header. Only the top Via and CSeq are kept parsed (every request needs
 * them); From, To, Contact and the other Vias are checked by the same grammar without
 * allocating, and parsed later only if someone asks.
 */
export class HeaderChecks {
  topVia: Via | undefined;
  viaCount = 0;
  fromSeen = false;
  toSeen = false;
  cseq: CSeq | undefined;
  callIdSeen = false;
  maxForwardsSeen = false;
  contentTypeSeen = false;
  contentLength = -1;

  /** Validate one header field; returns the error for the first fault, else undefined. */
  check(key: string, name: string, value: string): SipError | undefined {
    try {
      switch (key) {
        case 'via':
          if (topLevelComma(value) < 0) this.#via(value);
          else for (const el of splitList(value, [], true)) this.#via(el);
          return undefined;
        case 'from':
          if (this.fromSeen) return multiple(name);
          this.fromSeen = true;
          validateNameAddr(value);
          return undefined;
        case 'to':
          if (this.toSeen) return multiple(name);
          this.toSeen = true;
          validateNameAddr(value);
          return undefined;
        case 'call-id':
          if (this.callIdSeen) return multiple(name);
          this.callIdSeen = true;
          return validCallId(value) ? undefined : malformed(name);
        case 'cseq':
          if (this.cseq !== undefined) return multiple(name);
          this.cseq = parseCSeq(value);
          return undefined;
        case 'max-forwards':
          // RFC 3261 §20.22: 0-255 (RFC 4475 §3.1.2.4 sends 300).
          if (this.maxForwardsSeen) return multiple(name);
          this.maxForwardsSeen = true;
          return parseDigits(value, 0, value.length, 255) < 0 ? malformed(name) : undefined;
        case 'content-length':
          // RFC 4475 §3.1.2.3 (negative), §3.1.2.4 (overlarge), §3.3.9 (two values).
          if (this.contentLength >= 0) return multiple(name);
          this.contentLength = parseDigits(value, 0, value.length, MAX_CONTENT_LENGTH);
          return this.contentLength < 0 ? malformed(name) : undefined;
        case 'content-type':
          if (this.contentTypeSeen) return multiple(name);
          this.contentTypeSeen = true;
          return undefined;
        case 'contact':
          if (topLevelComma(value) < 0) {
            if (value !== '*') validateNameAddr(value);
          } else for (const el of splitList(value, [], true)) if (el !== '*') validateNameAddr(el);
          return undefined;
        case 'date':
          return DATE.test(value) ? undefined : malformed(name);
        default:
          return undefined;
      }
    } catch {
      return malformed(name);
    }
  }

  #via(v: string): void {
    if (this.viaCount++ === 0) this.topVia = parseVia(v);
    else validateVia(v);
  }
}

/** callid = word [ "@" word ]: non-empty, no whitespace or controls (RFC 3261 §25.1). */
function validCallId(v: string): boolean {
  if (v.length === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 32 || c === 127) return false;
  }
  return true;
}
