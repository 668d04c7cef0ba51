// Public entry of src/sip/proxy (RFC 3261 §16 stateful proxy): the layer the stack owns, the
// options and events of one proxy operation, and the pure §16 rules (exported for tests).
export { ProxyLayer, type ProxyStats } from './layer.js';
export { ProxyCore } from './core.js';
export {
  TIMER_C_MS,
  type BranchResponse,
  type ProxyEvents,
  type ProxyHost,
  type ProxyOperation,
  type ProxyOptions,
  type ProxyResult,
} from './types.js';
export * as proxyRules from './rules.js';
