/** Embedded-only behaviour beyond the shared conformance suite: validation, compaction, wake-ups, rebalances. */
import assert from "node:assert/strict";
import { createEmbeddedBroker, type EmbeddedBroker } from "./mod.ts";
import type { Batch, ConsumedRecord, TopicPartition } from "../types.ts";
import { waitFor } from "../../testing/wait.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function withBroker(
  fn: (b: EmbeddedBroker) => Promise<void>,
  clock?: { now(): number },
): Promise<void> {
  const b = await createEmbeddedBroker({ clock });
  try {
    await fn(b);
  } finally {
    await b.close();
  }
}

async function readAll(b: EmbeddedBroker, topic: string, until: (rs: ConsumedRecord[]) => boolean) {
  const got: ConsumedRecord[] = [];
  const r = b.reader({ topics: [topic] });
  await r.run((batch) => {
    got.push(...batch.records);
    return Promise.resolve();
  });
  await waitFor(() => until(got), `records of ${topic}`);
  await r.stop();
  return got;
}

Deno.test("embedded: bad topic names, partitions and keyless records on compacted topics are rejected, atomically", async () => {
  await withBroker(async (b) => {
    const admin = b.admin();
    for (const name of ["", ".", "..", "a/b", "x".repeat(250), "spaces no"]) {
      await assert.rejects(admin.createTopics([{ name }]), { code: "INVALID_TOPIC" }, JSON.stringify(name));
    }
    await assert.rejects(admin.createTopics([{ name: "z", partitions: 0 }]), { code: "INVALID_PARTITIONS" });
    await admin.createTopics([{ name: "c", partitions: 2, compacted: true }, { name: "t", partitions: 2 }]);
    const p = await b.producer();
    await assert.rejects(p.send("c", [{ key: "ok", value: null }, { key: null, value: enc.encode("x") }]), {
      code: "INVALID_RECORD",
    });
    await assert.rejects(p.send("t", [{ key: "a", value: null }, { key: "b", value: null, partition: 2 }]), {
      code: "UNKNOWN_PARTITION",
    });
    assert.deepEqual(
      (await admin.topicOffsets("c")).map((o) => o.high),
      [0, 0],
      "nothing of a rejected batch stays",
    );
    assert.deepEqual((await admin.topicOffsets("t")).map((o) => o.high), [0, 0]);
    await assert.rejects(admin.topicOffsets("nope"), { code: "UNKNOWN_TOPIC" });
    await assert.rejects(
      b.consumer({ groupId: "g", topics: ["nope"] }).run({ eachBatch: () => Promise.resolve() }),
      {
        code: "UNKNOWN_TOPIC",
      },
    );
    await assert.rejects(b.reader({ topics: ["nope"] }).run(() => Promise.resolve()), {
      code: "UNKNOWN_TOPIC",
    });
    await p.close();
    await assert.rejects(p.send("t", []), { code: "PRODUCER_CLOSED" });
  });
});

Deno.test("embedded: compacted topics compact on append and drop expired tombstones; offsets never change", async () => {
  let now = 1_000;
  await withBroker(async (b) => {
    await b.admin().createTopics([{
      name: "c",
      partitions: 1,
      compacted: true,
      config: { "delete.retention.ms": "100" },
    }]);
    const p = await b.producer();
    for (let round = 0; round < 20; round++) {
      await p.send(
        "c",
        Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: enc.encode(`${round}`) })),
      );
    }
    const recs = await readAll(b, "c", (rs) => rs.some((r) => r.offset === 9_999));
    assert.ok(recs.length < 5_000, `automatic compaction kept ${recs.length} of 10,000 records`);
    const latest = new Map(recs.map((r) => [r.key, dec.decode(r.value!)]));
    assert.equal(latest.size, 500);
    assert.ok([...latest.values()].every((v) => v === "19"));
    assert.deepEqual(recs.slice(-1).map((r) => r.offset), [9_999]);
    await p.send("c", [{ key: "k0", value: null }]);
    assert.equal(b.compact("c") >= 0, true);
    let after = await readAll(b, "c", (rs) => rs.some((r) => r.offset === 10_000));
    assert.equal(after.length, 500, "a fresh tombstone is kept (499 values + 1 tombstone)");
    now += 1_000;
    assert.equal(b.compact("c"), 1);
    await p.send("c", [{ key: "k1", value: enc.encode("new") }]);
    after = await readAll(b, "c", (rs) => rs.some((r) => r.offset === 10_001));
    assert.equal(after.length, 500, "499 compacted values + the new k1 (not compacted yet)");
    assert.ok(!after.some((r) => r.key === "k0"), "the expired tombstone is gone");
    assert.equal(new Map(after.map((r) => [r.key, dec.decode(r.value!)])).get("k1"), "new");
  }, { now: () => now });
});

