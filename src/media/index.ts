// Public surface of src/media (see API.md). The media layer knows nothing of SIP: the call layer
// hands it SDP and gets SDP (or an SdpError → 488) back.
export * from './types.js';
export * from './rtp.js';
export * from './rtcp.js';
export {
  SdpError,
  parseSdp,
  formatSdp,
  getAttribute,
  directionOf,
  connectionOf,
  rtpMapsOf,
  parseFmtpParams,
  answerOffer,
  applyAnswer,
  buildOffer,
  SdpOriginState,
  DEFAULT_CODECS,
  MAX_SDP_BYTES,
  type SdpErrorCode,
  type LocalMedia,
  type NegotiatedCodec,
  type NegotiatedMedia,
  type SessionDescription,
  type MediaDescription,
  type SdpAttribute,
  type SdpConnection,
  type SdpLine,
  type SdpOrigin,
  type Direction,
  type RtpMap,
} from './sdp/index.js';
export { PortAllocator, PortsExhaustedError, type PortPair, type PortAllocatorOptions } from './ports.js';
export { DgramMediaSocket, type DatagramSource, type MediaSocket, type MediaSocketHandlers, type MediaSocketKind } from './udp.js';
export { nativeIoStats, nativeLoadError } from './udp-native.js';
export {
  MediaSession,
  RTCP_INTERVAL_MS,
  type MediaSessionEvents,
  type MediaSessionOptions,
  type MediaSessionStats,
  type RtcpReport,
} from './session.js';
export { MediaEmitter } from './session-emitter.js';
export { MediaClock, type MediaTickListener, type MediaClockOptions, type LatenessStats } from '../lib/media-clock.js';
/** The process-wide media clock, on the precise timer when the add-on is built. */
export { defaultMediaClock as sharedMediaClock, preciseTimerClock } from './precise-timer.js';
export { createCodec, codecName, CODEC_NAMES } from './codec/index.js';
export { JitterBuffer, type JitterBufferOptions, type JitterStats } from './jitter.js';
export { SessionDtmf, type DtmfSendMethod, type SessionDtmfOptions, type DtmfHost } from './session-dtmf.js';
export { DtmfEventQueue, DtmfToneQueue, MAX_DTMF_MS, MAX_QUEUED_DIGITS, MIN_DTMF_MS } from './session-dtmf-send.js';
export {
  SessionPlayback,
  sharedPromptCache,
  type PlayInput,
  type SessionPlayOptions,
  type SessionRecordOptions,
  type PlaybackHost,
} from './session-playback.js';
export { Bridge, type BridgeOptions, type BridgeRecording } from './bridge.js';
export { Recorder, type RecorderOptions, type RecorderStats } from './recorder.js';
export { OffloadedRecorder } from './offloaded-recorder.js';
