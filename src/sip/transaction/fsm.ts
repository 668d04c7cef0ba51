// Shared vocabulary of the four RFC 3261 §17 transaction state machines: timer names,
// the inputs every machine understands, and the named actions the layer executes.
// The machines are pure: they never touch a socket or a clock, they only say what to do.

/** RFC 3261 §17 timers A–K plus RFC 6026 L (INVITE server, Accepted) and M (INVITE client, Accepted). */
export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M';

/** A timer expiry is an input like any message; `ms` is the interval the timer was armed with. */
export interface TimerInput {
  type: 'timer';
  timer: TimerName;
  ms: number;
}

/** The transport could not send our request/response (RFC 3261 §17.1.4, §17.2.4). */
export interface TransportErrorInput {
  type: 'transportError';
}

export type Action =
  /** Client: (re)transmit the transaction's request. */
  | { type: 'sendRequest' }
  /** INVITE client: send an ACK for the non-2xx final response being handled (§17.1.1.3). */
  | { type: 'sendAck' }
  /** Server: `fresh` sends the TU's response now being handled (and remembers it as the last
   *  response); otherwise the last response is retransmitted. */
  | { type: 'sendResponse'; fresh: boolean }
  /** INVITE server: send 100 Trying at once (§17.2.1). */
  | { type: 'sendTrying' }
  | { type: 'startTimer'; timer: TimerName; ms: number }
  | { type: 'stopTimer'; timer: TimerName }
  /** Client: hand the response to the TU. Server: hand the new request (or a 2xx ACK) to the TU. */
  | { type: 'passToTU' }
  /** INVITE server: the ACK for our non-2xx final arrived (absorbed; the TU is only told). */
  | { type: 'ackReceived' }
  /** Timer B/F/H or a cancelled INVITE that never completed: the TU sees a timeout (408). */
  | { type: 'timeout' }
  /** The TU sees a transport failure (503). */
  | { type: 'transportError' }
  /** The transaction is over: clear timers, drop it from every map. */
  | { type: 'terminate' };

export interface Transition<S extends string> {
  state: S;
  actions: Action[];
}

/** Status class helpers shared by the machines. */
export const isProvisional = (status: number): boolean => status >= 100 && status < 200;
export const isSuccess = (status: number): boolean => status >= 200 && status < 300;
export const isFailure = (status: number): boolean => status >= 300 && status < 700;