Deno.test("embedded: survivors of a compaction hold a buffer of their own, not their append batch's; distinct keys are all kept", async () => {
  await withBroker(async (b) => {
    await b.admin().createTopics([{ name: "c", partitions: 1, compacted: true }]);
    const p = await b.producer();
    // 10,000 distinct keys: nothing to remove, so the log keeps every record and no compaction runs.
    for (let batch = 0; batch < 10; batch++) {
      await p.send(
        "c",
        Array.from({ length: 1_000 }, (_, i) => ({ key: `d${batch * 1_000 + i}`, value: enc.encode("v") })),
      );
    }
    // One batch of 3,000 keys, then every key but one of it written again: that batch's buffer would stay
    // pinned by its one survivor if the compaction kept the survivor's view of it.
    await p.send(
      "c",
      Array.from({ length: 3_000 }, (_, i) => ({ key: `k${i}`, value: enc.encode("x".repeat(100)) })),
    );
    for (let round = 0; round < 5; round++) {
      await p.send(
        "c",
        Array.from({ length: 2_999 }, (_, i) => ({ key: `k${i + 1}`, value: enc.encode(`r${round}`) })),
      );
    }
    const recs = await readAll(b, "c", (rs) => rs.some((r) => r.offset === 10_000 + 3_000 + 5 * 2_999 - 1));
    assert.ok(recs.length < 20_000, `automatic compaction kept ${recs.length} records`);
    const k0 = recs.find((r) => r.key === "k0")!;
    assert.equal(dec.decode(k0.value!), "x".repeat(100));
    assert.ok(
      k0.value!.buffer.byteLength < 100 * 3_000,
      `the survivor holds a ${k0.value!.buffer.byteLength}-byte buffer (its batch was ${100 * 3_000} bytes)`,
    );
    assert.equal(recs.filter((r) => r.key!.startsWith("d")).length, 10_000);
    assert.equal(new Set(recs.map((r) => r.key)).size, recs.length);
  });
});

Deno.test("embedded: a waiting consumer gets a new record within milliseconds (woken on append, no polling)", async () => {
  await withBroker(async (b) => {
    await b.admin().createTopics([{ name: "t", partitions: 4 }]);
    const p = await b.producer();
    let resolve: (() => void) | null = null;
    const c = b.consumer({ groupId: "g", topics: ["t"] });
    await c.run({
      eachBatch: () => {
        resolve?.();
        return Promise.resolve();
      },
    });
    const lat: number[] = [];
    for (let i = 0; i < 200; i++) {
      const got = new Promise<void>((r) => (resolve = r));
      const t0 = performance.now();
      await p.send("t", [{ key: `k${i}`, value: enc.encode("x") }]);
      await got;
      lat.push(performance.now() - t0);
    }
    lat.sort((x, y) => x - y);
    assert.ok(lat[100] < 5, `median append-to-delivery ${lat[100].toFixed(2)} ms`);
    await c.stop();
  });
});

