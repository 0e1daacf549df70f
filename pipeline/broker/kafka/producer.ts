/**
 * The Kafka producer: kafkajs's idempotent producer (acks=all, one request in flight), keys partitioned by
 * Kafka's default partitioner (murmur2 from ./murmur2.ts, cross-checked against kafkajs's: the same numbers
 * as the embedded broker and the Java client), and per-record metadata computed from the base offset
 * kafkajs reports per partition.
 *
 * Sends are queued and go out one request at a time, in call order; whatever queued up while a request
 * was in flight goes out together in the next one (one `sendBatch` over all their topics), so concurrent
 * callers — e.g. several partitions checkpointing at once — share round trips.
 *
 * While the broker is unreachable, `send` retries the same records with backoff until `deliveryTimeoutMs`;
 * resending the same records with the same sequence numbers lets the broker drop a copy that did land. When
 * a send finally fails, the kafkajs producer is replaced, so later records can never reuse the sequence
 * numbers of a write whose outcome is unknown (the broker would take them for duplicates and drop them).
 *
 * Requests are split by bytes so that no partition's batch exceeds its topic's `max.message.bytes` (read
 * from the broker with the partition counts, re-read after a MESSAGE_TOO_LARGE). A send holding a record
 * that can never fit is refused before anything of it is written: {@link RECORD_TOO_LARGE} with the
 * indices of those records in `detail.indices`, so the caller can route them to the DLQ and send the rest.
 */
import { Buffer } from "node:buffer";
import type {
  Message,
  PartitionerArgs,
  Producer as KafkaJsProducer,
  RecordMetadata as SentBatch,
} from "kafkajs";
import { LzError } from "../../errors.ts";
import { type Producer, type ProduceRecord, RECORD_TOO_LARGE, type RecordMetadata } from "../types.ts";
import type { KafkaContext } from "./context.ts";
import { backoffMs, isUnreachable, kafkaErrorType, sleep, toLzError } from "./errors.ts";
import { DefaultPartitioner, partitionForKey } from "../murmur2.ts";
import { DEFAULT_MAX_MESSAGE_BYTES, neverFits, recordBytes, splitByBytes } from "./sizes.ts";
import { linearGrouping } from "./grouping.ts";

/**
 * Records per kafkajs `send`. kafkajs groups a send's messages per partition by copying the partition's
 * array for every message (quadratic; see grouping.ts for the linear grouping used while kafkajs has that
 * shape), so very large sends are split.
 */
export const SEND_CHUNK = 2_000;

/** A view of `u8`'s bytes as a Node Buffer (kafkajs writes anything else with `String(value)`). */
export function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** The kafkajs message for one record. */
export function toMessage(r: ProduceRecord): Message {
  const m: Message = { key: r.key, value: r.value === null ? null : toBuffer(r.value) };
  if (r.headers && Object.keys(r.headers).length > 0) m.headers = { ...r.headers };
  if (r.timestamp !== undefined) m.timestamp = String(r.timestamp);
  if (r.partition !== undefined) m.partition = r.partition;
  return m;
}

/**
 * Each record's offset from kafkajs's per-partition base offsets: records of one partition are appended in
 * input order, so the i-th record of partition p gets `base[p] + i`.
 */
export function assignOffsets(
  topic: string,
  partitions: number[],
  bases: { partition: number; baseOffset?: string | number }[],
): RecordMetadata[] {
  const next = new Map<number, number>();
  for (const b of bases) if (b.baseOffset !== undefined) next.set(b.partition, Number(b.baseOffset));
  return partitions.map((partition) => {
    const offset = next.get(partition);
    if (offset === undefined || offset < 0) {
      throw new LzError("KAFKA_PROTOCOL", `no base offset reported for ${topic}:${partition}`, {
        retriable: false,
      });
    }
    next.set(partition, offset + 1);
    return { topic, partition, offset };
  });
}

/** Kafka producer-state errors after which a fresh producer id is the way on. */
const PRODUCER_STATE_ERRORS = new Set([
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
  "INVALID_PRODUCER_EPOCH",
  "INVALID_PRODUCER_ID_MAPPING",
]);

/** One `send` call waiting for its records to be acknowledged. */
export interface SendJob {
  topic: string;
  records: ProduceRecord[];
  resolve(m: RecordMetadata[]): void;
  reject(err: unknown): void;
}

