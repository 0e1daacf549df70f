/**
 * The Kafka broker against the real Apache Kafka that `deno task test` starts: the shared conformance
 * suite, plus what only Kafka can show — rebalance ordering between members, a dead or bad address giving a
 * clear error in bounded time, and a broker that stops and comes back.
 */
import assert from "node:assert/strict";
import { LzError } from "../../errors.ts";
import { needs, requireKafka } from "../../testing/env.ts";
import { brokerConformanceSuite } from "../conformance/mod.ts";
import { waitFor } from "../conformance/util.ts";
import { createKafkaBroker, type KafkaBrokerOptions } from "./mod.ts";
import { createBroker } from "../mod.ts";
import { kafkajsRequestQueue } from "./patches.ts";
import type { Batch, Broker, TopicPartition } from "../types.ts";

const ignore = needs("kafka");
const brokers = () => requireKafka().split(",");
const enc = new TextEncoder();
const dec = new TextDecoder();

function uniq(prefix: string): string {
  return `kt.${prefix}.${Date.now().toString(36)}${crypto.randomUUID().slice(0, 6)}`;
}

async function withBroker<T>(
  fn: (b: Broker) => Promise<T>,
  opts: Partial<KafkaBrokerOptions> = {},
): Promise<T> {
  const b = await createKafkaBroker({ brokers: brokers(), ...opts });
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

brokerConformanceSuite("kafka", async () => {
  const broker = await createKafkaBroker({ brokers: brokers(), clientId: "lzsync-conformance" });
  return { broker, cleanup: () => broker.close() };
}, { ignore });

Deno.test({
  name: "kafka: createBroker({kind: 'kafka'}) opens the Kafka broker",
  ignore,
  fn: async () => {
    const b = await createBroker({ kind: "kafka", brokers: brokers() });
    try {
      assert.equal(b.kind, "kafka");
      assert.equal(b.address, `kafka ${requireKafka()}`);
      assert.ok(Array.isArray(await b.admin().listTopics()));
    } finally {
      await b.close();
    }
  },
});

Deno.test({
  name: "kafka: send resolves per-record offsets for a 5,000-record batch over 4 partitions",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const topic = uniq("bulk");
      await b.admin().createTopics([{ name: topic, partitions: 4 }]);
      const p = await b.producer();
      try {
        const records = Array.from(
          { length: 5_000 },
          (_, i) => ({ key: `k${i % 97}`, value: enc.encode(`v${i}`) }),
        );
        const meta = await p.send(topic, records);
        const seen = new Set(meta.map((m) => `${m.partition}:${m.offset}`));
        assert.equal(seen.size, 5_000, "every record has its own (partition, offset)");
        const ends = await b.admin().topicOffsets(topic);
        for (const e of ends) {
          const mine = meta.filter((m) => m.partition === e.partition).map((m) => m.offset);
          assert.equal(Math.max(...mine) + 1, e.high, `partition ${e.partition} high`);
        }
        // Read back a few records and check that each value sits at the offset send reported.
        const got = new Map<string, string>();
        const reader = b.reader({ topics: [topic] });
        await reader.run((batch) => {
          for (const r of batch.records) got.set(`${r.partition}:${r.offset}`, dec.decode(r.value!));
          return Promise.resolve();
        });
        await waitFor(() => got.size >= 5_000, "5,000 records read back");
        await reader.stop();
        for (const i of [0, 1, 2_500, 4_999]) {
          assert.equal(got.get(`${meta[i].partition}:${meta[i].offset}`), `v${i}`);
        }
        assert.ok(
          !(await b.admin().listGroups()).some((g) => g.startsWith("lzsync-reader-")),
          "reader groups hidden",
        );
      } finally {
        await p.close();
      }
    }),
});

