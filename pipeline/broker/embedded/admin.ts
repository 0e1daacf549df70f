/**
 * Topic and group administration of the embedded broker, with the same outcomes as on Kafka: creating an
 * existing topic is a no-op, a missing topic is `UNKNOWN_TOPIC`, and committed offsets can only be
 * overwritten while the group has no members (`GROUP_NOT_EMPTY`).
 */
import { LzError } from "../../errors.ts";
import type {
  Admin,
  GroupDescription,
  GroupOffset,
  PartitionOffsets,
  TopicDescription,
  TopicSpec,
} from "../types.ts";
import type { EmbeddedTopic } from "./log.ts";
import type { GroupCoordinator } from "./group.ts";

/** What the admin needs from the broker. */
export interface AdminCore {
  readonly groups: GroupCoordinator;
  readonly topics: Map<string, EmbeddedTopic>;
  requireTopic(name: string): EmbeddedTopic;
  createTopic(spec: TopicSpec): void;
  deleteTopic(name: string): void;
  /** Throws LzError `BROKER_CLOSED` once the broker is closed. */
  checkOpen(): void;
}

/** Creates the admin facade over a broker core. */
export function createEmbeddedAdmin(core: AdminCore): Admin {
  const guard = <T>(fn: () => T): Promise<T> => {
    try {
      core.checkOpen();
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return {
    createTopics: (specs: TopicSpec[]) =>
      guard(() => {
        for (const s of specs) if (!core.topics.has(s.name)) core.createTopic(s);
      }),
    listTopics: () => guard(() => [...core.topics.keys()].sort()),
    describeTopic: (name: string) =>
      guard((): TopicDescription => {
        const t = core.requireTopic(name);
        return {
          name: t.name,
          partitions: t.partitions.length,
          compacted: t.compacted,
          config: { ...t.config },
        };
      }),
    deleteTopics: (names: string[]) =>
      guard(() => {
        for (const n of names) if (core.topics.has(n)) core.deleteTopic(n);
      }),
    topicOffsets: (topic: string) =>
      guard((): PartitionOffsets[] =>
        core.requireTopic(topic).partitions.map((p) => ({ partition: p.partition, low: p.low, high: p.high }))
      ),
    offsetsForTimestamp: (topic: string, timestamp: number) =>
      guard((): GroupOffset[] =>
        core.requireTopic(topic).partitions.map((p) => ({
          topic,
          partition: p.partition,
          offset: p.offsetForTimestamp(timestamp),
        }))
      ),
    fetchCommitted: (groupId: string, topics?: string[]) =>
      guard((): GroupOffset[] => {
        const g = core.groups.groups.get(groupId);
        if (!g) return [];
        const wanted = topics ? new Set(topics) : null;
        return [...g.committed.values()]
          .filter((o) => !wanted || wanted.has(o.topic))
          .map((o) => ({ ...o }))
          .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
      }),
    setCommitted: (groupId: string, offsets: GroupOffset[]) =>
      guard(() => {
        const g = core.groups.groups.get(groupId);
        if (g && g.members.size > 0) {
          throw new LzError(
            "GROUP_NOT_EMPTY",
            `group ${groupId} has ${g.members.size} active member(s); stop them before resetting its offsets`,
            { detail: { groupId, members: g.members.size } },
          );
        }
        for (const o of offsets) {
          const t = core.requireTopic(o.topic);
          if (!Number.isInteger(o.partition) || o.partition < 0 || o.partition >= t.partitions.length) {
            throw new LzError("UNKNOWN_PARTITION", `topic ${o.topic} has no partition ${o.partition}`);
          }
          if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
            throw new LzError(
              "INVALID_OFFSET",
              `offset ${o.offset} for ${o.topic}:${o.partition} is not valid`,
            );
          }
        }
        core.groups.commit(groupId, offsets);
      }),
    describeGroup: (groupId: string) =>
      guard((): GroupDescription => {
        const g = core.groups.groups.get(groupId);
        return g ? g.describe() : { groupId, state: "Dead", members: [] };
      }),
    listGroups: () => guard(() => [...core.groups.groups.keys()].sort()),
  };
}
