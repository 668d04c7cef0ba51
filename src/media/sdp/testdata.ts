// Real-world-shaped SDP offers for the table-driven tests (shapes taken from the named
// user agents' typical INVITEs; addresses changed to documentation ranges).
const crlf = (s: string) => s.trim().split('\n').map((l) => l.trim()).join('\r\n') + '\r\n';

export const SDP = {
  sippPcmu: crlf(`
    v=0
    o=user1 53655765 2353687637 IN IP4 127.0.0.1
    s=-
    c=IN IP4 127.0.0.1
    t=0 0
    m=audio 6000 RTP/AVP 0
    a=rtpmap:0 PCMU/8000
  `),
  sippPcapPcma: crlf(`
    v=0
    o=user1 53655765 2353687637 IN IP4 127.0.0.1
    s=-
    c=IN IP4 127.0.0.1
    t=0 0
    m=audio 6000 RTP/AVP 8 101
    a=rtpmap:8 PCMA/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-11,16
  `),
  baresip: crlf(`
    v=0
    o=- 1284463034 3298407409 IN IP4 192.0.2.10
    s=-
    c=IN IP4 192.0.2.10
    t=0 0
    m=audio 10000 RTP/AVP 96 9 0 8 101
    b=AS:128
    a=rtpmap:96 opus/48000/2
    a=fmtp:96 stereo=1;sprop-stereo=1
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:101 telephone-event/8000
    a=fmtp:101 0-15
    a=rtcp-rsize
    a=sendrecv
    a=label:1
    a=ssrc:1690253826 cname:7f6d63c8-1e5c-4d6b-b7a2-7c4d7a0e3f51
    a=ptime:20
  `),
  linphone: crlf(`
    v=0
    o=alice 3022 3456 IN IP4 192.0.2.20
    s=Talk
    c=IN IP4 192.0.2.20
    t=0 0
    a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
    a=record:off
    m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
    a=rtpmap:96 opus/48000/2
    a=fmtp:96 useinbandfec=1
    a=rtpmap:97 SILK/16000
    a=rtpmap:98 speex/16000
    a=fmtp:98 vbr=on
    a=rtpmap:18 G729/8000
    a=fmtp:18 annexb=yes
    a=rtpmap:101 telephone-event/48000
    a=rtpmap:99 telephone-event/16000
    a=rtpmap:100 telephone-event/8000
    a=rtcp-fb:* trr-int 1000
    a=rtcp-fb:* ccm tmmbr
  `),
  chromeDtls: crlf(`
    v=0
    o=- 4611731400430051336 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0
    a=extmap-allow-mixed
    a=msid-semantic: WMS stream
    m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
    c=IN IP4 0.0.0.0
    a=rtcp:9 IN IP4 0.0.0.0
    a=ice-ufrag:EsAw
    a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
    a=fingerprint:sha-256 0F:74:31:25:CB:A2:13:EC:28:6F:6D:2C:61:FF:5D:C2:BC:B9:DB:3D:98:14:8D:1A:BB:EA:33:0C:A4:60:A8:8E
    a=setup:actpass
    a=mid:0
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=sendrecv
    a=rtcp-mux
    a=rtpmap:111 opus/48000/2
    a=rtcp-fb:111 transport-cc
    a=fmtp:111 minptime=10;useinbandfec=1
    a=rtpmap:63 red/48000/2
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:13 CN/8000
    a=rtpmap:110 telephone-event/48000
    a=rtpmap:126 telephone-event/8000
    a=ssrc:1001 cname:abcd
  `),
  chromeLikePlain: crlf(`
    v=0
    o=- 4611731400430051336 2 IN IP4 198.51.100.7
    s=-
    t=0 0
    a=msid-semantic: WMS stream
    m=audio 50000 RTP/AVPF 111 0 8 110 126
    c=IN IP4 198.51.100.7
    a=rtcp:50001 IN IP4 198.51.100.7
    a=mid:0
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=sendrecv
    a=rtcp-mux
    a=rtpmap:111 opus/48000/2
    a=rtcp-fb:111 transport-cc
    a=fmtp:111 minptime=10;useinbandfec=1
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:110 telephone-event/48000
    a=rtpmap:126 telephone-event/8000
    a=ssrc:1001 cname:abcd
  `),
  polycom: crlf(`
    v=0
    o=- 1623418811 1623418811 IN IP4 203.0.113.50
    s=Polycom IP Phone
    c=IN IP4 203.0.113.50
    t=0 0
    a=sendrecv
    m=audio 2222 RTP/AVP 9 102 0 8 18 127
    a=rtpmap:9 G722/8000
    a=rtpmap:102 G7221/16000
    a=fmtp:102 bitrate=32000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:18 G729/8000
    a=fmtp:18 annexb=no
    a=rtpmap:127 telephone-event/8000
  `),
  yealink: crlf(`
    v=0
    o=- 20060 20060 IN IP4 203.0.113.60
    s=SDP data
    c=IN IP4 203.0.113.60
    t=0 0
    m=audio 11800 RTP/AVP 8 0 18 9 101
    a=rtpmap:8 PCMA/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:18 G729/8000
    a=fmtp:18 annexb=no
    a=rtpmap:9 G722/8000
    a=fmtp:101 0-15
    a=rtpmap:101 telephone-event/8000
    a=ptime:20
    a=sendrecv
  `),
  staticNoRtpmapTe96: crlf(`
    v=0
    o=gw 1 1 IN IP4 192.0.2.30
    s=call
    c=IN IP4 192.0.2.30
    t=0 0
    m=audio 4000 RTP/AVP 0 8 96
    a=rtpmap:96 telephone-event/8000
    a=fmtp:96 0-16
    a=ptime:30
  `),
  // telephone-event listed first, direction at session level, c= only in the media section,
  // fmtp before rtpmap, b= and i= lines, an LF-only tail.
  oddOrdering: `v=0\r\no=odd 9 9 IN IP4 192.0.2.40\r\ns=odd\r\ni=an odd one\r\nt=0 0\r\na=recvonly\r\nm=audio 5004 RTP/AVP 101 8\r\ni=voice\r\nc=IN IP4 192.0.2.41\r\nb=AS:64\na=fmtp:101 0-15\na=rtpmap:101 telephone-event/8000\na=rtpmap:8 PCMA/8000\n`,
  audioVideoT38: crlf(`
    v=0
    o=- 5 5 IN IP4 192.0.2.50
    s=-
    c=IN IP4 192.0.2.50
    t=0 0
    m=video 9000 RTP/AVP 96
    a=rtpmap:96 H264/90000
    m=audio 9002 RTP/AVP 0 101
    a=rtpmap:101 telephone-event/8000
    m=image 9004 udptl t38
    a=T38FaxVersion:0
  `),
  srtpThenPlain: crlf(`
    v=0
    o=- 6 6 IN IP4 192.0.2.60
    s=-
    c=IN IP4 192.0.2.60
    t=0 0
    m=audio 7000 RTP/SAVP 0
    a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
    m=audio 7002 RTP/AVP 0
  `),
  opusOnly: crlf(`
    v=0
    o=- 7 7 IN IP4 192.0.2.70
    s=-
    c=IN IP4 192.0.2.70
    t=0 0
    m=audio 8000 RTP/AVP 107 101
    a=rtpmap:107 opus/48000/2
    a=fmtp:107 maxplaybackrate=16000;useinbandfec=1;usedtx=1
    a=rtpmap:101 telephone-event/48000
    a=fmtp:101 0-16
  `),
  holdOld: crlf(`
    v=0
    o=- 8 9 IN IP4 192.0.2.80
    s=-
    c=IN IP4 0.0.0.0
    t=0 0
    m=audio 6000 RTP/AVP 0
  `),
  holdSendonly: crlf(`
    v=0
    o=- 8 10 IN IP4 192.0.2.80
    s=-
    c=IN IP4 192.0.2.80
    t=0 0
    m=audio 6000 RTP/AVP 0
    a=sendonly
  `),
  inactive: crlf(`
    v=0
    o=- 8 11 IN IP4 192.0.2.80
    s=-
    c=IN IP4 192.0.2.80
    t=0 0
    m=audio 6000 RTP/AVP 0
    a=inactive
  `),
  recvonly: crlf(`
    v=0
    o=- 8 12 IN IP4 192.0.2.80
    s=-
    c=IN IP4 192.0.2.80
    t=0 0
    m=audio 6000 RTP/AVP 0
    a=recvonly
  `),
  rejectedThenActive: crlf(`
    v=0
    o=- 9 9 IN IP4 192.0.2.90
    s=-
    c=IN IP4 192.0.2.90
    t=0 0
    m=audio 0 RTP/AVP 0
    m=audio 6002 RTP/AVP 8
  `),
  g729Only: crlf(`
    v=0
    o=- 10 10 IN IP4 192.0.2.100
    s=-
    c=IN IP4 192.0.2.100
    t=0 0
    m=audio 6000 RTP/AVP 18
    a=rtpmap:18 G729/8000
  `),
  videoOnly: crlf(`
    v=0
    o=- 11 11 IN IP4 192.0.2.110
    s=-
    c=IN IP4 192.0.2.110
    t=0 0
    m=video 6000 RTP/AVP 96
    a=rtpmap:96 VP8/90000
  `),
};