Deno.test({
  name: "kafka: describeTopic reads real topic configs",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const topic = uniq("cfg");
      await b.admin().createTopics([{
        name: topic,
        partitions: 1,
        compacted: true,
        config: { "retention.ms": "3600000", "min.cleanable.dirty.ratio": "0.1" },
      }]);
      const d = await b.admin().describeTopic(topic);
      assert.equal(d.compacted, true);
      assert.equal(d.config["cleanup.policy"], "compact");
      assert.equal(d.config["retention.ms"], "3600000");
      assert.equal(d.config["min.cleanable.dirty.ratio"], "0.1");
      const plain = uniq("plain");
      await b.admin().createTopics([{ name: plain }]);
      const p = await b.admin().describeTopic(plain);
      assert.equal(p.compacted, false);
      assert.equal(p.config["cleanup.policy"], "delete");
      await b.admin().deleteTopics([topic, plain]);
    }),
});

Deno.test({
  name: "kafka: a rebalance revokes (and commits) before the new member receives the partition",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const topic = uniq("rebal");
      const groupId = uniq("g");
      await b.admin().createTopics([{ name: topic, partitions: 2 }]);
      const p = await b.producer();
      const events: string[] = [];
      const positions = new Map<number, number>();
      const a = b.consumer({ groupId, topics: [topic], clientId: "a" });
      const c2 = b.consumer({ groupId, topics: [topic], clientId: "b" });
      const bRecords: { partition: number; offset: number }[] = [];
      try {
        await a.run({
          eachBatch: (batch: Batch) => {
            for (const r of batch.records) positions.set(r.partition, r.offset + 1);
            return Promise.resolve();
          },
          onAssigned: (tps) => void events.push(`a+${tps.map((t) => t.partition).join(",")}`),
          onRevoked: async (tps: TopicPartition[]) => {
            // Commit what was processed; slowly, to prove the new owner waits for it.
            await new Promise((r) => setTimeout(r, 500));
            const offsets = tps.filter((tp) => positions.has(tp.partition))
              .map((tp) => ({ ...tp, offset: positions.get(tp.partition)! }));
            await a.commit(offsets);
            events.push(`a-${tps.map((t) => t.partition).join(",")}`);
          },
        });
        await p.send(
          topic,
          Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: enc.encode(`v${i}`) })),
        );
        await waitFor(() => [...positions.values()].reduce((s, n) => s + n, 0) >= 40, "member a to read 40");
        await c2.run({
          eachBatch: (batch: Batch) => {
            if (batch.records.length > 0) events.push(`b-batch`);
            for (const r of batch.records) bRecords.push({ partition: r.partition, offset: r.offset });
            return Promise.resolve();
          },
          onAssigned: (tps) => void events.push(`b+${tps.map((t) => t.partition).join(",")}`),
        });
        await waitFor(
          () => a.assignment().length === 1 && c2.assignment().length === 1,
          "one partition each",
        );
        await p.send(
          topic,
          Array.from({ length: 40 }, (_, i) => ({ key: `x${i}`, value: enc.encode(`x${i}`) })),
        );
        await waitFor(() => bRecords.length > 0, "member b to get records");
        // a revoked everything (eager) and committed before b was even assigned.
        const revoke = events.indexOf("a-0,1");
        const bAssigned = events.findIndex((e) => e.startsWith("b+"));
        assert.ok(revoke >= 0 && bAssigned > revoke, `order of events: ${events}`);
        // b started exactly where a committed: nothing a had processed is delivered again.
        const bp = c2.assignment()[0].partition;
        const firstAtB = Math.min(...bRecords.filter((r) => r.partition === bp).map((r) => r.offset));
        assert.equal(firstAtB, positions.get(bp), "b resumed at a's committed offset");
      } finally {
        await c2.stop();
        await a.stop();
        await p.close();
      }
    }),
});

