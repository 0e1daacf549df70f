/**
 * One task of a topology: the processor instance, the stores and the pending effects of one partition number.
 * Shared by the broker-backed host (`host.ts`) and the in-memory test driver (`driver.ts`) so both route bad
 * records, retries, forwards and punctuations the same way. A task does no I/O: the caller drains it at each
 * checkpoint and produces what it returns.
 */
import type { ConsumedRecord, GroupOffset, Headers, ProduceRecord } from "../broker/types.ts";
import type { Cancellable, Clock, InputRecord, Processor, ProcessorContext, Topology } from "./types.ts";
import { changelogTopic } from "./types.ts";
import type { Logger } from "../log.ts";
import { decode, encode, encodeTextsAll, validate } from "../serde.ts";
import { describeError, isRetriable, LzError } from "../errors.ts";
import { backoffDelay } from "../retry.ts";
import { topicDef } from "../../schemas/mod.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";
import { MemoryStore } from "./store.ts";
import { bytesToBase64 } from "../base64.ts";

/** Retry policy of `process()` errors. */
export interface RetryPolicy {
  /** Retries after the first attempt (default 3). */
  retries: number;
  /** First backoff; doubles each retry, capped at 2 s (default 50 ms). */
  backoffMs: number;
  sleep: (ms: number) => Promise<void>;
}

/** Options of a {@link Task}. */
export interface TaskOptions {
  topology: Topology;
  partition: number;
  clock: Clock;
  log: Logger;
  retry?: Partial<RetryPolicy>;
  /** Existing stores to adopt (a standby copy kept across a rebalance); fresh empty stores otherwise. */
  stores?: Map<string, MemoryStore>;
  /**
   * Called once per record routed to the DLQ (metrics), with the source topic: per input record the task
   * routes, and per DLQ record the processor forwards itself (at the checkpoint that takes it).
   */
  onDlq?(topic: string): void;
  /** The topology's tables as read before the task started (see `Topology.tables`); empty ones otherwise. */
  tables?: ReadonlyMap<string, ReadonlyMap<string, unknown>>;
  /** Partition count of an output topic, for {@link ProcessorContext.broadcast} (default 1). */
  partitionsOf?(topic: string): number;
}

/** An output record waiting for the next checkpoint. */
export interface PendingOutput extends ProduceRecord {
  topic: string;
}

/** Everything a checkpoint must produce and commit, in order. */
export interface Checkpoint {
  /** Forwarded records (compacted topics coalesced to the last value per key) and DLQ records. */
  outputs: PendingOutput[];
  /** Changelog records by changelog topic. */
  changelog: Map<string, ProduceRecord[]>;
  /** Input offsets to commit (next offset to read). */
  commits: GroupOffset[];
}

interface Schedule {
  interval: number;
  next: number;
  fn: (now: number) => void | Promise<void>;
  cancelled: boolean;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function base64(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : bytesToBase64(bytes);
}

/** One partition's worth of a topology. */
export class Task {
  readonly partition: number;
  readonly stores = new Map<string, MemoryStore>();
  /** Last input offset per `topic:partition` whose effects are in the stores (processed, skipped or DLQ'd). */
  applied: Record<string, number> = {};
  /** Offsets at or below these were applied before the last restore: skip them. */
  restoredApplied: Record<string, number> = {};
  processed = 0;
  /** Input records this task routed to the DLQ (they also count as handled input records). */
  dlqCount = 0;
  /**
   * DLQ records the processor forwarded itself (a sink that gave up on a write, e.g. `lzsync-portal-repo`),
   * counted when a checkpoint takes them; no input record is behind them.
   */
  dlqForwarded = 0;
  readonly #t: Topology;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #retry: RetryPolicy;
  readonly #onDlq?: (topic: string) => void;
  readonly #partitionsOf: (topic: string) => number;
  readonly #outputs = new Set<string>();
  readonly #tables = new Map<string, ReadonlyMap<string, unknown>>();
  #storeList: MemoryStore[] = [];
  #processor: Processor;
  /** Forwards keep the validated value and are serialized at drain, only if not coalesced away. */
  #pending: (PendingOutput & { raw?: unknown; json?: string })[] = [];
  /** Input partitions with records handled since the last drain: their positions are committed. */
  readonly #touched = new Set<string>();
  #schedules: Schedule[] = [];
  readonly ctx: ProcessorContext;

