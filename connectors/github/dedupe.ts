/**
 * Delivery-id dedupe for webhooks: a bounded LRU of `X-GitHub-Delivery` ids that were produced. An id is
 * added only after the broker acknowledged the record, so a delivery that failed to produce is accepted
 * again on redelivery. Concurrent deliveries of one id share the first one's produce. The window can be
 * rebuilt from the tail of `lz.git.push.v1` at start; a gateway that never saw an id lets it through, which
 * is safe: the fetcher treats pushes as idempotent hints.
 */
export class DeliveryDedupe {
  #seen = new Map<string, true>();
  #inflight = new Map<string, Promise<unknown>>();
  constructor(readonly capacity = 10_000) {}

  /** True when the id was already produced. */
  has(id: string): boolean {
    if (!this.#seen.has(id)) return false;
    this.#seen.delete(id);
    this.#seen.set(id, true);
    return true;
  }

  /** Records a produced id, evicting the least recently seen beyond capacity. */
  add(id: string): void {
    this.#seen.delete(id);
    this.#seen.set(id, true);
    while (this.#seen.size > this.capacity) this.#seen.delete(this.#seen.keys().next().value!);
  }

  /**
   * Runs `produce` unless the id is known or in flight. Resolves `{duplicate: true}` for a known id, the
   * in-flight result's outcome for a concurrent one, and adds the id only when `produce` resolved.
   */
  async once<T>(
    id: string,
    produce: () => Promise<T>,
  ): Promise<{ duplicate: true } | { duplicate: false; value: T }> {
    if (this.has(id)) return { duplicate: true };
    const running = this.#inflight.get(id);
    if (running) {
      try {
        await running;
        return { duplicate: true };
      } catch {
        return await this.once(id, produce);
      }
    }
    const p = produce();
    this.#inflight.set(id, p);
    try {
      const value = await p;
      this.add(id);
      return { duplicate: false, value };
    } finally {
      this.#inflight.delete(id);
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}
