// Public entry of src/sip/transaction (RFC 3261 §17): the layer, its types, the timers and the
// four pure state machines (exported for tests and for the drachtio wire layer's introspection).

export { TransactionLayer, type TransactionStats } from './layer.js';
export type {
  ClientTransaction,
  ClientTransactionEvents,
  ClientTransactionState,
  Endpoint,
  Inbound,
  ServerTransaction,
  ServerTransactionEvents,
  ServerTransactionState,
  TransactionLayerEvents,
  TransactionLayerOptions,
  TransactionTransport,
} from './types.js';
export { DEFAULT_TIMERS, makeTimers, TIMER_D_MIN_MS, type TimerConfig, type Timers } from './timers.js';
export type { Action, TimerName } from './fsm.js';
export { MAGIC_COOKIE } from './matching.js';
export { buildAck, buildCancel } from './build.js';
export * as ict from './ict.js';
export * as nict from './nict.js';
export * as ist from './ist.js';
export * as nist from './nist.js';
