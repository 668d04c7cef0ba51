// The `proxy` command's fields as drachtio-srf's drachtio-agent.js writes them.
import { describe, expect, it } from 'vitest';
import { parseProxyCommand, parseWireTimeout } from './proxy.js';

describe('proxy command parsing', () => {
  it.each([
    ['1500ms', 1500],
    ['2s', 2000],
    ['', undefined],
    ['2 s', undefined],
    ['abc', undefined],
  ])('timeout %j -> %j', (s, ms) => {
    expect(parseWireTimeout(s)).toBe(ms);
  });

  it('reads flags, mode, timeouts, destinations and the headers of the skeleton request', () => {
    const tokens = ['m1', 'proxy', 'tx-1', 'remainInDialog', 'fullResponse', '', 'simultaneous', '2s', '', 'sip:a@127.0.0.2', 'sip:b@127.0.0.3'];
    const sip = Buffer.from('INVITE sip:a@127.0.0.2 SIP/2.0\r\nX-Tenant: blue\r\nContent-Length: 0\r\n\r\n');
    const cmd = parseProxyCommand(tokens, sip);
    expect(cmd).toMatchObject({ txnId: 'tx-1', recordRoute: true, fullResponse: true, destinations: ['sip:a@127.0.0.2', 'sip:b@127.0.0.3'] });
    expect(cmd.opts).toMatchObject({ mode: 'simultaneous', recordRoute: true, followRedirects: false, provisionalTimeoutMs: 2000 });
    // sip-proxy-controller.cpp: destinations are next hops, not Request-URIs.
    expect(cmd.opts.targets).toBe('destination');
    expect(cmd.opts.finalTimeoutMs).toBeUndefined();
    expect(cmd.opts.headers).toEqual([['X-Tenant', 'blue']]);
  });

  it('serial by default, no record-route without remainInDialog', () => {
    const cmd = parseProxyCommand(['m1', 'proxy', 'tx-1', '', 'fullResponse', 'followRedirects', 'serial', '', '', 'sip:a@127.0.0.2'], Buffer.alloc(0));
    expect(cmd.opts).toMatchObject({ mode: 'serial', recordRoute: false, followRedirects: true });
  });
});
