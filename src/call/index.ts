// src/call public surface: signalling (connectSignalling), the assembled call layer
// (startCallServices) and its parts for the API layer and tests.
export { connectSignalling, type Signalling, type SignallingConfig, type SignallingOptions } from './connect.js';
export { startCallServices, type CallServices, type CallServicesConfig, type CallServicesOptions } from './services.js';
export { attachRegistrarApp, registerFacts, ALLOW, ACCEPT, type RegistrarApp, type RegistrarAppOptions } from './registrar-app.js';
export { attachExtCalls, type ExtCalls, type ExtCallsOptions } from './ext-calls.js';
export { bestFailure, targetOf } from './fork.js';
export { CallMetrics, type CallResult, type RegisterResult } from './metrics.js';
