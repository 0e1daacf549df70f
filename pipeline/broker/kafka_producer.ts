/**
 * The Kafka producer: kafkajs's idempotent producer (acks=all, one request in flight), keys partitioned by
 * kafkajs's DefaultPartitioner (murmur2, the same numbers as the embedded broker), and per-record metadata
 * computed from the base offset kafkajs reports per partition.
 *
 * While the broker is unreachable, `send` retries the same records with backoff until `deliveryTimeoutMs`;
 * resending the same records with the same sequence numbers lets the broker drop a copy that did land. When
 * a send finally fails, the kafkajs producer is replaced, so later records can never reuse the sequence
 * numbers of a write whose outcome is unknown (the broker would take them for duplicates and drop them).
 */
import { Buffer } from "node:buffer";
import { type Message, type PartitionerArgs, Partitioners, type Producer as KafkaJsProducer } from "kafkajs";
import { LzError } from "../errors.ts";
import type { Producer, ProduceRecord, RecordMetadata } from "./types.ts";
import type { KafkaContext } from "./kafka.ts";
import { backoffMs, isUnreachable, kafkaErrorType, sleep, toLzError } from "./kafka_errors.ts";

/**
 * Records per kafkajs `send`. kafkajs groups a send's messages per partition by copying the partition's
 * array for every message (quadratic), so very large sends are split.
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

/** Opens a producer (bounded connect). */
export async function createKafkaProducer(ctx: KafkaContext): Promise<Producer> {
  // The partition kafkajs chose for each message object; a retry reuses it (null keys are round-robin).
  const chosen = new WeakMap<object, number>();
  const partitioner = () => {
    const byDefault = Partitioners.DefaultPartitioner();
    return (args: PartitionerArgs): number => {
      const known = chosen.get(args.message);
      if (known !== undefined) return known;
      const { partition } = args.message;
      if (partition !== undefined && partition !== null) {
        if (!Number.isInteger(partition) || partition < 0 || partition >= args.partitionMetadata.length) {
          // A RangeError makes kafkajs give up at once instead of retrying.
          throw new RangeError(`topic ${args.topic} has no partition ${partition}`);
        }
      }
      const p = byDefault(args);
      chosen.set(args.message, p);
      return p;
    };
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
  const knownTopics = new Set<string>();
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const replaceClient = async () => {
    const old = client;
    await old.disconnect().catch(() => {});
    client = await open();
  };

  const sendChunk = async (topic: string, records: ProduceRecord[]): Promise<RecordMetadata[]> => {
    const messages = records.map(toMessage);
    const deadline = Date.now() + ctx.deliveryTimeoutMs;
    for (let attempt = 0;; attempt++) {
      try {
        const res = await client.send({ topic, messages, acks: -1 });
        return assignOffsets(topic, messages.map((m) => chosen.get(m)!), res);
      } catch (err) {
        if (err instanceof RangeError || (err as { cause?: unknown }).cause instanceof RangeError) {
          const e = err instanceof RangeError ? err : (err as { cause: RangeError }).cause;
          throw new LzError("UNKNOWN_PARTITION", e.message, { detail: { topic } });
        }
        const type = kafkaErrorType(err);
        if (type && PRODUCER_STATE_ERRORS.has(type) && Date.now() < deadline) {
          ctx.log.warn("producer state lost on the broker; continuing with a new producer id", {
            topic,
            error: type,
          });
          await replaceClient();
          continue;
        }
        if (type === "UNKNOWN_TOPIC_OR_PARTITION" && !(await ctx.admin().topicNames()).has(topic)) {
          knownTopics.delete(topic);
          await replaceClient();
          throw unknownTopic(topic);
        }
        if (
          (isUnreachable(err) || type === "UNKNOWN_TOPIC_OR_PARTITION") && Date.now() < deadline && !closed
        ) {
          const wait = backoffMs(attempt);
          ctx.log.warn("send failed, retrying", {
            topic,
            attempt,
            retryInMs: wait,
            error: toLzError(err, ctx.address, "send").message,
          });
          await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
          // A deleted topic kafkajs still tracks poisons every send: start from a clean client.
          if (type === "UNKNOWN_TOPIC_OR_PARTITION") await replaceClient().catch(() => {});
          continue;
        }
        await replaceClient().catch(() => {});
        throw toLzError(err, ctx.address, `send ${records.length} record(s) to ${topic}`);
      }
    }
  };

  const unknownTopic = (topic: string) =>
    new LzError(
      "UNKNOWN_TOPIC",
      `topic ${topic} does not exist on Kafka at ${ctx.address}; create it first (lzsync topics create)`,
      {
        detail: { topic },
      },
    );

  const doSend = async (topic: string, records: ProduceRecord[]): Promise<RecordMetadata[]> => {
    if (closed) throw new LzError("PRODUCER_CLOSED", "send on a closed producer");
    if (records.length === 0) return [];
    if (!knownTopics.has(topic)) {
      if (!(await ctx.admin().topicNames()).has(topic)) throw unknownTopic(topic);
      knownTopics.add(topic);
    }
    if (records.length <= SEND_CHUNK) return await sendChunk(topic, records);
    const out: RecordMetadata[] = [];
    for (let i = 0; i < records.length; i += SEND_CHUNK) {
      out.push(...await sendChunk(topic, records.slice(i, i + SEND_CHUNK)));
    }
    return out;
  };

  const producer: Producer & { stop(): Promise<void> } = {
    send(topic, records) {
      // Sends run one after another: their order is the order on the partitions.
      const p = queue.then(() => doSend(topic, records));
      queue = p.catch(() => {});
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
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
