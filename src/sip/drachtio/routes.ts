// Which connected applications take new requests of a verb (`route|<verb>` /
// `remove_route|<verb>`). drachtio-server's ClientController::route_request_outside_dialog picks
// among the apps that routed a verb round robin, skipping disconnected ones; `cdr:attempt`,
// `cdr:start` and `cdr:stop` are routed the same way and select the app that receives CDRs.
import type { AppConnection } from './app.js';

export class Routes {
  readonly #byVerb = new Map<string, AppConnection[]>();
  readonly #next = new Map<string, number>();

  add(verb: string, app: AppConnection): void {
    const v = verb.toLowerCase();
    let list = this.#byVerb.get(v);
    if (list === undefined) this.#byVerb.set(v, (list = []));
    if (!list.includes(app)) list.push(app);
    app.verbs.add(v);
  }

  remove(verb: string, app: AppConnection): void {
    const v = verb.toLowerCase();
    app.verbs.delete(v);
    const list = this.#byVerb.get(v);
    if (list === undefined) return;
    const i = list.indexOf(app);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) {
      this.#byVerb.delete(v);
      this.#next.delete(v);
    }
  }

  /** Drops every route of an app (it disconnected). */
  removeApp(app: AppConnection): void {
    for (const v of [...app.verbs]) this.remove(v, app);
  }

  /** The next app for a verb, round robin; undefined when none routed it. */
  pick(verb: string): AppConnection | undefined {
    const list = this.#byVerb.get(verb);
    if (list === undefined || list.length === 0) return undefined;
    for (let tries = 0; tries < list.length; tries++) {
      const i = (this.#next.get(verb) ?? 0) % list.length;
      this.#next.set(verb, i + 1);
      const app = list[i];
      if (!app.closed) return app;
    }
    return undefined;
  }

  has(verb: string): boolean {
    return (this.#byVerb.get(verb)?.length ?? 0) > 0;
  }

  /** Every verb with at least one app routed. */
  verbs(): string[] {
    return [...this.#byVerb.keys()];
  }

  get size(): number {
    return this.#byVerb.size;
  }
}
