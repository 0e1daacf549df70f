/**
 * Topic and group administration on Kafka through kafkajs's admin client, with the same outcomes as the
 * embedded broker: creating an existing topic is a no-op, a missing topic is `UNKNOWN_TOPIC` (fast, never
 * after kafkajs's retries), and committed offsets are only overwritten while the group has no members
 * (`GROUP_NOT_EMPTY`).
 *
 * kafkajs caches every topic an admin call ever named and refreshes metadata for all of them; once one of
 * them is deleted elsewhere, every later call of that client fails with UNKNOWN_TOPIC_OR_PARTITION. Calls
 * that name topics therefore retry once on a fresh client when that happens.
 */
import {
  type Admin as KafkaJsAdmin,
  type Cluster,
  ConfigResourceTypes,
  type Consumer as KafkaJsConsumer,
} from "kafkajs";
import { LzError } from "../../errors.ts";
import type {
  Admin,
  GroupDescription,
  GroupOffset,
  PartitionOffsets,
  TopicDescription,
  TopicSpec,
} from "../types.ts";
import type { KafkaAdminHandle, KafkaContext } from "./context.ts";
import { isMetadataNotLoaded, kafkaErrorType, toLzError } from "./errors.ts";
import { capturingAssigner, commitAsEmptyGroup, type CommitTopics, decodeAssignment } from "./internals.ts";

/** Prefix of the throw-away groups readers joined before they read group-less: still hidden from `listGroups`. */
export const READER_GROUP_PREFIX = "lzsync-reader-";

const byTopicPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }) =>
  a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1;

/** Errors of a partition whose leadership is settling (retried by admin calls, about 3 s in all). */
const LEADER_MOVING = new Set(["NOT_LEADER_FOR_PARTITION", "NOT_LEADER_OR_FOLLOWER", "LEADER_NOT_AVAILABLE"]);

