/**
 * The two places where lzsync reaches below kafkajs's public API (kafkajs 2.2.4 is pinned):
 *
 * 1. A partition assigner factory receives the consumer's own `cluster` object. We keep it to (a) run a
 *    hook before every JoinGroup — kafkajs calls `cluster.findGroupCoordinator` first thing in each join, so
 *    wrapping it lets `onRevoked` finish (and commit) before this member rejoins, i.e. before the group
 *    can hand its partitions to anyone else — and (b) send an OffsetCommit with generation -1 for an empty
 *    group (what Java's `alterConsumerGroupOffsets` does), which kafkajs's `admin.setOffsets` only emulates
 *    by joining the group with a throw-away member and waiting out a fetch.
 * 2. Nothing else: everything else goes through kafkajs's documented API.
 */
import { AssignerProtocol, type Cluster, type PartitionAssigner, PartitionAssigners } from "kafkajs";

/** The round-robin assigner (kafkajs's default) that reports the consumer's cluster to `onCluster`. */
export function capturingAssigner(onCluster: (cluster: Cluster) => void): PartitionAssigner {
  return (config) => {
    onCluster(config.cluster);
    return PartitionAssigners.roundRobin(config);
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
