import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { openStore, type Store } from '../../store/index.js';
import { digestResponse, DigestServer } from './digest.js';
import { parseCredentials } from './digest-header.js';
import { AuthFailureLimiter } from './ratelimit.js';
import { Registrar, type RegisterReply, type RegisterRequest } from './registrar.js';
import { UserDirectory } from './users.js';

const T0 = 1_700_000_000_000;
let dir: string;
let store: Store;
let clock: ManualClock; // monotonic, for the limiter
let wall: number;
let registrar: Registrar;

function build(): Registrar {
  const users = new UserDirectory([
    { user: '1001', password: '1001pass' },
    { user: '1002', password: '1002pass' },
  ]);
  return new Registrar({
    domain: 'pbx.test',
    limits: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600 },
    users,
    digest: new DigestServer({ realm: 'pbx.test', nonceTtlSeconds: 300, lookup: (u) => users.password(u), secret: 's', clock: { now: () => wall } }),
    limiter: new AuthFailureLimiter({ maxFailures: 3, windowSeconds: 60, banSeconds: 300, clock }),
    registrations: store.registrations,
    events: store.events,
    now: () => wall,
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-registrar-'));
  store = openStore(join(dir, 'sb.db'));
  clock = new ManualClock();
  wall = T0;
  registrar = build();
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

let cseq = 1;
function request(over: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    source: { address: '192.0.2.10', port: 5062, transport: 'udp' },
    requestUri: 'sip:pbx.test',
    toUri: '<sip:1001@pbx.test>',
    contacts: [{ uri: 'sip:1001@192.0.2.10:5062' }],
    expires: '600',
    callId: 'reg-1',
    cseq: cseq++,
    userAgent: 'Phone/1',
    ...over,
  };
}

function header(r: RegisterReply, name: string): string[] {
  return r.headers.filter(([n]) => n === name).map(([, v]) => v);
}

/** The phone's side: answer the first (SHA-256) challenge. */
function authorize(challenge: RegisterReply, user = '1001', password = `${user}pass`, nc = '00000001'): string {
  const p = parseCredentials(header(challenge, 'WWW-Authenticate')[0]!);
  if (!p.ok) throw new Error(p.reason);
  const nonce = p.params.get('nonce')!;
  const response = digestResponse({ algorithm: 'SHA-256', username: user, realm: 'pbx.test', password, method: 'REGISTER', uri: 'sip:pbx.test', nonce, qop: 'auth', nc, cnonce: 'abc' });
  return `Digest username="${user}", realm="pbx.test", nonce="${nonce}", uri="sip:pbx.test", response="${response}", algorithm=SHA-256, qop=auth, nc=${nc}, cnonce="abc"`;
}

function registerWithAuth(over: Partial<RegisterRequest> = {}, user?: string, password?: string): RegisterReply {
  const challenge = registrar.register(request(over));
  expect(challenge.status).toBe(401);
  return registrar.register(request({ ...over, authorization: authorize(challenge, user, password) }));
}

describe('Registrar', () => {
  it('challenges, then registers, persists and logs', () => {
    const first = registrar.register(request());
    expect(first.status).toBe(401);
    expect(header(first, 'WWW-Authenticate').map((v) => /algorithm=([\w-]+)/.exec(v)![1])).toEqual(['SHA-256', 'MD5']);

    const ok = registrar.register(request({ authorization: authorize(first) }));
    expect(ok).toMatchObject({ status: 200, reason: 'OK', aor: 'sip:1001@pbx.test' });
    expect(header(ok, 'Contact')).toEqual(['<sip:1001@192.0.2.10:5062>;expires=600']);
    expect(header(ok, 'Date')).toEqual([new Date(T0).toUTCString()]);
    expect(registrar.lookup('1001')).toMatchObject([{ contact: 'sip:1001@192.0.2.10:5062', userAgent: 'Phone/1', sourcePort: 5062 }]);
    expect(store.events.list().map((e) => e.kind)).toEqual(['registrar.registered']);

    // A restart: bindings are still there.
    store.close();
    store = openStore(join(dir, 'sb.db'));
    registrar = build();
    expect(registrar.lookup('1001')).toHaveLength(1);
  });

  it('unregisters with Expires: 0', () => {
    expect(registerWithAuth().status).toBe(200);
    const r = registerWithAuth({ expires: '0' });
    expect(r.status).toBe(200);
    expect(header(r, 'Contact')).toEqual([]);
    expect(registrar.lookup('1001')).toEqual([]);
    expect(store.events.list().map((e) => e.kind)).toEqual(['registrar.registered', 'registrar.unregistered']);
  });

  it('423 with Min-Expires', () => {
    const r = registerWithAuth({ expires: '10' });
    expect(r.status).toBe(423);
    expect(header(r, 'Min-Expires')).toEqual(['60']);
  });

  it('out-of-order CSeq -> 500 and the bindings are untouched', () => {
    expect(registerWithAuth({ cseq: 100 }).status).toBe(200);
    expect(registerWithAuth({ cseq: 50, expires: '0' }).status).toBe(500);
    expect(registrar.lookup('1001')).toHaveLength(1);
  });

  it('an extension may not register another AOR; an unknown AOR is 404', () => {
    expect(registerWithAuth({ toUri: 'sip:1002@pbx.test' }).status).toBe(403);
    expect(registerWithAuth({ toUri: 'sip:7777@pbx.test' }).status).toBe(404);
  });

  it('wrong password gets 403, unknown user 404; three failures of either ban the source', () => {
    expect(registerWithAuth({}, '1001', 'guess').status).toBe(403);
    expect(registerWithAuth({}, '9999', 'x').status).toBe(404);
    expect(registerWithAuth({}, '1001', 'guess2').status).toBe(403); // ban starts
    const banned = registrar.register(request());
    expect(banned.status).toBe(403);
    expect(header(banned, 'Retry-After')).toEqual(['300']);
    expect(store.events.list().map((e) => e.kind)).toEqual([
      'registrar.auth-failed',
      'registrar.auth-failed',
      'registrar.auth-failed',
      'registrar.banned',
    ]);
    clock.advance(300_000);
    expect(registrar.register(request()).status).toBe(401);
  });

  it('says in the reply whether it counted an authentication failure and whether that banned the source', () => {
    const flags = (r: RegisterReply) => [r.status, r.authFailed ?? false, r.banned ?? false];
    const challenge = registrar.register(request());
    expect(flags(challenge)).toEqual([401, false, false]); // a challenge is no failure
    expect(flags(registerWithAuth({}, '1001', 'guess'))).toEqual([403, true, false]);
    expect(flags(registerWithAuth({}, '1001', 'guess2'))).toEqual([403, true, false]);
    expect(flags(registerWithAuth({}, '1001', 'guess3'))).toEqual([403, true, true]); // the ban starts
    // Refused by the running ban: neither a new failure nor a new ban.
    expect(flags(registrar.register(request()))).toEqual([403, false, false]);
    clock.advance(300_000);
    expect(flags(registerWithAuth())).toEqual([200, false, false]);
    const bad = registrar.register(request({ authorization: 'Digest username="1001", nonce="x' }));
    expect(flags(bad)).toEqual([400, true, false]);
  });

  it('a malformed Authorization is a 400 and counts as a failure', () => {
    const r = registrar.register(request({ authorization: 'Digest username="1001", realm="pbx.test", nonce="x' }));
    expect(r.status).toBe(400);
    expect(store.events.list()[0]).toMatchObject({ kind: 'registrar.auth-failed', data: { outcome: 'bad-request' } });
  });

  it('purgeExpired removes and logs expired bindings', () => {
    registerWithAuth({ expires: '60' });
    wall += 60_000;
    expect(registrar.lookup('1001')).toEqual([]);
    expect(registrar.purgeExpired()).toBe(1);
    expect(store.registrations.listAll()).toEqual([]);
    expect(store.events.list().at(-1)).toMatchObject({ kind: 'registrar.expired', subject: 'sip:1001@pbx.test' });
  });
});
