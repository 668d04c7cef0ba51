// Interop: the RFC 2833/4733 DTMF captures shipped with Debian's SIPp (package sip-tester,
// /usr/share/sip-tester/dtmf_2833_*.pcap, the files SIPp's play_pcap_audio sends) fed through
// parseRtp into Rfc4733Receiver. Expected digits found by inspection:
//   tshark -r dtmf_2833_1.pcap -d udp.port==10000,rtp -o rtpevent.event_payload_type_value:101 -Y rtpevent
// Each file is one press: PT 101, SSRC 0x0e05384e, 10 packets sharing one RTP timestamp, marker
// on the first, duration 0, 320, … 1920, then three end packets with duration 2240 (280 ms).
// MediaSession's interop test plays the same files over a socket and expects PCAP_DIGITS.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readPcapUdp } from '../../../test/support/pcap.js';
import { createRtpHeader, parseRtp } from '../rtp.js';
import { Rfc4733Receiver } from './rfc4733.js';
import type { DtmfEvent } from './types.js';

const DIR = '/usr/share/sip-tester';
/** File suffix → the digit it carries, and the RTP timestamp of its event (tshark). */
export const PCAP_DIGITS: ReadonlyArray<[file: string, digit: string, timestamp: number]> = [
  ['0', '0', 17632],
  ['1', '1', 13280],
  ['2', '2', 23200],
  ['3', '3', 31040],
  ['4', '4', 37120],
  ['5', '5', 43200],
  ['6', '6', 48800],
  ['7', '7', 54720],
  ['8', '8', 60800],
  ['9', '9', 67840],
  ['star', '*', 85760],
  ['pound', '#', 92640],
];
const PT_TELEPHONE_EVENT = 101;
const have = existsSync(`${DIR}/dtmf_2833_1.pcap`);

describe.skipIf(!have)('SIPp dtmf_2833_*.pcap through parseRtp → Rfc4733Receiver', () => {
  it.each(PCAP_DIGITS)('dtmf_2833_%s.pcap carries exactly one %s (280 ms)', (file, digit, ts) => {
    const got: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e));
    const h = createRtpHeader();
    const pkts = readPcapUdp(`${DIR}/dtmf_2833_${file}.pcap`);
    expect(pkts).toHaveLength(10);
    for (const p of pkts) {
      expect(parseRtp(p.payload, p.payload.length, h)).toBe(true);
      expect(h.payloadType).toBe(PT_TELEPHONE_EVENT);
      expect(h.timestamp).toBe(ts);
      rx.push(h, p.payload.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength), p.timeMs);
    }
    expect(got).toEqual([{ digit, durationMs: 280, method: 'rfc4733', at: expect.closeTo(0, 0) }]);
    expect(rx.stats.repeats).toBe(2); // the 2nd and 3rd end packets
  });

  it('all twelve files played back to back (same SSRC, timestamps not monotonic) give 0123456789*#', () => {
    const got: DtmfEvent[] = [];
    const rx = new Rfc4733Receiver((e) => got.push(e));
    const h = createRtpHeader();
    let offset = 0;
    for (const [file] of PCAP_DIGITS) {
      for (const p of readPcapUdp(`${DIR}/dtmf_2833_${file}.pcap`)) {
        parseRtp(p.payload, p.payload.length, h);
        rx.push(h, p.payload.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength), offset + p.timeMs);
      }
      offset += 500;
    }
    expect(got.map((e) => e.digit).join('')).toBe('0123456789*#');
  });
});
