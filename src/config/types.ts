// The shape of config/switchboard.yaml after validation. Defaults live in src/config/defaults.ts.
import type { TransportName } from '../sip/message/index.js';

export interface ListenConfig {
  transport: TransportName;
  address: string; // "0.0.0.0", "::", "127.0.0.1", ...
  port: number; // 0 = ephemeral
  /** tls / wss: certificate and key paths (PEM). */
  tls?: { cert: string; key: string; ca?: string };
  /** ws / wss: HTTP path for the upgrade; "/" by default. */
  path?: string;
}

export interface SipTimersConfig {
  /** RTT estimate, ms (RFC 3261 default 500). */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, ms (default 4000). */
  t2: number;
  /** Maximum time a message stays in the network, ms (default 5000). */
  t4: number;
}

export interface SipLimitsConfig {
  /** Largest UDP datagram accepted, bytes. */
  maxUdpBytes: number;
  /** Largest message accepted on a stream (TCP, TLS, WS), bytes. */
  maxStreamBytes: number;
  /** Stream connections with no traffic for this long are closed, seconds. */
  idleTimeoutSeconds: number;
}

export interface SipConfig {
  listen: ListenConfig[];
  timers: SipTimersConfig;
  limits: SipLimitsConfig;
  /** Value of the User-Agent / Server header we send. */
  userAgent: string;
}

/** An extension (agent phone) allowed to REGISTER. */
export interface RegistrarExtensionConfig {
  /** SIP user part and digest username, e.g. "1001". */
  user: string;
  password: string;
  /** Display name, e.g. "Agent One". */
  name?: string;
}

/** Failed-authentication rate limiting per source address. */
export interface RegistrarBanConfig {
  /** Failures within windowSeconds that start a ban. */
  maxFailures: number;
  windowSeconds: number;
  /** How long a banned source gets 403 to everything. */
  banSeconds: number;
}

export interface RegistrarConfig {
  /** Digest realm and the domain part of every registered AOR. */
  realm: string;
  /** Shorter registrations get 423 Interval Too Brief (RFC 3261 §10.3 step 5), seconds. */
  minExpires: number;
  /** Longer registrations are shortened to this, seconds. */
  maxExpires: number;
  /** Used when a REGISTER gives no expiry, seconds. */
  defaultExpires: number;
  /** Digest nonce lifetime; older nonces get a stale=true challenge, seconds. */
  nonceTtlSeconds: number;
  ban: RegistrarBanConfig;
  /** SQLite database file (bindings, event log), relative to the working directory. */
  database: string;
  extensions: RegistrarExtensionConfig[];
  /**
   * Digest algorithms offered, one WWW-Authenticate / Proxy-Authenticate each, in this order.
   * Default [MD5]: SIPp answers only the first challenge, SIP.js 0.21 only the last, and both
   * abort on SHA-256, so offering SHA-256 at all locks one of them out.
   */
  digestAlgorithms: ('MD5' | 'SHA-256')[];
  /** How often expired bindings are deleted from the database, seconds. */
  purgeIntervalSeconds: number;
}

/** The drachtio wire protocol: where drachtio-srf applications (ours included) get their SIP. */
export interface DrachtioConfig {
  /** Shared secret every application presents (`authenticate|<secret>`). */
  secret: string;
  /** The in-process drachtio server on top of the embedded SIP stack. Port 0 = ephemeral. */
  embedded: { address: string; port: number };
  /** When set, connect to this external drachtio-server instead; sip.listen is then unused. */
  external?: { host: string; port: number };
}

/** Extension-to-extension calls (src/call/ext-calls.ts). */
export interface CallsConfig {
  /** Unanswered calls are cancelled after this long and the caller gets 480, seconds. */
  ringTimeoutSeconds: number;
}

export interface LogConfig {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface SwitchboardConfig {
  sip: SipConfig;
  registrar: RegistrarConfig;
  drachtio: DrachtioConfig;
  /** RTP media: where sessions bind, their port range, recordings and prompts. */
  media: MediaConfig;
  /** HTTP API: /metrics for Prometheus, /healthz. Port 0 = ephemeral. */
  api: ApiConfig;
  calls: CallsConfig;
  log: LogConfig;
}

export interface ApiConfig {
  address: string;
  port: number;
}

export interface MediaConfig {
  /** Address RTP sockets bind to (and, unless it is 0.0.0.0 / ::, the one put in SDP). */
  address: string;
  /** RTP uses even ports in [rtpPortMin, rtpPortMax], RTCP the odd port above each. */
  rtpPortMin: number;
  rtpPortMax: number;
  /** No RTP for this long raises the session's 'inactive' event. */
  inactivitySeconds: number;
  /** Call recordings; half-written files in it are repaired at start-up. */
  recordingsDir: string;
  /** WAV prompts (IVR, music on hold). */
  promptsDir: string;
  /**
   * Where RTP socket syscalls run: 'off' — on the media (JS) thread; 'recv' — receives on
   * rtp-io's I/O thread (use with realtimePriority); 'all' — sends there too.
   */
  ioThread: 'off' | 'recv' | 'all';
  /** SCHED_FIFO priority (1–99) for the media threads, 0 = normal scheduling; needs root or CAP_SYS_NICE. */
  realtimePriority: number;
}
