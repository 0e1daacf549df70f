/**
 * The policy task's score parts across a restart, with the real processor host on the embedded broker: a
 * scope whose last result left the task while it was not emitting (stopped between the checkpoint of the
 * change and the next score punctuation) must not stay summed in the score.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import { FakeClock } from "../../pipeline/processor/driver.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { decode, encode } from "../../pipeline/serde.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import type { Broker } from "../../pipeline/broker/types.ts";
import type { AssetState } from "../../schemas/assets.ts";
import type { ScorePart } from "../../schemas/compliance.ts";
import { policyTopology } from "./mod.ts";
import { asset } from "./test_assets.ts";

const PARTS = "lz.compliance.score_parts.v1";
const AT = "2024-05-01T00:00:00.000Z";

async function parts(broker: Broker): Promise<Map<string, ScorePart | null>> {
  const m = new Map<string, ScorePart | null>();
  await readTopicToEnd(broker, PARTS, (r) => void m.set(r.key!, decode<ScorePart>(PARTS, r.value)));
  return m;
}

async function caughtUp(broker: Broker, group: string): Promise<boolean> {
  const admin = broker.admin();
  const [high] = await admin.topicOffsets("lz.assets.v1");
  const c = await admin.fetchCommitted(group, ["lz.assets.v1"]);
  return (c.find((x) => x.partition === 0)?.offset ?? 0) >= high.high;
}

Deno.test("policy: after a restart, a score scope whose results all left the task is removed from the parts", async () => {
  const broker = await createEmbeddedBroker();
  const clock = new FakeClock(Date.parse(AT));
  const topo = policyTopology({ app: "t-policy-parts", scoreIntervalMs: 1000 });
  const fw = asset("compute.googleapis.com/Firewall", "allow-ssh", {
    direction: "INGRESS",
    sourceRanges: ["0.0.0.0/0"],
    allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
  }, { project: "p9" });
  const state = (type: AssetState["type"]): AssetState => ({
    type,
    name: fw.name,
    asset: fw,
    source: "api",
    snapshot_id: null,
    message_id: null,
    changed_at: AT,
    observed_at: AT,
  });
  const send = async (v: AssetState) => {
    const p = await broker.producer();
    await p.send("lz.assets.v1", [{ key: fw.name, value: encode("lz.assets.v1", v) }]);
    await p.close();
  };
  const opts = { tickMs: 20 };
  try {
    const first = createProcessorHost({ broker, log: silentLogger, clock }, topo, opts);
    await first.start();
    await send(state("resource_created"));
    await waitFor(() => caughtUp(broker, topo.app), "the asset is processed");
    clock.advance(1000);
    await first.tick();
    assert.ok((await parts(broker)).get("project:p9|0")?.evaluated, "the project's part is emitted");
    // Deleted, checkpointed, and stopped before the next score punctuation: nothing emitted for it.
    await send(state("resource_deleted"));
    await waitFor(() => caughtUp(broker, topo.app), "the deletion is processed");
    await first.stop();
    assert.ok((await parts(broker)).get("project:p9|0")?.evaluated, "a stale part is left");

    const second = createProcessorHost({ broker, log: silentLogger, clock }, topo, opts);
    await second.start();
    try {
      await waitFor(async () => {
        clock.advance(1000);
        await second.tick();
        const m = await parts(broker);
        return m.has("project:p9|0") && m.get("project:p9|0") === null;
      }, "the restarted task removes the stale part");
      assert.equal((await parts(broker)).get("overall|0")?.evaluated, 0);
    } finally {
      await second.stop();
    }
  } finally {
    await broker.close();
  }
});
