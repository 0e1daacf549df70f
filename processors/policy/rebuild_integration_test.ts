/**
 * A rebuild of `lzsync-policy` from a compacted `lz.assets.v1` (issue 8): the topic keeps only each asset's
 * latest record, so when a rule first failed on an asset is no longer in the input. The rebuild reads it back
 * from `lz.violations.v1` and must give byte-identical state (digest) and the same `first_seen`.
 */
import assert from "node:assert/strict";
import type { ProduceRecord } from "../../pipeline/broker/types.ts";
import { createEmbeddedBroker, type EmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import { digestGroup, readGroupState, topologyState } from "../../pipeline/digest.ts";
import { replay } from "../../pipeline/replay.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { readAll } from "../../features/git_sync/_test_util.ts";
import type { AssetRecord, AssetState } from "../../schemas/assets.ts";
import type { Violation } from "../../schemas/violations.ts";
import { policyTopology } from "./mod.ts";
import { asset } from "./test_assets.ts";
import type { PolicyAsset } from "./processor.ts";

const FW = "compute.googleapis.com/Firewall";
const SSH = "cis-gcp-3.6-ssh-open";
const at = (h: number) => new Date(Date.UTC(2024, 4, 1, h)).toISOString();
const fw = (name: string, open: boolean, description = ""): AssetRecord =>
  asset(FW, name, {
    direction: "INGRESS",
    sourceRanges: [open ? "0.0.0.0/0" : "10.0.0.0/8"],
    allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
    description,
  });

function state(a: AssetRecord, h: number, type: AssetState["type"] = "resource_updated"): ProduceRecord {
  const v: AssetState = {
    type,
    name: a.name,
    asset: a,
    source: "api",
    snapshot_id: `snap-${h}`,
    message_id: null,
    changed_at: at(h),
    observed_at: at(h),
  };
  return { key: a.name, value: encode("lz.assets.v1", v), timestamp: Date.parse(at(h)) };
}

async function runToEnd(broker: EmbeddedBroker, topo: Topology): Promise<void> {
  const host = createProcessorHost({ broker, log: silentLogger }, topo, { retries: 1, backoffMs: 10 });
  await host.start();
  try {
    await waitFor(
      async () => {
        const [high] = await broker.admin().topicOffsets("lz.assets.v1");
        const [c] = await broker.admin().fetchCommitted(topo.app, ["lz.assets.v1"]);
        return (c?.offset ?? 0) >= high.high;
      },
      `${topo.app} caught up`,
      30_000,
    );
  } finally {
    await host.stop();
  }
}

async function failingSince(broker: EmbeddedBroker, topo: Topology): Promise<Record<string, string>> {
  const state = await readGroupState({ broker, ...topologyState(topo) });
  const out: Record<string, string> = {};
  for (const [, m] of state.get("assets")!) {
    for (const [name, e] of m as Map<string, PolicyAsset>) {
      const r = e.r[SSH];
      if (r?.p === 0) out[name.split("/").pop()!] = r.fs!;
    }
  }
  return out;
}

Deno.test("policy rebuild from a compacted lz.assets.v1: same digest, same first_seen as the run that saw every record", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const topo = policyTopology({ app: "it-policy-rebuild", scoreIntervalMs: 50 });
    await broker.admin().createTopics([{ name: "lz.assets.v1", partitions: 1, compacted: true }]);
    const p = await broker.producer();
    // a: failing since 00:00, still failing at 01:00 and 02:00 (other changes);
    // b: failing at 00:00, fixed at 01:00, failing again since 02:00 (a new streak);
    // c: failing at 00:00, fixed at 01:00 and still fine at 02:00.
    await p.send("lz.assets.v1", [
      state(fw("a", true), 0, "resource_created"),
      state(fw("b", true), 0, "resource_created"),
      state(fw("c", true), 0, "resource_created"),
      state(fw("a", true, "x"), 1),
      state(fw("b", false), 1),
      state(fw("c", false), 1),
      state(fw("a", true, "y"), 2),
      state(fw("b", true), 2),
      state(fw("c", false, "z"), 2),
    ]);
    await p.close();
    await runToEnd(broker, topo);
    const before = await digestGroup({ broker, ...topologyState(topo) });
    assert.deepEqual(await failingSince(broker, topo), { a: at(0), b: at(2) });

    assert.ok(broker.compact("lz.assets.v1") >= 6, "compaction dropped the older records");
    const left = await readAll<AssetState>(broker, "lz.assets.v1");
    assert.deepEqual(left.map((r) => r.value!.observed_at), [at(2), at(2), at(2)], "one record per asset");

    await replay({
      broker,
      group: topo.app,
      to: "earliest",
      inputs: topo.inputs,
      stores: topo.stores,
    });
    await runToEnd(broker, topo);
    assert.deepEqual(await failingSince(broker, topo), { a: at(0), b: at(2) }, "failing since, rebuilt");
    const after = await digestGroup({ broker, ...topologyState(topo) });
    assert.equal(after.digest, before.digest, "the rebuilt state is byte-identical");

    const latest = new Map<string, Violation>();
    for (const r of await readAll<Violation>(broker, "lz.violations.v1")) latest.set(r.key!, r.value!);
    const open = [...latest.values()].filter((v) => v.rule_id === SSH && v.state === "open");
    assert.deepEqual(
      open.map((v) => [v.asset_name.split("/").pop(), v.first_seen]).sort(),
      [["a", at(0)], ["b", at(2)]],
      "the violation records the rebuild wrote keep first_seen",
    );
  } finally {
    await broker.close();
  }
});
