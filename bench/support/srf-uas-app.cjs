// A minimal drachtio-srf application for the CPS benchmark (bench/drachtio-cps.ts): answers every
// INVITE 200 + SDP with createUAS; the caller's BYE ends the dialog. Runs as a child process.
// Usage: node bench/support/srf-uas-app.cjs <drachtio port>
const Srf = require('drachtio-srf');
const srf = new Srf();
const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
srf.on('connect', (err) => process.send(err ? 'error' : 'ready'));
srf.on('error', () => {});
srf.invite((req, res) => {
  srf.createUAS(req, res, { localSdp: sdp }).catch(() => {});
});
srf.connect({ host: '127.0.0.1', port: Number(process.argv[2]), secret: 'cymru' });
process.on('message', (m) => {
  if (m !== 'stop') return;
  srf.disconnect();
  setTimeout(() => {
    process.send(process.cpuUsage());
    process.exit(0);
  }, 50);
});
