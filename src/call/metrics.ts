// Prometheus metrics of the call layer, in a Registry of their own (no global default registry:
// tests and several instances in one process must not share counters). The API layer exposes
// `registry.metrics()`; tests read values with `registry.getSingleMetricAsString()` or `value()`.
import { Counter, Registry } from 'prom-client';

/** Outcome label of switchboard_register_total. */
export type RegisterResult =
  | 'ok'
  | 'challenge'
  | 'forbidden'
  | 'banned'
  | 'not_found'
  | 'bad_request'
  | 'interval_too_brief'
  | 'error';

/** Outcome label of switchboard_ext_calls_total. */
export type CallResult = 'answered' | 'challenge' | 'forbidden' | 'not_found' | 'unavailable' | 'busy' | 'declined' | 'cancelled' | 'failed';

export class CallMetrics {
  readonly registry = new Registry();
  readonly registers = new Counter({
    name: 'switchboard_register_total',
    help: 'REGISTER requests answered, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'switchboard_auth_failures_total',
    help: 'Failed digest authentications (wrong password, unknown user, malformed credentials), REGISTER and INVITE',
    registers: [this.registry],
  });
  readonly authBans = new Counter({
    name: 'switchboard_auth_bans_total',
    help: 'Source addresses banned after repeated authentication failures',
    registers: [this.registry],
  });
  readonly extCalls = new Counter({
    name: 'switchboard_ext_calls_total',
    help: 'Extension-to-extension call attempts, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /** Current value of a counter (optionally one label set); 0 when never incremented. */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (metric === undefined) return 0;
    const data = await metric.get();
    const want = Object.entries(labels);
    let total = 0;
    for (const v of data.values) {
      if (want.every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)) total += v.value;
    }
    return total;
  }
}
