// SDP (RFC 8866) parsing/formatting and RFC 3264 offer/answer for one audio stream.
export * from './types.js';
export { SdpError, type SdpErrorCode } from './errors.js';
export { parseSdp, formatSdp, getAttribute, directionOf, connectionOf, rtpMapsOf, parseFmtpParams, MAX_SDP_BYTES } from './parse.js';
export {
  answerOffer,
  applyAnswer,
  buildOffer,
  SdpOriginState,
  DEFAULT_CODECS,
  type CodecName,
  type LocalMedia,
  type NegotiatedCodec,
  type NegotiatedMedia,
} from './negotiate.js';
