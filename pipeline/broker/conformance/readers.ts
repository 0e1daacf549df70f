/** Conformance cases: readers, topic offsets, offsets by timestamp, compacted topics. */
import assert from "node:assert/strict";
import { bytes, Collector, type ConformanceCase, sleep, text, uniq, waitFor } from "./util.ts";

export const readerCases: ConformanceCase[] = [
  {
    name: "a reader starts at earliest, latest or explicit offsets per partition",
    fn: async (broker, scope) => {
      const topic = uniq("reader");
      await broker.admin().createTopics([{ name: topic, partitions: 2 }]);
      const producer = await scope.producer();
      await producer.send(topic, [
        ...Array.from({ length: 6 }, (_, i) => ({ key: null, value: bytes(`a${i}`), partition: 0 })),
        ...Array.from({ length: 4 }, (_, i) => ({ key: null, value: bytes(`b${i}`), partition: 1 })),
      ]);
      const all = new Collector();
      scope.startReader({ topics: [topic], from: "earliest" }, all);
      await waitFor(() => all.distinct() >= 10, "10 records from earliest");
      assert.deepEqual(all.values().filter((v) => v!.startsWith("a")), ["a0", "a1", "a2", "a3", "a4", "a5"]);

      const some = new Collector();
      scope.startReader({
        topics: [topic],
        from: [{ topic, partition: 0, offset: 4 }, { topic, partition: 1, offset: 1 }],
      }, some);
      await waitFor(
        () => some.distinct() >= 5,
        "5 records from explicit offsets",
        undefined,
        () => some.values(),
      );
      assert.deepEqual(some.values().sort(), ["a4", "a5", "b1", "b2", "b3"]);

      const latest = new Collector();
      const { started } = scope.startReader({ topics: [topic], from: "latest" }, latest);
      // run() resolves once positions are resolved; tolerate implementations that resolve later.
      await Promise.race([started, sleep(3_000)]);
      let i = 0;
      await waitFor(async () => {
        await producer.send(topic, [{ key: null, value: bytes(`new${i++}`), partition: i % 2 }]);
        await sleep(200);
        return latest.records.length > 0;
      }, "a new record at the latest reader");
      assert.ok(latest.values().every((v) => v!.startsWith("new")), `old records: ${latest.values()}`);
      await sleep(300);
      assert.equal(some.values().filter((v) => !v!.startsWith("new")).length, 5);
    },
  },
  {
    name: "topicOffsets reports low and high per partition",
    fn: async (broker, scope) => {
      const topic = uniq("offsets");
      const admin = broker.admin();
      await admin.createTopics([{ name: topic, partitions: 3 }]);
      const producer = await scope.producer();
      await producer.send(topic, [
        ...Array.from({ length: 5 }, () => ({ key: null, value: bytes("x"), partition: 0 })),
        ...Array.from({ length: 3 }, () => ({ key: null, value: bytes("y"), partition: 2 })),
      ]);
      const offsets = (await admin.topicOffsets(topic)).sort((a, b) => a.partition - b.partition);
      assert.deepEqual(offsets, [
        { partition: 0, low: 0, high: 5 },
        { partition: 1, low: 0, high: 0 },
        { partition: 2, low: 0, high: 3 },
      ]);
    },
  },
  {
    name: "offsetsForTimestamp finds the first offset at or after a time, or the end",
    fn: async (broker, scope) => {
      const topic = uniq("bytime");
      const admin = broker.admin();
      await admin.createTopics([{ name: topic, partitions: 2 }]);
      const producer = await scope.producer();
      const base = Date.now() - 600_000;
      await producer.send(
        topic,
        Array.from({ length: 5 }, (_, i) => ({
          key: null,
          value: bytes(`t${i}`),
          partition: 0,
          timestamp: base + i * 1_000,
        })),
      );
      const at = async (ts: number) =>
        (await admin.offsetsForTimestamp(topic, ts)).sort((a, b) => a.partition - b.partition).map((o) =>
          o.offset
        );
      assert.deepEqual(await at(base - 1), [0, 0]);
      assert.deepEqual(await at(base + 2_000), [2, 0]);
      assert.deepEqual(await at(base + 2_500), [3, 0]);
      assert.deepEqual(await at(base + 60_000), [5, 0]);
      const withTopic = await admin.offsetsForTimestamp(topic, base);
      assert.ok(withTopic.every((o) => o.topic === topic));
    },
  },
  {
    name: "a compacted topic read to its end yields the latest value per key, offsets unchanged",
    fn: async (broker, scope) => {
      const topic = uniq("compact");
      await broker.admin().createTopics([{ name: topic, partitions: 2, compacted: true }]);
      const producer = await scope.producer();
      const sent = await producer.send(topic, [
        { key: "a", value: bytes("a1") },
        { key: "b", value: bytes("b1") },
        { key: "c", value: bytes("c1") },
        { key: "a", value: bytes("a2") },
        { key: "b", value: null },
        { key: "a", value: bytes("a3") },
      ]);
      const ends = (await broker.admin().topicOffsets(topic)).reduce((n, o) => n + o.high, 0);
      assert.equal(ends, 6);
      const got = new Collector();
      scope.startReader({ topics: [topic], from: "earliest" }, got);
      const done = () =>
        sent.every((m) => got.records.some((r) => r.partition === m.partition && r.offset >= m.offset));
      await waitFor(done, "the reader to reach the end of every partition");
      const state = new Map<string, string>();
      for (const r of got.records) {
        if (r.value === null) state.delete(r.key!);
        else state.set(r.key!, text(r.value)!);
      }
      assert.deepEqual(Object.fromEntries(state), { a: "a3", c: "c1" });
      const lastA = got.records.find((r) => text(r.value) === "a3")!;
      assert.equal(lastA.offset, sent[5].offset, "compaction never renumbers offsets");
      for (const p of [0, 1]) {
        const offs = got.records.filter((r) => r.partition === p).map((r) => r.offset);
        assert.ok(offs.every((o, i) => i === 0 || o > offs[i - 1]), `offsets increase in partition ${p}`);
      }
    },
  },
];
