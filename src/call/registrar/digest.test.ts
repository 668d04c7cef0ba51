import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { parseCredentials } from './digest-header.js';
import { DigestServer, digestResponse, type DigestAlgorithm } from './digest.js';

// RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
const RFC = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  method: 'GET',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  nc: '00000001',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  md5: '8ca523f5e9506fed4657c9700eebdbec',
  sha256: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
};

/** An independent client-side computation: buffers and explicit separators, not template strings. */
function clientResponse(alg: DigestAlgorithm, f: { user: string; realm: string; pass: string; method: string; uri: string; nonce: string; nc: string; cnonce: string }): string {
  const name = alg === 'MD5' ? 'md5' : 'sha256';
  const H = (...parts: string[]): string => {
    const h = createHash(name);
    parts.forEach((p, i) => {
      if (i > 0) h.update(Buffer.from([0x3a])); // ':'
      h.update(Buffer.from(p, 'utf8'));
    });
    return h.digest('hex');
  };
  return H(H(f.user, f.realm, f.pass), f.nonce, f.nc, f.cnonce, 'auth', H(f.method, f.uri));
}

const REALM = 'pbx.test';
const URI = 'sip:pbx.test';
const users: Record<string, string> = { '1001': '1001pass', '1002': '1002pass' };

function server(clock = new ManualClock(), opts: Partial<ConstructorParameters<typeof DigestServer>[0]> = {}): DigestServer {
  return new DigestServer({ realm: REALM, nonceTtlSeconds: 300, lookup: (u) => users[u], clock, secret: 'test-secret', ...opts });
}

/** What a phone does: read our challenge, answer it. */
function answer(challenge: string, o: { user?: string; pass?: string; nc?: string; uri?: string; cnonce?: string; method?: string } = {}): string {
  const parsed = parseCredentials(challenge);
  if (!parsed.ok) throw new Error(parsed.reason);
  const p = parsed.params;
  const alg = p.get('algorithm') as DigestAlgorithm;
  const f = {
    user: o.user ?? '1001',
    realm: p.get('realm')!,
    pass: o.pass ?? '1001pass',
    method: o.method ?? 'REGISTER',
    uri: o.uri ?? URI,
    nonce: p.get('nonce')!,
    nc: o.nc ?? '00000001',
    cnonce: o.cnonce ?? '0a4f113b',
  };
  return (
    `Digest username="${f.user}", realm="${f.realm}", nonce="${f.nonce}", uri="${f.uri}", ` +
    `response="${clientResponse(alg, f)}", algorithm=${alg}, cnonce="${f.cnonce}", opaque="${p.get('opaque')}", qop=auth, nc=${f.nc}`
  );
}

const verify = (s: DigestServer, authorization: string | string[] | undefined, extra: { username?: string; requestUri?: string } = {}) =>
  s.verify({ method: 'REGISTER', requestUri: extra.requestUri ?? URI, authorization, ...(extra.username ? { username: extra.username } : {}) });

describe('digestResponse', () => {
  it.each([
    ['MD5', RFC.md5],
    ['SHA-256', RFC.sha256],
  ] as const)('matches RFC 7616 §3.9.1 for %s', (algorithm, expected) => {
    const input = { algorithm, username: RFC.username, realm: RFC.realm, password: RFC.password, method: RFC.method, uri: RFC.uri, nonce: RFC.nonce, qop: 'auth' as const, nc: RFC.nc, cnonce: RFC.cnonce };
    expect(digestResponse(input)).toBe(expected);
    const f = { user: RFC.username, realm: RFC.realm, pass: RFC.password, method: RFC.method, uri: RFC.uri, nonce: RFC.nonce, nc: RFC.nc, cnonce: RFC.cnonce };
    expect(clientResponse(algorithm, f)).toBe(expected); // the test's own implementation agrees
  });

  it('RFC 7616 credentials verify against the right password only (the nonce is not ours: stale)', () => {
    for (const [alg, response] of [['MD5', RFC.md5], ['SHA-256', RFC.sha256]] as const) {
      const header =
        `Digest username="Mufasa", realm="${RFC.realm}", uri="${RFC.uri}", algorithm=${alg}, nonce="${RFC.nonce}", ` +
        `nc=${RFC.nc}, cnonce="${RFC.cnonce}", qop=auth, response="${response}", opaque="${RFC.opaque}"`;
      const mk = (pass: string) => new DigestServer({ realm: RFC.realm, nonceTtlSeconds: 300, lookup: (u) => (u === 'Mufasa' ? pass : undefined) });
      const good = mk(RFC.password).verify({ method: 'GET', requestUri: RFC.uri, authorization: header });
      expect(good).toMatchObject({ kind: 'stale', reason: 'unknown-nonce' });
      const bad = mk('Circle of Death').verify({ method: 'GET', requestUri: RFC.uri, authorization: header });
      expect(bad).toMatchObject({ kind: 'forbidden', reason: 'wrong-password' });
    }
  });
});

