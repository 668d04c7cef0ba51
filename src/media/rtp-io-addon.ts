// The native rtp-io add-on (native/rtp-io: the RTP/RTCP sockets of udp-native.ts and the media
// clock's timer of precise-timer.ts), required from one place. Throws when it is not built
// (`npm install` builds it with node-gyp); each caller keeps its own fallback.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function requireRtpIo<T>(): T {
  return require('../../native/rtp-io/build/Release/rtp_io.node') as T;
}
