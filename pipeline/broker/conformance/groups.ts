/** Conformance cases: consumer groups (start position, commits, sharing, takeover, pause/resume). */
import assert from "node:assert/strict";
import type { Broker, Consumer, TopicPartition } from "../types.ts";
import {
  bytes,
  Collector,
  type ConformanceCase,
  rejectsWithCode,
  type Scope,
  sleep,
  uniq,
  waitFor,
} from "./util.ts";

async function topicWith(broker: Broker, scope: Scope, partitions: number, count: number, prefix = "v") {
  const topic = uniq("grp");
  await broker.admin().createTopics([{ name: topic, partitions }]);
  const producer = await scope.producer();
  if (count > 0) {
    await producer.send(
      topic,
      Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: bytes(`${prefix}${i}`) })),
    );
  }
  return { topic, producer };
}

/** A member that tracks its assignment through the callbacks and checks batches only come from it. */
function tracked(consumer: Consumer, got: Collector) {
  const owned = new Set<string>();
  const revoked: TopicPartition[] = [];
  const errors: string[] = [];
  const key = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;
  const handlers = {
    eachBatch: (b: import("../types.ts").Batch) => {
      if (!owned.has(key(b)) && b.records.length > 0) errors.push(`batch of unassigned ${key(b)}`);
      return got.eachBatch(b);
    },
    onAssigned: (tps: TopicPartition[]) => tps.forEach((tp) => owned.add(key(tp))),
    onRevoked: (tps: TopicPartition[]) => {
      revoked.push(...tps);
      tps.forEach((tp) => owned.delete(key(tp)));
    },
  };
  return { consumer, owned, revoked, errors, handlers };
}

