// Signalling for the call layer: a connected drachtio-srf `Srf`. By default it runs everything in
// this process — the embedded SipStack (config.sip) and the embedded drachtio server on top of it
// (config.drachtio.embedded, normally 127.0.0.1:9022) — and connects to that; with
// config.drachtio.external it connects to an external drachtio-server instead and starts nothing.
//
// Requests no application routes get the stack's default core answers (OPTIONS 200, INVITE 480,
// 405/481/501 ...) rather than the drachtio server's blanket 503, through the embedded server's
// `onUnrouted` hook, which knows the routes the server actually holds.
import type { Logger } from '../lib/log.js';
import { moduleLogger } from '../lib/log.js';
import { startDrachtioServer, type DrachtioServerHandle, type RouteInfo } from '../sip/drachtio/index.js';
import { answerWithDefaultCore, DEFAULT_ALLOW, SipStack } from '../sip/index.js';
import { Srf, abandon, trackSockets } from './srf-types.js';

/** The config sections signalling needs (structurally SwitchboardConfig's). */
export interface SignallingConfig {
  sip: Parameters<typeof SipStack.start>[0];
  drachtio: {
    secret: string;
    embedded: { address: string; port: number };
    external?: { host: string; port: number };
  };
}

export interface SignallingOptions {
  logger?: Logger;
  /** How long to wait for the drachtio server to accept us, ms (default 10 000). */
  connectTimeoutMs?: number;
}

export interface Signalling {
  readonly srf: Srf;
  /** What was started in-process; undefined when connected to an external drachtio-server. */
  readonly embedded: { readonly stack: SipStack; readonly drachtio: DrachtioServerHandle } | undefined;
  /** SIP endpoints the drachtio server reported (`udp/127.0.0.1:5060`, ...). */
  readonly hostports: string[];
  /** Disconnects srf and stops whatever was started here. Idempotent. */
  close(): Promise<void>;
}

export async function connectSignalling(config: SignallingConfig, opts: SignallingOptions = {}): Promise<Signalling> {
  const log = opts.logger ?? moduleLogger('signalling');
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  const srf = new Srf();
  // An unhandled 'error' event would throw; srf reconnects on its own after it.
  srf.on('error', (err: Error) => log.warn({ err }, 'drachtio connection error'));

  const ext = config.drachtio.external;
  if (ext !== undefined) {
    const hostports = await connectSrf(srf, { host: ext.host, port: ext.port, secret: config.drachtio.secret }, timeoutMs);
    log.info({ host: ext.host, port: ext.port, hostports }, 'connected to external drachtio-server');
    return handle(srf, undefined, hostports);
  }

  const stack = await SipStack.start(config.sip, { logger: log.child({ module: 'sip' }) });
  let drachtio: DrachtioServerHandle | undefined;
  try {
    drachtio = await startDrachtioServer({
      stack,
      listen: { address: config.drachtio.embedded.address, port: config.drachtio.embedded.port },
      secret: config.drachtio.secret,
      logger: log.child({ module: 'drachtio' }),
      onUnrouted: (req, routes) => answerWithDefaultCore(req, { allow: allowOf(routes), capabilities: stack.capabilities }),
    });
    const hostports = await connectSrf(srf, { host: drachtio.address, port: drachtio.port, secret: config.drachtio.secret }, timeoutMs);
    log.debug({ address: drachtio.address, port: drachtio.port }, 'connected to the embedded drachtio server');
    return handle(srf, { stack, drachtio }, hostports);
  } catch (err) {
    abandon(srf);
    await drachtio?.close();
    await stack.close();
    throw err;
  }
}

function handle(srf: Srf, embedded: Signalling['embedded'], hostports: string[]): Signalling {
  let closing: Promise<void> | undefined;
  return {
    srf,
    embedded,
    hostports,
    close() {
      closing ??= (async () => {
        disconnect(srf);
        if (embedded) {
          await embedded.drachtio.close();
          await embedded.stack.close();
        }
      })();
      return closing;
    },
  };
}

/** Resolves with the server's SIP hostports once authenticated; rejects on a refusal or timeout. */
function connectSrf(srf: Srf, where: { host: string; port: number; secret: string }, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      abandon(srf);
      reject(new Error(`no drachtio connection to ${where.host}:${where.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    (srf as unknown as { once(ev: 'connect', fn: (err: Error | null, hostport?: string) => void): void }).once('connect', (err, hostport) => {
      clearTimeout(timer);
      if (err) {
        abandon(srf);
        reject(err);
      } else resolve(typeof hostport === 'string' && hostport !== '' ? hostport.split(',') : []);
    });
    // srf's connect() returns the app, not a promise; the outcome arrives as 'connect'.
    void srf.connect(where);
    trackSockets(srf);
  });
}

/** The Allow header (RFC 3261 §20.5) our default answers carry: the stack's methods plus every
 *  SIP method an app routes (drachtio's `cdr:*` pseudo-verbs are not methods). */
export function allowOf(routes: RouteInfo): string {
  const methods = DEFAULT_ALLOW.split(', ');
  for (const verb of routes.verbs()) {
    const m = verb.toUpperCase();
    if (/^[A-Z]+$/.test(m) && !methods.includes(m)) methods.push(m);
  }
  return methods.join(', ');
}

function disconnect(srf: Srf): void {
  try {
    srf.disconnect();
  } catch {
    // not connected (yet): nothing to undo
  }
  abandon(srf);
}
