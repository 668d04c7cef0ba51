// Non-INVITE server transaction state machine — RFC 3261 §17.2.2 (Figure 8).
// Pure: `handle(state, input, timers)` returns the next state and the actions to execute.

import type { Timers } from './timers.js';
import type { Action, TimerInput, Transition, TransportErrorInput } from './fsm.js';
import { isProvisional } from './fsm.js';

export type NistState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export type NistInput =
  | { type: 'start' }
  | { type: 'request' }
  | { type: 'respond'; status: number }
  | TimerInput
  | TransportErrorInput;

const stay = (state: NistState): Transition<NistState> => ({ state, actions: [] });

function onRespond(state: NistState, status: number, t: Timers): Transition<NistState> {
  if (isProvisional(status)) {
    // RFC 3261 §17.2.2: a provisional from the TU is sent; Trying moves to Proceeding.
    return { state: 'proceeding', actions: [{ type: 'sendResponse', fresh: true }] };
  }
  if (status >= 200 && status < 700) {
    // RFC 3261 §17.2.2: a final is sent; Completed answers retransmissions until Timer J
    // (64*T1 unreliable, 0 reliable).
    const actions: Action[] = [{ type: 'sendResponse', fresh: true }];
    if (t.J === 0) return { state: 'terminated', actions: [...actions, { type: 'terminate' }] };
    return { state: 'completed', actions: [...actions, { type: 'startTimer', timer: 'J', ms: t.J }] };
  }
  return stay(state);
}

export function handle(state: NistState, input: NistInput, t: Timers): Transition<NistState> {
  switch (state) {
    case 'trying':
      switch (input.type) {
        case 'start':
          // RFC 3261 §17.2.2: the request that created the transaction goes to the TU.
          return { state, actions: [{ type: 'passToTU' }] };
        case 'request':
          // RFC 3261 §17.2.2: a retransmission in Trying (nothing sent yet) is discarded.
          return stay(state);
        case 'respond':
          return onRespond(state, input.status, t);
        case 'transportError':
        case 'timer':
          return stay(state);
      }
      break;

    case 'proceeding':
      switch (input.type) {
        case 'request':
          // RFC 3261 §17.2.2: a retransmission in Proceeding gets the latest provisional again.
          return { state, actions: [{ type: 'sendResponse', fresh: false }] };
        case 'respond':
          return onRespond(state, input.status, t);
        case 'transportError':
          // RFC 3261 §17.2.4: the response could not be sent: inform the TU and terminate.
          return { state: 'terminated', actions: [{ type: 'transportError' }, { type: 'terminate' }] };
        case 'start':
        case 'timer':
          return stay(state);
      }
      break;

    case 'completed':
      switch (input.type) {
        case 'request':
          // RFC 3261 §17.2.2: a retransmission in Completed gets the final again.
          return { state, actions: [{ type: 'sendResponse', fresh: false }] };
        case 'respond':
          // RFC 3261 §17.2.2: further finals from the TU in Completed are discarded.
          return stay(state);
        case 'timer':
          if (input.timer === 'J') {
            // RFC 3261 §17.2.2: Timer J fired in Completed: terminate.
            return { state: 'terminated', actions: [{ type: 'terminate' }] };
          }
          return stay(state);
        case 'transportError':
          // RFC 3261 §17.2.4: failure resending the final: inform the TU and terminate.
          return {
            state: 'terminated',
            actions: [{ type: 'transportError' }, { type: 'stopTimer', timer: 'J' }, { type: 'terminate' }],
          };
        case 'start':
          return stay(state);
      }
      break;

    case 'terminated':
      return stay(state);
  }
  return stay(state);
}
