// INVITE server transaction state machine — RFC 3261 §17.2.1 (Figure 7) as updated by
// RFC 6026 §8.7 (the 'accepted' state: INVITE retransmissions after a 2xx are absorbed, never
// handed to the TU, and the TU's 2xx retransmissions pass through).
// Pure: `handle(state, input, timers)` returns the next state and the actions to execute.

import type { Timers } from './timers.js';
import type { Action, TimerInput, Transition, TransportErrorInput } from './fsm.js';
import { isFailure, isProvisional, isSuccess } from './fsm.js';

export type IstState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export type IstInput =
  /** The INVITE that created the transaction. */
  | { type: 'start' }
  /** A retransmission of that INVITE. */
  | { type: 'request' }
  | { type: 'ack' }
  /** The TU passes a response down. */
  | { type: 'respond'; status: number }
  | TimerInput
  | TransportErrorInput;

const stay = (state: IstState): Transition<IstState> => ({ state, actions: [] });

const STOP_GH: Action[] = [
  { type: 'stopTimer', timer: 'G' },
  { type: 'stopTimer', timer: 'H' },
];

export function handle(state: IstState, input: IstInput, t: Timers): Transition<IstState> {
  switch (state) {
    case 'proceeding':
      switch (input.type) {
        case 'start':
          // RFC 3261 §17.2.1: the server transaction sends 100 Trying at once (we cannot know
          // the TU answers within 200 ms) and passes the INVITE to the TU.
          return { state, actions: [{ type: 'sendTrying' }, { type: 'passToTU' }] };
        case 'request':
          // RFC 3261 §17.2.1: a retransmitted INVITE in Proceeding gets the most recent
          // provisional response again.
          return { state, actions: [{ type: 'sendResponse', fresh: false }] };
        case 'respond':
          if (isProvisional(input.status)) {
            // RFC 3261 §17.2.1: provisionals from the TU are sent; we stay in Proceeding.
            return { state, actions: [{ type: 'sendResponse', fresh: true }] };
          }
          if (isSuccess(input.status)) {
            // RFC 6026 §8.7: a 2xx is sent and the transaction moves to Accepted for Timer L;
            // the TU (UAS core, §13.3.1.4) retransmits the 2xx itself.
            return {
              state: 'accepted',
              actions: [{ type: 'sendResponse', fresh: true }, { type: 'startTimer', timer: 'L', ms: t.L }],
            };
          }
          if (isFailure(input.status)) {
            // RFC 3261 §17.2.1: a 300-699 is sent; Completed retransmits it on Timer G
            // (unreliable only) until the ACK, and gives up on Timer H.
            const actions: Action[] = [{ type: 'sendResponse', fresh: true }];
            if (t.G !== null) actions.push({ type: 'startTimer', timer: 'G', ms: t.G });
            actions.push({ type: 'startTimer', timer: 'H', ms: t.H });
            return { state: 'completed', actions };
          }
          return stay(state);
        case 'transportError':
          // RFC 3261 §17.2.4: the response could not be sent: inform the TU and terminate.
          return { state: 'terminated', actions: [{ type: 'transportError' }, { type: 'terminate' }] };
        case 'ack':
        case 'timer':
          return stay(state);
      }
      break;

    case 'completed':
      switch (input.type) {
        case 'timer':
          if (input.timer === 'G') {
            // RFC 3261 §17.2.1: Timer G fired: retransmit the final, reset G to min(2*G, T2).
            return {
              state,
              actions: [{ type: 'sendResponse', fresh: false }, { type: 'startTimer', timer: 'G', ms: t.nextG(input.ms) }],
            };
          }
          if (input.timer === 'H') {
            // RFC 3261 §17.2.1: Timer H fired: the ACK never came; terminate and tell the TU.
            return { state: 'terminated', actions: [{ type: 'timeout' }, ...STOP_GH, { type: 'terminate' }] };
          }
          return stay(state);
        case 'request':
          // RFC 3261 §17.2.1: a retransmitted INVITE in Completed gets the final again.
          return { state, actions: [{ type: 'sendResponse', fresh: false }] };
        case 'ack': {
          // RFC 3261 §17.2.1: the ACK moves Completed to Confirmed; G and H stop; Timer I
          // (T4 unreliable, 0 reliable) absorbs ACK retransmissions. The ACK is not a TU request.
          const actions: Action[] = [...STOP_GH, { type: 'ackReceived' }];
          if (t.I === 0) return { state: 'terminated', actions: [...actions, { type: 'terminate' }] };
          return { state: 'confirmed', actions: [...actions, { type: 'startTimer', timer: 'I', ms: t.I }] };
        }
        case 'transportError':
          // RFC 3261 §17.2.4: failure retransmitting the final: inform the TU and terminate.
          return { state: 'terminated', actions: [{ type: 'transportError' }, ...STOP_GH, { type: 'terminate' }] };
        case 'respond':
          // RFC 3261 §17.2.1: the final is already sent; later TU responses are discarded.
          return stay(state);
        case 'start':
          return stay(state);
      }
      break;

    case 'confirmed':
      switch (input.type) {
        case 'timer':
          if (input.timer === 'I') {
            // RFC 3261 §17.2.1: Timer I fired in Confirmed: terminate.
            return { state: 'terminated', actions: [{ type: 'terminate' }] };
          }
          return stay(state);
        case 'ack':
        case 'request':
          // RFC 3261 §17.2.1: ACK retransmissions (and stray INVITEs) in Confirmed are absorbed.
          return stay(state);
        case 'start':
        case 'respond':
        case 'transportError':
          return stay(state);
      }
      break;

    case 'accepted':
      switch (input.type) {
        case 'request':
          // RFC 6026 §8.7: a retransmitted INVITE in Accepted is absorbed, never passed to the TU.
          return stay(state);
        case 'ack':
          // RFC 6026 §8.7: an ACK matching the transaction in Accepted is passed to the TU
          // (it acknowledges the 2xx).
          return { state, actions: [{ type: 'passToTU' }] };
        case 'respond':
          if (isSuccess(input.status)) {
            // RFC 6026 §8.7: 2xx retransmissions from the TU are sent.
            return { state, actions: [{ type: 'sendResponse', fresh: true }] };
          }
          return stay(state);
        case 'timer':
          if (input.timer === 'L') {
            // RFC 6026 §8.7: Timer L fired: terminate.
            return { state: 'terminated', actions: [{ type: 'terminate' }] };
          }
          return stay(state);
        case 'transportError':
          // RFC 6026 §8.7: failure sending a 2xx in Accepted: tell the TU, keep absorbing until L.
          return { state, actions: [{ type: 'transportError' }] };
        case 'start':
          return stay(state);
      }
      break;

    case 'terminated':
      return stay(state);
  }
  return stay(state);
}