export const groupCases: ConformanceCase[] = [
  {
    name: "a group without commits reads from the earliest offset, in offset order per partition",
    fn: async (broker, scope) => {
      const { topic } = await topicWith(broker, scope, 2, 30);
      const got = new Collector();
      const c = scope.consumer({ groupId: uniq("g"), topics: [topic] });
      await c.run({ eachBatch: got.eachBatch });
      await waitFor(() => got.distinct() >= 30, "30 records", undefined, () => got.distinct());
      for (const p of [0, 1]) {
        const offs = got.records.filter((r) => r.partition === p).map((r) => r.offset);
        assert.deepEqual(offs, offs.map((_, i) => i), `partition ${p} offsets`);
      }
      for (const b of got.batches) assert.ok(b.highWatermark >= b.records[b.records.length - 1].offset + 1);
    },
  },
  {
    name: "fromBeginning: false starts a new group at the end",
    fn: async (broker, scope) => {
      const { topic, producer } = await topicWith(broker, scope, 1, 5, "old");
      const got = new Collector();
      const c = scope.consumer({ groupId: uniq("g"), topics: [topic], fromBeginning: false });
      await c.run({ eachBatch: got.eachBatch });
      let i = 0;
      // Kafka resolves "latest" when the first fetch starts; keep producing until a new record arrives.
      await waitFor(async () => {
        if (got.records.length > 0) return true;
        await producer.send(topic, [{ key: "n", value: bytes(`new${i++}`) }]);
        await sleep(250);
        return got.records.length > 0;
      }, "a new record");
      assert.ok(got.values().every((v) => v?.startsWith("new")), `old records delivered: ${got.values()}`);
    },
  },
  {
    name: "after a commit, a new consumer of the group resumes at the committed offset",
    fn: async (broker, scope) => {
      const { topic } = await topicWith(broker, scope, 1, 10);
      const groupId = uniq("g");
      const first = new Collector();
      const c1 = scope.consumer({ groupId, topics: [topic] });
      await c1.run({ eachBatch: first.eachBatch });
      await waitFor(() => first.distinct() >= 10, "10 records");
      await c1.commit([{ topic, partition: 0, offset: 6 }]);
      await c1.stop();
      assert.deepEqual(await broker.admin().fetchCommitted(groupId, [topic]), [{
        topic,
        partition: 0,
        offset: 6,
      }]);
      const second = new Collector();
      const c2 = scope.consumer({ groupId, topics: [topic] });
      await c2.run({ eachBatch: second.eachBatch });
      await waitFor(
        () => second.distinct() >= 4,
        "4 records after the commit",
        undefined,
        () => second.values(),
      );
      assert.equal(second.records[0].offset, 6);
      assert.deepEqual(second.values().slice(0, 4), ["v6", "v7", "v8", "v9"]);
    },
  },
  {
    name: "two members share the partitions; the survivor takes over all of them when one stops",
    fn: async (broker, scope) => {
      const { topic, producer } = await topicWith(broker, scope, 4, 0);
      const groupId = uniq("g");
      const gotA = new Collector(), gotB = new Collector();
      const a = tracked(scope.consumer({ groupId, topics: [topic], clientId: "member-a" }), gotA);
      await a.consumer.run(a.handlers);
      await waitFor(() => a.consumer.assignment().length === 4, "member a to own 4 partitions");
      const b = tracked(scope.consumer({ groupId, topics: [topic], clientId: "member-b" }), gotB);
      await b.consumer.run(b.handlers);
      await waitFor(
        () =>
          a.consumer.assignment().length > 0 && b.consumer.assignment().length > 0 &&
          a.consumer.assignment().length + b.consumer.assignment().length === 4,
        "both members to share 4 partitions",
        undefined,
        () => [a.consumer.assignment(), b.consumer.assignment()],
      );
      const ps = [...a.consumer.assignment(), ...b.consumer.assignment()].map((tp) => tp.partition).sort();
      assert.deepEqual(ps, [0, 1, 2, 3], "assignments are disjoint and complete");
      const desc = await broker.admin().describeGroup(groupId);
      assert.equal(desc.members.length, 2);
      assert.deepEqual(desc.members.map((m) => m.clientId).sort(), ["member-a", "member-b"]);
      await producer.send(
        topic,
        Array.from({ length: 40 }, (_, i) => ({ key: `x${i}`, value: bytes(`x${i}`) })),
      );
      await waitFor(() => gotA.distinct() + gotB.distinct() >= 40, "40 records over both members");
      assert.ok(gotA.records.length > 0 && gotB.records.length > 0, "both members received records");
      const bOwned = b.consumer.assignment().map((tp) => tp.partition).sort();
      await b.consumer.stop();
      assert.deepEqual(
        b.revoked.map((tp) => tp.partition).sort(),
        bOwned,
        "onRevoked got b's partitions at stop",
      );
      await waitFor(() => a.consumer.assignment().length === 4, "the survivor to own all 4 partitions");
      const before = gotA.distinct();
      await producer.send(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ key: `y${i}`, value: bytes(`y${i}`) })),
      );
      await waitFor(
        () => gotA.values().filter((v) => v?.startsWith("y")).length >= 20,
        "20 records at the survivor",
      );
      assert.ok(gotA.distinct() >= before + 20);
      assert.deepEqual([...a.errors, ...b.errors], []);
    },
  },
  {
    name: "members of a group reading two topics get partition p of both on the same member (co-partitioned)",
    fn: async (broker, scope) => {
      const { topic: t1 } = await topicWith(broker, scope, 3, 0);
      const { topic: t2 } = await topicWith(broker, scope, 3, 0);
      const groupId = uniq("g");
      const a = scope.consumer({ groupId, topics: [t1, t2], clientId: "member-a" });
      const b = scope.consumer({ groupId, topics: [t1, t2], clientId: "member-b" });
      const noop = { eachBatch: async () => {} };
      await a.run(noop);
      await waitFor(() => a.assignment().length === 6, "member a to own 6 partitions");
      await b.run(noop);
      const byMember = () =>
        [a, b].map((c) => {
          const parts = new Map<string, number[]>();
          for (const tp of c.assignment()) {
            parts.set(tp.topic, [...(parts.get(tp.topic) ?? []), tp.partition]);
          }
          return [t1, t2].map((t) => (parts.get(t) ?? []).sort().join(","));
        });
      await waitFor(
        () => a.assignment().length + b.assignment().length === 6 && b.assignment().length > 0,
        "both members to share 6 partitions",
        undefined,
        byMember,
      );
      for (const [p1, p2] of byMember()) {
        assert.equal(p1, p2, "same partition numbers of both topics per member");
      }
    },
  },
  {
    name: "pause stops delivery of a partition until resume",
    fn: async (broker, scope) => {
      const { topic, producer } = await topicWith(broker, scope, 2, 0);
      const got = new Collector();
      const c = scope.consumer({ groupId: uniq("g"), topics: [topic] });
      await c.run({ eachBatch: got.eachBatch });
      await waitFor(() => c.assignment().length === 2, "assignment");
      await producer.send(topic, [{ key: null, value: bytes("p0-a"), partition: 0 }]);
      await waitFor(() => got.values().includes("p0-a"), "first record of partition 0");
      c.pause([{ topic, partition: 0 }]);
      await producer.send(topic, [
        { key: null, value: bytes("p0-b"), partition: 0 },
        { key: null, value: bytes("p1-a"), partition: 1 },
      ]);
      await waitFor(() => got.values().includes("p1-a"), "the unpaused partition to keep flowing");
      await sleep(1_500);
      assert.ok(!got.values().includes("p0-b"), "a paused partition delivered a record");
      c.resume([{ topic, partition: 0 }]);
      await waitFor(() => got.values().includes("p0-b"), "the record after resume");
    },
  },
  {
    name: "describeGroup lists members with assignments; an unused group has none",
    fn: async (broker, scope) => {
      const { topic } = await topicWith(broker, scope, 2, 0);
      const groupId = uniq("g");
      const empty = await broker.admin().describeGroup(groupId);
      assert.deepEqual(empty.members, []);
      const c = scope.consumer({ groupId, topics: [topic], clientId: "describe-me" });
      await c.run({ eachBatch: () => Promise.resolve() });
      await waitFor(async () => {
        const d = await broker.admin().describeGroup(groupId);
        return d.members.length === 1 && d.members[0].assignments.length === 2;
      }, "one member with 2 partitions");
      const d = await broker.admin().describeGroup(groupId);
      assert.equal(d.groupId, groupId);
      assert.equal(d.state, "Stable");
      assert.equal(d.members[0].clientId, "describe-me");
      assert.deepEqual(d.members[0].assignments.map((a) => `${a.topic}:${a.partition}`).sort(), [
        `${topic}:0`,
        `${topic}:1`,
      ]);
      assert.ok((await broker.admin().listGroups()).includes(groupId));
      await c.stop();
      await waitFor(
        async () => (await broker.admin().describeGroup(groupId)).members.length === 0,
        "no members",
      );
      assert.equal((await broker.admin().describeGroup(groupId)).state, "Empty");
    },
  },
  {
    name: "setCommitted moves an idle group, rejects with GROUP_NOT_EMPTY while it has members",
    fn: async (broker, scope) => {
      const { topic } = await topicWith(broker, scope, 2, 10);
      const groupId = uniq("g");
      const admin = broker.admin();
      assert.deepEqual(await admin.fetchCommitted(groupId), []);
      await admin.setCommitted(groupId, [{ topic, partition: 0, offset: 1 }, {
        topic,
        partition: 1,
        offset: 0,
      }]);
      const committed = (await admin.fetchCommitted(groupId, [topic])).sort((a, b) =>
        a.partition - b.partition
      );
      assert.deepEqual(committed, [{ topic, partition: 0, offset: 1 }, { topic, partition: 1, offset: 0 }]);
      const ends = (await admin.topicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((o) =>
        o.high
      );
      const got = new Collector();
      const c = scope.consumer({ groupId, topics: [topic] });
      await c.run({ eachBatch: got.eachBatch });
      await waitFor(() => got.distinct() >= ends[0] - 1 + ends[1], "records after the set offsets");
      assert.ok(!got.records.some((r) => r.partition === 0 && r.offset === 0), "offset 0 of p0 was skipped");
      await waitFor(
        async () => (await admin.describeGroup(groupId)).members.length === 1,
        "an active member",
      );
      await rejectsWithCode(
        admin.setCommitted(groupId, [{ topic, partition: 0, offset: 0 }]),
        "GROUP_NOT_EMPTY",
        "set",
      );
      await c.stop();
      await waitFor(
        async () => (await admin.describeGroup(groupId)).members.length === 0,
        "the group to empty",
      );
      await admin.setCommitted(groupId, [{ topic, partition: 0, offset: 0 }]);
      const after = await admin.fetchCommitted(groupId, [topic]);
      assert.equal(after.find((o) => o.partition === 0)?.offset, 0);
    },
  },
  {
    name:
      "commits made in onRevoked at stop are kept; a stopped consumer's commit is refused (NOT_GROUP_MEMBER)",
    fn: async (broker, scope) => {
      const { topic } = await topicWith(broker, scope, 1, 5);
      const groupId = uniq("g");
      const got = new Collector();
      const c = scope.consumer({ groupId, topics: [topic] });
      await c.run({
        eachBatch: got.eachBatch,
        onRevoked: async (tps) => {
          const last = got.records[got.records.length - 1];
          if (last && tps.some((tp) => tp.partition === 0)) {
            await c.commit([{ topic, partition: 0, offset: last.offset + 1 }]);
          }
        },
      });
      await waitFor(() => got.distinct() >= 5, "5 records");
      await c.stop();
      assert.deepEqual(await broker.admin().fetchCommitted(groupId, [topic]), [{
        topic,
        partition: 0,
        offset: 5,
      }]);
      await rejectsWithCode(
        c.commit([{ topic, partition: 0, offset: 1 }]),
        "NOT_GROUP_MEMBER",
        "commit after stop",
      );
      assert.deepEqual(await broker.admin().fetchCommitted(groupId, [topic]), [{
        topic,
        partition: 0,
        offset: 5,
      }]);
    },
  },
];
