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

  it('a missing file is a ConfigError naming it', () => {
    expect(() => loadConfigFile('/nonexistent/switchboard.yaml')).toThrow(ConfigError);
  });
});
