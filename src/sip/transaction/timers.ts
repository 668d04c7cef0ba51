// RFC 3261 §17 timer values (Table 4) and RFC 6026 L/M, all derived from T1, T2 and T4 so
// tests shrink every timer at once. One `Timers` per transport reliability: on reliable
// transports nothing is retransmitted (A, E, G are null) and the wait states D, I, J, K are 0.

export interface TimerConfig {
  /** RTT estimate, ms (RFC 3261 default 500). */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, ms (default 4000). */
  t2: number;
  /** Maximum time a message remains in the network, ms (default 5000). */
  t4: number;
  /** Override for Timer D on unreliable transports (default max(32 s, 64*T1)); for real-clock tests. */
  d?: number;
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/** Timer D's floor on unreliable transports: RFC 3261 §17.1.1.2 "at least 32 seconds". */
export const TIMER_D_MIN_MS = 32_000;

export interface Timers {
  readonly reliable: boolean;
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** INVITE request retransmit, initially T1 (null: reliable transport, no retransmission). */
  readonly A: number | null;
  /** INVITE transaction timeout, 64*T1. */
  readonly B: number;
  /** Wait for response retransmits in ICT Completed: >= 32 s unreliable, 0 reliable. */
  readonly D: number;
  /** Non-INVITE request retransmit, initially T1 (null on reliable). */
  readonly E: number | null;
  /** Non-INVITE transaction timeout, 64*T1. */
  readonly F: number;
  /** INVITE response retransmit, initially T1 (null on reliable). */
  readonly G: number | null;
  /** Wait for ACK receipt, 64*T1. */
  readonly H: number;
  /** Wait for ACK retransmits in IST Confirmed: T4 unreliable, 0 reliable. */
  readonly I: number;
  /** Wait for non-INVITE request retransmits in NIST Completed: 64*T1 unreliable, 0 reliable. */
  readonly J: number;
  /** Wait for response retransmits in NICT Completed: T4 unreliable, 0 reliable. */
  readonly K: number;
  /** RFC 6026 §8.7: IST Accepted, wait for INVITE retransmits / 2xx passthrough, 64*T1. */
  readonly L: number;
  /** RFC 6026 §8.4: ICT Accepted, wait for 2xx retransmits, 64*T1. */
  readonly M: number;
  /** RFC 3261 §17.1.1.2: Timer A doubles on every firing (no cap). */
  nextA(prev: number): number;
  /** RFC 3261 §17.1.2.2: Timer E doubles up to T2 in Trying; in Proceeding it is T2. */
  nextE(prev: number): number;
  /** RFC 3261 §17.2.1: Timer G doubles up to T2. */
  nextG(prev: number): number;
}

export function makeTimers(cfg: TimerConfig, reliable: boolean): Timers {
  const { t1, t2, t4 } = cfg;
  if (!(t1 > 0 && t2 >= t1 && t4 > 0)) {
    throw new RangeError(`invalid SIP timers t1=${t1} t2=${t2} t4=${t4}`);
  }
  const sixtyFour = 64 * t1;
  const capped = (prev: number): number => Math.min(2 * prev, t2);
  return Object.freeze({
    reliable,
    t1,
    t2,
    t4,
    A: reliable ? null : t1,
    B: sixtyFour,
    D: reliable ? 0 : (cfg.d ?? Math.max(TIMER_D_MIN_MS, sixtyFour)),
    E: reliable ? null : t1,
    F: sixtyFour,
    G: reliable ? null : t1,
    H: sixtyFour,
    I: reliable ? 0 : t4,
    J: reliable ? 0 : sixtyFour,
    K: reliable ? 0 : t4,
    L: sixtyFour,
    M: sixtyFour,
    nextA: (prev: number) => 2 * prev,
    nextE: capped,
    nextG: capped,
  });
}
