import assert from "node:assert/strict";
import { createTestDriver } from "../../pipeline/processor/driver.ts";
import { counterTopology } from "./mod.ts";
import { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC } from "../../pipeline/testing/test_topics.ts";

Deno.test("counter counts events per key and forwards the running count", async () => {
  const d = createTestDriver(counterTopology());
  for (let i = 0; i < 30; i++) await d.pipe(TEST_EVENTS_TOPIC.name, `k${i % 3}`, { id: `k${i % 3}`, n: i });
  for (const k of ["k0", "k1", "k2"]) {
    assert.equal(d.store<number>("counts", d.partitionOf(TEST_EVENTS_TOPIC.name, k)).get(k), 10);
  }
  const last = d.forwarded(TEST_COUNTS_TOPIC.name).filter((r) => r.key === "k1").at(-1);
  assert.deepEqual(last?.value, { id: "k1", count: 10 });
  await d.close();
});

Deno.test("counter sends a fail=true event to the DLQ without counting it", async () => {
  const d = createTestDriver(counterTopology(), { retries: 1 });
  await d.pipe(TEST_EVENTS_TOPIC.name, "k", { id: "k", fail: true });
  await d.pipe(TEST_EVENTS_TOPIC.name, "k", { id: "k" });
  assert.equal(d.dlq().length, 1);
  assert.equal(d.dlq()[0].attempts, 2);
  assert.equal(d.store<number>("counts", d.partitionOf(TEST_EVENTS_TOPIC.name, "k")).get("k"), 1);
  await d.close();
});
