// DTMF on a MediaSession over real UDP sockets on 127.0.0.1, on a real media clock: the session's
// own DTMF attachment (session-dtmf.ts) receiving RFC 4733 (SIPp's RFC 2833 captures, replayed by
// us and by SIPp itself), in-band tones and SIP INFO digits as ONE de-duplicated 'dtmf' stream,
// and sending digits as RFC 4733 or in-band tones. Timing assertions are generous (loaded CI).
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidStateError } from '../src/lib/errors.js';
import { MediaClock } from '../src/lib/media-clock.js';
import { GoertzelDetector } from '../src/media/dtmf/goertzel.js';
import { Rfc4733Receiver } from '../src/media/dtmf/rfc4733.js';
import { digitFreqs, render, type Segment } from '../src/media/dtmf/testing.js';
import { PortAllocator } from '../src/media/ports.js';
import { createRtpHeader, parseRtp } from '../src/media/rtp.js';
import { MediaSession, type MediaSessionOptions } from '../src/media/session.js';
import type { DtmfEvent } from '../src/media/types.js';
import { SipStack, answerWithDefaultCore, type IncomingRequest } from '../src/sip/index.js';
import { endpointOf, freePort, loopbackConfig } from './support/net.js';
import { readPcapUdp } from './support/pcap.js';
import { audioPackets, decodeUlaw, peerOffer, RtpPeer, sleep, until, type Scheduled } from './support/media-peer.js';
import { runSipp } from './support/sipp.js';

const BASE = 34000 + (process.pid % 50) * 40;
const allocator = new PortAllocator(BASE, BASE + 39, { address: '127.0.0.1' });
const clock = new MediaClock();
const sessions: MediaSession[] = [];
const peers: RtpPeer[] = [];
const PCAP_DIR = '/usr/share/sip-tester';
const havePcaps = existsSync(`${PCAP_DIR}/dtmf_2833_1.pcap`);

beforeAll(() => clock.start());
afterAll(() => clock.stop());
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
  for (const p of peers.splice(0)) p.close();
  expect(allocator.inUse).toBe(0);
});

async function session(opts: Partial<MediaSessionOptions> = {}): Promise<MediaSession> {
  const s = await MediaSession.create({ allocator, clock, inactivityMs: 0, ...opts });
  sessions.push(s);
  return s;
}

/** A session answering a raw peer's offer (telephone-event PT `te`, or none). */
async function call(te: number | null = 101, opts: Partial<MediaSessionOptions> = {}): Promise<{ s: MediaSession; peer: RtpPeer; digits: DtmfEvent[] }> {
  const s = await session(opts);
  const peer = await RtpPeer.open();
  peers.push(peer);
  s.answer(peerOffer(peer.port, te));
  peer.target(s.port);
  const digits: DtmfEvent[] = [];
  s.on('dtmf', (e) => digits.push(e));
  return { s, peer, digits };
}

/** The RTP payload (4-byte event) and marker of each packet of dtmf_2833_<file>.pcap, with its capture offset. */
function pcapEvents(file: string): { timeMs: number; marker: boolean; payload: Buffer }[] {
  const h = createRtpHeader();
  return readPcapUdp(`${PCAP_DIR}/dtmf_2833_${file}.pcap`).map((p) => {
    if (!parseRtp(p.payload, p.payload.length, h)) throw new Error(`bad RTP in ${file}`);
    return { timeMs: p.timeMs, marker: h.marker, payload: Buffer.from(p.payload.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength)) };
  });
}

const FILE_OF: Record<string, string> = { '*': 'star', '#': 'pound' };

