/**
 * A cold start of `lzsync-policy` with `pmo.yaml`'s governance already on its topic (issue 9): the host catches
 * the governance input up before any asset batch (`Topology.bootstrap`), so every asset is evaluated once,
 * with the governance rules, and gets one evaluation record — not one without them and a second when the
 * governance record is handled after the first asset batch.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { readAll } from "../../features/git_sync/_test_util.ts";
import type { AssetState } from "../../schemas/assets.ts";
import type { Evaluation, Governance } from "../../schemas/compliance.ts";
import type { Violation } from "../../schemas/violations.ts";
import { parsePmo } from "./governance.ts";
import { policyTopology, RULE_REQUIRED_LABELS } from "./mod.ts";
import { asset } from "./test_assets.ts";

const OBSERVED = "2024-05-01T10:00:00.000Z";

Deno.test("policy cold start: governance on its topic is applied before the first asset batch (one evaluation per asset)", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const topo = policyTopology({ app: "it-policy-cold-start", scoreIntervalMs: 50 });
    const gov: Governance = {
      repo: "lz",
      path: "pmo.yaml",
      commit: null,
      present: true,
      updated_at: "2024-05-01T00:00:00.000Z",
      ...parsePmo("required_labels: [owner]"),
    };
    const p = await broker.producer();
    await broker.admin().createTopics([
      { name: "lz.assets.v1", partitions: 1, compacted: true },
      { name: "lz.compliance.governance.v1", partitions: 1, compacted: true },
    ]);
    await p.send("lz.compliance.governance.v1", [{
      key: "pmo",
      value: encode("lz.compliance.governance.v1", gov),
    }]);
    const n = 40;
    const names: string[] = [];
    await p.send(
      "lz.assets.v1",
      Array.from({ length: n }, (_, i) => {
        const a = asset("storage.googleapis.com/Bucket", `b-${i}`, { labels: i % 2 ? { owner: "x" } : {} });
        names.push(a.name);
        const v: AssetState = {
          type: "resource_created",
          name: a.name,
          asset: a,
          source: "api",
          snapshot_id: "s",
          message_id: null,
          changed_at: OBSERVED,
          observed_at: OBSERVED,
        };
        return { key: a.name, value: encode("lz.assets.v1", v) };
      }),
    );
    await p.close();
    const host = createProcessorHost({ broker, log: silentLogger }, topo, { retries: 1, backoffMs: 10 });
    await host.start();
    try {
      await waitFor(
        async () => {
          const c = await broker.admin().fetchCommitted(topo.app, [
            "lz.assets.v1",
            "lz.compliance.governance.v1",
          ]);
          return c.length === 2 && c.every((x) => x.offset >= (x.topic === "lz.assets.v1" ? n : 1));
        },
        "policy caught up",
        30_000,
      );
    } finally {
      await host.stop();
    }
    const evals = await readAll<Evaluation>(broker, "lz.compliance.evaluations.v1");
    assert.equal(evals.length, n, "one evaluation record per asset");
    assert.deepEqual(evals.map((r) => r.key).sort(), [...names].sort());
    for (const r of evals) {
      const pmo = r.value!.results.find((x) => x.rule_id === RULE_REQUIRED_LABELS);
      assert.ok(pmo, `${r.key}: evaluated with the governance rule`);
      assert.equal(r.value!.evaluated_at, OBSERVED);
    }
    const open = (await readAll<Violation>(broker, "lz.violations.v1"))
      .map((r) => r.value!)
      .filter((v) => v.rule_id === RULE_REQUIRED_LABELS);
    assert.equal(open.length, n / 2, "one violation per unlabelled bucket, written once");
    for (const v of open) {
      assert.equal(v.state, "open");
      assert.equal(v.first_seen, OBSERVED, "first seen when the asset was observed under the governance");
    }
  } finally {
    await broker.close();
  }
});
