import assert from "node:assert/strict";
import { createEmbeddedBroker } from "./broker/embedded/mod.ts";
import { encodeJson } from "./serde.ts";
import { groupLag } from "./lag.ts";

Deno.test("groupLag() reports records and the age of the oldest unconsumed record per partition", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const admin = broker.admin();
    await admin.createTopics([{ name: "t", partitions: 2 }]);
    const p = await broker.producer();
    const now = Date.now();
    const recs = [0, 1, 2, 3, 4].map((i) => ({
      key: null,
      value: encodeJson(i),
      partition: 0,
      timestamp: now - 100_000 + i * 10_000,
    }));
    await p.send("t", recs);
    await p.send("t", [{ key: null, value: encodeJson(9), partition: 1, timestamp: now - 5_000 }]);
    await p.close();
    await admin.setCommitted("g", [{ topic: "t", partition: 0, offset: 2 }, {
      topic: "t",
      partition: 1,
      offset: 1,
    }]);
    const rows = await groupLag({ broker, group: "g", now });
    assert.deepEqual(rows.map((r) => [r.partition, r.committed, r.high, r.lag]), [[0, 2, 5, 3], [
      1,
      1,
      1,
      0,
    ]]);
    assert.equal(rows[0].lag_seconds, 80); // the record at offset 2 is 80 s old
    assert.equal(rows[1].lag_seconds, 0);
    const all = await groupLag({ broker, now });
    assert.deepEqual(all.map((r) => r.group), ["g", "g"]);
  } finally {
    await broker.close();
  }
});
