// Public entry of the SIP stack for the call layer and the drachtio wire server: the stack, the
// default UA core, the dialog/request interfaces and the message toolkit they need. Nothing here
// exposes a layer's internals; implementation classes stay behind their interfaces.
export { SipStack, type SipStackEvents, type SipStackOptions, type SipStackStats, type NewRequestOptions } from './stack.js';
export { attachDefaultCore, answerWithDefaultCore, defaultCoreResponse, DEFAULT_ALLOW, type DefaultCoreOptions } from './core.js';
export type {
  AckInfo,
  BodyOptions,
  ClientRequest,
  ClientRequestEvents,
  Dialog,
  DialogEndReason,
  DialogEvents,
  DialogInfo,
  DialogKey,
  DialogRole,
  DialogState,
  Events,
  IncomingRequest,
  IncomingRequestEvents,
  InviteClient,
  InviteClientEvents,
  InviteOptions,
  RequestOptions,
  RespondOptions,
  SendOptions,
  StackDump,
} from './dialog/types.js';
export { dialogId, parseDialogId } from './dialog/rules.js';
export { DEFAULT_CAPABILITIES, checkIncomingRequest, type UasCapabilities } from './dialog/uas-checks.js';
export type { DialogLayerStats } from './dialog/layer.js';
export type { BranchResponse, ProxyOperation, ProxyOptions, ProxyResult, ProxyStats } from './proxy/index.js';
export type { Endpoint, Inbound } from './transport/index.js';
export {
  Headers,
  SipRequest,
  SipResponse,
  createResponse,
  formatNameAddr,
  formatUri,
  parseNameAddr,
  parseUri,
  type NameAddr,
  type SipMessage,
  type SipUri,
  type TransportName,
} from './message/index.js';
