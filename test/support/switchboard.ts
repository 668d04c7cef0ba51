// Test support for the call layer: the whole of `npm start` (startCallServices) on loopback with
// ephemeral SIP and drachtio ports, a SQLite file in a temp directory, the demo extensions
// 1001-1004 and small timers; plus SIPp helpers that register an extension. Not shipped code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCallServices, type CallServices, type CallServicesConfig } from '../../src/call/index.js';
import type { TransportName } from '../../src/sip/index.js';
import { loopbackConfig } from './net.js';
import { runSipp, type SippResult } from './sipp.js';

export const EXTENSIONS = ['1001', '1002', '1003', '1004'].map((user) => ({ user, password: `${user}pass`, name: `Agent ${user}` }));
export const REALM = 'switchboard.local';

export type TestConfig = CallServicesConfig;

export function testConfig(dir: string, transports: TransportName[] = ['udp', 'tcp'], over: Partial<CallServicesConfig['registrar']> = {}): TestConfig {
  return {
    // T1 = 100 ms: SIPp's own retransmissions (500 ms) and ours do not race on loopback.
    sip: loopbackConfig(transports, { t1: 100, t2: 400, t4: 500 }),
    drachtio: { secret: 'it-secret', embedded: { address: '127.0.0.1', port: 0 } },
    registrar: {
      realm: REALM,
      minExpires: 1,
      maxExpires: 3600,
      defaultExpires: 3600,
      nonceTtlSeconds: 300,
      ban: { maxFailures: 3, windowSeconds: 60, banSeconds: 300 },
      database: join(dir, 'switchboard.db'),
      extensions: EXTENSIONS,
      digestAlgorithms: ['MD5', 'SHA-256'],
      purgeIntervalSeconds: 60,
      ...over,
    },
    calls: { ringTimeoutSeconds: 30 },
  };
}

export interface Running {
  services: CallServices;
  dir: string;
  /** SIP port of a transport. */
  port(transport: TransportName): number;
  /** Stops the services (the temp directory stays until `cleanup`). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startSwitchboard(
  opts: { transports?: TransportName[]; registrar?: Partial<CallServicesConfig['registrar']>; dir?: string; purgeIntervalMs?: number; config?: (c: TestConfig) => void } = {},
): Promise<Running> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'switchboard-it-'));
  const config = testConfig(dir, opts.transports, opts.registrar);
  opts.config?.(config);
  const services = await startCallServices(config, opts.purgeIntervalMs === undefined ? {} : { purgeIntervalMs: opts.purgeIntervalMs });
  const stack = services.signalling.embedded!.stack;
  return {
    services,
    dir,
    port(transport) {
      const ep = stack.endpoints.find((e) => e.transport === transport);
      if (ep === undefined) throw new Error(`no ${transport} listener`);
      return ep.port;
    },
    stop: () => services.close(),
    async cleanup() {
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Registers `user` from SIPp at localIp:localPort (reg-auth.xml); resolves with SIPp's result. */
export function sippRegister(
  sb: Running,
  user: string,
  o: { localIp?: string; localPort?: number; transport?: 'udp' | 'tcp'; expires?: number; password?: string; scenario?: string; extra?: string[] } = {},
): Promise<SippResult> {
  const transport = o.transport ?? 'udp';
  const scenario = o.scenario ?? 'reg-auth';
  // SIPp refuses -set for a variable the scenario does not declare; only reg-wildcard has none.
  const expires = scenario === 'reg-wildcard' ? [] : ['-set', 'expires', String(o.expires ?? 3600)];
  return runSipp({
    scenario,
    target: { host: '127.0.0.1', port: sb.port(transport) },
    transport,
    service: user,
    localIp: o.localIp ?? '127.0.0.1',
    ...(o.localPort === undefined ? {} : { localPort: o.localPort }),
    timeoutSeconds: 10,
    traceMessages: true,
    extraArgs: ['-au', user, '-ap', o.password ?? `${user}pass`, ...expires, ...(o.extra ?? [])],
  });
}

/** The SIP messages SIPp received, in order, from its -trace_msg log. */
export function received(r: SippResult): string[] {
  return r.messages
    .split(/^-{10,}.*$/m)
    .map((chunk) => chunk.replace(/^\s+/, ''))
    .filter((chunk) => /^\w+ message received/.test(chunk))
    .map((chunk) => chunk.slice(chunk.indexOf('\n') + 1).replace(/^\s+/, ''));
}

/** The first received message whose start line matches `re`. */
export function receivedMatching(r: SippResult, re: RegExp): string | undefined {
  return received(r).find((m) => re.test(m.split(/\r?\n/, 1)[0] ?? ''));
}

/** Waits until something is bound to ip:port (UDP) or listening there (TCP), read from /proc/net
 *  (net.ts's waitForBound knows only 127.0.0.1 and the wildcard; forks use 127.0.0.2/3). */
export async function waitForBoundOn(ip: string, port: number, transport: 'udp' | 'tcp', timeoutMs = 5000): Promise<void> {
  const hexIp = ip.split('.').reverse().map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0')).join('');
  const want = `${hexIp}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = readFileSync(`/proc/net/${transport}`, 'utf8');
    const bound = table.split('\n').some((line) => {
      const f = line.trim().split(/\s+/);
      return f[1] === want && (transport === 'udp' || f[3] === '0A');
    });
    if (bound) return;
    if (Date.now() > deadline) throw new Error(`nothing bound ${transport} ${ip}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
