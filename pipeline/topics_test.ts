import assert from "node:assert/strict";
import { resolveConfig } from "./config.ts";
import { createEmbeddedBroker } from "./broker/embedded/mod.ts";
import { createLogger } from "./log.ts";
import { declaredTopicSpecs, ensureTopics, topicPartitions } from "./topics.ts";
import { topicDef, TOPICS } from "../schemas/mod.ts";
// Registers the test topics in this process, as every runtime test does: they must still not be created.
import "./testing/test_topics.ts";

const partitionsOf = (specs: { name: string; partitions?: number }[]) =>
  new Map(specs.map((s) => [s.name, s.partitions]));

Deno.test("declaredTopicSpecs() with the default config gives every topic its declared count, no test topic", () => {
  const specs = declaredTopicSpecs(resolveConfig({}));
  assert.equal(specs.length, TOPICS.size);
  for (const s of specs) assert.equal(s.partitions, TOPICS.get(s.name)!.partitions, s.name);
  assert.deepEqual(specs.filter((s) => s.name.startsWith("lz.test.")), []);
  assert.ok(topicDef("lz.test.events.v1"), "the harness registered the test topics (serde, hosts know them)");
});

Deno.test("declaredTopicSpecs(): broker.partitions sets the keyed topics, processors.topics wins, others fixed", () => {
  const parts = partitionsOf(declaredTopicSpecs(resolveConfig({
    broker: { partitions: 3 },
    processors: {
      topics: { "lz.compliance.evaluations.v1": { partitions: 5 }, "lz.dlq.v1": { partitions: 2 } },
    },
  })));
  const keyed = [...TOPICS.values()].filter((t) => t.keyed).map((t) => t.name);
  assert.ok(keyed.includes("lz.violations.v1"), `keyed topics: ${keyed.join(", ")}`);
  assert.equal(parts.get("lz.violations.v1"), 3);
  assert.equal(parts.get("lz.compliance.evaluations.v1"), 5, "a per-topic override beats broker.partitions");
  assert.equal(parts.get("lz.dlq.v1"), 2, "a per-topic override applies to a fixed topic too");
  assert.equal(parts.get("lz.git.push.v1"), 1, "a topic that is not keyed keeps its declared count");
  assert.equal(
    topicPartitions(TOPICS.get("lz.sync.status.v1")!, resolveConfig({ broker: { partitions: 8 } }).config),
    1,
  );
});

Deno.test("ensureTopics() creates missing topics with the configured count and warns about a short one", async () => {
  const broker = await createEmbeddedBroker();
  const lines: string[] = [];
  const log = createLogger({ sink: (l) => lines.push(l) });
  try {
    const admin = broker.admin();
    await admin.createTopics([{ name: "lz.violations.v1", partitions: 1, compacted: true }]);
    const specs = declaredTopicSpecs(resolveConfig({ broker: { partitions: 3 } }));
    const short = await ensureTopics(admin, specs, log, (t) => t === "lz.violations.v1" ? ["g1"] : []);
    assert.deepEqual(short, [{ name: "lz.violations.v1", configured: 3, actual: 1 }]);
    assert.equal((await admin.describeTopic("lz.violations.v1")).partitions, 1, "never repartitioned");
    assert.equal((await admin.describeTopic("lz.compliance.evaluations.v1")).partitions, 3);
    assert.equal((await admin.describeTopic("lz.git.push.v1")).partitions, 1);
    assert.deepEqual((await admin.listTopics()).filter((t) => t.startsWith("lz.test.")), []);
    const warn = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "warn");
    assert.equal(warn.length, 1);
    assert.match(warn[0].msg, /topic lz\.violations\.v1 has 1 partition\(s\) but 3 are configured/);
    assert.match(warn[0].msg, /stop lzsync, delete lz\.violations\.v1/);
    assert.match(warn[0].msg, /lzsync replay --group g1 --to earliest/);
    assert.match(warn[0].msg, /set broker\.partitions .* to 1/);
    // A second start with the same config finds everything in place: nothing new, the same warning.
    lines.length = 0;
    assert.equal((await ensureTopics(admin, specs, log)).length, 1);
  } finally {
    await broker.close();
  }
});