describe.skipIf(!havePcaps)('RFC 2833 captures (SIPp dtmf_2833_*.pcap) into a MediaSession', () => {
  it('a sequence replayed as one phone stream (one SSRC, continuous seq/timestamps, audio between) arrives once each, in order', async () => {
    const { s, peer, digits } = await call(101);
    const sequence = '0123456789*#77';
    const sched: Scheduled[] = audioPackets(0, 200, undefined, true);
    let t = 200;
    for (const d of sequence) {
      // The captured packets at their original spacing; all share the RTP timestamp of the
      // stream at the press (RFC 4733 §2.5.1.1); the phone sends no audio meanwhile.
      const ts = Math.round(t * 8);
      for (const p of pcapEvents(FILE_OF[d] ?? d)) sched.push({ atMs: t + p.timeMs, pt: 101, marker: p.marker, timestamp: ts, payload: p.payload });
      t += 160;
      sched.push(...audioPackets(t, 160));
      t += 160;
    }
    await peer.play(sched);
    await until(() => digits.length >= sequence.length, 5000, () => `digits so far: ${digits.map((e) => e.digit).join('')}`);
    await sleep(300); // nothing more may come
    expect(digits.map((e) => e.digit).join('')).toBe(sequence);
    expect(digits.every((e) => e.method === 'rfc4733' && e.durationMs === 280)).toBe(true);
    const rx = s.dtmf!.stream.rfc4733.stats;
    expect(rx.repeats).toBe(2 * sequence.length); // the 2nd and 3rd end packet of each press
    expect(rx.missingEnds).toBe(0);
    expect(s.stats.foreignSource).toBe(0);
  });

  it('SIPp plays dtmf_2833_1.pcap (play_pcap_audio) after INVITE/200/ACK answered with the session SDP: "1" arrives', async () => {
    const s = await session();
    const digits: DtmfEvent[] = [];
    s.on('dtmf', (e) => digits.push(e));
    const stack = await SipStack.start(loopbackConfig(['udp']));
    const sdpErrors: unknown[] = [];
    stack.on('request', (req: IncomingRequest) => {
      if (req.method !== 'INVITE') {
        answerWithDefaultCore(req);
        return;
      }
      try {
        const answer = s.answer(req.message.body.toString('utf8'));
        req.respond(200, { body: answer, contentType: 'application/sdp' });
      } catch (err) {
        sdpErrors.push(err);
        req.respond(488);
      }
    });
    try {
      const res = await runSipp({
        scenario: 'media-uac-dtmf-pcap',
        target: endpointOf(stack, 'udp'),
        timeoutSeconds: 20,
        extraArgs: ['-mi', '127.0.0.1', '-mp', String(await freePort())],
      });
      expect(sdpErrors).toEqual([]);
      expect(s.negotiated?.telephoneEvent?.payloadType).toBe(101);
      expect(res.code, res.errors || res.stderr).toBe(0);
      await until(() => digits.length > 0, 3000, 'a digit from SIPp');
      await sleep(200);
      expect(digits.map((e) => [e.digit, e.method])).toEqual([['1', 'rfc4733']]);
    } finally {
      await stack.close();
    }
  });
});

/** Tone presses (100 ms on, 100 ms off) as 8 kHz PCM. */
function tones(digits: string, onMs = 100, offMs = 100): Int16Array {
  const segs: Segment[] = [{ freqs: null, ms: 100 }];
  for (const d of digits) segs.push({ freqs: digitFreqs(d), ms: onMs }, { freqs: null, ms: offMs });
  return render(segs);
}