Deno.test({
  name: "kafka: commit after stop is refused with NOT_GROUP_MEMBER (never silently dropped)",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const topic = uniq("late");
      await b.admin().createTopics([{ name: topic }]);
      const c = b.consumer({ groupId: uniq("g"), topics: [topic] });
      await c.run({ eachBatch: async () => {} });
      await c.stop();
      await assert.rejects(c.commit([{ topic, partition: 0, offset: 1 }]), (e: LzError) =>
        e.code === "NOT_GROUP_MEMBER");
    }),
});

Deno.test({
  name: "kafka: consuming a missing topic rejects with UNKNOWN_TOPIC",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const c = b.consumer({ groupId: uniq("g"), topics: [uniq("nope")] });
      await assert.rejects(c.run({ eachBatch: async () => {} }), (e: LzError) => e.code === "UNKNOWN_TOPIC");
      await c.stop();
    }),
});

Deno.test({
  name: "kafka: concurrent sends share requests yet each gets its own metadata; a bad one fails alone",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const t1 = uniq("co1"), t2 = uniq("co2");
      await b.admin().createTopics([{ name: t1, partitions: 3 }, { name: t2, partitions: 2 }]);
      const p = await b.producer();
      try {
        const sends = Array.from({ length: 12 }, (_, i) => {
          const topic = i % 2 ? t1 : t2;
          return p.send(
            topic,
            Array.from({ length: 50 }, (_, j) => ({ key: `k${j}`, value: enc.encode(`${i}-${j}`) })),
          );
        });
        const settle = (pr: Promise<unknown>) => pr.then(() => null, (e: LzError) => e);
        const missing = settle(p.send(uniq("missing"), [{ key: "k", value: enc.encode("x") }]));
        const badPartition = settle(p.send(t2, [{ key: "k", value: enc.encode("x"), partition: 7 }]));
        const metas = await Promise.all(sends);
        assert.equal((await missing)?.code, "UNKNOWN_TOPIC");
        assert.equal((await badPartition)?.code, "UNKNOWN_PARTITION");
        const got = new Map<string, string>();
        const reader = b.reader({ topics: [t1, t2] });
        await reader.run((batch) => {
          for (const r of batch.records) {
            got.set(`${r.topic}:${r.partition}:${r.offset}`, dec.decode(r.value!));
          }
          return Promise.resolve();
        });
        await waitFor(() => got.size >= 600, "600 records");
        await reader.stop();
        metas.forEach((meta, i) => {
          assert.equal(meta.length, 50);
          meta.forEach((m, j) => {
            assert.equal(m.topic, i % 2 ? t1 : t2);
            assert.equal(
              got.get(`${m.topic}:${m.partition}:${m.offset}`),
              `${i}-${j}`,
              `send ${i} record ${j}`,
            );
          });
        });
        assert.equal(got.size, 600, "nothing else was written");
      } finally {
        await p.close();
      }
    }),
});

Deno.test({
  name: "kafka: stop() lets the batch in flight finish, then onRevoked commits, then the member leaves",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const topic = uniq("stop");
      const groupId = uniq("g");
      await b.admin().createTopics([{ name: topic, partitions: 1 }]);
      const p = await b.producer();
      await p.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: null, value: enc.encode(`v${i}`) })));
      await p.close();
      const events: string[] = [];
      let inBatch!: () => void;
      const entered = new Promise<void>((r) => (inBatch = r));
      let next = 0;
      const c = b.consumer({ groupId, topics: [topic], maxBatchSize: 4 });
      await c.run({
        eachBatch: async (batch) => {
          events.push(`batch ${batch.records[0].offset}`);
          inBatch();
          await new Promise((r) => setTimeout(r, 400));
          next = batch.records.at(-1)!.offset + 1;
          events.push(`done ${batch.records[0].offset}`);
        },
        onRevoked: async (tps) => {
          events.push(`revoked ${tps.length}`);
          await c.commit([{ topic, partition: 0, offset: next }]);
        },
      });
      await entered;
      await c.stop();
      assert.deepEqual(
        events,
        ["batch 0", "done 0", "revoked 1"],
        "no new batch after stop; revoke after the batch",
      );
      assert.deepEqual(await b.admin().fetchCommitted(groupId, [topic]), [{
        topic,
        partition: 0,
        offset: 4,
      }]);
      assert.equal((await b.admin().describeGroup(groupId)).members.length, 0, "left the group");
      await c.stop(); // idempotent
    }),
});

