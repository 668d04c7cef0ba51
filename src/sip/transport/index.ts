// Public surface of the SIP transport layer (RFC 3261 §18, RFC 3581, RFC 7118, RFC 5626 keep-alive).
export {
  TransportLayer,
  DEFAULT_MAX_UDP_BYTES,
  DEFAULT_MAX_STREAM_BYTES,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
} from './layer.js';
export type {
  Endpoint,
  Destination,
  ListenSpec,
  Inbound,
  DroppedInfo,
  TransportLayerEvents,
  TransportLayerOptions,
  TransportStats,
} from './types.js';
export { defaultPort, isReliable, optionsFromLimits } from './types.js';
export { applyReceived, unreliableResponseTarget, reliableResponseTarget, viaTransport } from './via.js';
