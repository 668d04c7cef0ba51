// IPC messages between bench/media.ts (the media server under test) and its load generator
// (bench/support/media-loadgen.ts, a separate process so the two do not share an event loop).

/** 'play': the server plays prompts, we send G.711 speech with DTMF digits and check its stream
 * by RTP sequence/timestamp. 'bridge': we are both phones of each bridged pair; every payload
 * carries a counter in its first 4 bytes, checked end to end after the server's pass-through. */
export type LoadKind = 'play' | 'bridge';

export type ToLoadgen =
  | { t: 'setup'; kind: LoadKind; serverPorts: number[] }
  | { t: 'measure' }
  | { t: 'report' }
  | { t: 'teardown' }
  | { t: 'exit' };

export interface LoadReport {
  streams: number;
  windowMs: number;
  /** Packets received from the server in the window. */
  received: number;
  /** Packets missing (timestamp/counter gaps, and streams that went quiet before the window ended). */
  lost: number;
  /** Streams that received nothing in the window. */
  silentStreams: number;
  /** |inter-arrival − 20 ms| over all streams' packets, ms. */
  devP50: number;
  devP99: number;
  devMax: number;
  /** 'bridge': p99 of |Δ transit time| between consecutive packets of a stream — the jitter the relay adds (−1 for 'play'). */
  relayDevP99: number;
  /** Our own CPU use in the window, % of one core. */
  cpuPct: number;
  /** Our send timer's p99 lateness, ms (a loaded generator would skew the figures). */
  sendLateP99: number;
  /** 'bridge': packets the server sent from its own tick instead of relaying ours (relay gaps). */
  fills: number;
}

export type FromLoadgen =
  | { t: 'ready'; ports: number[] }
  | { t: 'measuring' }
  | { t: 'report'; report: LoadReport }
  | { t: 'done' };