Deno.test("embedded: a failing eachBatch gets the same batch again, then the partition moves on", async () => {
  await withBroker(async (b) => {
    await b.admin().createTopics([{ name: "t", partitions: 1 }]);
    await (await b.producer()).send("t", [{ key: "a", value: enc.encode("1") }, {
      key: "b",
      value: enc.encode("2"),
    }]);
    const calls: number[][] = [];
    const c = b.consumer({ groupId: "g", topics: ["t"], maxBatchSize: 1 });
    await c.run({
      eachBatch: (batch) => {
        calls.push(batch.records.map((r) => r.offset));
        return calls.length === 1 ? Promise.reject(new Error("transient")) : Promise.resolve();
      },
    });
    await waitFor(() => calls.length >= 3, "redelivery and the next batch");
    assert.deepEqual(calls.slice(0, 3), [[0], [0], [1]], "maxBatchSize 1, first batch redelivered");
    await c.stop();
  });
});

Deno.test("embedded: eager rebalance revokes from every member before anyone gets the new assignment", async () => {
  await withBroker(async (b) => {
    await b.admin().createTopics([{ name: "t", partitions: 4 }]);
    const events: string[] = [];
    const member = (name: string) => {
      const c = b.consumer({ groupId: "g", topics: ["t"], clientId: name });
      return {
        c,
        run: () =>
          c.run({
            eachBatch: (_b: Batch) => Promise.resolve(),
            onAssigned: (tps: TopicPartition[]) =>
              void events.push(`${name}+${tps.map((t) => t.partition).join("")}`),
            onRevoked: (tps: TopicPartition[]) =>
              void events.push(`${name}-${tps.map((t) => t.partition).join("")}`),
          }),
      };
    };
    const a = member("a"), m2 = member("b");
    await a.run();
    await m2.run();
    assert.equal(events[0], "a+0123");
    assert.equal(events[1], "a-0123", "a gives everything back when b joins");
    assert.deepEqual(events.slice(2).map((e) => e[1]).sort(), ["+", "+"]);
    assert.deepEqual(
      [...a.c.assignment(), ...m2.c.assignment()].map((t) => t.partition).sort(),
      [0, 1, 2, 3],
    );
    const desc = await b.admin().describeGroup("g");
    assert.equal(desc.state, "Stable");
    await assert.rejects(b.admin().setCommitted("g", [{ topic: "t", partition: 0, offset: 0 }]), {
      code: "GROUP_NOT_EMPTY",
    });
    await b.close(); // stops both members
    assert.ok(events.filter((e) => e.includes("-")).length >= 3, `members revoked at close: ${events}`);
    await assert.rejects(b.admin().listTopics(), { code: "BROKER_CLOSED" });
    await assert.rejects(a.c.commit([{ topic: "t", partition: 0, offset: 1 }]), { code: "NOT_GROUP_MEMBER" });
    await assert.rejects(b.admin().setCommitted("g", []), { code: "BROKER_CLOSED" });
  });
});

Deno.test("embedded: pause before run, topic deletion under a consumer, offsetsForTimestamp with unordered times", async () => {
  await withBroker(async (b) => {
    await b.admin().createTopics([{ name: "t", partitions: 2 }, { name: "u", partitions: 1 }]);
    const p = await b.producer();
    await p.send("t", [{ key: null, value: enc.encode("p0"), partition: 0 }, {
      key: null,
      value: enc.encode("p1"),
      partition: 1,
    }]);
    const got: string[] = [];
    const c = b.consumer({ groupId: "g", topics: ["t"] });
    c.pause([{ topic: "t", partition: 0 }]);
    await c.run({
      eachBatch: (batch) => {
        got.push(...batch.records.map((r) => dec.decode(r.value!)));
        return Promise.resolve();
      },
    });
    await waitFor(() => got.includes("p1"), "the unpaused partition");
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got, ["p1"]);
    c.resume([{ topic: "t", partition: 0 }]);
    await waitFor(() => got.includes("p0"), "the resumed partition");
    await c.commit([{ topic: "t", partition: 0, offset: 1 }]);
    await b.admin().deleteTopics(["t"]);
    assert.deepEqual(await b.admin().fetchCommitted("g"), [], "commits of a deleted topic are dropped");
    await c.stop();

    await p.send(
      "u",
      [5_000, 1_000, 7_000, 3_000].map((timestamp) => ({ key: null, value: null, timestamp })),
    );
    const at = async (ts: number) => (await b.admin().offsetsForTimestamp("u", ts))[0].offset;
    assert.deepEqual([await at(0), await at(2_000), await at(6_000), await at(8_000)], [0, 0, 2, 4]);
  });
});

