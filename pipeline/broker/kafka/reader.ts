/**
 * A group-less reader of whole topics on Kafka: it fetches straight from each partition's leader (see
 * kafka/fetch.ts for the kafkajs internals this takes), like Kafka Streams' restore consumer with
 * `assign()`. No consumer group is joined, so a start never waits for the broker's
 * `group.initial.rebalance.delay.ms` (3 s by default) and nothing is committed or left behind.
 *
 * `run` connects its own cluster, resolves every partition's start position (earliest, latest, or an
 * explicit offset clamped to what the partition holds; partitions not listed start at the earliest) and
 * resolves; a background loop then fetches from the leaders (read-committed, `maxWaitTimeMs` long polls)
 * and hands each partition's records to `eachBatch` in offset order, one batch per partition at a time.
 * Leader changes and broker outages refresh the metadata and retry with backoff; a position that fell out
 * of range (retention) is clamped back into the partition; a batch whose handler threw is fetched and
 * delivered again. `stop()` abandons a fetch in flight, waits for the batch being handled and closes every
 * connection.
 */
import { type Batch, DEFAULT_MAX_BATCH, type Reader, type ReaderOptions } from "../types.ts";
import { describeError, LzError } from "../../errors.ts";
import type { KafkaContext } from "./context.ts";
import { kafkaErrorType, toLzError } from "./errors.ts";
import {
  createCluster,
  type FetchedPartition,
  fetchFromLeader,
  type LeaderCluster,
  listOffsets,
} from "./fetch.ts";

type Position = { topic: string; partition: number; offset: number };

const key = (topic: string, partition: number) => `${partition}\u0000${topic}`;

/** A reader on Kafka (see the module comment). */
export class KafkaReader implements Reader {
  readonly #ctx: KafkaContext;
  readonly #opts: ReaderOptions;
  readonly #log;
  #cluster: LeaderCluster | null = null;
  #positions = new Map<string, Position>();
  #loop: Promise<void> | null = null;
  #started = false;
  #stopped = false;
  #stopping: Promise<void> | null = null;
  /** Wakes the loop out of a fetch or a backoff when `stop()` is called. */
  #wake: () => void = () => {};
  #stopSignal: Promise<void>;

  constructor(ctx: KafkaContext, opts: ReaderOptions) {
    this.#ctx = ctx;
    this.#opts = opts;
    this.#log = ctx.log.child("reader", { topics: opts.topics.join(",") });
    this.#stopSignal = new Promise<void>((r) => (this.#wake = r));
  }