/** Creates the admin handle; nothing connects until the first call. */
export function createKafkaAdmin(ctx: KafkaContext): KafkaAdminHandle {
  let client: KafkaJsAdmin | null = null;
  let connecting: Promise<KafkaJsAdmin> | null = null;
  // A never-run consumer whose cluster we use for OffsetCommit on empty groups (see kafka/internals.ts).
  let offsets: { consumer: KafkaJsConsumer; cluster: Promise<Cluster> } | null = null;
  let closed = false;

  const connect = (): Promise<KafkaJsAdmin> => {
    if (closed) {
      return Promise.reject(new LzError("BROKER_CLOSED", `the Kafka admin (${ctx.address}) is closed`));
    }
    connecting ??= (async () => {
      const a = ctx.kafka.admin({ retry: ctx.retry });
      await ctx.connect("connect the admin client", () => a.connect(), () => a.disconnect());
      client = a;
      return a;
    })().catch((err) => {
      connecting = null;
      throw err;
    });
    return connecting;
  };

  const reset = async () => {
    const old = client;
    client = null;
    connecting = null;
    await old?.disconnect().catch(() => {});
  };

  /** Runs `fn` on the admin; on a stale-topic error, once more on a fresh client. */
  const call = async <T>(action: string, fn: (a: KafkaJsAdmin) => Promise<T>): Promise<T> => {
    for (let attempt = 0;; attempt++) {
      const a = await connect();
      try {
        return await fn(a);
      } catch (err) {
        if (err instanceof LzError) throw err;
        const type = kafkaErrorType(err);
        if (attempt === 0 && type === "UNKNOWN_TOPIC_OR_PARTITION") {
          await reset();
          continue;
        }
        // A partition just created (or just moved) may answer "not the leader" until the broker has loaded
        // it, even after CreateTopics waited for leaders: refresh the metadata and ask again, briefly.
        // Same for a topic whose metadata the client has not loaded yet (seen reading the offsets of a
        // topic a moment after its creation, in the Kafka crash test's digest check).
        if ((LEADER_MOVING.has(type ?? "") || isMetadataNotLoaded(err)) && attempt < 8) {
          await reset();
          await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** attempt)));
          continue;
        }
        throw toLzError(err, ctx.address, action);
      }
    }
  };

  const allTopics = (action: string) =>
    call(action, async (a) => (await a.fetchTopicMetadata()).topics.filter((t) => !t.name.startsWith("__")));

  const topicNames = async () => new Set((await allTopics("list topics")).map((t) => t.name));

  const unknownTopic = (name: string) =>
    new LzError(
      "UNKNOWN_TOPIC",
      `topic ${name} does not exist on Kafka at ${ctx.address}; create it first (lzsync topics create)`,
      {
        detail: { topic: name },
      },
    );

  /** The partition ids of `topic`, or UNKNOWN_TOPIC. */
  const partitionsOf = async (topic: string): Promise<number[]> => {
    const t = (await allTopics(`describe topic ${topic}`)).find((x) => x.name === topic);
    if (!t) throw unknownTopic(topic);
    return t.partitions.map((p) => p.partitionId).sort((x, y) => x - y);
  };

  const offsetsCluster = (): Promise<Cluster> => {
    if (!offsets) {
      let resolve!: (c: Cluster) => void;
      const cluster = new Promise<Cluster>((r) => (resolve = r));
      const consumer = ctx.kafka.consumer({
        groupId: "lzsync-admin-offsets",
        partitionAssigners: [capturingAssigner(resolve)],
        retry: ctx.retry,
      });
      offsets = { consumer, cluster };
      const mine = offsets;
      return ctx.connect("connect the offsets client", () => consumer.connect(), () => consumer.disconnect())
        .then(() => mine.cluster)
        .catch((err) => {
          if (offsets === mine) offsets = null;
          throw err;
        });
    }
    return offsets.cluster;
  };

  const describeGroup = (groupId: string): Promise<GroupDescription> =>
    call(`describe group ${groupId}`, async (a) => {
      const { groups } = await a.describeGroups([groupId]);
      const g = groups.find((x) => x.groupId === groupId);
      if (!g) return { groupId, state: "Dead", members: [] };
      return {
        groupId,
        state: g.state,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          assignments: Object.entries(decodeAssignment(m.memberAssignment))
            .flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })))
            .sort(byTopicPartition),
        })),
      };
    });

  const api: Admin = {
    async createTopics(specs: TopicSpec[]) {
      if (specs.length === 0) return;
      for (const s of specs) {
        const p = s.partitions ?? 1;
        if (!Number.isInteger(p) || p < 1) {
          throw new LzError(
            "INVALID_TOPIC",
            `topic ${s.name}: partitions must be a positive integer, got ${p}`,
          );
        }
      }
      const existing = await topicNames();
      const missing = specs.filter((s) => !existing.has(s.name));
      if (missing.length === 0) return;
      await call(`create topics ${missing.map((s) => s.name).join(", ")}`, (a) =>
        a.createTopics({
          waitForLeaders: true,
          timeout: 15_000,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions ?? 1,
            replicationFactor: -1,
            configEntries: Object.entries({
              ...(s.config ?? {}),
              ...(s.compacted ? { "cleanup.policy": "compact" } : {}),
            }).map(([name, value]) => ({ name, value: String(value) })),
          })),
        }));
      // Another client may have created some of them first (kafkajs then skips the leader wait).
      const names = missing.map((s) => s.name);
      for (let i = 0; i < 100; i++) {
        const ready = (await allTopics("wait for new topics")).filter((t) =>
          names.includes(t.name) && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)
        );
        if (ready.length === names.length) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new LzError(
        "TOPIC_NOT_READY",
        `topics ${names.join(", ")} have no partition leaders after 10 s`,
        {
          retriable: true,
        },
      );
    },

    async listTopics() {
      return [...await topicNames()].sort();
    },

    async describeTopic(name: string): Promise<TopicDescription> {
      const partitions = (await partitionsOf(name)).length;
      const res = await call(
        `describe topic ${name}`,
        (a) =>
          a.describeConfigs({
            includeSynonyms: false,
            resources: [{ type: ConfigResourceTypes.TOPIC, name }],
          }),
      );
      const entries = res.resources.find((r) => r.resourceName === name)?.configEntries ?? [];
      const config: Record<string, string> = {};
      for (const e of entries) {
        // Topic-level overrides (configSource 1 = TOPIC_CONFIG) plus the effective cleanup policy.
        if ((e.configSource as number) === 1 || e.configName === "cleanup.policy") {
          config[e.configName] = e.configValue;
        }
      }
      const policy = config["cleanup.policy"] ?? "delete";
      return { name, partitions, compacted: policy.split(",").includes("compact"), config };
    },

    async deleteTopics(names: string[]) {
      const existing = await topicNames();
      const present = names.filter((n) => existing.has(n));
      if (present.length === 0) return;
      await call(
        `delete topics ${present.join(", ")}`,
        (a) => a.deleteTopics({ topics: present, timeout: 15_000 }),
      );
    },

    async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
      await partitionsOf(topic);
      const res = await call(`read offsets of ${topic}`, (a) => a.fetchTopicOffsets(topic));
      return res.map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
        .sort((a, b) => a.partition - b.partition);
    },

    async offsetsForTimestamp(topic: string, timestamp: number): Promise<GroupOffset[]> {
      await partitionsOf(topic);
      const res = await call(
        `find offsets of ${topic} at ${new Date(timestamp).toISOString()}`,
        (a) => a.fetchTopicOffsetsByTimestamp(topic, timestamp),
      );
      return res.map((o) => ({ topic, partition: o.partition, offset: Number(o.offset) }))
        .sort((a, b) => a.partition - b.partition);
    },

    async fetchCommitted(groupId: string, topics?: string[]): Promise<GroupOffset[]> {
      let wanted = topics;
      if (wanted) {
        const existing = await topicNames();
        wanted = wanted.filter((t) => existing.has(t));
        if (wanted.length === 0) return [];
      }
      const res = await call(
        `read committed offsets of group ${groupId}`,
        (a) => a.fetchOffsets({ groupId, ...(wanted ? { topics: wanted } : {}) }),
      );
      return res.flatMap(({ topic, partitions }) =>
        partitions.filter((p) => Number(p.offset) >= 0).map((p) => ({
          topic,
          partition: p.partition,
          offset: Number(p.offset),
        }))
      ).sort(byTopicPartition);
    },

    async setCommitted(groupId: string, offsetList: GroupOffset[]) {
      const notEmpty = (members: number, cause?: unknown) =>
        new LzError(
          "GROUP_NOT_EMPTY",
          `group ${groupId} has ${members || "active"} member(s); stop them before resetting its offsets`,
          { cause, detail: { groupId, members } },
        );
      const current = await describeGroup(groupId);
      if (current.members.length > 0) throw notEmpty(current.members.length);
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      const existing = new Map<string, number[]>();
      for (const o of offsetList) {
        if (!existing.has(o.topic)) existing.set(o.topic, await partitionsOf(o.topic));
        if (!existing.get(o.topic)!.includes(o.partition)) {
          throw new LzError("UNKNOWN_PARTITION", `topic ${o.topic} has no partition ${o.partition}`);
        }
        if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
          throw new LzError(
            "INVALID_OFFSET",
            `offset ${o.offset} for ${o.topic}:${o.partition} is not valid`,
          );
        }
        const list = byTopic.get(o.topic) ?? [];
        list.push({ partition: o.partition, offset: String(o.offset) });
        byTopic.set(o.topic, list);
      }
      if (byTopic.size === 0) return;
      const topics: CommitTopics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
      const cluster = await offsetsCluster();
      try {
        await commitAsEmptyGroup(cluster, groupId, topics);
      } catch (err) {
        const type = kafkaErrorType(err);
        if (
          type === "UNKNOWN_MEMBER_ID" || type === "ILLEGAL_GENERATION" || type === "REBALANCE_IN_PROGRESS"
        ) {
          throw notEmpty(0, err);
        }
        throw toLzError(err, ctx.address, `set committed offsets of group ${groupId}`);
      }
    },

    describeGroup,

    async listGroups(): Promise<string[]> {
      const { groups } = await call("list groups", (a) => a.listGroups());
      return groups.map((g) => g.groupId).filter((g) => !g.startsWith(READER_GROUP_PREFIX)).sort();
    },
  };

  return {
    api,
    async ready() {
      await connect();
      await allTopics("read cluster metadata");
    },
    topicNames,
    async partitionCounts() {
      return new Map((await allTopics("list topics")).map((t) => [t.name, t.partitions.length]));
    },
    async maxMessageBytes(topics: string[]) {
      const out = new Map<string, number>();
      if (topics.length === 0) return out;
      const res = await call(`read max.message.bytes of ${topics.join(", ")}`, (a) =>
        a.describeConfigs({
          includeSynonyms: false,
          resources: topics.map((name) => ({
            type: ConfigResourceTypes.TOPIC,
            name,
            configNames: ["max.message.bytes"],
          })),
        }));
      for (const r of res.resources) {
        const v = Number(r.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue);
        if (Number.isInteger(v) && v > 0) out.set(r.resourceName, v);
      }
      return out;
    },
    async deleteGroup(groupId: string) {
      try {
        await call(`delete group ${groupId}`, (a) => a.deleteGroups([groupId]));
      } catch (err) {
        const type = kafkaErrorType((err as LzError).cause ?? err);
        if (type === "GROUP_ID_NOT_FOUND") return;
        throw err;
      }
    },
    async close() {
      closed = true;
      const o = offsets;
      offsets = null;
      await Promise.allSettled([reset(), o?.consumer.disconnect()]);
    },
  };
}
