// Test support for the embedded drachtio server: a loopback SipStack with the wire server on an
// ephemeral port, and real drachtio-srf applications connected to it over TCP. Every wait is
// bounded. Not shipped code.
import Srf from 'drachtio-srf';
import { loopbackConfig } from '../../src/sip/dialog/testkit.js';
import { SipStack } from '../../src/sip/stack.js';
import { startDrachtioServer, type DrachtioServerHandle, type UnroutedHandler } from '../../src/sip/drachtio/index.js';
import type { TransportName } from '../../src/sip/message/index.js';

export const SECRET = 'cymru';

export const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0',
  'a=rtpmap:0 PCMU/8000',
  'a=sendrecv',
  '',
].join('\r\n');

export interface Harness {
  stack: SipStack;
  server: DrachtioServerHandle;
  /** The SIP port (UDP unless asked otherwise). */
  sipPort: number;
  apps: Srf[];
  close(): Promise<void>;
}

export async function startHarness(
  opts: { t1?: number; transports?: TransportName[]; address?: string; onUnrouted?: UnroutedHandler } = {},
): Promise<Harness> {
  const t1 = opts.t1 ?? 100;
  const cfg = loopbackConfig(opts.transports ?? ['udp'], { t1, t2: Math.max(4 * t1, 400), t4: 5 * t1 });
  if (opts.address) for (const l of cfg.listen) l.address = opts.address;
  const stack = await SipStack.start(cfg);
  const server = await startDrachtioServer({
    stack,
    listen: { address: '127.0.0.1', port: 0 },
    secret: SECRET,
    ...(opts.onUnrouted ? { onUnrouted: opts.onUnrouted } : {}),
  });
  const apps: Srf[] = [];
  return {
    stack,
    server,
    sipPort: stack.endpoints[0].port,
    apps,
    async close() {
      for (const a of apps) disconnect(a);
      await server.close();
      await stack.close();
    },
  };
}

/** A real drachtio-srf app connected to the harness (resolves once authenticated). */
export async function connectApp(h: Harness, opts: { secret?: string; tags?: string[] } = {}): Promise<Srf> {
  const srf = opts.tags ? new Srf(opts.tags) : new Srf();
  h.apps.push(srf);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('srf connect timed out')), 5000);
    srf.on('connect', (err: Error | null) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
    srf.on('error', () => {
      /* reconnect noise after a test closes the server */
    });
    srf.connect({ host: '127.0.0.1', port: h.server.port, secret: opts.secret ?? SECRET });
  });
  // srf sends its routes right after the authenticate reply; let them land.
  await sleep(30);
  return srf;
}

export function disconnect(srf: Srf): void {
  try {
    srf.disconnect();
  } catch {
    /* already gone */
  }
}

import { sleep } from './wait.js';
export { sleep, until } from './wait.js';

/** Resolves with the first event's arguments, or rejects after `ms`. */
export function waitEvent<T extends unknown[]>(
  on: (cb: (...args: T) => void) => void,
  ms = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('event did not come in time')), ms);
    on((...args: T) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}
