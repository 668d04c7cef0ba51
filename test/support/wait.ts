// Waiting in tests: one `sleep` and one polling `until` for every suite (each suite had its own).
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` every 10 ms until it holds; rejects after `ms` with `what` (a string, or a function
 * that describes the state at that moment) so a failed wait says what it was waiting for.
 */
export async function until(cond: () => boolean, ms = 4000, what: string | (() => string) = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${typeof what === 'string' ? what : what()}`);
    await sleep(10);
  }
}
