// RFC 4475 torture corpus: parser outcome for every message, plus the structure of the
// trickiest valid ones. Expected outcomes live in fixtures/rfc4475/cases.ts.
import { describe, expect, it } from 'vitest';
import { RFC4475_CASES, loadRfc4475 } from './fixtures/rfc4475/cases.js';
import { SipParseError, parseMessage, serializeMessage, type SipRequest, type SipResponse } from './index.js';

function parseOutcome(buf: Buffer): { ok: true } | { ok: false; status: number; partial: boolean } {
  try {
    parseMessage(buf);
    return { ok: true };
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return { ok: false, status: e.status, partial: e.partial !== undefined };
  }
}

describe('RFC 4475 corpus', () => {
  it('has a case for each of the 49 messages', () => {
    expect(RFC4475_CASES).toHaveLength(49);
    expect(new Set(RFC4475_CASES.map((c) => c.name)).size).toBe(49);
  });

  it.each(RFC4475_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const out = parseOutcome(loadRfc4475(c.name));
    if (c.parse === 'ok') expect(out).toEqual({ ok: true });
    else {
      expect(out.ok).toBe(false);
      if (!out.ok) {
        expect(out.status).toBe(c.parseStatus);
        // Every invalid torture message still frames, so a response can be built.
        expect(out.partial).toBe(true);
      }
    }
  });
});

describe('RFC 4475 valid messages parse to the right structure', () => {
  it('wsinv: folding, compact forms, LWS around separators', () => {
    const m = parseMessage(loadRfc4475('wsinv')) as SipRequest;
    expect(m.method).toBe('INVITE');
    expect(m.to().params.get('tag')).toBe('1918181833n');
    expect(m.from().displayName).toBe('J Rosenberg \\"');
    expect(m.from().params.get('tag')).toBe('98asjd8');
    expect(m.maxForwards()).toBe(68);
    expect(m.cseq()).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.vias().map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.headers.get('Subject')).toBe('');
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(m.headers.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    const c = m.contacts()[0];
    expect(c.displayName).toBe('Quoted string ""');
    expect([...c.params]).toEqual([['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
    expect(m.requestUri().params.get('unknownparam')).toBe(null);
    expect(m.body.length).toBe(150);
  });

  it('intmeth: unusual token, user and password characters, quoted NUL', () => {
    const m = parseMessage(loadRfc4475('intmeth')) as SipRequest;
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    const u = m.requestUri();
    expect(u.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(u.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(m.to().displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(m.from().displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.from().params.get("fromparam''~+*_!.-%")).toBe('"работающий"');
    expect(m.from().params.get('tag')).toBe("_token~1'+`*%!-.");
    expect(m.callId()).toBe("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    expect(m.headers.get("extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
  });

  it('esc01 / escnull / semiuri: escapes decode in URIs only', () => {
    const e = parseMessage(loadRfc4475('esc01')) as SipRequest;
    expect(e.requestUri().user).toBe('sips:user@example.com');
    expect(e.to().uri.user).toBe('user');
    expect(e.from().uri.user).toBe('I have spaces');
    expect([...e.contacts()[0].uri.params]).toEqual([['lr', null], ['name', 'value%41']]);
    const n = parseMessage(loadRfc4475('escnull')) as SipRequest;
    expect(n.to().uri.user).toBe('null-\x00-null');
    expect(n.contacts().map((c) => c.uri.user)).toEqual(['\x00', '\x00\x00']);
    const s = parseMessage(loadRfc4475('semiuri')) as SipRequest;
    expect(s.requestUri().user).toBe('user;par=u@example.net');
    expect(s.headers.getAll('Accept')).toHaveLength(6);
  });

  it('esc02: % is not an escape in methods, display names or header names', () => {
    const m = parseMessage(loadRfc4475('esc02')) as SipRequest;
    expect(m.method).toBe('RE%47IST%45R');
    expect(m.to().displayName).toBe('%Z%45');
    expect(m.contacts()).toHaveLength(2);
    expect(m.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  });

  it('dblreq: the datagram tail after Content-Length is ignored (RFC 3261 §18.3)', () => {
    const m = parseMessage(loadRfc4475('dblreq')) as SipRequest;
    expect(m.method).toBe('REGISTER');
    expect(m.body.length).toBe(0);
  });

  it('longreq, transports, mpart01, unreason, noreason', () => {
    expect((parseMessage(loadRfc4475('longreq')) as SipRequest).vias()).toHaveLength(34);
    expect((parseMessage(loadRfc4475('transports')) as SipRequest).vias().map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    const mp = parseMessage(loadRfc4475('mpart01'));
    expect(mp.body.length).toBe(553);
    expect(mp.topVia().rport).toBe(null);
    expect(mp.topVia().port).toBe(5070);
    const ur = parseMessage(loadRfc4475('unreason')) as SipResponse;
    expect(ur.status).toBe(200);
    expect(ur.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    const nr = parseMessage(loadRfc4475('noreason')) as SipResponse;
    expect([nr.status, nr.reason]).toEqual([100, '']);
  });

  it('unksm2 / unkscm: other URI schemes parse as opaque URIs', () => {
    const m = parseMessage(loadRfc4475('unksm2')) as SipRequest;
    expect(m.to().uri).toMatchObject({ scheme: 'isbn', host: '2983792873' });
    expect(m.from().uri.scheme).toBe('http');
    expect(m.contacts()[0].uri.scheme).toBe('name');
    const u = parseMessage(loadRfc4475('unkscm')) as SipRequest;
    expect(u.requestUri().scheme).toBe('nobodyknowsthisscheme');
  });

  it('invalid messages still yield a partial request that can be answered', () => {
    try {
      parseMessage(loadRfc4475('insuf'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SipParseError);
      const p = (e as SipParseError).partial!;
      expect(p.headers.get('Via')).toBe('SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf');
      expect(p.headers.get('CSeq')).toBe('193942 INVITE');
    }
  });

  it('re-serialized valid messages keep their meaning', () => {
    for (const c of RFC4475_CASES.filter((x) => x.parse === 'ok')) {
      const m = parseMessage(loadRfc4475(c.name));
      const again = parseMessage(serializeMessage(m));
      expect([...again.headers], c.name).toEqual([...m.headers].map(([n, v]) => [n, n === 'Content-Length' ? String(m.body.length) : v]).concat(m.headers.has('Content-Length') ? [] : [['Content-Length', String(m.body.length)]]));
      expect(Buffer.compare(again.body, m.body), c.name).toBe(0);
    }
  });
});