  constructor(o: TaskOptions) {
    this.#t = o.topology;
    this.partition = o.partition;
    this.#clock = o.clock;
    this.#log = o.log.child("task", { app: o.topology.app, partition: o.partition });
    this.#retry = { retries: 3, backoffMs: 50, sleep: defaultSleep, ...o.retry };
    this.#onDlq = o.onDlq;
    for (const tb of o.topology.tables ?? []) {
      this.#tables.set(tb.topic, o.tables?.get(tb.topic) ?? new Map());
    }
    this.#partitionsOf = o.partitionsOf ?? (() => 1);
    for (const s of o.topology.stores) {
      this.stores.set(s, o.stores?.get(s) ?? new MemoryStore(s, o.topology.codecs?.[s]));
    }
    this.#storeList = [...this.stores.values()];
    for (const t of o.topology.outputs) this.#outputs.add(t);
    this.#processor = o.topology.create();
    this.ctx = this.#context();
  }

  #context(): ProcessorContext {
    return {
      app: this.#t.app,
      partition: this.partition,
      log: this.#log,
      now: () => this.#clock.now(),
      store: <V>(name: string) => {
        const s = this.stores.get(name);
        if (!s) {
          throw new LzError("UNKNOWN_STORE", `store ${name} is not declared in topology ${this.#t.app}`);
        }
        return s as MemoryStore<V>;
      },
      forward: (topic: string, key: string | null, value: unknown | null, headers?: Headers) => {
        this.#checkOutput(topic);
        if (value !== null) validate(topic, value);
        this.#pending.push({ topic, key, value: null, raw: value, headers });
      },
      forwardJson: (topic: string, key: string | null, value: unknown, json: string) => {
        this.#checkOutput(topic);
        validate(topic, value);
        this.#pending.push({ topic, key, value: null, raw: value, json });
      },
      broadcast: (topic: string, key: string, value: unknown | null) => {
        this.#checkOutput(topic);
        if (value !== null) validate(topic, value);
        const n = this.#partitionsOf(topic);
        for (let p = 0; p < n; p++) this.#pending.push({ topic, key, partition: p, value: null, raw: value });
      },
      schedule: (intervalMs: number, fn: (now: number) => void | Promise<void>): Cancellable => {
        if (!(intervalMs > 0)) throw new RangeError(`schedule interval must be > 0 ms, got ${intervalMs}`);
        const s: Schedule = {
          interval: intervalMs,
          next: this.#clock.now() + intervalMs,
          fn,
          cancelled: false,
        };
        this.#schedules.push(s);
        return { cancel: () => void (s.cancelled = true) };
      },
      table: <V>(topic: string) => {
        const t = this.#tables.get(topic);
        if (!t) {
          throw new LzError("UNKNOWN_TABLE", `table ${topic} is not declared in topology ${this.#t.app}`);
        }
        return t as ReadonlyMap<string, V>;
      },
    };
  }

