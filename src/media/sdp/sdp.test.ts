import { describe, expect, it } from 'vitest';
import { SipError } from '../../lib/errors.js';
import {
  answerOffer,
  applyAnswer,
  buildOffer,
  formatSdp,
  parseSdp,
  SdpError,
  SdpOriginState,
  type LocalMedia,
  type SdpErrorCode,
} from './index.js';
import { SDP } from './testdata.js';

const local: LocalMedia = { address: '127.0.0.1', port: 20000 };

describe('parseSdp / formatSdp', () => {
  it.each(Object.entries(SDP))('%s round-trips through format → parse', (_name, text) => {
    const d = parseSdp(text);
    const again = parseSdp(formatSdp(d));
    expect(again).toEqual(d);
  });

  it.each(['sippPcmu', 'baresip', 'linphone', 'chromeDtls', 'polycom', 'yealink'] as const)(
    '%s formats back to the identical text (unknown lines kept)',
    (name) => {
      expect(formatSdp(parseSdp(SDP[name]))).toBe(SDP[name]);
    },
  );

  it('keeps unknown attributes and lines in order', () => {
    const d = parseSdp(SDP.linphone);
    expect(d.attributes.map((a) => a.name)).toEqual(['rtcp-xr', 'record']);
    expect(d.media[0]!.attributes.filter((a) => a.name === 'rtcp-fb').map((a) => a.value)).toEqual([
      '* trr-int 1000',
      '* ccm tmmbr',
    ]);
    const odd = parseSdp(SDP.oddOrdering);
    expect(odd.extra).toEqual([
      { type: 'i', value: 'an odd one' },
      { type: 't', value: '0 0' },
    ]);
    expect(odd.media[0]!.extra).toEqual([
      { type: 'i', value: 'voice' },
      { type: 'b', value: 'AS:64' },
    ]);
    expect(odd.media[0]!.connection!.address).toBe('192.0.2.41');
  });

  const malformed: [string, string][] = [
    ['empty', ''],
    ['no v= first', 'o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n'],
    ['v=1', 'v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n'],
    ['garbage line', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nhello world\r\n'],
    ['o= with 5 fields', 'v=0\r\no=- 1 IN IP4 1.2.3.4\r\ns=-\r\n'],
    ['o= non-numeric id', 'v=0\r\no=- abc 1 IN IP4 1.2.3.4\r\ns=-\r\n'],
    ['missing o=', 'v=0\r\ns=-\r\nt=0 0\r\n'],
    ['m= bad port', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n'],
    ['m= too short', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 7000\r\n'],
    ['m= without any c=', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n'],
    ['c= with two fields', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN 1.2.3.4\r\n'],
    ['huge body', 'v=0\r\n' + 'a=x\r\n'.repeat(20000)],
  ];
  it.each(malformed)('rejects %s with SdpError 488 malformed', (_name, text) => {
    const err = catchErr(() => parseSdp(text));
    expect(err).toBeInstanceOf(SdpError);
    expect(err).toBeInstanceOf(SipError);
    expect((err as SdpError).status).toBe(488);
    expect((err as SdpError).code).toBe('malformed');
  });

  it('says which line is malformed', () => {
    const err = catchErr(() => parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nhello\r\n')) as SdpError;
    expect(err.detail).toMatch(/^line 4:/);
  });

  it('refuses to format a value carrying CR/LF', () => {
    const d = parseSdp(SDP.sippPcmu);
    d.sessionName = 'x\r\nInjected: yes';
    expect(() => formatSdp(d)).toThrow(SdpError);
  });
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('answerOffer (RFC 3264 §6.1)', () => {
  // name, offer, expected codec/pt, telephone-event pt, remote port, our direction
  const table: [keyof typeof SDP, string, number, number | null, number, string][] = [
    ['sippPcmu', 'PCMU', 0, null, 6000, 'sendrecv'],
    ['sippPcapPcma', 'PCMA', 8, 101, 6000, 'sendrecv'],
    ['baresip', 'opus', 96, null, 10000, 'sendrecv'], // only telephone-event/8000: no match at 48 kHz
    ['linphone', 'opus', 96, 101, 7078, 'sendrecv'], // 101 is telephone-event/48000
    ['chromeLikePlain', 'opus', 111, 110, 50000, 'sendrecv'],
    ['polycom', 'PCMU', 0, 127, 2222, 'sendrecv'],
    ['yealink', 'PCMA', 8, 101, 11800, 'sendrecv'],
    ['staticNoRtpmapTe96', 'PCMU', 0, 96, 4000, 'sendrecv'],
    ['oddOrdering', 'PCMA', 8, 101, 5004, 'sendonly'], // session-level recvonly → we only send
    ['audioVideoT38', 'PCMU', 0, 101, 9002, 'sendrecv'],
    ['srtpThenPlain', 'PCMU', 0, null, 7002, 'sendrecv'],
    ['opusOnly', 'opus', 107, 101, 8000, 'sendrecv'],
    ['holdSendonly', 'PCMU', 0, null, 6000, 'recvonly'],
    ['holdOld', 'PCMU', 0, null, 6000, 'recvonly'],
    ['inactive', 'PCMU', 0, null, 6000, 'inactive'],
    ['recvonly', 'PCMU', 0, null, 6000, 'sendonly'],
    ['rejectedThenActive', 'PCMA', 8, null, 6002, 'sendrecv'],
  ];
  it.each(table)('%s → %s/%i te=%s port %i %s', (name, codec, pt, te, port, dir) => {
    const offer = parseSdp(SDP[name]);
    const { answer, media } = answerOffer(offer, local);
    expect(media.codec.name).toBe(codec);
    expect(media.codec.payloadType).toBe(pt);
    expect(media.telephoneEvent?.payloadType ?? null).toBe(te);
    expect(media.remotePort).toBe(port);
    expect(media.direction).toBe(dir);
    // RFC 3264 §6: same number of m= lines; only the chosen one has a port.
    expect(answer.media.length).toBe(offer.media.length);
    answer.media.forEach((m, i) => {
      expect(m.port).toBe(i === media.mediaIndex ? 20000 : 0);
      expect(m.media).toBe(offer.media[i]!.media);
      expect(m.formats.length).toBeGreaterThan(0);
    });
    const am = answer.media[media.mediaIndex]!;
    expect(am.formats[0]).toBe(String(pt));
    expect(am.attributes.some((a) => a.name === dir)).toBe(true);
    // The answer is valid SDP that parses back.
    const text = new SdpOriginState().format(answer);
    expect(parseSdp(text).media.length).toBe(offer.media.length);
  });

  it('Opus answer carries opus/48000/2 and our fmtp (RFC 7587)', () => {
    const { answer, media } = answerOffer(parseSdp(SDP.opusOnly), local);
    const attrs = answer.media[0]!.attributes;
    expect(attrs).toContainEqual({ name: 'rtpmap', value: '107 opus/48000/2' });
    expect(attrs.find((a) => a.name === 'fmtp' && a.value!.startsWith('107 '))!.value).toMatch(/maxplaybackrate=8000/);
    expect(media.codec.channels).toBe(2);
    expect(media.codec.params.get('usedtx')).toBe('1');
    expect(media.codec.params.get('maxplaybackrate')).toBe('16000');
  });

  it('answers in our preference order when asked', () => {
    const { media } = answerOffer(parseSdp(SDP.linphone), { ...local, codecs: ['PCMA', 'PCMU'], preferLocalOrder: true });
    expect(media.codec.name).toBe('PCMA');
    const { media: m2 } = answerOffer(parseSdp(SDP.linphone), { ...local, codecs: ['PCMU', 'PCMA'] });
    expect(m2.codec.name).toBe('PCMU'); // offer order: 0 before 8
    expect(m2.telephoneEvent?.payloadType).toBe(100); // telephone-event/8000
  });

  it('notices hold: old c=0.0.0.0 and sendonly', () => {
    expect(answerOffer(parseSdp(SDP.holdOld), local).media.remoteHold).toBe(true);
    expect(answerOffer(parseSdp(SDP.holdSendonly), local).media.remoteHold).toBe(true);
    expect(answerOffer(parseSdp(SDP.sippPcmu), local).media.remoteHold).toBe(false);
  });

  it('rtcp-mux and a=rtcp (RFC 5761, RFC 3605)', () => {
    const { answer, media } = answerOffer(parseSdp(SDP.chromeLikePlain), local);
    expect(media.rtcpMux).toBe(true);
    expect(media.remoteRtcpPort).toBe(50000);
    expect(answer.media[0]!.attributes.some((a) => a.name === 'rtcp-mux')).toBe(true);
    expect(answerOffer(parseSdp(SDP.sippPcmu), local).media.remoteRtcpPort).toBe(6001);
  });

  it('local hold: we want sendonly', () => {
    const { media } = answerOffer(parseSdp(SDP.sippPcmu), { ...local, direction: 'sendonly' });
    expect(media.direction).toBe('sendonly');
    expect(media.recv).toBe(false);
  });

  const unusable: [keyof typeof SDP | string, SdpErrorCode][] = [
    ['g729Only', 'no-common-codec'],
    ['videoOnly', 'no-audio'],
    ['chromeDtls', 'unsupported-transport'],
  ];
  it.each(unusable)('%s → SdpError %s, status 488', (name, code) => {
    const err = catchErr(() => answerOffer(parseSdp(SDP[name as keyof typeof SDP]), local));
    expect(err).toBeInstanceOf(SdpError);
    expect((err as SdpError).status).toBe(488);
    expect((err as SdpError).code).toBe(code);
  });

  it('no codec in common with a restricted local set', () => {
    expect(() => answerOffer(parseSdp(SDP.opusOnly), { ...local, codecs: ['PCMU'] })).toThrow(SdpError);
  });
});

describe('buildOffer / applyAnswer', () => {
  it('our offer lists PCMU, PCMA, opus and telephone-event at both rates', () => {
    const text = new SdpOriginState('42').format(buildOffer(local));
    expect(text).toContain('m=audio 20000 RTP/AVP 0 8 111 110 101\r\n');
    expect(text).toContain('a=rtpmap:111 opus/48000/2\r\n');
    expect(text).toContain('a=rtpmap:101 telephone-event/8000\r\n');
    expect(text).toContain('c=IN IP4 127.0.0.1\r\n');
    expect(text).toMatch(/^v=0\r\no=switchboard 42 \d+ IN IP4 127.0.0.1\r\ns=switchboard\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n/);
  });

  it('round trip: our offer answered by another Switchboard', () => {
    const offer = buildOffer(local);
    const { answer, media: theirs } = answerOffer(parseSdp(new SdpOriginState().format(offer)), { address: '127.0.0.2', port: 30000, codecs: ['PCMA', 'PCMU'], preferLocalOrder: true });
    const ours = applyAnswer(offer, parseSdp(new SdpOriginState().format(answer)), local);
    expect(theirs.codec.name).toBe('PCMA');
    expect(ours.codec.name).toBe('PCMA');
    expect(ours.telephoneEvent).toEqual({ payloadType: 101, clockRate: 8000 });
    expect(ours.remoteAddress).toBe('127.0.0.2');
    expect(ours.remotePort).toBe(30000);
    expect(ours.remoteRtcpPort).toBe(30001);
    expect(ours.direction).toBe('sendrecv');
  });

  it('uses the answer\'s dynamic payload type numbers', () => {
    const offer = buildOffer({ ...local, codecs: ['opus'] });
    const answer = parseSdp(
      'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 98 99\r\na=rtpmap:98 opus/48000/2\r\na=rtpmap:99 telephone-event/48000\r\na=recvonly\r\n',
    );
    const m = applyAnswer(offer, answer, local);
    expect(m.codec).toMatchObject({ name: 'opus', payloadType: 98 });
    expect(m.telephoneEvent?.payloadType).toBe(99);
    expect(m.direction).toBe('sendonly');
  });

  it('rejects answers that do not fit the offer', () => {
    const offer = buildOffer(local);
    const twoM = parseSdp(SDP.audioVideoT38);
    expect((catchErr(() => applyAnswer(offer, twoM, local)) as SdpError).code).toBe('bad-answer');
    const rejected = parseSdp('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n');
    expect((catchErr(() => applyAnswer(offer, rejected, local)) as SdpError).code).toBe('no-common-codec');
    expect((catchErr(() => applyAnswer(offer, parseSdp(SDP.g729Only), local)) as SdpError).code).toBe('bad-answer');
  });
});

describe('SdpOriginState (re-offers keep the session, RFC 3264 §8)', () => {
  it('same id always; version only moves when the body changes', () => {
    const st = new SdpOriginState();
    const a = parseSdp(st.format(buildOffer(local)));
    const b = parseSdp(st.format(buildOffer(local)));
    const c = parseSdp(st.format(buildOffer({ ...local, direction: 'sendonly' })));
    const d = parseSdp(st.format(buildOffer({ ...local, direction: 'sendonly' })));
    expect(new Set([a, b, c, d].map((x) => x.origin.sessionId)).size).toBe(1);
    expect(b.origin.sessionVersion).toBe(a.origin.sessionVersion);
    expect(BigInt(c.origin.sessionVersion)).toBe(BigInt(a.origin.sessionVersion) + 1n);
    expect(d.origin.sessionVersion).toBe(c.origin.sessionVersion);
  });
});
