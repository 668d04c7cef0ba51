import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/errors.js';
import { loadConfigFile, parseConfig } from './load.js';

const minimal = `sip:
  listen:
    - { transport: udp, address: 127.0.0.1, port: 0 }
`;

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('loads the shipped config/switchboard.yaml', () => {
    const cfg = loadConfigFile('config/switchboard.yaml');
    expect(cfg.sip.listen.map((l) => `${l.transport}:${l.port}`)).toEqual(['udp:5060', 'tcp:5060']);
    expect(cfg.sip.timers).toEqual({ t1: 500, t2: 4000, t4: 5000 });
    expect(cfg.sip.limits.maxStreamBytes).toBe(65536);
  });

  it('fills defaults for omitted sections', () => {
    const cfg = parseConfig(minimal, 'test.yaml');
    expect(cfg.sip.timers.t1).toBe(500);
    expect(cfg.sip.limits.maxUdpBytes).toBe(65535);
    expect(cfg.log.level).toBe('info');
  });

  it.each([
    ['unknown key', `${minimal}  bogus: 1\n`, 4, 3, /sip\.bogus: unknown key/],
    ['wrong type', `${minimal}  timers: { t1: fast }\n`, 4, 17, /sip\.timers\.t1: must be an integer/],
    ['value out of range', `${minimal}  timers: { t1: 5 }\n`, 4, 17, /must be >= 10/],
    ['bad enum', `sip:\n  listen:\n    - { transport: sctp, address: 127.0.0.1, port: 0 }\n`, 3, 20, /must be one of udp/],
    ['bad port', `sip:\n  listen:\n    - { transport: udp, address: 127.0.0.1, port: 70000 }\n`, 3, 51, /must be <= 65535/],
    ['tls without cert', `sip:\n  listen:\n    - { transport: tls, address: 127.0.0.1, port: 0 }\n`, 3, 7, /needs tls/],
    ['t2 below t1', `${minimal}  timers: { t1: 900, t2: 800 }\n`, 4, 11, /t2 must not be smaller/],
    ['missing listen', `sip: {}\n`, 1, 6, /sip\.listen: is required/],
    ['YAML syntax error', `sip:\n  listen: [\n`, 3, 1, /./],
  ])('%s is a ConfigError at file:line:col', (_name, text, line, col, message) => {
    const err = errorOf(text);
    expect(err.file).toBe('test.yaml');
    expect([err.line, err.col]).toEqual([line, col]);
    expect(err.detail).toMatch(message);
    expect(err.message.startsWith(`test.yaml:${line}:${col}: `)).toBe(true);
  });

  it('media threads: the shipped file keeps normal scheduling on one thread; ioThread and realtimePriority are checked', () => {
    const cfg = loadConfigFile('config/switchboard.yaml');
    expect([cfg.media.ioThread, cfg.media.realtimePriority]).toEqual(['off', 0]);
    const dedicated = parseConfig(`${minimal}media:\n  ioThread: recv\n  realtimePriority: 10\n`, 'test.yaml');
    expect([dedicated.media.ioThread, dedicated.media.realtimePriority]).toEqual(['recv', 10]);
    expect(errorOf(`${minimal}media:\n  ioThread: kernel\n`).detail).toMatch(/media\.ioThread: must be one of off, recv, all/);
    expect(errorOf(`${minimal}media:\n  realtimePriority: 100\n`).detail).toMatch(/must be <= 99/);
  });

  it('a missing file is a ConfigError naming it', () => {
    expect(() => loadConfigFile('/nonexistent/switchboard.yaml')).toThrow(ConfigError);
  });
});

describe('config: registrar section', () => {
  it('ships demo extensions 1001-1004 and the documented defaults', () => {
    const cfg = loadConfigFile('config/switchboard.yaml');
    expect(cfg.registrar).toMatchObject({
      realm: 'switchboard.local',
      minExpires: 60,
      maxExpires: 3600,
      defaultExpires: 3600,
      nonceTtlSeconds: 300,
      ban: { maxFailures: 5, windowSeconds: 60, banSeconds: 300 },
      database: 'data/switchboard.db',
    });
    expect(cfg.registrar.extensions.map((e) => [e.user, e.password])).toEqual([
      ['1001', '1001pass'],
      ['1002', '1002pass'],
      ['1003', '1003pass'],
      ['1004', '1004pass'],
    ]);
    expect(cfg.registrar.extensions[0]!.name).toBe('Agent One');
  });

  it('fills registrar defaults when the section is omitted', () => {
    const cfg = parseConfig(minimal, 'test.yaml');
    expect(cfg.registrar).toEqual({
      realm: 'switchboard.local',
      minExpires: 60,
      maxExpires: 3600,
      defaultExpires: 3600,
      nonceTtlSeconds: 300,
      ban: { maxFailures: 5, windowSeconds: 60, banSeconds: 300 },
      database: 'data/switchboard.db',
      extensions: [],
      digestAlgorithms: ['MD5'],
      purgeIntervalSeconds: 60,
    });
  });

  it('reads extensions without a name', () => {
    const cfg = parseConfig(`${minimal}registrar:\n  extensions:\n    - { user: alice, password: s3cret }\n`, 'test.yaml');
    expect(cfg.registrar.extensions).toEqual([{ user: 'alice', password: 's3cret' }]);
  });

  const reg = (body: string): string => `${minimal}registrar:\n${body}`;
  it.each([
    [
      'duplicate user',
      reg(`  extensions:\n    - { user: '1001', password: a }\n    - { user: '1002', password: b }\n    - { user: '1001', password: c }\n`),
      8, 15, /registrar\.extensions\[2\]\.user: duplicate extension "1001"/,
    ],
    ['unquoted numeric user', reg(`  extensions:\n    - { user: 1001, password: a }\n`), 6, 15, /must be a string/],
    ['missing password', reg(`  extensions:\n    - { user: '1001' }\n`), 6, 7, /registrar\.extensions\[0\]\.password: is required/],
    ['empty password', reg(`  extensions:\n    - { user: '1001', password: '' }\n`), 6, 33, /must not be empty/],
    ['user with a space', reg(`  extensions:\n    - { user: 'a b', password: x }\n`), 6, 15, /SIP user part/],
    ['unknown extension key', reg(`  extensions:\n    - { user: '1001', password: x, pin: 1 }\n`), 6, 36, /unknown key/],
    ['minExpires zero', reg(`  minExpires: 0\n`), 5, 15, /must be >= 1/],
    ['maxExpires below minExpires', reg(`  minExpires: 600\n  maxExpires: 60\n  defaultExpires: 600\n`), 5, 3, /maxExpires must not be smaller/],
    ['defaultExpires outside the range', reg(`  defaultExpires: 7200\n`), 5, 3, /defaultExpires must lie between/],
    ['ban maxFailures not a number', reg(`  ban: { maxFailures: many }\n`), 5, 23, /registrar\.ban\.maxFailures: must be an integer/],
    ['realm with a quote', reg(`  realm: 'a"b'\n`), 5, 10, /without quotes/],
    ['extensions not a list', reg(`  extensions: { user: '1001' }\n`), 5, 15, /must be a list/],
  ])('%s is a ConfigError at file:line:col', (_name, text, line, col, message) => {
    const err = errorOf(text);
    expect(err.file).toBe('test.yaml');
    expect(err.detail).toMatch(message);
    expect([err.line, err.col]).toEqual([line, col]);
  });
});

