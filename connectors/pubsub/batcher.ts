/**
 * Group commit for a producer: records sent while a `send` is in flight are gathered and sent together when
 * it returns, so a burst of Pub/Sub messages costs a few broker round trips, and a lone message goes out at
 * once (no timer, no added latency). Each caller's promise resolves when its own record is acknowledged.
 */
import type { Producer, ProduceRecord } from "../../pipeline/broker/types.ts";

interface Pending {
  record: ProduceRecord;
  resolve(): void;
  reject(err: unknown): void;
}

/** Batches records for one topic. */
export class ProduceBatcher {
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #max: number;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;

  constructor(producer: Producer, topic: string, maxBatch = 500) {
    this.#producer = producer;
    this.#topic = topic;
    this.#max = maxBatch;
  }

  /** Resolves once `record` is acknowledged by the broker; rejects when its batch failed. */
  send(record: ProduceRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      if (!this.#flushing) this.#flushing = this.#drain();
    });
  }

  async #drain(): Promise<void> {
    // Let the current macrotask's other messages join the first batch.
    await Promise.resolve();
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, this.#max);
      try {
        await this.#producer.send(this.#topic, batch.map((p) => p.record));
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.#flushing = null;
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }
}

/** A bounded set of recently seen ids (insertion-ordered; the oldest is forgotten first). */
export class RecentIds {
  readonly #max: number;
  readonly #ids = new Set<string>();

  constructor(max = 100_000) {
    this.#max = max;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    if (this.#ids.has(id)) return;
    this.#ids.add(id);
    if (this.#ids.size > this.#max) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
  }

  get size(): number {
    return this.#ids.size;
  }
}
