// Parse throughput of a typical ~600-byte INVITE with SDP, touching what the transaction layer
// reads on every message (top Via branch, Call-ID, CSeq). Prints `figure sip_parse_per_s <N>` last.
import { parseMessage } from '../src/sip/message/index.js';

const body = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 49170 RTP/AVP 0 101',
  'a=rtpmap:101 telephone-event/8000',
  '',
].join('\r\n');

const invite = Buffer.from(
  [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
    'Max-Forwards: 70',
    'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
    'To: <sip:bob@biloxi.example.com>',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com:5060>',
    'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE',
    'Supported: replaces, timer',
    'User-Agent: Switchboard/1.0',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n'),
);

let sink = 0;
function round(n: number): void {
  for (let i = 0; i < n; i++) {
    const m = parseMessage(invite);
    sink += m.topVia().branch!.length + m.callId().length + m.cseq().seq;
  }
}

// Warm up so the figure reflects optimised code.
round(20_000);

const budgetMs = Number(process.env.BENCH_MS ?? 3000);
const batch = 10_000;
let done = 0;
const t0 = process.hrtime.bigint();
let elapsedMs = 0;
while (elapsedMs < budgetMs) {
  round(batch);
  done += batch;
  elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
}
const perS = Math.round((done * 1000) / elapsedMs);
console.log(`message bytes: ${invite.length}`);
console.log(`parsed ${done} messages in ${elapsedMs.toFixed(0)} ms (checksum ${sink % 1000})`);
console.log(`figure sip_parse_per_s ${perS}`);