Deno.test("embedded: time retention deletes expired records from the head; low moves, offsets stay", async () => {
  let now = 10_000_000;
  await withBroker(async (b) => {
    await b.admin().createTopics([{ name: "t", partitions: 1, config: { "retention.ms": "60000" } }]);
    const p = await b.producer();
    await p.send("t", Array.from({ length: 1_500 }, (_, i) => ({ key: null, value: enc.encode(`${i}`) })));
    await b.admin().setCommitted("late", [{ topic: "t", partition: 0, offset: 10 }]);
    now += 30_000;
    await p.send("t", [{ key: null, value: enc.encode("young") }]);
    assert.deepEqual(
      await b.admin().topicOffsets("t"),
      [{ partition: 0, low: 0, high: 1_501 }],
      "nothing expired yet",
    );
    now += 40_000;
    await p.send("t", [{ key: null, value: enc.encode("fresh") }]);
    assert.deepEqual(await b.admin().topicOffsets("t"), [{ partition: 0, low: 1_500, high: 1_502 }]);
    const recs = await readAll(b, "t", (rs) => rs.length >= 2);
    assert.deepEqual(recs.map((r) => [r.offset, dec.decode(r.value!)]), [[1_500, "young"], [1_501, "fresh"]]);
    // A commit below the log start is reset like auto.offset.reset (here: latest).
    const got: number[] = [];
    const c = b.consumer({ groupId: "late", topics: ["t"], fromBeginning: false });
    await c.run({
      eachBatch: (batch) => {
        got.push(...batch.records.map((r) => r.offset));
        return Promise.resolve();
      },
    });
    await p.send("t", [{ key: null, value: enc.encode("next") }]);
    await waitFor(() => got.length > 0, "the next record");
    assert.deepEqual(got, [1_502]);
    await c.stop();
  }, { now: () => now });
});

Deno.test("embedded: a handler may stop its own consumer from inside eachBatch without deadlock", async () => {
  await withBroker(async (b) => {
    await b.admin().createTopics([{ name: "t", partitions: 2 }]);
    await (await b.producer()).send("t", [{ key: "a", value: null }, { key: "b", value: null }]);
    const events: string[] = [];
    const c = b.consumer({ groupId: "g", topics: ["t"] });
    let stopped: Promise<void> | null = null;
    await c.run({
      eachBatch: async () => {
        events.push("batch");
        stopped ??= c.stop();
        await stopped;
        events.push("stopped");
      },
      onRevoked: () => void events.push("revoked"),
    });
    await waitFor(() => events.includes("stopped"), "stop() to resolve inside the handler");
    assert.deepEqual(events, ["batch", "revoked", "stopped"]);
    assert.deepEqual((await b.admin().describeGroup("g")).members, []);
  });
});

Deno.test("embedded: headers are copied at send — shared by the records of a batch that shared them, never the caller's object", async () => {
  await withBroker(async (b) => {
    await b.admin().createTopics([{ name: "h", compacted: true }]);
    const p = await b.producer();
    const shared = { src: "1" };
    await p.send("h", [
      { key: "a", value: enc.encode("1"), headers: shared },
      { key: "b", value: enc.encode("2"), headers: shared },
      { key: "c", value: enc.encode("3") },
      { key: "d", value: enc.encode("4"), headers: { other: "x" } },
      { key: "e", value: enc.encode("5"), headers: shared },
    ]);
    shared.src = "changed by the caller";
    const got = await readAll(b, "h", (rs) => rs.length === 5);
    assert.deepEqual(got.map((r) => r.headers), [{ src: "1" }, { src: "1" }, {}, { other: "x" }, {
      src: "1",
    }]);
    assert.notEqual(got[0].headers, shared);
  });
});
