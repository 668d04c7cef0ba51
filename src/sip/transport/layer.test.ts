// TransportLayer life cycle: listen specs, localEndpoint for wildcard binds, close idempotence.
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { NotFoundError, InvalidStateError } from '../../lib/errors.js';
import { parseMessage, type SipRequest } from '../message/index.js';
import { TransportLayer } from './layer.js';
import { optionsFromLimits } from './types.js';
import { sipRequest } from './testkit.js';

function firstExternal(family: 'IPv4' | 'IPv6'): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const ni of list ?? []) if (!ni.internal && ni.family === family && !/^fe[89ab]/i.test(ni.address)) return ni.address;
  return undefined;
}

describe('TransportLayer', () => {
  it('listens on several transports and reports them in order', async () => {
    const layer = new TransportLayer();
    try {
      const eps = await layer.listen([
        { transport: 'udp', address: '127.0.0.1', port: 0 },
        { transport: 'tcp', address: '127.0.0.1', port: 0 },
        { transport: 'ws', address: '127.0.0.1', port: 0 },
      ]);
      expect(eps.map((e) => e.transport)).toEqual(['udp', 'tcp', 'ws']);
      expect(layer.listening()).toEqual(eps);
      expect(layer.localEndpoint('tcp').port).toBe(eps[1].port);
    } finally {
      await layer.close();
    }
  });

  it('advertises an interface address for a wildcard bind (127.0.0.1 when there is none)', async () => {
    const layer = new TransportLayer();
    try {
      await layer.listen([{ transport: 'udp', address: '0.0.0.0', port: 0 }]);
      expect(layer.localEndpoint('udp').address).toBe(firstExternal('IPv4') ?? '127.0.0.1');
      expect(layer.localEndpoint('udp', 4).address).not.toBe('0.0.0.0');
    } finally {
      await layer.close();
    }
  });

  it('throws NotFoundError for a transport it does not listen on', async () => {
    const layer = new TransportLayer();
    expect(() => layer.localEndpoint('tls')).toThrow(NotFoundError);
    await layer.close();
  });

  it('rejects a UDP send when there is no listener of that family', async () => {
    const layer = new TransportLayer();
    try {
      await layer.listen([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
      const req = parseMessage(Buffer.from(sipRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1' }))) as SipRequest;
      await expect(layer.sendRequest(req, { transport: 'udp', address: '::1', port: 5060 })).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await layer.close();
    }
  });

  it('close() is idempotent and later sends reject', async () => {
    const layer = new TransportLayer();
    await layer.listen([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
    await layer.close();
    await layer.close();
    const req = parseMessage(Buffer.from(sipRequest({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1' }))) as SipRequest;
    await expect(layer.sendRequest(req, { transport: 'udp', address: '127.0.0.1', port: 5060 })).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('viaFor builds a top Via from the listener of the destination family', async () => {
    const layer = new TransportLayer();
    try {
      const [v4, v6] = await layer.listen([
        { transport: 'tcp', address: '127.0.0.1', port: 0 },
        { transport: 'tcp', address: '::1', port: 0 },
      ]);
      expect(layer.viaFor({ transport: 'tcp', address: '192.0.2.1', port: 5060 }, 'z9hG4bKx')).toBe(
        `SIP/2.0/TCP 127.0.0.1:${v4.port};branch=z9hG4bKx;rport`,
      );
      expect(layer.viaFor({ transport: 'tcp', address: '2001:db8::1', port: 5060 }, 'z9hG4bKy')).toBe(
        `SIP/2.0/TCP [::1]:${v6.port};branch=z9hG4bKy;rport`,
      );
      expect(layer.viaFor({ transport: 'tcp', address: '192.0.2.1', port: 5060 })).toMatch(/;branch=z9hG4bK\S+;rport$/);
    } finally {
      await layer.close();
    }
  });

  it('maps sip.limits config onto options', () => {
    expect(optionsFromLimits({ maxUdpBytes: 1500, maxStreamBytes: 65536, idleTimeoutSeconds: 30 })).toEqual({
      maxUdpBytes: 1500,
      maxStreamBytes: 65536,
      idleTimeoutMs: 30_000,
    });
  });
});
