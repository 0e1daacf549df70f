/**
 * Helpers of the broker conformance suite: unique names (so the cases can share one Kafka broker), waiting
 * for a condition with a deadline instead of fixed sleeps (Kafka rebalances take seconds), record
 * collectors, and a scope that stops every consumer/reader/producer a case opened, even when it fails.
 */
import type {
  Batch,
  Broker,
  ConsumedRecord,
  Consumer,
  ConsumerOptions,
  Producer,
  Reader,
  ReaderOptions,
} from "../types.ts";
import { sleep, waitFor as waitUntil } from "../../testing/wait.ts";

/** One conformance case; `broker` is fresh from the suite's factory. */
export interface ConformanceCase {
  name: string;
  fn: (broker: Broker, scope: Scope) => Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** UTF-8 bytes of a string. */
export const bytes = (s: string): Uint8Array => enc.encode(s);
/** A value as a string (null stays null); works for Uint8Array and Node Buffers alike. */
export const text = (v: Uint8Array | null): string | null => (v === null ? null : dec.decode(v));

/** A name no other case (or earlier run against the same Kafka) uses. */
export function uniq(prefix: string): string {
  return `conf.${prefix}.${Date.now().toString(36)}${crypto.randomUUID().slice(0, 8)}`;
}

/** Default deadline of {@link waitFor}: generous, because Kafka group joins and rebalances take seconds. */
export const WAIT_MS = 45_000;

/** {@link waitUntil} with the conformance deadline ({@link WAIT_MS}) as its default. */
export function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
  detail?: () => unknown,
): Promise<void> {
  return waitUntil(cond, what, timeoutMs, detail);
}

/** A bounded pause, used only to show that something does NOT happen (paused partitions). */
export { sleep };

/** Collects consumed records; `byOffset` dedupes redeliveries (at-least-once). */
export class Collector {
  readonly records: ConsumedRecord[] = [];
  readonly batches: Batch[] = [];
  /** An `eachBatch` handler that collects. */
  readonly eachBatch = (batch: Batch): Promise<void> => {
    this.add(batch);
    return Promise.resolve();
  };
  add(batch: Batch): void {
    this.batches.push(batch);
    this.records.push(...batch.records);
  }
  /** Distinct (partition, offset) pairs seen. */
  distinct(): number {
    return new Set(this.records.map((r) => `${r.topic}:${r.partition}:${r.offset}`)).size;
  }
  values(): (string | null)[] {
    return this.records.map((r) => text(r.value));
  }
}

/** Opens consumers, readers and producers of one case and stops them all at the end. */
export class Scope {
  readonly broker: Broker;
  #closers: (() => Promise<void>)[] = [];
  #background: Promise<unknown>[] = [];

  constructor(broker: Broker) {
    this.broker = broker;
  }

  async producer(): Promise<Producer> {
    const p = await this.broker.producer();
    this.#closers.push(() => p.close());
    return p;
  }

  consumer(opts: ConsumerOptions): Consumer {
    const c = this.broker.consumer(opts);
    this.#closers.push(() => c.stop());
    return c;
  }

  /**
   * Starts a reader without assuming when `run` resolves (once started, or only at stop): the returned
   * promise settles when `run` does; a rejection is rethrown at {@link close}.
   */
  startReader(opts: ReaderOptions, collector: Collector): { reader: Reader; started: Promise<void> } {
    const reader = this.broker.reader(opts);
    const started = reader.run(collector.eachBatch);
    const settled = started.catch((err) => err);
    this.#background.push(settled);
    this.#closers.push(async () => {
      await reader.stop();
      const r = await settled;
      if (r instanceof Error) throw r;
    });
    return { reader, started };
  }

  /** Stops everything in reverse order of opening; the first error wins. */
  async close(): Promise<void> {
    let first: unknown = null;
    for (const c of this.#closers.reverse()) {
      try {
        await c();
      } catch (err) {
        first ??= err;
      }
    }
    this.#closers = [];
    if (first) throw first;
  }
}

/** Asserts that `promise` rejects with an error whose `code` is `code`. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    const got = (err as { code?: unknown }).code;
    if (got !== code) throw new Error(`${what}: expected error code ${code}, got ${String(got)} (${err})`);
    return;
  }
  throw new Error(`${what}: expected a rejection with code ${code}, but it resolved`);
}
