/**
 * An in-memory test driver for topologies, in the spirit of Kafka Streams' `TopologyTestDriver`: no broker,
 * a fake clock, captured forwards. It runs the same {@link Task} code as the real host, so decoding, schema
 * validation, retries, DLQ routing and punctuations behave exactly as in production.
 *
 * ```ts
 * const d = createTestDriver(counterTopology());
 * await d.pipe("lz.test.events.v1", "a", { id: "a" });
 * assert.deepEqual(d.forwarded("lz.test.counts.v1").map((r) => r.value), [{ id: "a", count: 1 }]);
 * await d.advance(60_000); // fires punctuations due within the next minute, in time order
 * ```
 */
import type { ConsumedRecord, Headers } from "../broker/types.ts";
import type { Clock, KeyValueStore, Topology } from "./types.ts";
import { type Logger, silentLogger } from "../log.ts";
import { decode, encodeJson } from "../serde.ts";
import { partitionForKey } from "../broker/murmur2.ts";
import { topicDef } from "../../schemas/mod.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";
import { Task } from "./task.ts";
import { MemoryStore } from "./store.ts";
import { applyTableRecord, type Tables } from "./tables.ts";

/** A settable clock for tests. */
export class FakeClock implements Clock {
  #now: number;
  constructor(start = Date.UTC(2024, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  /** Moves the clock; time never goes backwards. */
  set(ms: number): void {
    if (ms < this.#now) throw new RangeError(`fake clock cannot go back from ${this.#now} to ${ms}`);
    this.#now = ms;
  }
  advance(ms: number): void {
    this.set(this.#now + ms);
  }
}

/** Options of {@link createTestDriver}. */
export interface TestDriverOptions {
  /** A fake clock or its start time in epoch ms (default 2024-01-01T00:00:00Z). */
  clock?: FakeClock | number;
  /** Partition count of input topics not declared in `schemas/` (default 1). */
  partitions?: number;
  /** Partition count of the keyed topics (`broker.partitions` of a run; default: their declared count). */
  keyedPartitions?: number;
  /** Retries of a failing `process()` before the DLQ (default 3; backoff is not waited in the driver). */
  retries?: number;
  log?: Logger;
  /** Records of the topology's tables (`Topology.tables`) by topic, as a host would read them at start. */
  tables?: Record<string, { key: string; value: unknown }[]>;
}

/** Options of {@link TestDriver.pipe}. */
export interface PipeOptions {
  /** Defaults to Kafka's default partitioner over the topic's declared partition count. */
  partition?: number;
  /** Defaults to the fake clock's now. */
  timestamp?: number;
  headers?: Headers;
  /** Raw bytes to send instead of `JSON.stringify(value)` (malformed-record tests). */
  raw?: Uint8Array | null;
}

/** A record a processor forwarded, decoded and validated against its topic's schema. */
export interface ForwardedRecord {
  topic: string;
  /** Where the default partitioner would put it (0 for null keys). */
  partition: number;
  key: string | null;
  value: unknown;
  headers: Headers;
  /** The partition of the task that forwarded it. */
  fromPartition: number;
}

/** The driver handle. */
export interface TestDriver {
  readonly clock: FakeClock;
  /** Feeds one record to the task that owns its partition, then checkpoints that task. */
  pipe(topic: string, key: string | null, value: unknown, opts?: PipeOptions): Promise<void>;
  /** Advances the fake clock by `ms`, firing every punctuation that falls due, in time order. */
  advance(ms: number): Promise<void>;
  /** Forwards captured so far (all topics, or one), DLQ records excluded. */
  forwarded(topic?: string): ForwardedRecord[];
  /** A task's store (an empty one when that partition has seen no record yet). */
  store<V = unknown>(name: string, partition?: number): KeyValueStore<V>;
  /** DLQ records captured so far. */
  dlq(): DlqRecord[];
  /** The partition a key lands on for `topic`. */
  partitionOf(topic: string, key: string): number;
  /** Forgets captured forwards and DLQ records. */
  clear(): void;
  /** Closes every processor and cancels punctuations. */
  close(): Promise<void>;
}

/** Creates a {@link TestDriver} for `topology`. */
export function createTestDriver(topology: Topology, opts: TestDriverOptions = {}): TestDriver {
  const clock = opts.clock instanceof FakeClock ? opts.clock : new FakeClock(opts.clock);
  const log = opts.log ?? silentLogger;
  const tasks = new Map<number, Task>();
  const nextOffset = new Map<string, number>();
  let out: ForwardedRecord[] = [];
  let dead: DlqRecord[] = [];

  const partitionsOf = (topic: string) => {
    const def = topicDef(topic);
    if (def?.keyed && opts.keyedPartitions) return opts.keyedPartitions;
    return def?.partitions ?? opts.partitions ?? 1;
  };
  const partitionOf = (topic: string, key: string) => partitionForKey(key, partitionsOf(topic));
  const tables: Tables = new Map();
  for (const spec of topology.tables ?? []) {
    const table = new Map<string, unknown>();
    for (const r of opts.tables?.[spec.topic] ?? []) applyTableRecord(table, spec, r.key, r.value);
    tables.set(spec.topic, table);
  }

  async function task(p: number): Promise<Task> {
    let t = tasks.get(p);
    if (!t) {
      t = new Task({
        topology,
        partition: p,
        clock,
        log,
        retry: { retries: opts.retries ?? 3, sleep: async () => {} },
        tables,
        partitionsOf,
      });
      tasks.set(p, t);
      await t.init();
    }
    return t;
  }

  function checkpoint(t: Task): void {
    const cp = t.drain();
    for (const o of cp.outputs) {
      if (o.topic === DLQ_TOPIC.name) {
        dead.push(decode<DlqRecord>(o.topic, o.value)!);
        continue;
      }
      out.push({
        topic: o.topic,
        partition: o.partition ?? (o.key === null ? 0 : partitionOf(o.topic, o.key)),
        key: o.key,
        value: decode(o.topic, o.value),
        headers: o.headers ?? {},
        fromPartition: t.partition,
      });
    }
  }

  return {
    clock,
    async pipe(topic, key, value, o = {}) {
      if (!topology.inputs.includes(topic)) {
        throw new Error(
          `${topic} is not an input of topology ${topology.app} (inputs: ${topology.inputs.join(", ")})`,
        );
      }
      const partition = o.partition ?? (key === null ? 0 : partitionOf(topic, key));
      const tp = `${topic}:${partition}`;
      const offset = nextOffset.get(tp) ?? 0;
      nextOffset.set(tp, offset + 1);
      const rec: ConsumedRecord = {
        topic,
        partition,
        offset,
        key,
        value: o.raw !== undefined ? o.raw : value === null ? null : encodeJson(value),
        headers: o.headers ?? {},
        timestamp: o.timestamp ?? clock.now(),
      };
      const t = await task(partition);
      await t.processBatch(topic, partition, [rec]);
      checkpoint(t);
    },
    async advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance(ms) needs ms >= 0, got ${ms}`);
      const target = clock.now() + ms;
      for (;;) {
        let due = Infinity;
        for (const t of tasks.values()) due = Math.min(due, t.nextPunctuation());
        if (due > target) break;
        clock.set(Math.max(due, clock.now()));
        for (const t of tasks.values()) {
          if (t.nextPunctuation() <= clock.now()) {
            await t.punctuate(clock.now());
            checkpoint(t);
          }
        }
      }
      clock.set(target);
    },
    forwarded: (topic) => (topic ? out.filter((r) => r.topic === topic) : [...out]),
    store<V>(name: string, partition = 0) {
      if (!topology.stores.includes(name)) {
        throw new Error(`store ${name} is not declared in ${topology.app}`);
      }
      const t = tasks.get(partition);
      if (t) return t.stores.get(name) as KeyValueStore<V>;
      return new MemoryStore<V>(name);
    },
    dlq: () => [...dead],
    partitionOf,
    clear() {
      out = [];
      dead = [];
    },
    async close() {
      for (const t of tasks.values()) await t.close();
      tasks.clear();
    },
  };
}
