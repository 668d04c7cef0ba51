// The call layer assembled: store, digest authentication and the ban limiter shared by REGISTER
// and INVITE, the Registrar, signalling (embedded or external drachtio), and the two srf apps —
// registrar (+ OPTIONS) and extension calls. `npm start` and the integration tests both use this,
// so what is tested is what runs. close() undoes it in reverse order and is idempotent.
import { systemClock, type Clock } from '../lib/clock.js';
import { moduleLogger, type Logger } from '../lib/log.js';
import { openStore, type Store } from '../store/index.js';
import { connectSignalling, type Signalling, type SignallingConfig, type SignallingOptions } from './connect.js';
import { attachExtCalls, type ExtCalls } from './ext-calls.js';
import { CallMetrics } from './metrics.js';
import { registerSipStackMetrics } from './sip-metrics.js';
import { attachRegistrarApp, type RegistrarApp } from './registrar-app.js';
import { AuthFailureLimiter, DigestServer, Registrar, UserDirectory, type DigestAlgorithm, type Extension } from './registrar/index.js';

/** The config sections the call layer reads (structurally SwitchboardConfig's). */
export interface CallServicesConfig extends SignallingConfig {
  registrar: {
    realm: string;
    minExpires: number;
    maxExpires: number;
    defaultExpires: number;
    nonceTtlSeconds: number;
    ban: { maxFailures: number; windowSeconds: number; banSeconds: number };
    database: string;
    extensions: Extension[];
    digestAlgorithms: DigestAlgorithm[];
    purgeIntervalSeconds: number;
  };
  calls: { ringTimeoutSeconds: number };
}

export interface CallServicesOptions extends SignallingOptions {
  /** Clock of the ban limiter (monotonic ms). */
  clock?: Clock;
  /** Nonce HMAC key; random per process by default (a restart costs one stale challenge). */
  nonceSecret?: string;
  /** Overrides registrar.purgeIntervalSeconds, ms (tests). */
  purgeIntervalMs?: number;
}

export interface CallServices {
  readonly signalling: Signalling;
  readonly store: Store;
  readonly registrar: Registrar;
  readonly users: UserDirectory;
  readonly limiter: AuthFailureLimiter;
  readonly metrics: CallMetrics;
  readonly extCalls: ExtCalls;
  close(): Promise<void>;
}

export async function startCallServices(config: CallServicesConfig, opts: CallServicesOptions = {}): Promise<CallServices> {
  const log: Logger = opts.logger ?? moduleLogger('call');
  const r = config.registrar;
  const store = openStore(r.database);
  let signalling: Signalling | undefined;
  try {
    const users = new UserDirectory(r.extensions);
    const digest = new DigestServer({
      realm: r.realm,
      nonceTtlSeconds: r.nonceTtlSeconds,
      lookup: (u) => users.password(u),
      algorithms: r.digestAlgorithms,
      ...(opts.nonceSecret === undefined ? {} : { secret: opts.nonceSecret }),
    });
    const limiter = new AuthFailureLimiter({ ...r.ban, clock: opts.clock ?? systemClock });
    const registrar = new Registrar({
      domain: r.realm,
      limits: { minExpires: r.minExpires, maxExpires: r.maxExpires, defaultExpires: r.defaultExpires },
      users,
      digest,
      limiter,
      registrations: store.registrations,
      events: store.events,
    });
    const metrics = new CallMetrics();
    signalling = await connectSignalling(config, { ...opts, logger: log });
    if (signalling.embedded) registerSipStackMetrics(metrics.registry, signalling.embedded.stack);
    const registrarApp: RegistrarApp = attachRegistrarApp(signalling.srf, {
      registrar,
      metrics,
      logger: log.child({ app: 'registrar' }),
      purgeIntervalMs: opts.purgeIntervalMs ?? r.purgeIntervalSeconds * 1000,
    });
    const extCalls = attachExtCalls(signalling.srf, {
      registrar,
      users,
      digest,
      limiter,
      domain: r.realm,
      metrics,
      logger: log.child({ app: 'ext-calls' }),
      ringTimeoutMs: config.calls.ringTimeoutSeconds * 1000,
    });
    const sig = signalling;
    let closing: Promise<void> | undefined;
    return {
      signalling: sig,
      store,
      registrar,
      users,
      limiter,
      metrics,
      extCalls,
      close() {
        closing ??= (async () => {
          extCalls.close();
          registrarApp.close();
          await sig.close();
          store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await signalling?.close();
    store.close();
    throw err;
  }
}