describe('config: drachtio and calls sections', () => {
  it('ships the embedded drachtio server on 127.0.0.1:9022 and a 60 s ring timeout', () => {
    const cfg = loadConfigFile('config/switchboard.yaml');
    expect(cfg.drachtio).toEqual({ secret: 'cymru', embedded: { address: '127.0.0.1', port: 9022 } });
    expect(cfg.calls).toEqual({ ringTimeoutSeconds: 60 });
    expect(cfg.registrar.digestAlgorithms).toEqual(['MD5']);
  });

  it('fills drachtio defaults when the section is omitted', () => {
    const cfg = parseConfig(minimal, 'test.yaml');
    expect(cfg.drachtio).toEqual({ secret: 'cymru', embedded: { address: '127.0.0.1', port: 9022 } });
    expect(cfg.drachtio.external).toBeUndefined();
  });

  it('reads an external drachtio-server (port defaults to 9022)', () => {
    const cfg = parseConfig(`${minimal}drachtio:\n  secret: s3cret\n  external: { host: drachtio.internal }\n`, 'test.yaml');
    expect(cfg.drachtio.external).toEqual({ host: 'drachtio.internal', port: 9022 });
  });

  it('accepts port 0 (ephemeral) for the embedded server', () => {
    const cfg = parseConfig(`${minimal}drachtio:\n  embedded: { port: 0 }\n`, 'test.yaml');
    expect(cfg.drachtio.embedded).toEqual({ address: '127.0.0.1', port: 0 });
  });

  const dr = (body: string): string => `${minimal}drachtio:\n${body}`;
  it.each([
    ['demo secret on a reachable address', dr(`  embedded: { address: 0.0.0.0 }\n`), 5, 3, /demo secret "cymru" is only allowed on a loopback address/],
    ['secret with a pipe', dr(`  secret: 'a|b'\n`), 5, 11, /without \| or line breaks/],
    ['empty secret', dr(`  secret: ''\n`), 5, 11, /must not be empty/],
    ['embedded port out of range', dr(`  embedded: { port: 70000 }\n`), 5, 21, /must be <= 65535/],
    ['external without host', dr(`  external: { port: 9022 }\n`), 5, 13, /drachtio\.external\.host: is required/],
    ['unknown key', dr(`  host: x\n`), 5, 3, /drachtio\.host: unknown key/],
    ['unknown digest algorithm', `${minimal}registrar:\n  digestAlgorithms: [MD5, SHA-512]\n`, 5, 27, /must be one of MD5, SHA-256/],
    ['duplicate digest algorithm', `${minimal}registrar:\n  digestAlgorithms: [MD5, MD5]\n`, 5, 27, /duplicate algorithm "MD5"/],
    ['ring timeout zero', `${minimal}calls:\n  ringTimeoutSeconds: 0\n`, 5, 23, /must be >= 1/],
  ])('%s is a ConfigError at file:line:col', (_name, text, line, col, message) => {
    const err = errorOf(text);
    expect(err.detail).toMatch(message);
    expect([err.line, err.col]).toEqual([line, col]);
  });

  it('reads the digest algorithms in the order given', () => {
    const cfg = parseConfig(`${minimal}registrar:\n  digestAlgorithms: [SHA-256, MD5]\n`, 'test.yaml');
    expect(cfg.registrar.digestAlgorithms).toEqual(['SHA-256', 'MD5']);
  });

  it('a secret other than the demo one may listen on any address', () => {
    const cfg = parseConfig(`${minimal}drachtio:\n  secret: s3cret\n  embedded: { address: 0.0.0.0 }\n`, 'test.yaml');
    expect(cfg.drachtio.embedded.address).toBe('0.0.0.0');
  });
});
