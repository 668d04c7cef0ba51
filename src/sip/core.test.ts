// The default UA core: every out-of-dialog request gets a clean final response (never silence),
// checked as a table and over a real UDP socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachDefaultCore, defaultCoreResponse, DEFAULT_ALLOW } from './core.js';
import { RawUdpPeer, loopbackConfig, sipText } from './dialog/testkit.js';
import { SipStack } from './stack.js';

const TABLE: [string, number | undefined][] = [
  ['OPTIONS', 200],
  ['INVITE', 480],
  ['REGISTER', 405],
  ['SUBSCRIBE', 405],
  ['PUBLISH', 405],
  ['MESSAGE', 405],
  ['REFER', 405],
  ['BYE', 481],
  ['PRACK', 481],
  ['UPDATE', 481],
  ['INFO', 481],
  ['NOTIFY', 481],
  ['FOO', 501],
  ['ACK', undefined],
  ['CANCEL', undefined],
];

describe('defaultCoreResponse', () => {
  it.each(TABLE)('%s -> %s', (method, status) => {
    expect(defaultCoreResponse(method)?.status).toBe(status);
  });
  it('405 and 501 list what we allow (RFC 3261 §8.2.1)', () => {
    expect(defaultCoreResponse('REGISTER')?.headers).toContainEqual(['Allow', DEFAULT_ALLOW]);
    expect(defaultCoreResponse('FOO')?.headers).toContainEqual(['Allow', DEFAULT_ALLOW]);
  });
});

describe('default core over UDP', () => {
  let stack: SipStack;
  let peer: RawUdpPeer;
  let port: number;
  let n = 0;

  beforeAll(async () => {
    stack = await SipStack.start(loopbackConfig(['udp']));
    attachDefaultCore(stack);
    peer = await RawUdpPeer.open();
    port = stack.endpoints[0].port;
  });
  afterAll(async () => {
    peer.close();
    await stack.close();
  });

  const request = (method: string, maxForwards = 70) => {
    const id = `core-${++n}`;
    return sipText([
      `${method} sip:svc@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-${id};rport`,
      `From: <sip:peer@127.0.0.1>;tag=${id}`,
      `To: <sip:svc@127.0.0.1:${port}>`,
      `Call-ID: ${id}`,
      `CSeq: 1 ${method}`,
      `Contact: <sip:peer@127.0.0.1:${peer.port}>`,
      `Max-Forwards: ${maxForwards}`,
    ]);
  };

  it.each(TABLE.filter(([m, s]) => s !== undefined && m !== 'CANCEL'))('%s is answered %s', async (method, status) => {
    await peer.send(request(method), port);
    const res = await peer.next((m) => m.kind === 'response' && m.status >= 200 && m.cseq().method === method);
    expect(res.kind === 'response' && res.status).toBe(status);
    expect(res.headers.get('Server')).toBe('Switchboard-test');
  });

  it('OPTIONS carries Allow, Accept, Supported and Server', async () => {
    await peer.send(request('OPTIONS'), port);
    const res = await peer.nextResponse(200, 'OPTIONS');
    expect(res.headers.get('Allow')).toBe('INVITE');
    expect(res.headers.getAll('Allow')).toEqual(DEFAULT_ALLOW.split(', '));
    expect(res.headers.get('Accept')).toBe('application/sdp');
    expect(res.headers.has('Supported')).toBe(true);
    expect(res.headers.get('Server')).toBe('Switchboard-test');
  });

  it('OPTIONS with Max-Forwards 0 still gets 200; other methods get 483 from the transaction layer', async () => {
    await peer.send(request('OPTIONS', 0), port);
    await peer.nextResponse(200, 'OPTIONS');
    await peer.send(request('INFO', 0), port);
    await peer.nextResponse(483, 'INFO');
  });

  it('an ACK is never answered', async () => {
    await peer.send(request('ACK'), port);
    expect(await peer.collect((m) => m.cseq().method === 'ACK', 50)).toHaveLength(0);
  });

  it('an INVITE gets 480 and no dialog is left', async () => {
    await peer.send(request('INVITE'), port);
    await peer.nextResponse(480, 'INVITE');
    expect(stack.dump()).toMatchObject({ dialogs: 0, serverRequests: 0 });
  });
});
