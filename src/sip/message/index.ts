// Public API of src/sip/message (contract: API.md): RFC 3261 parsing, serialization, response
// building and stream framing.
export type { TransportName, SipMessage } from './message.js';
export { SipRequest, SipResponse, isWildcardContact } from './message.js';
export { Headers } from './headers.js';
export { canonicalName, headerName, type HeaderName } from './names.js';
export { parseUri, formatUri, isSipUri, unescapeUri, escapeUri, type SipUri, type UriScheme } from './uri.js';
export { parseNameAddr, formatNameAddr, type NameAddr } from './name-addr.js';
export { parseVia, formatVia, type Via } from './via.js';
export { parseCSeq, formatCSeq, MAX_CSEQ, type CSeq } from './cseq.js';
export { splitList } from './split.js';
export { SipParseError } from './errors.js';
export { parseMessage, MAX_CONTENT_LENGTH } from './parse.js';
export { serializeMessage } from './serialize.js';
export { createResponse, createResponseToMalformed, defaultReason, type CreateResponseOptions } from './response.js';
export { newTag, newBranch, newCallId } from './ids.js';
export { StreamFramer, MAX_MESSAGE_BYTES, type FramerEvent, type StreamFramerOptions } from './framer.js';