describe('DigestServer.challenge', () => {
  it('offers SHA-256 then MD5 (RFC 8760 §2.4), same nonce, qop=auth, opaque, realm', () => {
    const [sha, md5] = server().challenge();
    const a = parseCredentials(sha!);
    const b = parseCredentials(md5!);
    if (!a.ok || !b.ok) throw new Error('unparseable challenge');
    expect(a.scheme).toBe('Digest');
    expect(a.params.get('algorithm')).toBe('SHA-256');
    expect(b.params.get('algorithm')).toBe('MD5');
    for (const p of [a.params, b.params]) {
      expect(p.get('realm')).toBe(REALM);
      expect(p.get('qop')).toBe('auth');
      expect(p.get('opaque')).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(p.has('stale')).toBe(false);
    }
    expect(a.params.get('nonce')).toBe(b.params.get('nonce'));
    expect(server().challenge({ stale: true })[0]).toMatch(/, stale=true$/);
  });

  it('mints a different nonce every time', () => {
    const s = server();
    expect(s.issueNonce()).not.toBe(s.issueNonce());
  });
});

describe('DigestServer.verify', () => {
  it.each(['SHA-256', 'MD5'] as const)('accepts a correct %s answer', (alg) => {
    const s = server();
    const ch = s.challenge().find((c) => c.includes(`algorithm=${alg},`))!;
    expect(verify(s, answer(ch))).toEqual({ kind: 'ok', username: '1001', algorithm: alg });
  });

  it('no credentials, or credentials only for another realm -> challenge', () => {
    const s = server();
    expect(verify(s, undefined)).toMatchObject({ kind: 'challenge' });
    const other = answer(s.challenge()[0]!).replace(`realm="${REALM}"`, 'realm="elsewhere"');
    const out = verify(s, [other, 'Basic Zm9vOmJhcg==']);
    expect(out.kind).toBe('challenge');
    if (out.kind === 'challenge') expect(out.challenges).toHaveLength(2);
  });

  it('picks our credentials among several realms', () => {
    const s = server();
    const ours = answer(s.challenge()[0]!);
    expect(verify(s, [ours.replace(`realm="${REALM}"`, 'realm="proxy.example"'), ours]).kind).toBe('ok');
  });

  it('wrong password -> forbidden; unknown user -> not-found', () => {
    const s = server();
    expect(verify(s, answer(s.challenge()[0]!, { pass: 'nope' }))).toMatchObject({ kind: 'forbidden', reason: 'wrong-password', username: '1001' });
    expect(verify(s, answer(s.challenge()[0]!, { user: '9999' }))).toEqual({ kind: 'not-found', username: '9999' });
  });

  it('credentials for another user than expected -> forbidden', () => {
    const s = server();
    expect(verify(s, answer(s.challenge()[0]!, { user: '1002', pass: '1002pass' }), { username: '1001' })).toMatchObject({
      kind: 'forbidden',
      reason: 'username-mismatch',
    });
  });

  it('an expired nonce with a correct answer -> stale with stale=true challenges', () => {
    const clock = new ManualClock();
    clock.advance(1_700_000_000_000);
    const s = server(clock);
    const ch = s.challenge()[0]!;
    clock.advance(300_000);
    expect(verify(s, answer(ch, { nc: '00000001' })).kind).toBe('ok'); // exactly at the TTL: still fresh
    clock.advance(1);
    const out = verify(s, answer(ch, { nc: '00000002' }));
    expect(out).toMatchObject({ kind: 'stale', reason: 'expired', username: '1001' });
    if (out.kind === 'stale') {
      expect(out.challenges).toHaveLength(2);
      expect(out.challenges.every((c) => c.endsWith(', stale=true'))).toBe(true);
    }
  });

  it('a nonce with a tampered timestamp is not ours', () => {
    const s = server();
    const ch = s.challenge()[0]!;
    const nonce = /nonce="([^"]+)"/.exec(ch)![1]!;
    const buf = Buffer.from(nonce, 'base64url');
    buf[7]! ^= 1;
    const forged = ch.replace(nonce, buf.toString('base64url'));
    expect(verify(s, answer(forged))).toMatchObject({ kind: 'stale', reason: 'unknown-nonce' });
  });

  it('an expired nonce with a wrong password is forbidden, not stale', () => {
    const clock = new ManualClock();
    const s = server(clock);
    const ch = s.challenge()[0]!;
    clock.advance(301_000);
    expect(verify(s, answer(ch, { pass: 'wrong' })).kind).toBe('forbidden');
  });

  it('rejects a replayed or lower nonce-count; a higher one is fine', () => {
    const s = server();
    const ch = s.challenge()[0]!;
    expect(verify(s, answer(ch, { nc: '00000001' })).kind).toBe('ok');
    expect(verify(s, answer(ch, { nc: '00000001' }))).toMatchObject({ kind: 'stale', reason: 'replay' });
    expect(verify(s, answer(ch, { nc: '00000003' })).kind).toBe('ok');
    expect(verify(s, answer(ch, { nc: '00000002' }))).toMatchObject({ kind: 'stale', reason: 'replay' });
    expect(verify(s, answer(ch, { nc: '0000000A' })).kind).toBe('ok'); // hex, not decimal
  });

  it('a nonce from a server with another secret is stale; the same secret after a restart is fine', () => {
    const ch = server(new ManualClock(), { secret: 'other' }).challenge()[0]!;
    expect(verify(server(), answer(ch))).toMatchObject({ kind: 'stale', reason: 'unknown-nonce' });
    const mine = server().challenge()[0]!;
    expect(verify(server(), answer(mine)).kind).toBe('ok');
  });

  it('forgets nonces beyond the bound but then refuses them as replays', () => {
    const s = server(new ManualClock(), { maxTrackedNonces: 2 });
    const first = s.challenge()[0]!;
    expect(verify(s, answer(first)).kind).toBe('ok');
    expect(verify(s, answer(s.challenge()[0]!)).kind).toBe('ok');
    expect(verify(s, answer(s.challenge()[0]!)).kind).toBe('ok'); // evicts `first`
    expect(s.counters.trackedNonces).toBe(2);
    expect(verify(s, answer(first, { nc: '00000001' }))).toMatchObject({ kind: 'stale', reason: 'replay' });
  });

  it('counts outcomes', () => {
    const s = server();
    verify(s, undefined);
    verify(s, answer(s.challenge()[0]!));
    verify(s, 'Digest garbage');
    expect(s.counters).toMatchObject({ challenge: 1, ok: 1, 'bad-request': 1 });
  });

  const good = () => {
    const s = server();
    return { s, auth: answer(s.challenge()[0]!) };
  };
  it.each<[string, (a: string) => string]>([
    ['unterminated quote', (a) => a.replace(/"$/, '').replace(/nc=\S+$/, 'x="open')],
    ['missing response', (a) => a.replace(/response="[0-9a-f]+", /, '')],
    ['missing nonce', (a) => a.replace(/nonce="[^"]+", /, '')],
    ['missing qop', (a) => a.replace(/qop=auth, /, '')],
    ['qop auth-int', (a) => a.replace(/qop=auth/, 'qop=auth-int')],
    ['nc not 8 hex digits', (a) => a.replace(/nc=\d+/, 'nc=1')],
    ['missing cnonce', (a) => a.replace(/cnonce="[^"]+", /, '')],
    ['unsupported algorithm', (a) => a.replace(/algorithm=SHA-256/, 'algorithm=SHA-512-256')],
    ['response not hex', (a) => a.replace(/response="[0-9a-f]+"/, 'response="zz"')],
    ['repeated parameter', (a) => `${a}, nc=00000002`],
    ['digest uri differs from Request-URI', (a) => a.replace(`uri="${URI}"`, 'uri="sip:other.test"')],
    ['no "=" after a name', (a) => `${a}, lonely`],
    ['userhash', (a) => `${a}, userhash=true`],
    ['huge header', (a) => `${a}, x="${'a'.repeat(5000)}"`],
  ])('malformed: %s -> bad-request', (_name, mutate) => {
    const { s, auth } = good();
    expect(verify(s, mutate(auth)).kind).toBe('bad-request');
  });

  it('digest uri equal to the Request-URI under RFC 3261 §19.1.4 is accepted', () => {
    const s = server();
    expect(verify(s, answer(s.challenge()[0]!, { uri: 'SIP:PBX.test' })).kind).toBe('ok');
  });
});

describe('parseCredentials', () => {
  it('handles quoted commas, escapes, case-insensitive names and odd spacing', () => {
    const r = parseCredentials('Digest  USERNAME = "a,b" ,Realm="x\\"y",\tnc=00000001,qop="auth"');
    expect(r).toEqual({
      ok: true,
      scheme: 'Digest',
      params: new Map([
        ['username', 'a,b'],
        ['realm', 'x"y'],
        ['nc', '00000001'],
        ['qop', 'auth'],
      ]),
    });
  });

  it.each(['', 'Digest a=', 'Digest a="x', 'Digest a=b c=d', 'Digest ,', '"Digest" a=b'])('rejects %j', (v) => {
    expect(parseCredentials(v).ok).toBe(false);
  });
});
