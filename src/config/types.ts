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

export interface LogConfig {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface SwitchboardConfig {
  sip: SipConfig;
  log: LogConfig;
}
