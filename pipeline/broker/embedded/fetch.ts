/**
 * The delivery loop shared by embedded consumers and readers: hands out batches of the partitions it is
 * given, one batch at a time (the next batch of any partition waits for the previous `eachBatch`, as with
 * kafkajs's default of one partition consumed concurrently), round-robin across partitions, skipping paused
 * ones. When nothing is readable it sleeps until an append wakes it: no polling on the hot path.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "../../log.ts";
import { describeError } from "../../errors.ts";
import type { PartitionLog } from "./log.ts";
import type { Batch, TopicPartition } from "../types.ts";

/** A partition being fetched and the offset of the next record to hand out. */
export interface FetchEntry {
  tp: TopicPartition;
  log: PartitionLog;
  position: number;
}

/** `topic:partition`, the key of pause sets and maps. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

const MAX_BACKOFF_MS = 5_000;
/** Which fetcher's `eachBatch` the current async context runs in (so a handler may stop its own consumer). */
const inBatch = new AsyncLocalStorage<Fetcher>();

/** A fetch loop over a changing set of partitions. */
export class Fetcher {
  #entries: FetchEntry[] = [];
  #paused = new Set<string>();
  #halted = true;
  #stopped = false;
  #inflight: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #done: Promise<void> | null = null;
  #rr = 0;
  readonly #eachBatch: (batch: Batch) => Promise<void>;
  readonly #maxBatch: number;
  readonly #log: Logger;

  constructor(eachBatch: (batch: Batch) => Promise<void>, maxBatch: number, log: Logger) {
    this.#eachBatch = eachBatch;
    this.#maxBatch = Math.max(1, maxBatch);
    this.#log = log;
  }

  /** Starts the loop (halted until {@link setEntries} and {@link unhalt}). */
  start(): void {
    this.#done ??= this.#loop();
  }

  /** Replaces the set of partitions to fetch. */
  setEntries(entries: FetchEntry[]): void {
    this.#entries = entries;
    this.#kick();
  }

  entries(): FetchEntry[] {
    return this.#entries;
  }

  /**
   * Stops handing out batches; resolves once the batch in flight (if any) has finished — at once when
   * called from inside that batch's handler (a handler stopping its own consumer must not wait for itself).
   */
  async halt(): Promise<void> {
    this.#halted = true;
    if (this.#inflight && inBatch.getStore() !== this) await this.#inflight.catch(() => {});
  }

  unhalt(): void {
    this.#halted = false;
    this.#kick();
  }

  pause(tps: TopicPartition[]): void {
    for (const tp of tps) this.#paused.add(tpKey(tp.topic, tp.partition));
  }

  resume(tps: TopicPartition[]): void {
    for (const tp of tps) this.#paused.delete(tpKey(tp.topic, tp.partition));
    this.#kick();
  }

  /** Ends the loop after the batch in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#halted = true;
    this.#kick();
    if (inBatch.getStore() !== this) await this.#done;
  }

  #kick(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #next(): FetchEntry | null {
    const es = this.#entries;
    const n = es.length;
    for (let i = 0; i < n; i++) {
      const e = es[(this.#rr + i) % n];
      if (e.position < e.log.high && !this.#paused.has(tpKey(e.tp.topic, e.tp.partition))) {
        this.#rr = (this.#rr + i + 1) % n;
        return e;
      }
    }
    return null;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      const e = this.#halted ? null : this.#next();
      if (!e) {
        await this.#idle(0);
        continue;
      }
      const records = e.log.read(e.position, this.#maxBatch);
      if (records.length === 0) {
        e.position = e.log.high; // only compacted-away records were left
        continue;
      }
      const batch: Batch = {
        topic: e.tp.topic,
        partition: e.tp.partition,
        records,
        highWatermark: e.log.high,
      };
      try {
        this.#inflight = inBatch.run(this, this.#eachBatch, batch);
        await this.#inflight;
        e.position = records[records.length - 1].offset + 1;
        failures = 0;
      } catch (err) {
        failures++;
        const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 6));
        this.#log.error("eachBatch failed; the batch will be delivered again", {
          topic: batch.topic,
          partition: batch.partition,
          offset: records[0].offset,
          retryInMs: delay,
          error: describeError(err),
        });
        this.#inflight = null;
        await this.#idle(delay);
      } finally {
        this.#inflight = null;
      }
    }
  }

  /** Sleeps until an append to a fetched partition, a kick, or `ms` milliseconds (0 = no timeout). */
  #idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const unsubs: (() => void)[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        for (const u of unsubs) u();
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      this.#wake = done;
      if (ms > 0) timer = setTimeout(done, ms);
      else for (const e of this.#entries) unsubs.push(e.log.onAppend(done));
    });
  }
}
