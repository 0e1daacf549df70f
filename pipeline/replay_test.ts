import assert from "node:assert/strict";
import { createEmbeddedBroker } from "./broker/embedded/mod.ts";
import { encodeJson } from "./serde.ts";
import { parseReplayTarget, replay } from "./replay.ts";
import { TEST_EVENTS_TOPIC } from "../pipeline/testing/test_topics.ts";

const EV = TEST_EVENTS_TOPIC.name;

Deno.test("parseReplayTarget() accepts earliest, ISO times and durations back from now", () => {
  const now = Date.UTC(2024, 4, 1, 12);
  assert.equal(parseReplayTarget("earliest", now), "earliest");
  assert.equal(parseReplayTarget("2h", now), now - 7_200_000);
  assert.equal(parseReplayTarget("30m", now), now - 1_800_000);
  assert.equal(parseReplayTarget("2024-05-01T10:00:00Z", now), Date.UTC(2024, 4, 1, 10));
  for (const bad of ["yesterday", "2", "-2h", "2024-13-45T99:00:00Z", ""]) {
    assert.throws(() => parseReplayTarget(bad, now), /not a replay target; use earliest/, bad);
  }
});

Deno.test("replay --to <duration> resets each partition to the first record at or after that time", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const admin = broker.admin();
    await admin.createTopics([{ name: EV, partitions: 1 }, { name: "g1-counts-changelog", compacted: true }]);
    const p = await broker.producer();
    const now = Date.now();
    await p.send(
      EV,
      [0, 1, 2, 3].map((i) => ({
        key: "a",
        value: encodeJson({ id: "a" }),
        timestamp: now - (4 - i) * 3_600_000,
      })),
    );
    await p.close();
    await admin.setCommitted("g1", [{ topic: EV, partition: 0, offset: 4 }]);
    const r = await replay({ broker, group: "g1", to: "150m", now });
    assert.deepEqual(r.offsets, [{ topic: EV, partition: 0, offset: 2 }]);
    assert.deepEqual(await admin.fetchCommitted("g1"), [{ topic: EV, partition: 0, offset: 2 }]);
    assert.deepEqual(r.droppedTopics, ["g1-counts-changelog"]);
    assert.ok(!(await admin.listTopics()).includes("g1-counts-changelog"));
    await assert.rejects(
      replay({ broker, group: "nobody", to: "earliest" }),
      /no committed offsets and no changelog/,
    );
  } finally {
    await broker.close();
  }
});
