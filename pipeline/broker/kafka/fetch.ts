/**
 * Group-less reads from partition leaders through kafkajs's internal cluster and broker objects (kafkajs
 * 2.2.4 is pinned). kafkajs has no public `assign()`, so the {@link import("./reader.ts").KafkaReader}
 * drives the same objects its consumer uses, as Kafka Streams' restore consumer does with `assign()`:
 *
 * 1. {@link createCluster} builds a `Cluster` with the `Kafka` client's own settings (brokers, socket
 *    factory, logger, retry, timeouts) through the client's private factory (`private:Kafka:createCluster`,
 *    the function kafkajs's `consumer()`, `producer()` and `admin()` call).
 * 2. {@link listOffsets} is the cluster's `fetchTopicsOffset` (ListOffsets sent to each leader).
 * 3. {@link fetchFromLeader} sends one Fetch to a leader (`broker.fetch`, read-committed like kafkajs's
 *    consumer) and filters each partition with kafkajs's own consumer `Batch` class (`src/consumer/batch.js`):
 *    records below the requested offset (compressed or compacted batches start earlier), control records
 *    and aborted transactions are dropped.
 *
 * Everything else the reader does is kafkajs's documented surface (`Cluster` and `Broker` types).
 */
import { createRequire } from "node:module";
import type { Kafka, KafkaMessage } from "kafkajs";
import type { ConsumedRecord } from "../types.ts";
import { toRecord } from "./records.ts";

const require = createRequire(import.meta.url);

/** kafkajs's read-committed isolation level (`src/protocol/isolationLevel.js`). */
const READ_COMMITTED = 1;

/** The parts of kafkajs's internal Cluster the reader uses. */
export interface LeaderCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findBroker(node: { nodeId: string }): Promise<LeaderBroker>;
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning: boolean }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/** The part of kafkajs's internal Broker (one connection to one node) the reader uses. */
export interface LeaderBroker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<FetchResponse>;
}

type FetchResponse = {
  responses: { topicName: string; partitions: PartitionData[] }[];
};
type PartitionData = {
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  abortedTransactions?: unknown[];
};
type BatchClass = new (topic: string, fetchedOffset: string, data: PartitionData) => {
  messages: KafkaMessage[];
  rawMessages: KafkaMessage[];
};

/** A new kafkajs Cluster with `kafka`'s settings; throws if this kafkajs has no such factory. */
export function createCluster(kafka: Kafka): LeaderCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((s) =>
    s.description === "private:Kafka:createCluster"
  );
  const factory = key ? (kafka as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof factory !== "function") {
    throw new Error("kafkajs has no private cluster factory (kafkajs 2.2.4 is pinned for it)");
  }
  return factory({ allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED }) as LeaderCluster;
}

/** Earliest (`true`) or latest (`false`) offset of each listed partition of `topic`. */
export async function listOffsets(
  cluster: LeaderCluster,
  topic: string,
  partitions: number[],
  earliest: boolean,
): Promise<Map<number, number>> {
  const res = await cluster.fetchTopicsOffset([
    { topic, partitions: partitions.map((partition) => ({ partition })), fromBeginning: earliest },
  ]);
  const out = new Map<number, number>();
  for (const t of res) {
    if (t.topic !== topic) continue;
    for (const p of t.partitions) out.set(p.partition, Number(p.offset));
  }
  return out;
}

/** One partition's part of a fetch response. */
export interface FetchedPartition {
  topic: string;
  partition: number;
  /** Records at or after the requested offset, control records and aborted transactions dropped. */
  records: ConsumedRecord[];
  highWatermark: number;
  /** Where the next fetch starts: after the last record the broker returned (skipped ones included). */
  nextOffset: number;
  /** Records the broker returned for the partition before filtering (0 after an empty long poll). */
  returned: number;
}

let batchClass: BatchClass | null = null;

/** Fetches from one leader the partitions at the given offsets (key: topic, then partition). */
export async function fetchFromLeader(
  broker: LeaderBroker,
  positions: { topic: string; partition: number; offset: number }[],
  maxWaitTime: number,
): Promise<FetchedPartition[]> {
  batchClass ??= require("kafkajs/src/consumer/batch.js") as BatchClass;
  const byTopic = new Map<string, { partition: number; fetchOffset: string; maxBytes: number }[]>();
  const wanted = new Map<string, number>();
  for (const p of positions) {
    const list = byTopic.get(p.topic) ?? [];
    list.push({ partition: p.partition, fetchOffset: String(p.offset), maxBytes: 4 << 20 });
    byTopic.set(p.topic, list);
    wanted.set(`${p.partition}\u0000${p.topic}`, p.offset);
  }
  const res = await broker.fetch({
    isolationLevel: READ_COMMITTED,
    maxWaitTime,
    minBytes: 1,
    maxBytes: 16 << 20,
    topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
  });
  const out: FetchedPartition[] = [];
  for (const t of res.responses) {
    for (const data of t.partitions) {
      const from = wanted.get(`${data.partition}\u0000${t.topicName}`);
      if (from === undefined) continue;
      const batch = new batchClass(t.topicName, String(from), data);
      let next = from;
      for (const m of batch.rawMessages) next = Math.max(next, Number(m.offset) + 1);
      out.push({
        topic: t.topicName,
        partition: data.partition,
        records: batch.messages.map((m) => toRecord(t.topicName, data.partition, m)),
        highWatermark: Number(data.highWatermark),
        nextOffset: next,
        returned: batch.rawMessages.length,
      });
    }
  }
  return out;
}
