// Public DTMF types shared by the RFC 4733 receiver/sender, the in-band (Goertzel) detector and
// DtmfStream (see src/media/API.md, "DTMF").

/** One key press, reported once, when it ends (or times out). */
export interface DtmfEvent {
  /** '0'–'9', '*', '#', 'A'–'D'. */
  digit: string;
  /** How long the key was held, ms. */
  durationMs: number;
  method: 'rfc4733' | 'inband' | 'info';
  /** When the press started, ms on the caller's clock (the nowMs passed in). */
  at: number;
}

/** RFC 4733 §3.2 event codes 0–15, in order: index = event code. */
export const DTMF_DIGITS = '0123456789*#ABCD';

/** RFC 4733 §3.2 event code for a digit, or −1. Accepts lower-case a–d. */
export function dtmfEventCode(digit: string): number {
  return digit.length === 1 ? DTMF_DIGITS.indexOf(digit.toUpperCase()) : -1;
}
