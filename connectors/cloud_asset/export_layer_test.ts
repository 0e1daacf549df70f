/**
 * The export-file layer end to end on the embedded broker, over the sample Landing Zone's `gcloud asset
 * export` NDJSON: the real service, the assets, policy and sync-status processors. Partial and damaged files
 * (issue 9, defects 1, 3, 6, 8).
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import type { Broker } from "../../pipeline/broker/types.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { createProcessorHost, type ProcessorHost } from "../../pipeline/processor/host.ts";
import { assetsTopology } from "../../processors/assets/mod.ts";
import { policyTopology } from "../../processors/policy/mod.ts";
import { syncStatusOptions, syncStatusTopology } from "../../processors/sync_status/mod.ts";
import type { AssetState } from "../../schemas/assets.ts";
import type { Violation } from "../../schemas/violations.ts";
import type { SyncStatus } from "../../schemas/sync_status.ts";
import type { Alert } from "../../schemas/alerts.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { createCloudAssetService } from "./service.ts";

const SAMPLE = new URL("../../deploy/sample-lz/assets/export.ndjson", import.meta.url);
const SSH_ANYWHERE = "//compute.googleapis.com/projects/lz-shared-net/global/firewalls/allow-ssh-anywhere";

/** Every record of the topics lzsync's views read, latest value per key. */
class Views {
  assets = new Map<string, AssetState | null>();
  violations = new Map<string, Violation | null>();
  status = new Map<string, SyncStatus>();
  alerts = new Map<string, Alert>();
  dlq = 0;
  #stop: () => Promise<void> = () => Promise.resolve();
  async start(broker: Broker) {
    const dec = new TextDecoder();
    const reader = broker.reader({
      topics: ["lz.assets.v1", "lz.violations.v1", "lz.sync.status.v1", "lz.alerts.v1", "lz.dlq.v1"],
      from: "earliest",
    });
    this.#stop = () => reader.stop();
    await reader.run((b) => {
      for (const r of b.records) {
        const v = r.value ? JSON.parse(dec.decode(r.value)) : null;
        const k = r.key ?? "";
        if (r.topic === "lz.assets.v1") this.assets.set(k, v);
        else if (r.topic === "lz.violations.v1") this.violations.set(k, v);
        else if (r.topic === "lz.sync.status.v1") this.status.set(k, v);
        else if (r.topic === "lz.alerts.v1") this.alerts.set(k, v);
        else this.dlq++;
      }
      return Promise.resolve();
    });
  }
  present(): string[] {
    return [...this.assets].filter(([, v]) => v && v.type !== "resource_deleted").map(([k]) => k).sort();
  }
  open(): string[] {
    return [...this.violations.values()].filter((v) => v?.state === "open").map((v) => v!.id).sort();
  }
  stop() {
    return this.#stop();
  }
}

async function layer(path: string) {
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker);
  const hosts: ProcessorHost[] = [
    assetsTopology(),
    policyTopology({ scoreIntervalMs: 20 }),
    syncStatusTopology(syncStatusOptions(deps.runtime.config, { tickMs: 20 })),
  ].map((t) => createProcessorHost({ broker, log: silentLogger }, t, { tickMs: 20 }));
  for (const h of hosts) await h.start();
  const svc = createCloudAssetService(deps, {
    source: { kind: "export", path, parent: "organizations/123456789012" },
    assetTypes: [],
    intervalMs: 3_600_000,
  });
  const views = new Views();
  await views.start(broker);
  await svc.start();
  return {
    svc,
    views,
    async stop() {
      await views.stop();
      await svc.stop();
      for (const h of hosts) await h.stop();
      await broker.close();
    },
  };
}

const until = (cond: () => boolean, what: string) => waitFor(cond, what, 10_000);
const settle = () => new Promise((r) => setTimeout(r, 300));

