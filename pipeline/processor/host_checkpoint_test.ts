import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import type { Broker } from "../broker/types.ts";
import { silentLogger } from "../log.ts";
import { encodeJson } from "../serde.ts";
import { createHostState, newEntry } from "./host_state.ts";
import { ensureTopics } from "./host_topics.ts";
import { type StagedCheckpoint, writeCheckpoint } from "./host_checkpoint.ts";
import { changelogTopic, type Topology } from "./types.ts";
import { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC } from "../testing/test_topics.ts";

const OUT = TEST_COUNTS_TOPIC.name;
const high = async (broker: Broker, topic: string) =>
  (await broker.admin().topicOffsets(topic)).reduce((n, o) => n + o.high, 0);

Deno.test("writeCheckpoint flushes sinks, produces outputs and changelog, commits — and a retry resumes where it stopped", async () => {
  const broker = await createEmbeddedBroker();
  let flushes = 0;
  const topo: Topology = {
    app: "cp-steps",
    inputs: [TEST_EVENTS_TOPIC.name],
    stores: ["s"],
    outputs: [OUT],
    sinks: [{ name: "counting", flush: () => Promise.resolve(void flushes++) }],
    create: () => ({ process() {} }),
  };
  const commits: number[] = [];
  const state = createHostState({ broker, log: silentLogger }, topo, {
    onCheckpoint: () => {},
    beforeCommit: (p) => void commits.push(p),
  });
  try {
    await ensureTopics(broker, topo);
    state.producer = await broker.producer();
    state.consumer = broker.consumer({ groupId: topo.app, topics: topo.inputs });
    await state.consumer.run({ eachBatch: () => Promise.resolve() }); // a member of the group: it may commit
    const e = newEntry(1);
    const changelog = changelogTopic(topo.app, "s");
    const cp: StagedCheckpoint = {
      outputs: [{ topic: OUT, key: "a", value: encodeJson({ id: "a", count: 1 }), partition: 1 }],
      changelog: new Map([[changelog, [
        { key: "a", value: encodeJson(1), partition: 1 },
        { key: "b", value: encodeJson(2), partition: 1 },
      ]]]),
      commits: [{ topic: TEST_EVENTS_TOPIC.name, partition: 1, offset: 5 }],
    };
    await writeCheckpoint(state, e, cp);
    assert.equal(cp.stage, 3);
    assert.deepEqual([flushes, await high(broker, OUT), await high(broker, changelog)], [1, 1, 2]);
    assert.deepEqual(e.positions, { s: 2 }, "the store's restore position is past the records written");
    assert.deepEqual(commits, [1]);
    const committed = await broker.admin().fetchCommitted(topo.app, [TEST_EVENTS_TOPIC.name]);
    assert.equal(committed.find((c) => c.partition === 1)?.offset, 5);
    // A retry (the commit failed): nothing is flushed or produced again.
    await writeCheckpoint(state, e, cp);
    assert.deepEqual([flushes, await high(broker, OUT), await high(broker, changelog)], [1, 1, 2]);
    assert.deepEqual(commits, [1, 1]);
    await state.producer.close();
    state.producer = null;
    await assert.rejects(writeCheckpoint(state, e, { ...cp, stage: 0 }), /host cp-steps is not running/);
  } finally {
    await state.consumer?.stop();
    await state.producer?.close();
    await broker.close();
  }
});