  async run(eachBatch: (batch: Batch) => Promise<void>): Promise<void> {
    if (this.#started) throw new LzError("ALREADY_RUNNING", "reader is already running");
    if (this.#stopping) throw new LzError("STOPPED", "reader was stopped");
    this.#started = true;
    const ctx = this.#ctx;
    ctx.track(this);
    const cluster = createCluster(ctx.kafkaFor(ctx.clientId));
    this.#cluster = cluster;
    try {
      await ctx.connect("connect a reader", () => cluster.connect(), async () => {});
      await this.#resolveStarts(cluster);
    } catch (err) {
      await cluster.disconnect().catch(() => {});
      ctx.untrack(this);
      if (this.#stopping) return; // stop() during the start: not a failure
      this.#stopped = true;
      throw err instanceof LzError ? err : toLzError(err, ctx.address, "start a reader");
    }
    if (this.#stopping) return;
    this.#loop = this.#fetchLoop(cluster, eachBatch);
  }

  /** Start positions of every partition of the reader's topics (bounded retries). */
  async #resolveStarts(cluster: LeaderCluster): Promise<void> {
    const { topics } = this.#opts;
    try {
      await cluster.addMultipleTargetTopics(topics);
    } catch (err) {
      if (kafkaErrorType(err) === "UNKNOWN_TOPIC_OR_PARTITION") {
        const existing = await this.#ctx.admin().topicNames();
        const missing = topics.filter((t) => !existing.has(t));
        throw new LzError(
          "UNKNOWN_TOPIC",
          `cannot read ${
            missing.join(", ") || topics.join(", ")
          }: no such topic on Kafka at ${this.#ctx.address}`,
          { detail: { topics: missing } },
        );
      }
      throw err;
    }
    const from = this.#opts.from ?? "earliest";
    const explicit = Array.isArray(from)
      ? new Map(from.map((o) => [key(o.topic, o.partition), o.offset]))
      : null;
    for (const topic of topics) {
      // The partition list is read inside the retry too: a metadata answer that does not list the topic yet
      // (just created) makes kafkajs throw "metadata not loaded", or lists it without partitions.
      const [partitions, low, high] = await this.#retrying(
        `read the offsets of ${topic}`,
        async () => {
          const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId)
            .sort((a, b) => a - b);
          if (partitions.length === 0) throw new Error(`no partition of ${topic} in the metadata yet`);
          const [low, high] = await Promise.all([
            listOffsets(cluster, topic, partitions, true),
            from === "earliest" ? Promise.resolve(null) : listOffsets(cluster, topic, partitions, false),
          ]);
          return [partitions, low, high] as const;
        },
      );
      for (const partition of partitions) {
        const lo = low.get(partition) ?? 0;
        const hi = high?.get(partition) ?? lo;
        let offset = lo;
        if (from === "latest") offset = hi;
        else if (explicit?.has(key(topic, partition))) {
          offset = Math.min(Math.max(explicit.get(key(topic, partition))!, lo), hi);
        }
        this.#positions.set(key(topic, partition), { topic, partition, offset });
      }
    }
  }

  /** Runs `fn`, refreshing metadata and backing off between attempts (ctx.retry bounds them). */
  async #retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= this.#ctx.retry.retries || this.#stopping) {
          throw toLzError(err, this.#ctx.address, what);
        }
        await this.#cluster!.refreshMetadata().catch(() => {});
        await this.#backoff(attempt);
      }
    }
  }

  /** Sleeps the attempt's backoff (doubling, capped, ±20 % jitter); returns early on stop. */
  async #backoff(attempt: number): Promise<void> {
    const { initialRetryTime, maxRetryTime } = this.#ctx.retry;
    const base = Math.min(initialRetryTime * 2 ** Math.min(attempt, 20), maxRetryTime);
    const ms = base * (0.8 + Math.random() * 0.4);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#stopSignal, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  async #fetchLoop(cluster: LeaderCluster, eachBatch: (batch: Batch) => Promise<void>): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      try {
        const fetched = await this.#fetchOnce(cluster);
        if (fetched === null) break; // stopped during the fetch
        failures = 0;
        // Partitions are handed over concurrently; a failed handler fails the round only after the others
        // finished, so a partition never has two batches in flight.
        const outcomes = await Promise.allSettled(fetched.map((f) => this.#deliver(f, eachBatch)));
        for (const o of outcomes) if (o.status === "rejected") throw o.reason;
        const progressed = outcomes.some((o) => o.status === "fulfilled" && o.value);
        // Only skipped records came back (e.g. a compacted batch's tail): wait like an empty long poll.
        if (!progressed && !this.#stopping && fetched.some((f) => f.returned > 0)) {
          await this.#pause(this.#ctx.maxWaitTimeMs);
        }
      } catch (err) {
        if (this.#stopping) break;
        const type = kafkaErrorType(err);
        if (type === "OFFSET_OUT_OF_RANGE") await this.#clampPositions(cluster).catch(() => {});
        else await cluster.refreshMetadata().catch(() => {});
        this.#log.warn("reader fetch or eachBatch failed; retrying from the same offsets", {
          error: describeError(err),
          attempt: failures,
        });
        await this.#backoff(failures++);
      }
    }
  }

  /** One fetch from every leader (in parallel); null when stopped meanwhile. */
  async #fetchOnce(cluster: LeaderCluster): Promise<FetchedPartition[] | null> {
    const byLeader = new Map<number, Position[]>();
    for (const pos of this.#positions.values()) {
      const meta = cluster.findTopicPartitionMetadata(pos.topic).find((p) => p.partitionId === pos.partition);
      if (!meta || meta.leader === undefined || meta.leader < 0) {
        throw Object.assign(new Error(`no leader for ${pos.topic}:${pos.partition}`), {
          type: "LEADER_NOT_AVAILABLE",
        });
      }
      byLeader.set(meta.leader, [...(byLeader.get(meta.leader) ?? []), { ...pos }]);
    }
    const work = Promise.all([...byLeader].map(async ([nodeId, positions]) => {
      const broker = await cluster.findBroker({ nodeId: String(nodeId) });
      return await fetchFromLeader(broker, positions, this.#ctx.maxWaitTimeMs);
    }));
    const outcome = await Promise.race([work.then((r) => r.flat()), this.#stopSignal.then(() => null)]);
    if (outcome === null) work.catch(() => {}); // abandoned: its rejection at disconnect is expected
    return outcome;
  }

  /** Hands one partition's records to `eachBatch` in slices; true when its position moved. */
  async #deliver(f: FetchedPartition, eachBatch: (batch: Batch) => Promise<void>): Promise<boolean> {
    const pos = this.#positions.get(key(f.topic, f.partition));
    if (!pos) return false;
    const start = pos.offset;
    for (let i = 0; i < f.records.length; i += DEFAULT_MAX_BATCH) {
      if (this.#stopping) return pos.offset !== start;
      const records = f.records.length <= DEFAULT_MAX_BATCH
        ? f.records
        : f.records.slice(i, i + DEFAULT_MAX_BATCH);
      await eachBatch({ topic: f.topic, partition: f.partition, records, highWatermark: f.highWatermark });
      pos.offset = records[records.length - 1].offset + 1;
    }
    if (!this.#stopping) pos.offset = Math.max(pos.offset, f.nextOffset);
    return pos.offset !== start;
  }

  /** After OFFSET_OUT_OF_RANGE: moves every position back into [earliest, latest] of its partition. */
  async #clampPositions(cluster: LeaderCluster): Promise<void> {
    await cluster.refreshMetadata();
    const byTopic = new Map<string, Position[]>();
    for (const p of this.#positions.values()) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    for (const [topic, list] of byTopic) {
      const ps = list.map((p) => p.partition);
      const [low, high] = await Promise.all([
        listOffsets(cluster, topic, ps, true),
        listOffsets(cluster, topic, ps, false),
      ]);
      for (const p of list) {
        const lo = low.get(p.partition) ?? 0;
        const hi = high.get(p.partition) ?? p.offset;
        if (p.offset < lo || p.offset > hi) {
          this.#log.warn("reader position out of range; moved into the partition", {
            ...p,
            low: lo,
            high: hi,
          });
          p.offset = p.offset < lo ? lo : hi;
        }
      }
    }
  }

  async #pause(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#stopSignal, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#wake();
      if (!this.#started || this.#stopped) return;
      // run() may still be starting: it sees #stopping and returns without starting the loop.
      await this.#loop?.catch(() => {});
      await this.#cluster?.disconnect().catch((err) =>
        this.#log.warn("reader disconnect did not finish cleanly", { error: describeError(err) })
      );
      this.#stopped = true;
      this.#ctx.untrack(this);
    })();
    return this.#stopping;
  }
}
