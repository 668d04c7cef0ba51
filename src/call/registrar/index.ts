// src/call/registrar public surface: the pieces the drachtio-srf REGISTER handler wires together.
export { Registrar, type RegisterReply, type RegisterRequest, type RegistrarDeps } from './registrar.js';
export {
  canonicalAor,
  contactHeaderOf,
  processRegister,
  MAX_DELTA_SECONDS,
  type BindingSource,
  type ContactFacts,
  type ExpiryLimits,
  type RegisterFacts,
  type RegisterResult,
} from './bindings.js';
export {
  DigestServer,
  digestResponse,
  hashHex,
  DIGEST_ALGORITHMS,
  MAX_TRACKED_NONCES,
  type DigestAlgorithm,
  type DigestCounters,
  type DigestInput,
  type DigestOutcome,
  type DigestServerOptions,
  type StaleReason,
  type VerifyRequest,
} from './digest.js';
export { parseCredentials, MAX_AUTH_HEADER_BYTES } from './digest-header.js';
export { AuthFailureLimiter, sourceKey, MAX_TRACKED_SOURCES, type Admission, type AuthRateLimitOptions, type RateLimitCounters } from './ratelimit.js';
export { UserDirectory, type Extension } from './users.js';
export { sipUriEquals } from './uri-compare.js';
