/**
 * The one broker contract that both the embedded log and Kafka (kafkajs) fill.
 *
 * Offsets are plain numbers (safe up to 2^53). A committed offset is the offset of the *next* record to
 * read, as in Kafka. Keys are strings (UTF-8 on the wire); values are raw bytes — serialization and schema
 * validation live a layer above (see `pipeline/serde.ts`), so a broker never rejects a record for its content.
 */

/** Record headers; values are UTF-8 strings. */
export type Headers = Record<string, string>;

/** A record handed to {@link Producer.send}. `value: null` is a tombstone (deletes the key on compaction). */
export interface ProduceRecord {
  key: string | null;
  value: Uint8Array | null;
  headers?: Headers;
  /** Milliseconds since the epoch; defaults to the broker's clock at append time. */
  timestamp?: number;
  /** Explicit partition; otherwise Kafka's default partitioner (murmur2 of the key, round-robin for null keys). */
  partition?: number;
}

/** Where an acknowledged record landed. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

/** A record read back from a topic. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Uint8Array | null;
  headers: Headers;
  timestamp: number;
}

/** Topic creation request. `compacted` sets `cleanup.policy=compact`. */
export interface TopicSpec {
  name: string;
  partitions?: number;
  compacted?: boolean;
  /** Extra topic configs, Kafka names (e.g. `retention.ms`). */
  config?: Record<string, string>;
}

/** What `describeTopic` reports. */
export interface TopicDescription {
  name: string;
  partitions: number;
  compacted: boolean;
  config: Record<string, string>;
}

/** Low (first available) and high (next to be written) offsets of one partition. */
export interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
}

/** A topic-partition pair. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A committed position of a consumer group: `offset` is the next record the group will read. */
export interface GroupOffset extends TopicPartition {
  offset: number;
}

/** A live member of a consumer group. */
export interface GroupMember {
  memberId: string;
  clientId: string;
  assignments: TopicPartition[];
}

/** Consumer-group state as the broker sees it. `state` uses Kafka's names (Empty, Stable, Dead, ...). */
export interface GroupDescription {
  groupId: string;
  state: string;
  members: GroupMember[];
}

/** Topic and consumer-group administration. */
export interface Admin {
  /** Creates topics that do not exist; existing topics are left as they are (no error). */
  createTopics(specs: TopicSpec[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Throws {@link import("../errors.ts").LzError} with code `UNKNOWN_TOPIC` when absent. */
  describeTopic(name: string): Promise<TopicDescription>;
  deleteTopics(names: string[]): Promise<void>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** For each partition, the first offset whose timestamp is >= `timestamp` (the high offset if none). */
  offsetsForTimestamp(topic: string, timestamp: number): Promise<GroupOffset[]>;
  /** Committed offsets of a group (only partitions that have a commit). */
  fetchCommitted(groupId: string, topics?: string[]): Promise<GroupOffset[]>;
  /** Overwrites committed offsets; rejects with code `GROUP_NOT_EMPTY` while the group has members. */
  setCommitted(groupId: string, offsets: GroupOffset[]): Promise<void>;
  describeGroup(groupId: string): Promise<GroupDescription>;
  listGroups(): Promise<string[]>;
}

/**
 * Error code (an {@link import("../errors.ts").LzError}) of a `send` refused because some of its records
 * can never fit the topic's batch limit (Kafka's `max.message.bytes`): nothing of the send was written and
 * `detail.indices` lists those records, so the caller can route them to the DLQ and send the rest.
 */
export const RECORD_TOO_LARGE = "RECORD_TOO_LARGE";

/** Sends records; `send` resolves only after the broker acknowledged every record (acks=all). */
export interface Producer {
  send(topic: string, records: ProduceRecord[]): Promise<RecordMetadata[]>;
  close(): Promise<void>;
}

/** A batch of records from one partition, in offset order. */
export interface Batch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** The partition's high offset when the batch was fetched (for lag). */
  highWatermark: number;
}

/** Options of a group consumer. */
export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where to start when the group has no committed offset: earliest (default) or latest. */
  fromBeginning?: boolean;
  /** Upper bound on records per batch (a hint; default {@link DEFAULT_MAX_BATCH}). */
  maxBatchSize?: number;
  clientId?: string;
}

/** Default upper bound of records handed to one `eachBatch` call, on both brokers (readers always use it). */
export const DEFAULT_MAX_BATCH = 5_000;

/** Callbacks of a running consumer. Offsets are never committed automatically: call {@link Consumer.commit}. */
export interface ConsumerHandlers {
  /** Called with each batch; the next batch of the same partition waits until this resolves. */
  eachBatch(batch: Batch): Promise<void>;
  /** Partitions newly assigned to this member, before any of their batches. */
  onAssigned?(partitions: TopicPartition[]): Promise<void> | void;
  /** Partitions taken away (rebalance or stop), after their last batch finished; commit here. */
  onRevoked?(partitions: TopicPartition[]): Promise<void> | void;
}

/** A member of a consumer group. */
export interface Consumer {
  /** Joins the group and starts delivering; resolves once the consumer is running. */
  run(handlers: ConsumerHandlers): Promise<void>;
  commit(offsets: GroupOffset[]): Promise<void>;
  /** Stops fetching the given partitions (backpressure) until {@link resume}. */
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /** Finishes the in-flight batch, calls onRevoked, leaves the group. Idempotent. */
  stop(): Promise<void>;
}

/** Where a {@link Reader} starts in each partition. */
export type ReaderStart = "earliest" | "latest" | GroupOffset[];

/** Options of a group-less reader of whole topics (restore, global tables, gateways, tools). */
export interface ReaderOptions {
  topics: string[];
  from?: ReaderStart;
}

/** Reads every partition of the given topics with no consumer group semantics and no commits. */
export interface Reader {
  run(eachBatch: (batch: Batch) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** The broker: a factory for admin, producers, consumers and readers. */
export interface Broker {
  readonly kind: "embedded" | "kafka";
  /** Human-readable address for messages, e.g. `kafka 127.0.0.1:9092` or `embedded .lzsync/broker`. */
  readonly address: string;
  admin(): Admin;
  producer(): Promise<Producer>;
  consumer(options: ConsumerOptions): Consumer;
  reader(options: ReaderOptions): Reader;
  close(): Promise<void>;
}
