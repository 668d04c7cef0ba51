// SdpError: an SDP we cannot parse or cannot accept. It is a SipError with status 488 so the
// call layer answers 488 Not Acceptable Here (RFC 3261 §21.4.26, RFC 3264 §6) unchanged.
import { SipError } from '../../lib/errors.js';

export type SdpErrorCode =
  | 'malformed' // unparseable text
  | 'no-audio' // no audio stream we could use at all
  | 'unsupported-transport' // audio only over a profile we do not speak (SRTP, DTLS)
  | 'no-common-codec' // audio offered, but none of our codecs
  | 'bad-answer'; // an answer that does not fit our offer (RFC 3264 §6)

export class SdpError extends SipError {
  constructor(
    readonly code: SdpErrorCode,
    /** What was wrong and where (line number for malformed input). */
    readonly detail: string,
  ) {
    super(488, 'Not Acceptable Here', `SDP ${code}: ${detail}`);
    this.name = 'SdpError';
  }
}