  #checkOutput(topic: string): void {
    if (!this.#outputs.has(topic)) {
      throw new LzError(
        "UNDECLARED_OUTPUT",
        `topology ${this.#t.app} forwards to ${topic}, not in its outputs`,
      );
    }
  }

  /** Runs the processor's `init`. */
  init(): void | Promise<void> {
    return this.#processor.init?.(this.ctx);
  }

  /** Sets the applied offsets found by a restore; records at or below them are skipped. */
  setRestored(applied: Record<string, number>): void {
    this.restoredApplied = { ...applied };
    for (const tp in applied) if (!(this.applied[tp] >= applied[tp])) this.applied[tp] = applied[tp];
  }

  /**
   * Processes records of one input partition in order. Returns undefined when every call was synchronous,
   * otherwise a promise (async processor, retry backoff).
   */
  processBatch(topic: string, partition: number, records: ConsumedRecord[], start = 0): void | Promise<void> {
    const tp = `${topic}:${partition}`;
    // Records at or below the applied offset are already in the stores (restored, or a redelivered batch).
    const skip = this.applied[tp] ?? -1;
    if (records.length > start) this.#touched.add(tp);
    for (let i = start; i < records.length; i++) {
      const rec = records[i];
      if (rec.offset <= skip) continue;
      const r = this.#handle(rec);
      this.applied[tp] = rec.offset;
      if (r !== undefined) return r.then(() => this.processBatch(topic, partition, records, i + 1));
    }
  }

  #handle(rec: ConsumedRecord): void | Promise<void> {
    let value: unknown;
    try {
      value = decode(rec.topic, rec.value);
    } catch (err) {
      this.#toDlq(rec, err, 0);
      return;
    }
    const input: InputRecord = {
      topic: rec.topic,
      partition: rec.partition,
      offset: rec.offset,
      key: rec.key,
      value,
      headers: rec.headers,
      timestamp: rec.timestamp,
    };
    return this.#attempt(input, rec, 1);
  }

  #attempt(input: InputRecord, raw: ConsumedRecord, attempt: number): void | Promise<void> {
    const mark = this.#pending.length;
    const ss = this.#storeList;
    for (let i = 0; i < ss.length; i++) ss[i].begin();
    let r: void | Promise<void>;
    try {
      r = this.#processor.process(input, this.ctx);
    } catch (err) {
      return this.#failed(input, raw, attempt, err, mark);
    }
    if (r !== undefined && typeof (r as Promise<void>).then === "function") {
      return (r as Promise<void>).then(
        () => this.#succeeded(),
        (err) => this.#failed(input, raw, attempt, err, mark),
      );
    }
    this.#succeeded();
  }

  #succeeded(): void {
    const ss = this.#storeList;
    for (let i = 0; i < ss.length; i++) ss[i].commit();
    this.processed++;
  }

  #failed(
    input: InputRecord,
    raw: ConsumedRecord,
    attempt: number,
    err: unknown,
    mark: number,
  ): void | Promise<void> {
    for (const s of this.#storeList) s.rollback();
    this.#pending.length = mark;
    if (attempt <= this.#retry.retries && isRetriable(err)) {
      const wait = backoffDelay(attempt - 1, { initialMs: this.#retry.backoffMs, maxMs: 2000 });
      this.#log.warn("process failed; retrying", {
        topic: raw.topic,
        offset: raw.offset,
        attempt,
        wait_ms: wait,
        error: describeError(err),
      });
      return this.#retry.sleep(wait).then(() => this.#attempt(input, raw, attempt + 1));
    }
    this.#toDlq(raw, err, attempt);
  }

  #toDlq(rec: ConsumedRecord, err: unknown, attempts: number): void {
    const code = err instanceof LzError ? err.code : "PROCESS";
    const error = describeError(err);
    this.#log.warn("record sent to the DLQ", {
      topic: rec.topic,
      offset: rec.offset,
      error_code: code,
      error,
    });
    const value = {
      error,
      error_code: code,
      stage: this.#t.app,
      attempts,
      source: { topic: rec.topic, partition: rec.partition, offset: rec.offset },
      original: { key: rec.key, value_base64: base64(rec.value), headers: { ...rec.headers } },
      failed_at: new Date(this.#clock.now()).toISOString(),
    };
    this.#pending.push({
      topic: DLQ_TOPIC.name,
      key: `${rec.topic}/${rec.partition}/${rec.offset}`,
      value: encode(DLQ_TOPIC.name, value),
    });
    this.dlqCount++;
    this.#onDlq?.(rec.topic);
  }

  /** Counts a DLQ record the processor forwarded, by the source topic it names (metric label). */
  #forwardedToDlq(rec: DlqRecord): void {
    this.dlqForwarded++;
    this.#onDlq?.(rec.source.topic);
  }

  /** The earliest time a punctuation is due, or Infinity. */
  nextPunctuation(): number {
    let n = Infinity;
    for (const s of this.#schedules) if (!s.cancelled && s.next < n) n = s.next;
    return n;
  }

  /** Fires each punctuation due at `now` once. Errors are logged, never fatal. */
  async punctuate(now = this.#clock.now()): Promise<void> {
    this.#schedules = this.#schedules.filter((s) => !s.cancelled);
    for (const s of [...this.#schedules]) {
      if (s.cancelled || s.next > now) continue;
      while (s.next <= now) s.next += s.interval;
      try {
        await s.fn(now);
      } catch (err) {
        this.#log.error("punctuation failed", { error: describeError(err) });
      }
    }
  }

  /** True when a checkpoint has something to produce or commit. */
  hasWork(): boolean {
    if (this.#pending.length) return true;
    for (const s of this.stores.values()) if (s.dirtyCount) return true;
    return this.#touched.size > 0;
  }

  /**
   * Takes the pending effects for a checkpoint and clears them. If producing them fails the caller must retry
   * the same checkpoint (the effects are already in the stores) or abandon the task and restore it.
   */
  drain(): Checkpoint {
    const outputs: (PendingOutput & { raw?: unknown; json?: string })[] = [];
    // Position of the last value per key, one map per compacted topic (undefined: not compacted).
    const last = new Map<string, Map<string, number> | undefined>();
    for (const o of this.#pending) {
      if (o.key !== null) {
        let byKey = last.get(o.topic);
        if (byKey === undefined && !last.has(o.topic)) {
          last.set(o.topic, byKey = topicDef(o.topic)?.compacted ? new Map() : undefined);
        }
        if (byKey !== undefined) {
          // A broadcast copy coalesces only with the copies of the same partition.
          const k = o.partition === undefined ? o.key : `${o.partition}\u0000${o.key}`;
          const at = byKey.get(k);
          if (at !== undefined) {
            outputs[at] = o;
            continue;
          }
          byKey.set(k, outputs.length);
        }
      }
      outputs.push(o);
    }
    // Forwards kept their value: serialize the survivors of coalescing together, into one buffer.
    const at: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i];
      if (o.raw !== undefined) {
        if (o.raw !== null) {
          at.push(i);
          texts.push(o.json ?? JSON.stringify(o.raw));
          if (o.topic === DLQ_TOPIC.name) this.#forwardedToDlq(o.raw as DlqRecord);
        }
        o.raw = undefined; // the pending record is the output (only its bytes are produced)
        o.json = undefined;
      }
    }
    const bytes = encodeTextsAll(texts);
    for (let j = 0; j < at.length; j++) outputs[at[j]].value = bytes[j];
    this.#pending = [];
    const applied = { ...this.applied };
    const changelog = new Map<string, ProduceRecord[]>();
    for (const s of this.stores.values()) {
      if (s.dirtyCount) {
        changelog.set(changelogTopic(this.#t.app, s.name), s.takeChangelog(this.partition, applied));
      }
    }
    const commits: GroupOffset[] = [];
    for (const tp of this.#touched) {
      if (this.applied[tp] === undefined) continue;
      const i = tp.lastIndexOf(":");
      commits.push({
        topic: tp.slice(0, i),
        partition: Number(tp.slice(i + 1)),
        offset: this.applied[tp] + 1,
      });
    }
    this.#touched.clear();
    return { outputs, changelog, commits };
  }

  /** Cancels punctuations and closes the processor. */
  async close(): Promise<void> {
    for (const s of this.#schedules) s.cancelled = true;
    try {
      await this.#processor.close?.(this.ctx);
    } catch (err) {
      this.#log.error("processor close failed", { error: describeError(err) });
    }
  }
}
