import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import { LzError } from "../errors.ts";
import { ensureTopics } from "./host_topics.ts";
import { changelogTopic, type Topology } from "./types.ts";
import { TEST_COUNTS_TOPIC, TEST_EVENTS_TOPIC } from "../testing/test_topics.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";

const EVENTS = TEST_EVENTS_TOPIC.name;

function topology(app: string, o: Partial<Topology> = {}): Topology {
  return {
    app,
    inputs: [EVENTS],
    stores: ["s"],
    outputs: [TEST_COUNTS_TOPIC.name],
    create: () => ({ process() {} }),
    ...o,
  };
}

Deno.test("ensureTopics creates the declared topics and the changelogs, and reports the partition counts", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const topo = topology("topics-ok");
    const found = await ensureTopics(broker, topo);
    assert.equal(found.partitions, TEST_EVENTS_TOPIC.partitions);
    assert.deepEqual([...found.outputPartitions], [[TEST_COUNTS_TOPIC.name, TEST_COUNTS_TOPIC.partitions]]);
    const admin = broker.admin();
    const changelog = await admin.describeTopic(changelogTopic("topics-ok", "s"));
    assert.equal(changelog.partitions, TEST_EVENTS_TOPIC.partitions);
    assert.equal((await admin.describeTopic(DLQ_TOPIC.name)).partitions, DLQ_TOPIC.partitions);
    assert.deepEqual(await ensureTopics(broker, topo), found, "a second start finds the same");
  } finally {
    await broker.close();
  }
});

Deno.test("ensureTopics refuses inputs with different partition counts, naming each count", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const other = "lz.hostcheck.other.v1"; // undeclared, but it exists
    await broker.admin().createTopics([{ name: other, partitions: TEST_EVENTS_TOPIC.partitions + 1 }]);
    await assert.rejects(
      ensureTopics(broker, topology("topics-copart", { inputs: [EVENTS, other] })),
      (e: unknown) =>
        e instanceof LzError && e.code === "NOT_COPARTITIONED" &&
        e.message.includes(
          `${EVENTS}=${TEST_EVENTS_TOPIC.partitions}, ${other}=${TEST_EVENTS_TOPIC.partitions + 1}`,
        ),
    );
  } finally {
    await broker.close();
  }
});

Deno.test("ensureTopics refuses a changelog with fewer partitions than the inputs and says how to drop it", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const name = changelogTopic("topics-narrow", "s");
    await broker.admin().createTopics([{ name, partitions: 1, compacted: true }]);
    await assert.rejects(
      ensureTopics(broker, topology("topics-narrow")),
      (e: unknown) =>
        e instanceof LzError && e.code === "CHANGELOG_PARTITIONS" &&
        e.message.includes(`${name} has 1 partitions but the inputs have ${TEST_EVENTS_TOPIC.partitions}`) &&
        e.message.includes("lzsync replay --group topics-narrow --to earliest"),
    );
  } finally {
    await broker.close();
  }
});
