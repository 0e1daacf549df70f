/** Conformance cases: topic administration, producing and record round-trips. */
import assert from "node:assert/strict";
import { partitionForKey } from "../murmur2.ts";
import { bytes, Collector, type ConformanceCase, rejectsWithCode, text, uniq, waitFor } from "./util.ts";

export const topicCases: ConformanceCase[] = [
  {
    name: "createTopics, listTopics and describeTopic report partitions and the compacted flag",
    fn: async (broker) => {
      const admin = broker.admin();
      const plain = uniq("plain"), compacted = uniq("compacted");
      await admin.createTopics([{ name: plain, partitions: 3 }, {
        name: compacted,
        partitions: 2,
        compacted: true,
      }]);
      const names = await admin.listTopics();
      assert.ok(
        names.includes(plain) && names.includes(compacted),
        `listTopics lacks the new topics: ${names}`,
      );
      const d1 = await admin.describeTopic(plain);
      assert.equal(d1.name, plain);
      assert.equal(d1.partitions, 3);
      assert.equal(d1.compacted, false);
      const d2 = await admin.describeTopic(compacted);
      assert.equal(d2.partitions, 2);
      assert.equal(d2.compacted, true);
      assert.equal(d2.config["cleanup.policy"], "compact");
    },
  },
  {
    name: "createTopics is idempotent and leaves an existing topic as it is",
    fn: async (broker) => {
      const admin = broker.admin();
      const name = uniq("idem");
      await admin.createTopics([{ name, partitions: 2 }]);
      await admin.createTopics([{ name, partitions: 5 }]);
      assert.equal((await admin.describeTopic(name)).partitions, 2);
    },
  },
  {
    name: "unknown topics: describeTopic and send reject with UNKNOWN_TOPIC (no auto-create)",
    fn: async (broker, scope) => {
      const missing = uniq("missing");
      await rejectsWithCode(broker.admin().describeTopic(missing), "UNKNOWN_TOPIC", "describeTopic");
      const producer = await scope.producer();
      await rejectsWithCode(
        producer.send(missing, [{ key: "k", value: bytes("v") }]),
        "UNKNOWN_TOPIC",
        "send to a missing topic",
      );
      assert.ok(!(await broker.admin().listTopics()).includes(missing), "send auto-created the topic");
    },
  },
  {
    name: "deleteTopics removes a topic",
    fn: async (broker) => {
      const admin = broker.admin();
      const name = uniq("del");
      await admin.createTopics([{ name, partitions: 1 }]);
      await admin.deleteTopics([name]);
      await waitFor(async () => !(await admin.listTopics()).includes(name), `topic ${name} to disappear`);
    },
  },
  {
    name:
      "send acknowledges each record with partition and consecutive per-partition offsets, in input order",
    fn: async (broker, scope) => {
      const topic = uniq("ack");
      await broker.admin().createTopics([{ name: topic, partitions: 3 }]);
      const producer = await scope.producer();
      const keys = Array.from({ length: 60 }, (_, i) => `key-${i % 17}`);
      const meta = await producer.send(topic, keys.map((k, i) => ({ key: k, value: bytes(`v${i}`) })));
      assert.equal(meta.length, keys.length);
      const next = [0, 0, 0];
      meta.forEach((m, i) => {
        assert.equal(m.topic, topic);
        assert.equal(m.partition, partitionForKey(keys[i], 3), `murmur2 partition of ${keys[i]}`);
        assert.equal(m.offset, next[m.partition]++, `offset of record ${i}`);
      });
      const again = await producer.send(topic, [{ key: keys[0], value: bytes("again") }]);
      assert.equal(again[0].partition, meta[0].partition, "same key, same partition");
      assert.equal(again[0].offset, next[meta[0].partition]);
      const offsets = await broker.admin().topicOffsets(topic);
      assert.deepEqual(
        [...offsets].sort((a, b) => a.partition - b.partition).map((o) => o.high),
        next.map((n, p) => (p === meta[0].partition ? n + 1 : n)),
      );
    },
  },
  {
    name: "explicit partitions are honoured and null keys spread over partitions",
    fn: async (broker, scope) => {
      const topic = uniq("explicit");
      await broker.admin().createTopics([{ name: topic, partitions: 4 }]);
      const producer = await scope.producer();
      const m = await producer.send(topic, [{ key: "a", value: bytes("x"), partition: 3 }]);
      assert.equal(m[0].partition, 3);
      const seen = new Set<number>();
      for (let i = 0; i < 8; i++) {
        for (const r of await producer.send(topic, [{ key: null, value: bytes(`n${i}`) }])) {
          seen.add(r.partition);
        }
      }
      assert.ok(seen.size >= 2, `8 null-key records all went to partition(s) ${[...seen]}`);
      for (const p of seen) assert.ok(p >= 0 && p < 4);
    },
  },
  {
    name: "headers, null keys, empty values, tombstones and timestamps round-trip",
    fn: async (broker, scope) => {
      const topic = uniq("roundtrip");
      await broker.admin().createTopics([{ name: topic, partitions: 1 }]);
      const producer = await scope.producer();
      const ts = Date.now() - 60_000;
      await producer.send(topic, [
        {
          key: "k1",
          value: bytes("héllo"),
          headers: { "content-type": "json", "x-ü": "ä ✓" },
          timestamp: ts,
        },
        { key: null, value: bytes("no key") },
        { key: "k2", value: null },
        { key: "k3", value: new Uint8Array(0) },
      ]);
      const got = new Collector();
      scope.startReader({ topics: [topic], from: "earliest" }, got);
      await waitFor(() => got.records.length >= 4, "4 records", undefined, () => got.values());
      const [a, b, c, d] = got.records;
      assert.deepEqual([a.offset, b.offset, c.offset, d.offset], [0, 1, 2, 3]);
      assert.equal(a.topic, topic);
      assert.equal(a.partition, 0);
      assert.equal(a.key, "k1");
      assert.equal(text(a.value), "héllo");
      assert.deepEqual({ ...a.headers }, { "content-type": "json", "x-ü": "ä ✓" });
      assert.equal(a.timestamp, ts);
      assert.equal(b.key, null);
      assert.equal(text(b.value), "no key");
      assert.deepEqual({ ...b.headers }, {});
      assert.ok(Math.abs(b.timestamp - Date.now()) < 120_000, `default timestamp ${b.timestamp} is not now`);
      assert.equal(c.key, "k2");
      assert.equal(c.value, null);
      assert.ok(d.value !== null && d.value.length === 0, "an empty value stays empty, not null");
    },
  },
];
