/**
 * A group-less reader of whole topics on Kafka. kafkajs cannot assign partitions by hand, so a reader is a
 * lone member of a throw-away consumer group (`lzsync-reader-<uuid>`, hidden from `listGroups`) that never
 * commits. Start positions other than "earliest" are written as the group's committed offsets before it
 * joins (the group is new and empty, so no seek races the first fetch), clamped to what the partitions
 * hold. The group is deleted on `stop()` (best effort).
 */
import type { Batch, GroupOffset, Reader, ReaderOptions } from "./types.ts";
import { LzError } from "../errors.ts";
import type { KafkaContext } from "./kafka.ts";
import { READER_GROUP_PREFIX } from "./kafka_admin.ts";
import { KafkaConsumer } from "./kafka_consumer.ts";
import { commitAsEmptyGroup, type CommitTopics } from "./kafka_internals.ts";
import { toLzError } from "./kafka_errors.ts";

/** Start offsets for `from`, clamped to [low, high] of each partition; none for "earliest". */
async function startOffsets(ctx: KafkaContext, opts: ReaderOptions): Promise<GroupOffset[]> {
  const from = opts.from ?? "earliest";
  if (from === "earliest") return [];
  const explicit = Array.isArray(from)
    ? new Map(from.map((o) => [`${o.topic}\u0000${o.partition}`, o.offset]))
    : null;
  const out: GroupOffset[] = [];
  for (const topic of opts.topics) {
    for (const p of await ctx.admin().api.topicOffsets(topic)) {
      const wanted = explicit ? explicit.get(`${topic}\u0000${p.partition}`) : p.high;
      if (wanted === undefined) continue; // not listed: earliest
      out.push({ topic, partition: p.partition, offset: Math.min(Math.max(wanted, p.low), p.high) });
    }
  }
  return out;
}

/** A reader on Kafka (see the module comment). */
export class KafkaReader implements Reader {
  readonly #ctx: KafkaContext;
  readonly #opts: ReaderOptions;
  #consumer: KafkaConsumer | null = null;
  #stopping: Promise<void> | null = null;

  constructor(ctx: KafkaContext, opts: ReaderOptions) {
    this.#ctx = ctx;
    this.#opts = opts;
  }

  async run(eachBatch: (batch: Batch) => Promise<void>): Promise<void> {
    if (this.#consumer) throw new LzError("ALREADY_RUNNING", "reader is already running");
    if (this.#stopping) throw new LzError("STOPPED", "reader was stopped");
    const ctx = this.#ctx;
    const groupId = `${READER_GROUP_PREFIX}${crypto.randomUUID()}`;
    let starts: GroupOffset[] = [];
    const consumer = new KafkaConsumer(ctx, {
      groupId,
      topics: this.#opts.topics,
      fromBeginning: true,
      clientId: ctx.clientId,
    }, {
      ns: "reader",
      beforeRun: async (cluster) => {
        if (starts.length === 0) return;
        const byTopic = new Map<string, { partition: number; offset: string }[]>();
        for (const o of starts) {
          byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), {
            partition: o.partition,
            offset: String(o.offset),
          }]);
        }
        const topics: CommitTopics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
        try {
          await commitAsEmptyGroup(cluster, groupId, topics);
        } catch (err) {
          throw toLzError(err, ctx.address, "set the reader's start offsets");
        }
      },
      afterStop: async () => await ctx.admin().deleteGroup(groupId),
    });
    this.#consumer = consumer;
    starts = await startOffsets(ctx, this.#opts);
    await consumer.run({ eachBatch });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#consumer ? this.#consumer.stop() : Promise.resolve();
    return this.#stopping;
  }
}