Deno.test({
  name: "kafka: pause holds a partition back under load; resume delivers the rest in order",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const topic = uniq("bp");
      await b.admin().createTopics([{ name: topic, partitions: 1 }]);
      const p = await b.producer();
      await p.send(
        topic,
        Array.from({ length: 2_000 }, (_, i) => ({ key: null, value: enc.encode(`${i}`) })),
      );
      await p.close();
      const offsets: number[] = [];
      const c = b.consumer({ groupId: uniq("g"), topics: [topic], maxBatchSize: 100 });
      let pausedAt = -1;
      await c.run({
        eachBatch: (batch) => {
          for (const r of batch.records) offsets.push(r.offset);
          if (pausedAt < 0 && offsets.length >= 300) {
            pausedAt = offsets.length;
            c.pause([{ topic, partition: 0 }]); // backpressure from inside the handler
          }
          return Promise.resolve();
        },
      });
      try {
        await waitFor(() => pausedAt > 0, "the pause");
        await new Promise((r) => setTimeout(r, 1_000));
        assert.equal(offsets.length, pausedAt, "nothing delivered while paused");
        c.resume([{ topic, partition: 0 }]);
        await waitFor(() => offsets.length >= 2_000, "the rest after resume");
        assert.deepEqual(offsets, offsets.map((_, i) => i), "in order, no gap, no repeat");
      } finally {
        await c.stop();
      }
    }),
});

Deno.test({
  name: "kafka: a member stays in the group through an onAssigned longer than its session timeout",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const topic = uniq("slow");
      await b.admin().createTopics([{ name: topic, partitions: 1 }]);
      const p = await b.producer();
      await p.send(topic, [{ key: "k", value: enc.encode("v") }]);
      await p.close();
      const events: string[] = [];
      const c = b.consumer({ groupId: uniq("g"), topics: [topic] });
      try {
        await c.run({
          onAssigned: async () => {
            events.push("assigned");
            await new Promise((r) => setTimeout(r, 7_500)); // e.g. a long restore; the session is 6 s
          },
          onRevoked: () => void events.push("revoked"),
          eachBatch: (batch) => {
            events.push(`batch ${batch.records.length}`);
            return Promise.resolve();
          },
        });
        await waitFor(() => events.includes("batch 1"), "the record");
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(events, ["assigned", "batch 1"], "no session expiry, no rebalance");
      } finally {
        await c.stop();
      }
    }, { sessionTimeoutMs: 6_000 }),
});

Deno.test({
  name: "kafka: idle clients do not poll their request queues every millisecond",
  ignore,
  fn: () =>
    withBroker(async (b) => {
      const topic = uniq("idle");
      await b.admin().createTopics([{ name: topic, partitions: 2 }]);
      const p = await b.producer();
      await p.send(topic, [{ key: "k", value: enc.encode("v") }]);
      const c = b.consumer({ groupId: uniq("g"), topics: [topic] });
      const proto = kafkajsRequestQueue().prototype;
      const original = proto.checkPendingRequests;
      let checks = 0;
      proto.checkPendingRequests = function (this: unknown) {
        checks++;
        return original.call(this);
      };
      try {
        await c.run({ eachBatch: () => Promise.resolve() });
        checks = 0;
        await new Promise((r) => setTimeout(r, 2_000));
        // With kafkajs's own timer this is ~1,000 per connection and second; here only responses count.
        assert.ok(checks < 200, `${checks} queue checks in 2 s`);
      } finally {
        proto.checkPendingRequests = original;
        await c.stop();
        await p.close();
      }
    }),
});
