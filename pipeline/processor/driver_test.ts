import assert from "node:assert/strict";
import type { Topology } from "./types.ts";
import { createTestDriver, FakeClock } from "./driver.ts";
import { counterTopology } from "../../processors/counter/mod.ts";
import { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC } from "../../pipeline/testing/test_topics.ts";

const EV = TEST_EVENTS_TOPIC.name;
const COUNTS = TEST_COUNTS_TOPIC.name;

Deno.test("createTestDriver() runs records through the task that owns their partition", async () => {
  const d = createTestDriver(counterTopology());
  for (const k of ["a", "b", "a", "c", "a"]) await d.pipe(EV, k, { id: k });
  const counts = d.forwarded(COUNTS).map((r) => r.value);
  assert.deepEqual(counts, [
    { id: "a", count: 1 },
    { id: "b", count: 1 },
    { id: "a", count: 2 },
    { id: "c", count: 1 },
    { id: "a", count: 3 },
  ]);
  const p = d.partitionOf(EV, "a");
  assert.equal(d.store<number>("counts", p).get("a"), 3);
  for (const r of d.forwarded(COUNTS)) assert.equal(r.fromPartition, d.partitionOf(EV, r.key!));
  assert.equal(d.dlq().length, 0);
  await d.close();
});

Deno.test("createTestDriver() sends malformed, schema-invalid and throwing records to the DLQ and moves on", async () => {
  const d = createTestDriver(counterTopology(), { retries: 2 });
  const p = d.partitionOf(EV, "x");
  await d.pipe(EV, "x", null, { raw: new TextEncoder().encode("{not json") });
  await d.pipe(EV, "x", { id: "x", extra: 1 });
  await d.pipe(EV, "x", { id: "x", fail: true });
  await d.pipe(EV, "x", { id: "x" });
  const dlq = d.dlq();
  assert.deepEqual(dlq.map((r) => [r.error_code, r.source.offset, r.attempts]), [
    ["DECODE", 0, 0],
    ["VALIDATION", 1, 0],
    ["PROCESS", 2, 3],
  ]);
  assert.equal(dlq[0].source.partition, p);
  assert.equal(atob(dlq[0].original.value_base64!), "{not json");
  assert.match(dlq[1].error, /\/extra/);
  assert.match(dlq[2].error, /fail=true/);
  assert.deepEqual(d.forwarded(COUNTS).map((r) => r.value), [{ id: "x", count: 1 }]);
  assert.equal(d.store("counts", p).get("x"), 1);
  await d.close();
});

Deno.test("createTestDriver() rolls back store writes and forwards of a failed attempt", async () => {
  let calls = 0;
  const t: Topology = {
    app: "flaky",
    inputs: [EV],
    stores: ["s"],
    outputs: [COUNTS],
    create: () => ({
      process(_rec, ctx) {
        calls++;
        ctx.store<number>("s").put("k", (ctx.store<number>("s").get("k") ?? 0) + 1);
        ctx.forward(COUNTS, "k", { id: "k", count: calls });
        if (calls < 3) throw new Error("transient");
      },
    }),
  };
  const d = createTestDriver(t);
  await d.pipe(EV, "k", { id: "k" }, { partition: 0 });
  assert.equal(calls, 3);
  assert.equal(d.store("s").get("k"), 1);
  assert.deepEqual(d.forwarded().map((r) => r.value), [{ id: "k", count: 3 }]);
  await d.close();
});

Deno.test("createTestDriver() never retries a TypeError and rejects forwards that break the output schema", async () => {
  let calls = 0;
  const t: Topology = {
    app: "buggy",
    inputs: [EV],
    stores: [],
    outputs: [COUNTS],
    create: () => ({
      process(rec, ctx) {
        calls++;
        if ((rec.value as { id: string }).id === "t") throw new TypeError("x is undefined");
        ctx.forward(COUNTS, rec.key, { id: rec.key, count: -1 });
      },
    }),
  };
  const d = createTestDriver(t);
  await d.pipe(EV, "t", { id: "t" });
  assert.equal(calls, 1);
  await d.pipe(EV, "u", { id: "u" });
  assert.equal(calls, 2);
  assert.deepEqual(d.dlq().map((r) => [r.error_code, r.attempts]), [["PROCESS", 1], ["VALIDATION", 1]]);
  assert.match(d.dlq()[1].error, /\/count/);
  assert.equal(d.forwarded().length, 0);
  await d.close();
});

Deno.test("advance() fires punctuations on the fake clock, in time order", async () => {
  const fired: [number, number][] = [];
  const t: Topology = {
    app: "punct",
    inputs: [EV],
    stores: ["seen"],
    outputs: [COUNTS],
    create: () => ({
      init(ctx) {
        ctx.schedule(1000, (now) => {
          const n = ctx.store<number>("seen").size;
          fired.push([ctx.partition, now]);
          ctx.forward(COUNTS, `p${ctx.partition}`, { id: `p${ctx.partition}`, count: n });
        });
      },
      process(rec, ctx) {
        ctx.store<number>("seen").put(rec.key!, 1);
      },
    }),
  };
  const clock = new FakeClock(0);
  const d = createTestDriver(t, { clock });
  await d.pipe(EV, "a", { id: "a" }, { partition: 0 });
  await d.advance(999);
  assert.equal(fired.length, 0);
  await d.advance(1);
  assert.deepEqual(fired, [[0, 1000]]);
  await d.pipe(EV, "b", { id: "b" }, { partition: 0 });
  await d.advance(2500);
  assert.deepEqual(fired, [[0, 1000], [0, 2000], [0, 3000]]);
  assert.equal(clock.now(), 3500);
  assert.deepEqual(d.forwarded(COUNTS).map((r) => r.value), [
    { id: "p0", count: 1 },
    { id: "p0", count: 2 },
    { id: "p0", count: 2 },
  ]);
  await d.close();
});

Deno.test("pipe() refuses a topic that is not an input of the topology", async () => {
  const d = createTestDriver(counterTopology());
  await assert.rejects(d.pipe("lz.other.v1", "a", {}), /not an input/);
  await d.close();
});

Deno.test("ctx.forwardJson() produces the processor's own serialization, validated like forward()", async () => {
  const t: Topology = {
    app: "json-forward",
    inputs: [EV],
    stores: [],
    outputs: [COUNTS],
    create: () => ({
      process(rec, ctx) {
        const v = { id: rec.key!, count: 1 };
        // the same value, its keys written in another order: the bytes are the processor's text
        if (rec.key === "bad") ctx.forwardJson(COUNTS, rec.key, { id: "bad" }, '{"id":"bad"}');
        else ctx.forwardJson(COUNTS, rec.key, v, `{"count":1,"id":${JSON.stringify(rec.key)}}`);
      },
    }),
  };
  const d = createTestDriver(t, { retries: 0 });
  await d.pipe(EV, "a", { id: "a" });
  await d.pipe(EV, "bad", { id: "bad" });
  assert.deepEqual(d.forwarded(COUNTS).map((r) => r.value), [{ count: 1, id: "a" }]);
  assert.deepEqual(Object.keys(d.forwarded(COUNTS)[0].value as object), ["count", "id"], "the given text");
  assert.deepEqual(
    d.dlq().map((r) => r.error_code),
    ["VALIDATION"],
    "an invalid value is refused like forward()",
  );
  await d.close();
});
