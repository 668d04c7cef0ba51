// The native rtp-io add-on (native/rtp-io: the RTP/RTCP sockets of udp-native.ts and the media
// clock's timer of precise-timer.ts), required from one place. Throws when it is not built
// (`npm install` builds it with node-gyp); each caller keeps its own fallback.
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

const require = createRequire(import.meta.url);

export function requireRtpIo<T>(): T {
  return require('../../native/rtp-io/build/Release/rtp_io.node') as T;
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** The name of an add-on failure (a negative errno value), e.g. -1 → 'EPERM'. */
export function errnoName(negErrno: number): string {
  return errnoNames.get(-negErrno) ?? `errno ${-negErrno}`;
}
