// SipParseError: the one error parseMessage throws. It carries the partially parsed message
// whenever the start line and header block could be framed, so the transport can still answer
// (RFC 3261 §8.2 / §16.3 need Via, From, To, Call-ID and CSeq to build a 400).
import { SipError } from '../../lib/errors.js';
import type { SipMessage } from './message.js';

export class SipParseError extends SipError {
  /** Set when the start line and header block were framed: enough to build a response. */
  partial?: SipMessage;

  constructor(status: number, reason: string, partial?: SipMessage) {
    super(status, reason);
    this.name = 'SipParseError';
    if (partial) this.partial = partial;
  }
}

/** Reason phrases follow the "Bad Request - <detail>" convention so the peer sees what was wrong. */
export function badRequest(detail: string): SipError {
  return new SipError(400, `Bad Request - ${detail}`);
}
