// Test harness for the pure transaction machines: runs one machine on a ManualClock, arming
// its timers and recording when each action happened. Used by the FSM tests only.

import { ManualClock, type TimerHandle } from '../../lib/clock.js';
import type { Action, TimerInput, TimerName, Transition } from './fsm.js';
import type { Timers } from './timers.js';

export type Handle<S extends string, I> = (state: S, input: I, t: Timers) => Transition<S>;

export interface Event {
  at: number;
  action: string;
}

/** One action as a short string: "sendRequest", "startTimer A 500", "stopTimer B", ... */
export function describeAction(a: Action): string {
  switch (a.type) {
    case 'startTimer':
      return `startTimer ${a.timer} ${a.ms}`;
    case 'stopTimer':
      return `stopTimer ${a.timer}`;
    case 'sendResponse':
      return a.fresh ? 'sendResponse' : 'resendResponse';
    default:
      return a.type;
  }
}

export const names = (actions: Action[]): string[] => actions.map(describeAction);

export class Harness<S extends string, I> {
  readonly clock = new ManualClock();
  readonly log: Event[] = [];
  state: S;
  readonly #timers = new Map<TimerName, TimerHandle>();

  constructor(
    readonly handle: Handle<S, I>,
    initial: S,
    readonly t: Timers,
  ) {
    this.state = initial;
  }

  feed(input: I | TimerInput): void {
    const out = this.handle(this.state, input as I, this.t);
    this.state = out.state;
    for (const a of out.actions) {
      if (a.type === 'startTimer') {
        this.clock.clearTimeout(this.#timers.get(a.timer));
        const { timer, ms } = a;
        this.#timers.set(
          timer,
          this.clock.setTimeout(() => {
            this.#timers.delete(timer);
            this.feed({ type: 'timer', timer, ms });
          }, ms),
        );
      } else if (a.type === 'stopTimer') {
        this.clock.clearTimeout(this.#timers.get(a.timer));
        this.#timers.delete(a.timer);
      } else {
        this.log.push({ at: this.clock.now(), action: describeAction(a) });
      }
    }
  }

  /** Times at which `action` happened. */
  times(action: string): number[] {
    return this.log.filter((e) => e.action === action).map((e) => e.at);
  }

  get pendingTimers(): TimerName[] {
    return [...this.#timers.keys()];
  }
}
