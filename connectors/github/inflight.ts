/**
 * A cap on webhook bodies being read at once. Before its signature is verified a body is unauthenticated
 * input: without a cap, many slow or large deliveries hold memory up to `gateway.max_body_bytes` each. A
 * request over `layers.webhook.max_inflight_bodies` is refused at once (503 with `Retry-After`), body unread.
 */

/** Counts bodies in flight; {@link InflightGate.enter} fails when `limit` are already being read. */
export class InflightGate {
  #active = 0;
  constructor(readonly limit: number) {}

  /** Bodies being read now. */
  get active(): number {
    return this.#active;
  }

  /** Takes a slot: a release function, or null when all `limit` slots are taken. */
  enter(): (() => void) | null {
    if (this.#active >= this.limit) return null;
    this.#active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
    };
  }
}
