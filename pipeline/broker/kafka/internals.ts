/**
 * Where the consumer side reaches below kafkajs's public API (kafkajs 2.2.4 is pinned; the transport
 * patches are in kafka/patches.ts):
 *
 * 1. A partition assigner factory receives the consumer's own `cluster` object. We keep it to (a) run a
 *    hook before every JoinGroup — kafkajs calls `cluster.findGroupCoordinator` first thing in each join, so
 *    wrapping it lets `onRevoked` finish (and commit) before this member rejoins, i.e. before the group
 *    can hand its partitions to anyone else — and (b) send an OffsetCommit with generation -1 for an empty
 *    group (what Java's `alterConsumerGroupOffsets` does), which kafkajs's `admin.setOffsets` only emulates
 *    by joining the group with a throw-away member and waiting out a fetch.
 * 2. Nothing else: the co-partitioned assigner below is a documented kafkajs custom assigner.
 */
import { Buffer } from "node:buffer";
import { AssignerProtocol, type Cluster, type PartitionAssigner } from "kafkajs";

/** One member's topics → partitions. */
export type MemberPartitions = Record<string, number[]>;

/**
 * Co-partitioned assignment, as Kafka Streams does it: partition p of every topic goes to the same member
 * (the (p mod n)-th of the members, sorted by id, that subscribe to the topic), so a processor that joins
 * several inputs by key sees each key's records of all of them.
 */
export function coPartitionedAssignment(
  members: { memberId: string; topics: string[] }[],
  partitionsOf: (topic: string) => number[],
  topics: string[],
): Map<string, MemberPartitions> {
  const out = new Map<string, MemberPartitions>();
  const sorted = [...members].sort((
    a,
    b,
  ) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  for (const topic of topics) {
    const eligible = sorted.filter((m) => m.topics.includes(topic));
    if (eligible.length === 0) continue;
    for (const p of [...partitionsOf(topic)].sort((x, y) => x - y)) {
      const m = eligible[p % eligible.length].memberId;
      const mine = out.get(m) ?? {};
      (mine[topic] ??= []).push(p);
      out.set(m, mine);
    }
  }
  return out;
}

/** kafkajs assigner with {@link coPartitionedAssignment}. */
const coPartitioned: PartitionAssigner = ({ cluster }) => ({
  name: "LzsyncCoPartitioned",
  version: 0,
  assign({ members, topics }) {
    const subscriptions = members.map((m) => ({
      memberId: m.memberId,
      topics: AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? topics,
    }));
    const partitionsOf = (t: string) => cluster.findTopicPartitionMetadata(t).map((pm) => pm.partitionId);
    // kafkajs passes the leader's subscription; members may have others (their partitions need metadata).
    const all = [...new Set([...topics, ...subscriptions.flatMap((m) => m.topics)])];
    const plan = coPartitionedAssignment(subscriptions, partitionsOf, all);
    return Promise.resolve([...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment,
        userData: Buffer.alloc(0),
      }),
    })));
  },
  protocol({ topics }) {
    return {
      name: "LzsyncCoPartitioned",
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});

/** The co-partitioned assigner, reporting the consumer's cluster to `onCluster` when kafkajs creates it. */
export function capturingAssigner(onCluster: (cluster: Cluster) => void): PartitionAssigner {
  return (config) => {
    onCluster(config.cluster);
    return coPartitioned(config);
  };
}

/**
 * Makes `beforeJoin` run (and be awaited) before each JoinGroup of the consumer that owns `cluster`.
 * In a consumer's cluster, `findGroupCoordinator` is only called by the join (we never call kafkajs's
 * `consumer.describeGroup`). Returns a function that undoes the wrap.
 */
export function hookBeforeJoin(cluster: Cluster, beforeJoin: () => Promise<void>): () => void {
  const c = cluster as unknown as { findGroupCoordinator: (a: unknown) => Promise<unknown> };
  const original = c.findGroupCoordinator;
  c.findGroupCoordinator = async function (this: unknown, args: unknown) {
    await beforeJoin();
    return await original.call(cluster, args);
  };
  return () => {
    c.findGroupCoordinator = original;
  };
}

/** Offsets to write, by topic, in kafkajs's request shape. */
export type CommitTopics = { topic: string; partitions: { partition: number; offset: string }[] }[];

/**
 * Commits offsets for a group that has no members, without joining it (OffsetCommit with generation -1 and
 * no member id). The broker refuses (UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION) while the group has members.
 */
export async function commitAsEmptyGroup(
  cluster: Cluster,
  groupId: string,
  topics: CommitTopics,
): Promise<void> {
  const coordinator = await cluster.findGroupCoordinator({ groupId });
  await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: "", topics } as never);
}

/** Decodes a member's assignment from DescribeGroups (`null` when it has none yet). */
export function decodeAssignment(memberAssignment: Uint8Array | null | undefined): Record<string, number[]> {
  if (!memberAssignment || memberAssignment.length === 0) return {};
  const decoded = AssignerProtocol.MemberAssignment.decode(memberAssignment as never);
  return (decoded?.assignment ?? {}) as Record<string, number[]>;
}
