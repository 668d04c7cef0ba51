// RFC 4475 torture messages sent over a real UDP socket to a stack running the default UA core.
// The parser's verdict is unit-tested in src/sip/message/rfc4475.test.ts; here every layer above
// it answers too: the transport layer (400 / 505 for unparseable requests it can still answer),
// the transaction layer (§3.2), and the UA core (§3.3, and the default core's documented
// answers for valid requests). Responses in the corpus must be dropped without a word.
//
// The only bytes we change: the top Via's transport and sent-by become our socket
// (`UDP 127.0.0.1:<port>`) so the answer can reach us; the branch and everything else stay.
// A case the stack gets wrong today is listed in KNOWN_STACK_FAILURES with its reason and runs
// as `it.fails`, so it is never deleted and the table must change when the stack is fixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RFC4475_CASES, loadRfc4475, type Rfc4475Case } from '../src/sip/message/fixtures/rfc4475/cases.js';
import { SipStack, attachDefaultCore, defaultCoreResponse } from '../src/sip/index.js';
import { parseMessage } from '../src/sip/message/index.js';
import { LOOPBACK, UdpPeer, endpointOf, loopbackConfig, sleep } from './support/net.js';

/** Cases where the stack (src/) does not yet do what RFC 4475 asks; each with the reason. */
const KNOWN_STACK_FAILURES: Record<string, string> = {
  badinv01:
    'top Via "SIP/2.0/UDP 192.0.2.15;;,;,," is unreadable to the transport layer, which drops the request instead of answering 400 (RFC 4475 §3.1.2.1: SHOULD 400)',
};

/** What the default core documents for cases whose RFC answer belongs to another kind of element. */
const DEFAULT_CORE_ANSWERS: Record<string, { status: number; why: string }> = {
  badbranch: { status: 200, why: 'RFC 4475 §3.2.1 allows falling back to RFC 2543 matching; the core then answers the OPTIONS' },
  zeromf: { status: 200, why: 'RFC 4475 §3.3.11: a proxy answers 483; a UA answers the OPTIONS normally' },
  inv2543: { status: 480, why: 'RFC 4475 §3.4.1: accept the RFC 2543 INVITE; the default core has no callee (480)' },
  unksm2: { status: 405, why: 'registrar case; the default core offers no REGISTER (405 + Allow)' },
  regaut01: { status: 405, why: 'registrar case; the default core offers no REGISTER (405 + Allow)' },
  cparam01: { status: 405, why: 'registrar case; the default core offers no REGISTER (405 + Allow)' },
  cparam02: { status: 405, why: 'registrar case; the default core offers no REGISTER (405 + Allow)' },
  regescrt: { status: 405, why: 'registrar case; the default core offers no REGISTER (405 + Allow)' },
};

/** Valid requests we cannot deliver unchanged: their top Via is folded over lines. */
const NOT_SENT: Record<string, string> = {
  wsinv: 'top Via folded across three lines; redirecting it would rewrite the folding this case tests (parser unit test covers it)',
};

const TOP_VIA = /^((?:Via|v)[ \t]*:[ \t]*SIP[ \t]*\/[ \t]*[0-9.]+[ \t]*\/[ \t]*)[A-Za-z0-9-]+[ \t]+[^;,\r\n]+/i;