describe('in-band DTMF into a MediaSession', () => {
  it('G.711 µ-law dual tones from the peer arrive as digits (no telephone-event negotiated)', async () => {
    const { peer, digits } = await call(null);
    const pcm = tones('159#0*D');
    await peer.play(audioPackets(0, (pcm.length / 8) | 0, pcm, true).concat(audioPackets(pcm.length / 8, 200)));
    await until(() => digits.length >= 7, 4000, () => `digits so far: ${digits.map((e) => e.digit).join('')}`);
    await sleep(300);
    expect(digits.map((e) => e.digit).join('')).toBe('159#0*D');
    expect(digits.every((e) => e.method === 'inband')).toBe(true);
  });

  it('the same press sent in-band AND as RFC 4733 (as many phones do) is ONE event', async () => {
    // In-band detection alongside telephone-event is opt-in ('always'; the default 'auto' skips it).
    const { s, peer, digits } = await call(101, { dtmf: { inband: 'always' } });
    const presses = '37#';
    const pcm = tones(presses, 120, 200);
    const sched = audioPackets(0, (pcm.length / 8) | 0, pcm, true);
    // Tones start at 100 ms, one every 320 ms: RFC 4733 packets for the same presses, interleaved.
    for (let k = 0; k < presses.length; k++) {
      const start = 100 + k * 320;
      const code = '0123456789*#'.indexOf(presses[k]!);
      for (let i = 0; i <= 8; i++) {
        const end = i >= 6;
        const dur = Math.min(i, 6) * 160;
        sched.push({ atMs: start + Math.min(i, 6) * 20 + 1, pt: 101, marker: i === 0, timestamp: start * 8, payload: Buffer.from([code, (end ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]) });
      }
    }
    sched.sort((a, b) => a.atMs - b.atMs);
    await peer.play(sched.concat(audioPackets(pcm.length / 8, 300)));
    await until(() => digits.length >= presses.length, 4000, 'three digits');
    await sleep(500); // held in-band reports would surface by now
    expect(digits.map((e) => e.digit).join('')).toBe(presses);
    expect(digits.every((e) => e.method === 'rfc4733')).toBe(true);
    const st = s.dtmf!.stream;
    expect(st.inband.stats.digits).toBe(presses.length); // the tones were detected too…
    expect(st.stats.suppressed).toBeGreaterThanOrEqual(presses.length); // …and merged away
  });

  it("default 'auto': no in-band detection (nor inbound decoding) while telephone-event is negotiated", async () => {
    const { s, peer, digits } = await call(101);
    expect(s.dtmf!.inbandActive).toBe(false);
    const pcm = tones('37');
    await peer.play(audioPackets(0, (pcm.length / 8) | 0, pcm, true).concat(audioPackets(pcm.length / 8, 50)));
    await sleep(300);
    expect(digits).toHaveLength(0);
    expect(s.dtmf!.stream.inband.stats.digits).toBe(0);
    expect(s.jitterStats!.received).toBe(0);
  });

  it('SIP INFO digits pushed by the call layer come out as the same event, not twice with RFC 4733', async () => {
    const { s, peer, digits } = await call(101);
    s.pushInfoDtmf('9', 160); // no RFC 4733 report of it: emitted after the hold
    await until(() => digits.length === 1, 2000, 'the INFO digit');
    expect(digits[0]).toMatchObject({ digit: '9', method: 'info' });
    // A press reported by both RFC 4733 and INFO.
    const sched: Scheduled[] = [];
    for (let i = 0; i <= 6; i++) {
      const dur = Math.min(i, 4) * 160;
      sched.push({ atMs: Math.min(i, 4) * 20, pt: 101, marker: i === 0, timestamp: 800, payload: Buffer.from([4, (i >= 4 ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]) });
    }
    await sleep(400); // a separate press (DtmfStream merges reports within guardMs of each other)
    s.pushInfoDtmf('4', 80);
    await peer.play(sched);
    await sleep(400);
    expect(digits.map((e) => `${e.digit}:${e.method}`)).toEqual(['9:info', '4:rfc4733']);
    s.pushInfoDtmf('x', 100); // not a digit: ignored
    await sleep(250);
    expect(digits).toHaveLength(2);
  });

  it('follows re-offers: a new telephone-event payload type, then none', async () => {
    const { s, peer, digits } = await call(101);
    expect(s.dtmf!.payloadType).toBe(101);
    s.answer(peerOffer(peer.port, 96, 2));
    expect(s.dtmf!.payloadType).toBe(96);
    const press = (pt: number, ts: number): Scheduled[] =>
      [0, 1, 2, 3, 3, 3].map((i, k) => ({ atMs: k * 20, pt, marker: k === 0, timestamp: ts, payload: Buffer.from([2, (k >= 3 ? 0x80 : 0) | 10, (i * 160) >> 8, (i * 160) & 0xff]) }));
    await peer.play(press(101, 1000)); // the old PT: no longer telephone-event
    await peer.play(press(96, 3000));
    await until(() => digits.length === 1, 2000, 'a digit on PT 96');
    await sleep(200);
    expect(digits.map((e) => e.digit)).toEqual(['2']);
    s.answer(peerOffer(peer.port, null, 3));
    expect(s.dtmf!.payloadType).toBe(-1);
    expect(s.sendDtmf('1')).toBe('inband');
  });
});

describe('sendDtmf', () => {
  it('sends RFC 4733 events when the peer negotiated telephone-event: marker, one timestamp, 3 ends, continuous seq', async () => {
    const { s, peer } = await call(101);
    await until(() => peer.audio().length >= 5, 2000, 'audio from the session');
    const got: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e));
    expect(s.sendDtmf('5#', 100, 100)).toBe('rfc4733');
    expect(s.dtmf!.sending).toBe(2);
    const ends = () => peer.received.filter((r) => r.h.payloadType === 101 && (r.payload[1]! & 0x80) !== 0).length;
    await until(() => ends() === 6, 3000, 'two presses with three end packets each at the peer');
    await sleep(100);
    const all = peer.received.slice();
    const events = all.filter((r) => r.h.payloadType === 101);
    for (const e of events) rx.push(e.h, e.payload, e.at);
    expect(got.map((e) => e.digit)).toEqual(['5', '#']);
    for (const [digit, code] of [['5', 5], ['#', 11]] as const) {
      const pk = events.filter((e) => e.payload[0] === code);
      expect(new Set(pk.map((e) => e.h.timestamp)).size, digit).toBe(1); // §2.5.1.1
      expect(pk.map((e) => e.h.marker)).toEqual(pk.map((_, i) => i === 0)); // §2.5.1.2
      const ends = pk.filter((e) => (e.payload[1]! & 0x80) !== 0);
      expect(ends).toHaveLength(3); // §2.5.1.4
      expect(pk.slice(-3)).toEqual(ends);
      const durs = pk.map((e) => e.payload.readUInt16BE(2));
      expect(durs).toEqual([...durs].sort((a, b) => a - b));
      expect(durs.at(-1)).toBe(800); // 100 ms at 8 kHz
      expect(pk.every((e) => (e.payload[1]! & 0x3f) === 10 && e.h.ssrc === s.ssrc && e.payload.length === 4)).toBe(true);
    }
    // One sequence space for audio and events, no gaps; the second press starts later.
    for (let i = 1; i < all.length; i++) expect((all[i]!.h.sequence - all[i - 1]!.h.sequence) & 0xffff).toBe(1);
    const ts5 = events.find((e) => e.payload[0] === 5)!.h.timestamp;
    const tsHash = events.find((e) => e.payload[0] === 11)!.h.timestamp;
    expect(((tsHash - ts5) >>> 0) >= 1600).toBe(true); // ≥ 100 ms press + 100 ms gap
    expect(s.dtmf!.sending).toBe(0);
  });

  it('sends in-band tones (µ-law) when telephone-event was not negotiated; a Goertzel detector at the peer reads them', async () => {
    const { s, peer } = await call(null);
    await until(() => peer.audio().length >= 3, 2000, 'audio from the session');
    expect(s.sendDtmf('159#*', 100, 100)).toBe('inband');
    expect(() => s.sendDtmf('5x')).toThrow(RangeError);
    await until(() => s.dtmf!.sending === 0, 4000, 'tones sent');
    await sleep(200);
    const got: DtmfEvent[] = [];
    const det = new GoertzelDetector((e) => got.push(e));
    const pcm = decodeUlaw(peer.audio());
    for (let k = 0; k + 160 <= pcm.length; k += 160) det.process(pcm.subarray(k, k + 160), k / 8);
    det.flush();
    expect(got.map((e) => e.digit).join('')).toBe('159#*');
    for (const e of got) expect(Math.abs(e.durationMs - 100)).toBeLessThanOrEqual(25);
    expect(peer.received.every((r) => r.h.payloadType === 0)).toBe(true);
  });

  it('refuses before negotiation and after close', async () => {
    const s = await session();
    expect(() => s.sendDtmf('1')).toThrow(InvalidStateError);
    s.close();
    expect(() => s.sendDtmf('1')).toThrow(InvalidStateError);
  });
});
