/**
 * The embedded broker: an in-process Kafka look-alike for a first run and fast tests (the role Kafka
 * Streams' TopologyTestDriver plays). Topics with partitions, Kafka's default partitioner, offsets and
 * timestamps, consumer groups with commits and eager rebalancing, pause/resume, readers, admin, compaction,
 * and (with `dataDir`) file persistence so a restart resumes where it stopped.
 *
 * It never auto-creates topics (like our Kafka's `auto.create.topics.enable=false`).
 */
import { LzError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../log.ts";
import type { Clock } from "../../processor/types.ts";
import type {
  Admin,
  Broker,
  Consumer,
  ConsumerOptions,
  Producer,
  ProduceRecord,
  Reader,
  ReaderOptions,
  RecordMetadata,
  TopicSpec,
} from "../types.ts";
import { DefaultPartitioner } from "../murmur2.ts";
import {
  DEFAULT_DELETE_RETENTION_MS,
  DEFAULT_RETENTION_MS,
  type EmbeddedTopic,
  PartitionLog,
  TOPIC_NAME,
} from "./log.ts";
import { GroupCoordinator } from "./group.ts";
import { type BrokerCore, EmbeddedConsumer, EmbeddedReader } from "./consumer.ts";
import { createEmbeddedAdmin } from "./admin.ts";
import { appendBatch } from "./produce.ts";
import { type DiskStore, openDiskStore } from "./disk.ts";

/** Options of {@link createEmbeddedBroker}. */
export interface EmbeddedBrokerOptions {
  /** Directory for segment files, topic metadata and commits; in-memory only when absent. */
  dataDir?: string;
  logger?: Logger;
  /** Time source for record timestamps and tombstone expiry (tests inject a fake one). */
  clock?: Clock;
  /**
   * Open `dataDir` without locking or changing it (operator commands that only read: `topics describe`,
   * `lag`, `digest`): a torn tail is skipped, not truncated; produce, topic changes and commits are refused.
   */
  readOnly?: boolean;
}

/** The embedded broker, plus helpers that only make sense in-process. */
export interface EmbeddedBroker extends Broker {
  readonly kind: "embedded";
  /** Compacts compacted topics now (one topic or all); returns how many records were removed. */
  compact(topic?: string): number;
}

/** Opens an embedded broker (loading `dataDir` when given). */
export async function createEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const log = (options.logger ?? silentLogger).child("broker.embedded");
  const clock = options.clock ?? { now: () => Date.now() };
  const topics = new Map<string, EmbeddedTopic>();
  const open = new Set<{ stop(): Promise<void> }>();
  const partitioner = new DefaultPartitioner();
  let closed = false;
  const groups = new GroupCoordinator((t) => topics.get(t)?.partitions.length ?? 0);
  let disk: DiskStore | null = null;

  const readOnly = options.readOnly === true && options.dataDir !== undefined;
  const checkOpen = () => {
    if (closed) throw new LzError("BROKER_CLOSED", "the embedded broker is closed");
  };
  const checkWritable = () => {
    if (readOnly) {
      throw new LzError(
        "READ_ONLY",
        `the embedded broker at ${options.dataDir} is open read-only; this command must not change it`,
      );
    }
  };
  const requireTopic = (name: string): EmbeddedTopic => {
    const t = topics.get(name);
    if (!t) {
      throw new LzError(
        "UNKNOWN_TOPIC",
        `topic ${name} does not exist; create it first (lzsync topics create)`,
        {
          detail: { topic: name },
        },
      );
    }
    return t;
  };
  const createTopic = (spec: TopicSpec) => {
    checkWritable();
    if (!TOPIC_NAME.test(spec.name) || spec.name === "." || spec.name === "..") {
      throw new LzError(
        "INVALID_TOPIC",
        `invalid topic name ${JSON.stringify(spec.name)}: use 1-249 of [a-zA-Z0-9._-]`,
      );
    }
    const n = spec.partitions ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 10_000) {
      throw new LzError(
        "INVALID_PARTITIONS",
        `topic ${spec.name}: partitions must be an integer 1..10000, got ${n}`,
      );
    }
    const config = { ...(spec.config ?? {}) };
    const compacted = spec.compacted ?? /\bcompact\b/.test(config["cleanup.policy"] ?? "");
    config["cleanup.policy"] = compacted ? "compact" : (config["cleanup.policy"] ?? "delete");
    const t: EmbeddedTopic = {
      name: spec.name,
      compacted,
      config,
      partitions: Array.from({ length: n }, (_, p) => new PartitionLog(spec.name, p, compacted)),
      deleted: false,
    };
    disk?.createTopic(t);
    topics.set(t.name, t);
  };
  const deleteTopic = (name: string) => {
    checkWritable();
    const t = topics.get(name)!;
    disk?.deleteTopic(t);
    topics.delete(name);
    t.deleted = true;
    for (const g of groups.groups.values()) g.dropTopic(name);
    disk?.rewriteCommits(groups);
    for (const p of t.partitions) p.notify();
  };
  const compactTopic = (t: EmbeddedTopic, p?: PartitionLog): number => {
    const retention = Number(t.config["delete.retention.ms"] ?? DEFAULT_DELETE_RETENTION_MS);
    let removed = 0;
    for (const part of p ? [p] : t.partitions) removed += part.compact(clock.now(), retention);
    return removed;
  };

  const expire = (t: EmbeddedTopic) => {
    const retention = Number(t.config["retention.ms"] ?? DEFAULT_RETENTION_MS);
    for (const p of t.partitions) p.trimExpired(clock.now(), retention);
  };

  const core: BrokerCore = {
    log,
    groups,
    requireTopic,
    track: (c) => open.add(c),
    untrack: (c) => open.delete(c),
  };

  if (options.dataDir) {
    disk = await openDiskStore(options.dataDir, log, { readOnly });
    try {
      disk.load(topics, groups);
    } catch (err) {
      disk.close();
      throw err;
    }
    for (const t of topics.values()) {
      if (t.compacted) compactTopic(t);
      else expire(t);
    }
  }

  function send(topic: string, records: ProduceRecord[]): Promise<RecordMetadata[]> {
    checkOpen();
    checkWritable();
    const t = requireTopic(topic);
    const out = appendBatch(t, records, partitioner, clock.now());
    if (t.compacted) {
      for (const p of t.partitions) if (p.needsCompaction()) compactTopic(t, p);
    } else expire(t);
    return Promise.resolve(out);
  }

  const admin = createEmbeddedAdmin({ groups, topics, requireTopic, createTopic, deleteTopic, checkOpen });
  if (disk) groups.persistence = readOnly ? { commit: checkWritable } : disk;

  return {
    kind: "embedded",
    address: options.dataDir ? `embedded ${options.dataDir}` : "embedded (in-memory)",
    admin: (): Admin => admin,
    producer: (): Promise<Producer> => {
      let producerClosed = false;
      return Promise.resolve({
        send: (topic, records) => {
          if (producerClosed) return Promise.reject(new LzError("PRODUCER_CLOSED", "the producer is closed"));
          try {
            return send(topic, records);
          } catch (err) {
            return Promise.reject(err);
          }
        },
        close: () => {
          producerClosed = true;
          return Promise.resolve();
        },
      });
    },
    consumer: (opts: ConsumerOptions): Consumer => new EmbeddedConsumer(core, opts),
    reader: (opts: ReaderOptions): Reader => new EmbeddedReader(core, opts),
    compact: (topic?: string): number => {
      checkOpen();
      let removed = 0;
      for (const t of topic ? [requireTopic(topic)] : topics.values()) {
        if (t.compacted) removed += compactTopic(t);
      }
      return removed;
    },
    close: async () => {
      if (closed) return;
      await Promise.all([...open].map((c) => c.stop()));
      closed = true;
      groups.closed = true;
      disk?.close();
    },
  };
}
