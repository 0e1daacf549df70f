/**
 * The processor contract, shaped like Kafka Streams' Processor API. Processors never import a broker, Hono,
 * DuckDB or a Google client: they see decoded records, named stores and a context.
 *
 * A topology runs one *task* per input partition number (inputs are co-partitioned, as in Kafka Streams);
 * each task has its own processor instance and its own stores, backed by partition `p` of the compacted
 * changelog topic `<app>-<store>-changelog`.
 */
import type { Headers } from "../broker/types.ts";
import type { Logger } from "../log.ts";

/** A decoded input record. `value` has already been validated against the topic's schema. */
export interface InputRecord<V = unknown> {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: V | null;
  headers: Headers;
  timestamp: number;
}

/**
 * How a store's values are written to its changelog (persisted contract): a readable, versioned form that
 * may differ from the compact value the processor keeps in memory.
 */
export interface StoreCodec<V = any> {
  /**
   * Written as the `lz-fmt` header (`FMT_HEADER` in `store.ts`) on every record; bump it (and teach `decode`
   * the old one) when the form changes.
   */
  readonly version: number;
  /** The changelog JSON text of an in-memory value. */
  encode(v: V): string;
  /** A parsed changelog value written with format `version` (0: before the codec) back to the in-memory value. */
  decode(raw: unknown, version: number): V;
}

/** A key-value state store; changes are logged to the store's changelog at each checkpoint. */
export interface KeyValueStore<V = unknown> {
  get(key: string): V | undefined;
  put(key: string, value: V): void;
  delete(key: string): void;
  has(key: string): boolean;
  /** All entries, in insertion order. Do not mutate the store while iterating. */
  entries(): IterableIterator<[string, V]>;
  readonly size: number;
}

/** A clock; tests inject a fake one to fire punctuations deterministically. */
export interface Clock {
  now(): number;
}

/** Handle returned by {@link ProcessorContext.schedule}. */
export interface Cancellable {
  cancel(): void;
}

/** What a processor sees while it runs. */
export interface ProcessorContext {
  /** The application (consumer group) id. */
  readonly app: string;
  /** The task's partition number. */
  readonly partition: number;
  readonly log: Logger;
  /** Current time from the injected clock. */
  now(): number;
  /** A store declared in the topology; throws for an undeclared name. */
  store<V = unknown>(name: string): KeyValueStore<V>;
  /**
   * Sends a value downstream. It is validated against the target topic's schema and produced at the next
   * checkpoint, before the changelog and the input commit. `value: null` is a tombstone.
   */
  forward(topic: string, key: string | null, value: unknown | null, headers?: Headers): void;
  /**
   * {@link forward} of a value the processor has serialized already: `json` must be `JSON.stringify(value)`
   * (say, the text it compared with the last value it sent). Validated like `forward`, produced as `json`
   * without serializing the value again.
   */
  forwardJson(topic: string, key: string | null, value: unknown, json: string): void;
  /**
   * Sends one copy of the value to every partition of `topic` (same key), for a small table that every task
   * of a co-partitioned consumer must see (the governance rules, say): partition `p` of it reaches task `p`.
   * Validated and produced like {@link forward}.
   */
  broadcast(topic: string, key: string, value: unknown | null): void;
  /** Runs `fn` every `intervalMs` of the injected clock (wall-clock punctuation). Call from `init`. */
  schedule(intervalMs: number, fn: (now: number) => void | Promise<void>): Cancellable;
  /**
   * A table declared in the topology ({@link Topology.tables}): the topic's latest value per key as read
   * before this task started (not updated by later records, the task's own forwards included). Throws for an
   * undeclared topic.
   */
  table<V = unknown>(topic: string): ReadonlyMap<string, V>;
}

/** A stream processor. Errors thrown from `process` are retried (bounded), then the record goes to the DLQ. */
export interface Processor<V = unknown> {
  init?(ctx: ProcessorContext): void | Promise<void>;
  process(record: InputRecord<V>, ctx: ProcessorContext): void | Promise<void>;
  close?(ctx: ProcessorContext): void | Promise<void>;
}

/** A side effect outside the broker that must be flushed before offsets are committed (checkpoint step 1). */
export interface Sink {
  readonly name: string;
  flush(): Promise<void>;
  /**
   * Called once the checkpoint's outputs are acknowledged, before its changelog records and input commit
   * (step 2 done): what a sink reports of work whose records are now on their topics.
   */
  produced?(): void | Promise<void>;
}

/**
 * A compacted topic read in full into a read-only map before a task starts, like a Kafka Streams
 * GlobalKTable that is read once: what a rebuild needs to know of the topology's own past that its
 * compacted inputs no longer hold (the policy reads when each open violation was first seen).
 */
export interface TableSpec {
  topic: string;
  /** Keeps what the processor needs of a value (default: the whole value); `undefined` leaves the key out. */
  select?(value: unknown): unknown;
}

/** A named topology: inputs, stores, outputs and the processor factory. */
export interface Topology<V = unknown> {
  /** Application id: the consumer group and the prefix of changelog topics. */
  app: string;
  /** Input topics (must be co-partitioned). */
  inputs: string[];
  /**
   * Inputs a task catches up on before anything else (a subset of {@link Topology.inputs}; small, config-like
   * topics such as `pmo.yaml`'s governance): when a task starts, the host processes the records of its
   * partition of each from the group's committed offset to the end seen then, before the task's first batch
   * of any input. The consumer's later delivery of the same records is skipped (already applied), and they are
   * committed with the task's first checkpoint. Without it a cold start could handle a batch of another input
   * first and apply the configuration to it only afterwards.
   */
  bootstrap?: string[];
  /** Store names; changelog topic of each is `<app>-<store>-changelog`. Persisted contract: never rename. */
  stores: string[];
  /**
   * Changelog formats by store name: a store listed here writes its values in the codec's readable,
   * versioned form and restores every older version it knows (see `store.ts`).
   */
  codecs?: Record<string, StoreCodec>;
  /** Topics this topology may forward to (created at start if missing). */
  outputs: string[];
  /** Tables read at task start (see {@link TableSpec}); created at start if missing. */
  tables?: TableSpec[];
  /** A fresh processor for a task. */
  create(): Processor<V>;
  /** Sinks flushed at each checkpoint before changelog and commit. */
  sinks?: Sink[];
  description?: string;
}

/** The changelog topic name of a store. Persisted contract. */
export function changelogTopic(app: string, store: string): string {
  return `${app}-${store}-changelog`;
}

/** Human-readable description of a topology, like Kafka Streams' `Topology#describe()`. */
export function describeTopology(t: Topology): string {
  const lines = [`Topology ${t.app}${t.description ? ` — ${t.description}` : ""}`];
  lines.push(`  Source: ${t.inputs.join(", ")}`);
  for (const b of t.bootstrap ?? []) lines.push(`  Bootstrap: ${b} (caught up at task start)`);
  lines.push(`  Processor: ${t.app} (stores: ${t.stores.join(", ") || "none"})`);
  for (const s of t.stores) lines.push(`  Store: ${s} -> changelog ${changelogTopic(t.app, s)}`);
  for (const tb of t.tables ?? []) lines.push(`  Table: ${tb.topic} (read at task start)`);
  lines.push(`  Sink: ${t.outputs.join(", ") || "none"}`);
  for (const s of t.sinks ?? []) lines.push(`  External sink: ${s.name}`);
  return lines.join("\n");
}