/** The message with its top Via's transport and sent-by pointing at our socket. */
function redirectTopVia(name: string, raw: Buffer, port: number): Buffer {
  const text = raw.toString('latin1');
  const lines = text.split('\r\n');
  const head = lines.indexOf('');
  const i = lines.findIndex((l, k) => (head < 0 || k < head) && /^(via|v)[ \t]*:/i.test(l));
  if (i < 0) throw new Error(`${name}: no Via header`);
  if (!TOP_VIA.test(lines[i]!)) throw new Error(`${name}: top Via "${lines[i]}" cannot be redirected`);
  lines[i] = lines[i]!.replace(TOP_VIA, `$1UDP ${LOOPBACK}:${port}`);
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

interface Row {
  c: Rfc4475Case;
  /** The final status we must get back. */
  status: number;
  why: string;
}

function isRequestText(raw: Buffer): boolean {
  return !raw.subarray(0, 8).toString('latin1').startsWith('SIP/');
}

/** The answer every request of the corpus must get from transport + transaction + default core. */
function expectedRow(c: Rfc4475Case): Row | undefined {
  const raw = loadRfc4475(c.name);
  if (!isRequestText(raw) || NOT_SENT[c.name]) return undefined;
  const doc = DEFAULT_CORE_ANSWERS[c.name];
  if (doc) return { c, status: doc.status, why: doc.why };
  if (c.parse === 'error') return { c, status: c.parseStatus!, why: `§${c.section}: unparseable, answered by the transport layer` };
  if (c.expect && typeof c.expect.status === 'number') {
    return { c, status: c.expect.status, why: `§${c.section} (${c.expect.layer})${c.expect.note ? `: ${c.expect.note}` : ''}` };
  }
  // A valid request: the default core's documented answer, or 481 for a To tag naming no dialog.
  const m = parseMessage(raw);
  if (m.kind !== 'request') return undefined;
  if (m.to().params.get('tag')) return { c, status: 481, why: `§${c.section}: valid; To tag names no dialog (RFC 3261 §12.2.2)` };
  const a = defaultCoreResponse(m.method);
  if (a === undefined) return undefined;
  return { c, status: a.status, why: `§${c.section}: valid; default core answers ${m.method} ${a.status}` };
}

const rows = RFC4475_CASES.map(expectedRow).filter((r): r is Row => r !== undefined);
const responses = RFC4475_CASES.filter((c) => !isRequestText(loadRfc4475(c.name)));

let stack: SipStack;
let port: number;

beforeAll(async () => {
  stack = await SipStack.start(loopbackConfig(['udp']));
  attachDefaultCore(stack);
  port = endpointOf(stack, 'udp').port;
});

afterAll(async () => {
  await stack?.close();
});

/** Status code of a response datagram, read from its status line only: a few 400s cannot be whole
 *  (scalar02's CSeq number is echoed as is, insuf has no From/To/Call-ID to echo). */
function statusOf(d: Buffer): number | undefined {
  const m = /^SIP\/2\.0 (\d{3}) /.exec(d.subarray(0, 16).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

function headerLine(raw: Buffer, name: string): string | undefined {
  return new RegExp(`^${name}[ \\t]*:[ \\t]*(.*)$`, 'im').exec(raw.toString('latin1'))?.[1];
}

/** Sends `raw` from a fresh socket (top Via redirected to it); the first final response. */
async function finalAnswer(name: string, raw: Buffer = loadRfc4475(name)): Promise<Buffer | undefined> {
  const peer = await UdpPeer.open();
  try {
    await peer.send(redirectTopVia(name, raw, peer.port), port);
    const final = (): Buffer | undefined => peer.datagrams.find((d) => (statusOf(d) ?? 0) >= 200);
    const deadline = Date.now() + 1000;
    while (final() === undefined && Date.now() < deadline) await sleep(10);
    return final();
  } finally {
    peer.close();
  }
}

describe('RFC 4475 requests over UDP get the expected answer', () => {
  it('covers every request of the corpus but the ones listed as not sent', () => {
    const requests = RFC4475_CASES.filter((c) => isRequestText(loadRfc4475(c.name)));
    expect(rows.map((r) => r.c.name).sort()).toEqual(requests.map((c) => c.name).filter((n) => !NOT_SENT[n]).sort());
  });

  for (const row of rows) {
    const known = KNOWN_STACK_FAILURES[row.c.name];
    const title = `${row.c.name} (§${row.c.section} ${row.c.title}) -> ${row.status}${known ? ` [KNOWN FAILURE: ${known}]` : ''}`;
    (known ? it.fails : it)(title, async () => {
      const sent = loadRfc4475(row.c.name);
      const res = await finalAnswer(row.c.name);
      expect(res, `no final response to ${row.c.name}`).toBeDefined();
      expect(statusOf(res!), row.why).toBe(row.status);
      // The answer belongs to the request that was sent (§8.2.6.2: CSeq and Via branch copied).
      expect(headerLine(res!, 'CSeq')).toBe(headerLine(sent, 'CSeq'));
      const branch = /branch=([^;,\s]+)/i.exec(headerLine(sent, '(?:Via|v)') ?? '')?.[1];
      if (branch !== undefined) expect(headerLine(res!, 'Via')).toContain(`branch=${branch}`);
      if (row.status === 405 || row.status === 501) expect(headerLine(res!, 'Allow')).toMatch(/INVITE/);
      // RFC 3261 §8.2.2.3 / §8.2.3: the refusals say what is missing.
      if (row.status === 420) expect(headerLine(res!, 'Unsupported')).toMatch(/nothingSupportsThis\b.*nothingSupportsThisEither|nothingSupportsThisEither.*nothingSupportsThis\b/);
      if (row.status === 415) expect(headerLine(res!, 'Accept')).toMatch(/application\/sdp/);
    });
  }
});

describe('RFC 4475 §3.2.1 badbranch: branch "z9hG4bK" with nothing after the cookie', () => {
  // Fixed: src/sip/transaction/matching.ts isRfc3261Branch() requires something after the cookie,
  // so the bare cookie falls back to RFC 2543 matching (Request-URI, From tag, Call-ID, CSeq,
  // top Via) instead of merging two requests into one transaction.
  it('is not used alone as a transaction id: a second request with the same bare branch is a new transaction', async () => {
    // RFC 4475 §3.2.1 allows rejecting it or falling back to RFC 2543 matching. The stack answers
    // (200 above); then two different requests sharing that bare branch must not be confused.
    const peer = await UdpPeer.open();
    try {
      // Fresh Call-IDs: the copy sent above is still a live transaction (merged-request rule).
      const base = redirectTopVia('badbranch', loadRfc4475('badbranch'), peer.port).toString('latin1');
      const first = Buffer.from(base.replace(/^Call-ID: .*$/m, 'Call-ID: badbranch.probe-1'), 'latin1');
      const second = Buffer.from(base.replace(/^Call-ID: .*$/m, 'Call-ID: badbranch.probe-2').replace(/^CSeq: 8 /m, 'CSeq: 9 '), 'latin1');
      await peer.send(first, port);
      await sleep(100);
      await peer.send(second, port);
      const deadline = Date.now() + 1500;
      while (peer.datagrams.length < 2 && Date.now() < deadline) await sleep(10);
      expect(peer.datagrams.map((d) => [statusOf(d), headerLine(d, 'Call-ID')])).toEqual([
        [200, 'badbranch.probe-1'],
        [200, 'badbranch.probe-2'],
      ]);
    } finally {
      peer.close();
    }
  });
});

describe('RFC 4475: the 400 to a malformed request is itself a well-formed response', () => {
  // RFC 3261 §8.2.6.2 copies From/To/Call-ID/CSeq/Via; repeated single-value headers come back
  // once, an unparseable From/To is repaired (src/sip/message/response.ts createResponseToMalformed).
  it.each(['multi01', 'quotbal', 'baddn', 'badaspec', 'mismatch01', 'clerr'])('%s', async (name) => {
    const res = await finalAnswer(name);
    expect(res, `no answer to ${name}`).toBeDefined();
    expect(statusOf(res!)).toBe(400);
    const parsed = parseMessage(res!);
    expect(parsed.kind).toBe('response');
    for (const h of ['From', 'To', 'Call-ID', 'CSeq']) expect(parsed.headers.getAll(h), h).toHaveLength(1);
    expect(parsed.headers.get('CSeq')).toBe(headerLine(loadRfc4475(name), 'CSeq'));
  });
});

describe('RFC 4475 responses are dropped silently', () => {
  // A stack of its own: the shared one still retransmits answers to the requests above.
  let quiet: SipStack;
  let quietPort: number;
  beforeAll(async () => {
    quiet = await SipStack.start(loopbackConfig(['udp']));
    attachDefaultCore(quiet);
    quietPort = endpointOf(quiet, 'udp').port;
  });
  afterAll(async () => {
    await quiet?.close();
  });

  it(`${responses.map((c) => c.name).join(', ')}: no answer, nothing sent (bcast: never to 255.255.255.255)`, async () => {
    const before = structuredClone(quiet.stats());
    const peer = await UdpPeer.open();
    try {
      for (const c of responses) await peer.send(redirectTopVia(c.name, loadRfc4475(c.name), peer.port), quietPort);
      await sleep(300);
      expect(peer.datagrams).toEqual([]);
    } finally {
      peer.close();
    }
    const after = quiet.stats();
    expect(after.transport.received - before.transport.received).toBe(responses.length);
    expect(after.transport.sent).toBe(before.transport.sent);
    expect(after.transport.sendErrors).toBe(before.transport.sendErrors);
    // The two that do not parse are counted as parse errors; the others as stray responses.
    const unparseable = responses.filter((c) => c.parse === 'error').length;
    expect(after.transport.parseErrors - before.transport.parseErrors).toBe(unparseable);
    expect(after.dialog.strayResponses - before.dialog.strayResponses).toBe(responses.length - unparseable);
  });
});
