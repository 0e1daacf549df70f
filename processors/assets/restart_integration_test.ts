/**
 * A restart of `lzsync-assets` in the middle of a snapshot (the Kafka crash test hit it: the clean rebuild
 * deleted a vanished asset at the snapshot that stopped listing it, the crashed run only at the next one, so
 * the two states and digests differed). The open snapshot is in the `snapshots` store, so the restarted task
 * resumes it and deletes exactly what, and when, an uninterrupted run deletes.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import type { Broker } from "../../pipeline/broker/types.ts";
import { digestGroup, readGroupState, topologyState } from "../../pipeline/digest.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import type { AssetRecord } from "../../schemas/assets.ts";
import { assetsTopology } from "./mod.ts";
import type { AssetEntry } from "./merge.ts";

const SNAP = "lz.assets.snapshot.v1";
const PARENT = "projects/web-prod";
const TYPES = ["compute.googleapis.com/Firewall"];

const fw = (name: string): AssetRecord => ({
  name: `//compute.googleapis.com/projects/web-prod/global/firewalls/${name}`,
  asset_type: "compute.googleapis.com/Firewall",
  project: "web-prod",
  project_number: "111",
  location: "global",
  update_time: "2024-05-01T09:00:00.000Z",
  ancestors: ["projects/111", "organizations/9"],
  resource_parent: null,
  data: { name, sourceRanges: ["10.0.0.0/8"] },
});

/** The records of one whole snapshot listing `names`, one asset per chunk. */
function snapshot(id: string, names: string[], at: string): unknown[] {
  return [
    {
      type: "snapshot_started",
      snapshot_id: id,
      previous_snapshot_id: null,
      source: "api",
      parent: PARENT,
      asset_types: TYPES,
      content_types: ["RESOURCE"],
      started_at: at,
    },
    ...names.map((n, seq) => ({
      type: "snapshot_assets",
      snapshot_id: id,
      seq,
      assets: [fw(n)],
      read_time: at,
    })),
    {
      type: "snapshot_completed",
      snapshot_id: id,
      asset_count: names.length,
      chunk_count: names.length,
      pages: 1,
      read_time: at,
      completed_at: at,
      duration_ms: 1,
    },
  ];
}

async function send(broker: Broker, values: unknown[]): Promise<void> {
  const p = await broker.producer();
  await p.send(SNAP, values.map((v) => ({ key: PARENT, value: encode(SNAP, v), partition: 0 })));
  await p.close();
}

/** Runs `topo` until it has committed every snapshot record, then stops it (a checkpoint and a commit). */
async function runToEnd(broker: Broker, topo: Topology): Promise<void> {
  const host = createProcessorHost({ broker, log: silentLogger }, topo, { retries: 1, backoffMs: 10 });
  await host.start();
  try {
    await waitFor(async () => {
      const [high] = await broker.admin().topicOffsets(SNAP);
      const [c] = await broker.admin().fetchCommitted(topo.app, [SNAP]);
      return (c?.offset ?? 0) >= high.high;
    }, `${topo.app} caught up`);
  } finally {
    await host.stop();
  }
}

Deno.test("a restart in the middle of a snapshot resumes it: same deletions, same times, same digest as a run without one", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const interrupted = assetsTopology({ app: "assets-interrupted" });
    const clean = assetsTopology({ app: "assets-clean" });
    assert.notEqual(interrupted.app, clean.app, "assetsTopology takes an app id");
    await broker.admin().createTopics([{ name: SNAP, partitions: 1 }]);
    await send(broker, snapshot("s1", ["a", "b", "c"], "2024-05-01T10:00:00.000Z"));
    await runToEnd(broker, interrupted);
    // s2 no longer lists c: the task stops (and commits) after its first chunk, then resumes.
    const s2 = snapshot("s2", ["a", "b"], "2024-05-01T11:00:00.000Z");
    await send(broker, s2.slice(0, 2));
    await runToEnd(broker, interrupted);
    await send(broker, s2.slice(2));
    await runToEnd(broker, interrupted);
    await runToEnd(broker, clean);

    const state = await readGroupState({ broker, ...topologyState(interrupted) });
    const c = (state.get("assets")!.get(0)! as Map<string, AssetEntry>).get(fw("c").name)!;
    assert.equal(c.del, Date.parse("2024-05-01T11:00:00.000Z"), "deleted by s2, at s2's read time");
    assert.equal(
      [...state.get("snapshots")!.get(0)!.keys()].length,
      0,
      "nothing left of the finished snapshot",
    );
    const a = await digestGroup({ broker, ...topologyState(interrupted) });
    const b = await digestGroup({ broker, ...topologyState(clean) });
    assert.equal(a.digest, b.digest);
  } finally {
    await broker.close();
  }
});
