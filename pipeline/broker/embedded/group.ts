/**
 * Consumer groups of the embedded broker: membership, eager rebalancing (every member finishes its batch and
 * gives up all partitions, then the partitions are dealt out again, round-robin over members sorted by id,
 * as kafkajs's default assigner does) and committed offsets.
 */
import type { GroupDescription, GroupOffset, TopicPartition } from "../types.ts";
import { tpKey } from "./fetch.ts";
import { LzError } from "../../errors.ts";

/** What the group needs from a member (an embedded consumer). */
export interface GroupMemberHandle {
  readonly memberId: string;
  readonly clientId: string;
  readonly topics: string[];
  /** Finish the batch in flight, call onRevoked, give up every partition. */
  revokeAll(): Promise<void>;
  /** Take these partitions (call onAssigned, then start fetching them). */
  assign(partitions: TopicPartition[]): Promise<void>;
  assignment(): TopicPartition[];
}

/** Where commits go besides memory (the data directory). */
export interface GroupPersistence {
  commit(groupId: string, offsets: GroupOffset[]): void;
}

/** One consumer group. */
export class Group {
  readonly id: string;
  readonly members = new Map<string, GroupMemberHandle>();
  readonly committed = new Map<string, GroupOffset>();
  state: "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" = "Empty";
  generation = 0;
  #leaving = new Set<GroupMemberHandle>();
  #chain: Promise<void> = Promise.resolve();
  readonly #partitionsOf: (topic: string) => number;

  constructor(id: string, partitionsOf: (topic: string) => number) {
    this.id = id;
    this.#partitionsOf = partitionsOf;
  }

  /** Adds a member and rebalances; resolves once every member has its new assignment. */
  join(member: GroupMemberHandle): Promise<void> {
    this.members.set(member.memberId, member);
    return this.#schedule();
  }

  /** Removes a member (its partitions are revoked first) and rebalances the rest. */
  leave(member: GroupMemberHandle): Promise<void> {
    if (!this.members.delete(member.memberId)) return this.#chain;
    this.#leaving.add(member);
    return this.#schedule();
  }

  /** The committed offset of a partition, if any. */
  committedOffset(topic: string, partition: number): number | undefined {
    return this.committed.get(tpKey(topic, partition))?.offset;
  }

  setCommitted(offsets: GroupOffset[]): void {
    for (const o of offsets) {
      this.committed.set(tpKey(o.topic, o.partition), {
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
      });
    }
  }

  /** Forgets commits of deleted topics. */
  dropTopic(topic: string): void {
    for (const [k, o] of this.committed) if (o.topic === topic) this.committed.delete(k);
  }

  describe(): GroupDescription {
    return {
      groupId: this.id,
      state: this.state,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        assignments: m.assignment(),
      })),
    };
  }

  #schedule(): Promise<void> {
    const run = this.#chain.then(() => this.#rebalance());
    this.#chain = run.catch(() => {});
    return run;
  }

  async #rebalance(): Promise<void> {
    this.state = "PreparingRebalance";
    const leaving = [...this.#leaving];
    this.#leaving.clear();
    const current = [...this.members.values()];
    await Promise.all([...current, ...leaving].map((m) => m.revokeAll()));
    this.generation++;
    this.state = "CompletingRebalance";
    const plan = assignRoundRobin(current, this.#partitionsOf);
    await Promise.all(current.map((m) => m.assign(plan.get(m.memberId) ?? [])));
    this.state = this.members.size > 0 ? "Stable" : "Empty";
  }
}

/**
 * Co-partitioned round-robin assignment, the embedded twin of `kafka_assigner.ts`: partition number p of
 * every subscribed topic goes to the same member (a processor task reads partition p of each of its inputs,
 * as in Kafka Streams), and partition numbers are dealt round-robin over members sorted by id. For a
 * single-topic group this is plain round-robin.
 */
export function assignRoundRobin(
  members: { memberId: string; topics: string[] }[],
  partitionsOf: (topic: string) => number,
): Map<string, TopicPartition[]> {
  const sorted = [...members].sort((
    a,
    b,
  ) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const plan = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]));
  const topics = [...new Set(sorted.flatMap((m) => m.topics))].sort();
  const maxPartitions = Math.max(0, ...topics.map(partitionsOf));
  let i = 0;
  for (let p = 0; p < maxPartitions; p++) {
    const withP = topics.filter((t) => p < partitionsOf(t));
    // next member (cyclically) that subscribes to one of the topics having partition p
    for (let tries = 0; tries < sorted.length; tries++) {
      const m = sorted[i++ % sorted.length];
      const mine = withP.filter((t) => m.topics.includes(t));
      if (mine.length === 0) continue;
      for (const topic of mine) plan.get(m.memberId)!.push({ topic, partition: p });
      break;
    }
  }
  return plan;
}

/** All groups of one embedded broker. */
export class GroupCoordinator {
  readonly groups = new Map<string, Group>();
  persistence: GroupPersistence | null = null;
  readonly #partitionsOf: (topic: string) => number;

  constructor(partitionsOf: (topic: string) => number) {
    this.#partitionsOf = partitionsOf;
  }

  /** The group, created on first use. */
  group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) this.groups.set(id, g = new Group(id, this.#partitionsOf));
    return g;
  }

  /** Set when the broker closed: commits are refused from then on. */
  closed = false;

  /** Records commits (persisted first when a data directory is used). */
  commit(groupId: string, offsets: GroupOffset[]): void {
    if (this.closed) {
      throw new LzError("BROKER_CLOSED", `cannot commit for group ${groupId}: the embedded broker is closed`);
    }
    if (offsets.length === 0) return;
    this.persistence?.commit(groupId, offsets);
    this.group(groupId).setCommitted(offsets);
  }
}