/**
 * Takes the jobs for the next request off the front of `queue`: as many as fit in `limit` records (always at
 * least one; a job larger than `limit` goes alone and is split by the caller).
 */
export function takeBatch(queue: SendJob[], limit: number): SendJob[] {
  let n = 0;
  let i = 0;
  while (i < queue.length && (i === 0 || n + queue[i].records.length <= limit)) {
    n += queue[i].records.length;
    i++;
    if (n > limit) break;
  }
  return queue.splice(0, i);
}

/** Opens a producer (bounded connect). */
export async function createKafkaProducer(ctx: KafkaContext): Promise<Producer> {
  // Every message carries its partition, chosen here before kafkajs sees it: keys by Kafka's murmur2 (the
  // allocation-free one the embedded broker uses; kafkajs's copies each key into a new Buffer), null keys
  // round-robin. kafkajs's partitioner then only checks it.
  const roundRobin = new DefaultPartitioner();
  const partitioner = () => (args: PartitionerArgs): number => {
    const { partition } = args.message;
    if (partition === undefined || partition === null || partition >= args.partitionMetadata.length) {
      // A RangeError makes kafkajs give up at once instead of retrying.
      throw new RangeError(`topic ${args.topic} has no partition ${partition}`);
    }
    return partition;
  };

  const open = async (): Promise<KafkaJsProducer> => {
    const p = ctx.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: partitioner,
      retry: ctx.retry,
    });
    await ctx.connect("connect the producer", () => p.connect(), () => p.disconnect());
    return p;
  };

  let client: KafkaJsProducer = await open();
  /** Partition counts of topics we have sent to (checked once; refreshed when a partition is missing). */
  const partitionCounts = new Map<string, number>();
  /** Effective `max.message.bytes` per topic (read with the partition counts). */
  const limits = new Map<string, number>();
  const limitOf = (topic: string) => limits.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
  let countsAt = 0; // re-read at most every minute, so added partitions are used (as kafkajs's metadata does)
  const queue: SendJob[] = [];
  let draining: Promise<void> | null = null;
  let closed = false;

  const replaceClient = async () => {
    const old = client;
    await old.disconnect().catch(() => {});
    client = await open();
  };

  const unknownTopic = (topic: string) =>
    new LzError(
      "UNKNOWN_TOPIC",
      `topic ${topic} does not exist on Kafka at ${ctx.address}; create it first (lzsync topics create)`,
      { detail: { topic } },
    );

  /** Rejects (and drops) jobs for missing topics or partitions; returns the jobs that may be sent. */
  const validate = async (jobs: SendJob[], refresh = false): Promise<SendJob[]> => {
    const maxPartition = (j: SendJob) => j.records.reduce((m, r) => Math.max(m, r.partition ?? -1), -1);
    const needs = jobs.some((j) =>
      !partitionCounts.has(j.topic) || maxPartition(j) >= partitionCounts.get(j.topic)!
    );
    if (needs || refresh || Date.now() - countsAt > 60_000) {
      const deadline = Date.now() + ctx.deliveryTimeoutMs;
      for (let attempt = 0;; attempt++) {
        try {
          const fresh = await ctx.admin().partitionCounts();
          countsAt = Date.now();
          partitionCounts.clear();
          for (const [t, n] of fresh) partitionCounts.set(t, n);
          await readLimits([...new Set(jobs.map((j) => j.topic))].filter((t) => fresh.has(t)), true);
          break;
        } catch (err) {
          // Counts we already have stay good enough while the broker is away; unknown ones must wait for it.
          if (!needs && !refresh) break;
          if (!(err instanceof LzError) || !err.retriable || Date.now() >= deadline || closed) throw err;
          const wait = backoffMs(attempt);
          ctx.log.warn("cannot read topic metadata, retrying", {
            attempt,
            retryInMs: wait,
            error: err.message,
          });
          await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
        }
      }
    }
    const unread = [...new Set(jobs.map((j) => j.topic))].filter((t) =>
      partitionCounts.has(t) && !limits.has(t)
    );
    await readLimits(unread, false);
    return jobs.filter((j) => {
      const count = partitionCounts.get(j.topic);
      if (count === undefined) {
        j.reject(unknownTopic(j.topic));
        return false;
      }
      const bad = j.records.find((r) =>
        r.partition !== undefined &&
        (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= count)
      );
      if (bad) {
        j.reject(
          new LzError("UNKNOWN_PARTITION", `topic ${j.topic} has no partition ${bad.partition}`, {
            detail: { topic: j.topic, partition: bad.partition },
          }),
        );
        return false;
      }
      const limit = limitOf(j.topic);
      const indices: number[] = [];
      let largest = 0;
      j.records.forEach((r, i) => {
        const b = recordBytes(r);
        if (neverFits(b, limit)) indices.push(i), largest = Math.max(largest, b);
      });
      if (indices.length) {
        j.reject(
          new LzError(
            RECORD_TOO_LARGE,
            `${indices.length} record(s) for ${j.topic} can never be written: the largest takes ${largest} ` +
              `bytes, over the topic's max.message.bytes of ${limit} on Kafka at ${ctx.address}; nothing of ` +
              `this send was written (raise max.message.bytes of ${j.topic}, or send smaller records)`,
            { retriable: false, detail: { topic: j.topic, indices, limit } },
          ),
        );
        return false;
      }
      return true;
    });
  };

  /** Reads `max.message.bytes` of `topics`; a failure keeps what we had (or the broker default). */
  const readLimits = async (topics: string[], all: boolean): Promise<void> => {
    const want = all ? topics : topics.filter((t) => !limits.has(t));
    if (!want.length) return;
    try {
      for (const [t, v] of await ctx.admin().maxMessageBytes(want)) limits.set(t, v);
    } catch (err) {
      ctx.log.warn("cannot read max.message.bytes; assuming the broker default", {
        topics: want,
        default: DEFAULT_MAX_MESSAGE_BYTES,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    for (const t of want) if (!limits.has(t)) limits.set(t, DEFAULT_MAX_MESSAGE_BYTES);
  };

  /**
   * Sends the records of `jobs` in one request (retrying while the broker is unreachable, up to the
   * delivery timeout) and returns each job's metadata. Throws {@link TopicVanished} when a topic was
   * deleted meanwhile (its jobs are rejected; the caller sends the others again).
   */
  const sendTogether = async (jobs: SendJob[]): Promise<RecordMetadata[][]> => {
    const sizes = new Map<Message, number>();
    const perJob = jobs.map((j) => {
      const count = partitionCounts.get(j.topic)!;
      return j.records.map((r) => {
        const m = toMessage(r);
        m.partition ??= r.key === null
          ? roundRobin.partition(j.topic, null, count)
          : partitionForKey(r.key, count);
        sizes.set(m, recordBytes(r));
        return m;
      });
    });
    const byTopic = new Map<string, Message[]>();
    for (let i = 0; i < jobs.length; i++) {
      const l = byTopic.get(jobs[i].topic);
      if (l) l.push(...perJob[i]);
      else byTopic.set(jobs[i].topic, [...perJob[i]]);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const metaByTopic = new Map<string, RecordMetadata[]>();
    for (const request of splitByBytes(topicMessages, (m) => sizes.get(m)!, limitOf)) {
      const res = await sendRequest(request, jobs);
      for (const { topic, messages } of request) {
        const bases = res.filter((r) => r.topicName === topic);
        const metas = assignOffsets(topic, messages.map((m) => m.partition!), bases);
        const l = metaByTopic.get(topic);
        if (l) l.push(...metas);
        else metaByTopic.set(topic, metas);
      }
    }
    const cursor = new Map<string, number>();
    return jobs.map((j) => {
      const at = cursor.get(j.topic) ?? 0;
      cursor.set(j.topic, at + j.records.length);
      return metaByTopic.get(j.topic)!.slice(at, at + j.records.length);
    });
  };

  /** Sends one request (its batches within the byte limits), retrying as {@link sendTogether} says. */
  const sendRequest = async (
    topicMessages: { topic: string; messages: Message[] }[],
    jobs: SendJob[],
  ): Promise<SentBatch[]> => {
    const topics = topicMessages.map((t) => t.topic);
    const what = `send ${topicMessages.reduce((n, t) => n + t.messages.length, 0)} record(s) to ${
      topics.join(", ")
    }`;
    const deadline = Date.now() + ctx.deliveryTimeoutMs;
    for (const t of topicMessages) linearGrouping(t.messages); // kafkajs's own is quadratic (grouping.ts)
    for (let attempt = 0;; attempt++) {
      try {
        return await client.sendBatch({ topicMessages, acks: -1 });
      } catch (err) {
        const range = err instanceof RangeError ? err : (err as { cause?: unknown }).cause;
        if (range instanceof RangeError) {
          throw new LzError("UNKNOWN_PARTITION", range.message, { detail: { action: what } });
        }
        const type = kafkaErrorType(err);
        if (type && PRODUCER_STATE_ERRORS.has(type) && Date.now() < deadline) {
          ctx.log.warn("producer state lost on the broker; continuing with a new producer id", {
            error: type,
          });
          await replaceClient();
          continue;
        }
        if (
          (isUnreachable(err) || type === "UNKNOWN_TOPIC_OR_PARTITION") && Date.now() < deadline && !closed
        ) {
          const wait = backoffMs(attempt);
          ctx.log.warn("send failed, retrying", {
            topics,
            attempt,
            retryInMs: wait,
            error: toLzError(err, ctx.address, what).message,
          });
          await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
          // A deleted topic that kafkajs still tracks poisons every later send: start from a clean client.
          if (type === "UNKNOWN_TOPIC_OR_PARTITION") {
            await replaceClient().catch(() => {});
            const still = await validate(jobs, true).catch(() => jobs);
            if (still.length < jobs.length) throw new TopicVanished();
          }
          continue;
        }
        // The outcome is unknown: never let later records reuse these sequence numbers.
        await replaceClient().catch(() => {});
        if (type === "MESSAGE_TOO_LARGE" || type === "RECORD_LIST_TOO_LARGE") {
          // The topic's limit changed under us: re-read it, and let the caller retry with the new split.
          for (const t of topics) limits.delete(t);
          throw new LzError(
            "KAFKA_MESSAGE_TOO_LARGE",
            `${what}: the broker refused a batch as larger than max.message.bytes; the limits are re-read ` +
              `and the next attempt splits by them`,
            { cause: err, retriable: true, detail: { topics } },
          );
        }
        throw toLzError(err, ctx.address, what);
      }
    }
  };

  const drain = async () => {
    while (queue.length > 0) {
      const taken = takeBatch(queue, SEND_CHUNK);
      let batch: SendJob[];
      try {
        batch = await validate(taken);
      } catch (err) {
        for (const j of taken) j.reject(err);
        continue;
      }
      if (batch.length === 0) continue;
      try {
        if (batch.length === 1 && batch[0].records.length > SEND_CHUNK) {
          const [job] = batch;
          const out: RecordMetadata[] = [];
          for (let i = 0; i < job.records.length; i += SEND_CHUNK) {
            const part = { ...job, records: job.records.slice(i, i + SEND_CHUNK) };
            out.push(...(await sendTogether([part]))[0]);
          }
          job.resolve(out);
        } else {
          const metas = await sendTogether(batch);
          batch.forEach((j, i) => j.resolve(metas[i]));
        }
      } catch (err) {
        if (err instanceof TopicVanished) {
          // validate() rejected the jobs of the vanished topic; send the others again, first in line.
          queue.unshift(...batch.filter((j) => partitionCounts.has(j.topic)));
          continue;
        }
        for (const j of batch) j.reject(err);
      }
    }
  };

  const kick = () => {
    if (draining) return;
    draining = drain().finally(() => {
      draining = null;
      if (queue.length > 0) kick(); // queued between the loop's last check and now
    });
  };

  const producer: Producer & { stop(): Promise<void> } = {
    send(topic, records) {
      if (closed) return Promise.reject(new LzError("PRODUCER_CLOSED", "send on a closed producer"));
      if (records.length === 0) return Promise.resolve([]);
      const p = new Promise<RecordMetadata[]>((resolve, reject) =>
        queue.push({ topic, records, resolve, reject })
      );
      kick();
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      while (draining) await draining;
      ctx.untrack(producer);
      await client.disconnect().catch(() => {});
    },
    stop() {
      return producer.close();
    },
  };
  ctx.track(producer);
  return producer;
}

/** Signals that a topic disappeared during a send and the batch must be re-formed. */
class TopicVanished extends Error {}