Deno.test("export layer: assets dropped by a partial export come back when the full file returns", async () => {
  const full = await Deno.readTextFile(SAMPLE);
  const path = await Deno.makeTempFile({ suffix: ".ndjson" });
  await Deno.writeTextFile(path, full);
  const l = await layer(path);
  try {
    await until(() => l.views.present().length === 35, "35 assets of the sample (39 lines, 4 IAM lines)");
    const all = l.views.present();
    const openAll = l.views.open();
    assert.ok(openAll.some((id) => id.endsWith(SSH_ANYWHERE)), "SSH-anywhere firewall is flagged");
    // The first 60% of the file, cut at a line end: a complete, smaller export (a copy in progress).
    const cut = full.slice(0, full.lastIndexOf("\n", Math.floor(full.length * 0.6)) + 1);
    await Deno.writeTextFile(path, cut);
    await l.svc.pollNow();
    await until(() => l.views.present().length < 35, "the smaller export deletes what it does not list");
    await settle();
    // The full file is back: every asset and every violation comes back.
    await Deno.writeTextFile(path, full);
    await l.svc.pollNow();
    await until(() => l.views.present().length === 35, "all assets back");
    assert.deepEqual(l.views.present(), all);
    await until(() => l.views.open().length === openAll.length, "violations back");
    assert.deepEqual(l.views.open(), openAll);
  } finally {
    await l.stop();
    await Deno.remove(path);
  }
});

Deno.test("export layer: damaged lines delete nothing, keep the violation open, degrade the layer, DLQ once", async () => {
  const full = await Deno.readTextFile(SAMPLE);
  const path = await Deno.makeTempFile({ suffix: ".ndjson" });
  await Deno.writeTextFile(path, full);
  const l = await layer(path);
  try {
    await until(() => l.views.present().length === 35, "35 assets");
    await until(() => l.views.status.get("api")?.status === "ok", "layer ok");
    const before = l.views.open();
    // Three firewall lines cut in the middle (a copy interrupted, an editor gone wrong).
    const lines = full.split("\n");
    let cut = 0;
    const damaged = lines.map((line) => {
      if (cut < 3 && line.includes('"compute.googleapis.com/Firewall"')) {
        cut++;
        return line.slice(0, Math.floor(line.length / 2));
      }
      return line;
    }).join("\n");
    assert.ok(damaged.includes("allow-ssh-anywhere") && cut === 3);
    await Deno.writeTextFile(path, damaged);
    await l.svc.pollNow();
    await until(() => l.views.status.get("api")?.status === "degraded", "layer degraded");
    assert.equal(l.views.status.get("api")?.unreadable, 3);
    const alert = l.views.alerts.get("IncompleteSync:api");
    assert.equal(alert?.state, "open");
    assert.equal(alert?.value, 3);
    await until(() => l.views.dlq === 3, "3 bad lines in the DLQ");
    // The same damaged file polled again: nothing new in the DLQ, nothing deleted.
    await l.svc.pollNow();
    await settle();
    assert.equal(l.views.dlq, 3, "bad lines go to the DLQ once per file version");
    assert.equal(l.views.present().length, 35, "an incomplete snapshot deletes nothing");
    assert.deepEqual(l.views.open(), before, "no violation auto-resolved as asset_deleted");
    assert.ok(![...l.views.violations.values()].some((v) => v?.resolution === "asset_deleted"));
    // Repaired: the layer is ok again and the alert resolves.
    await Deno.writeTextFile(path, full);
    await l.svc.pollNow();
    await until(() => l.views.status.get("api")?.status === "ok", "layer ok again");
    await until(() => l.views.alerts.get("IncompleteSync:api")?.state === "resolved", "alert resolved");
  } finally {
    await l.stop();
    await Deno.remove(path);
  }
});

Deno.test("export layer: a file with no usable line is an error and deletes nothing; an unchanged file is not re-emitted", async () => {
  const full = await Deno.readTextFile(SAMPLE);
  const path = await Deno.makeTempFile({ suffix: ".ndjson" });
  await Deno.writeTextFile(path, full);
  const l = await layer(path);
  try {
    await until(() => l.views.present().length === 35, "35 assets");
    const changesBefore = l.views.assets.size;
    await l.svc.pollNow(); // unchanged file
    await settle();
    assert.equal(l.views.assets.size, changesBefore);
    await Deno.writeTextFile(path, "<html>503 Service Unavailable</html>\n");
    await l.svc.pollNow();
    await until(() => (l.views.status.get("api")?.errors ?? 0) >= 1, "the failed load is reported");
    const st = l.views.status.get("api")!;
    assert.notEqual(st.status, "ok");
    assert.match(st.last_error ?? "", /no usable asset/);
    await settle();
    assert.equal(l.views.present().length, 35, "nothing deleted");
  } finally {
    await l.stop();
    await Deno.remove(path);
  }
});
