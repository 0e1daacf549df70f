/**
 * The API layer end to end on the embedded broker: Google's client against the local REST server, polls
 * and feed events interleaved through the assets processor, quota backoff, and sync-status reports.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import { encode } from "../../pipeline/serde.ts";
import { assetsTopology } from "../../processors/assets/mod.ts";
import type { AssetState } from "../../schemas/assets.ts";
import type { SyncEvent } from "../../schemas/sync_events.ts";
import { createCloudAssetService } from "./service.ts";
import { startAssetRestServer } from "./rest_test_server.ts";
import { inventory } from "./test_inventory.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";

const TYPES = [
  "cloudresourcemanager.googleapis.com/Project",
  "compute.googleapis.com/Firewall",
  "storage.googleapis.com/Bucket",
];

Deno.test("cloud asset service: polls and feed events interleave; a newer feed deletion is not undone by a poll", async () => {
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker);
  const server = startAssetRestServer(inventory(12, "web-prod", "2024-05-01T10:00:00Z"));
  server.setReadTime("2024-05-01T10:05:00Z");
  const host = createProcessorHost({ broker, log: silentLogger }, assetsTopology(), { tickMs: 20 });
  const svc = createCloudAssetService(deps, {
    source: { kind: "api", parent: "projects/web-prod", apiEndpoint: server.url },
    assetTypes: TYPES,
    intervalMs: 3_600_000,
    pageSize: 3,
    backoff: { baseMs: 5 },
  });
  const changes: AssetState[] = [];
  const reports: SyncEvent[] = [];
  const dec = new TextDecoder();
  const reader = broker.reader({ topics: ["lz.assets.v1", "lz.sync.events.v1"], from: "earliest" });
  const until = (cond: () => boolean, what: string) => waitFor(cond, what, 10_000);
  try {
    await host.start();
    await svc.start(); // first poll at start
    await reader.run(async (b) => {
      for (const r of b.records) {
        const v = JSON.parse(dec.decode(r.value!));
        (r.topic === "lz.assets.v1" ? changes : reports).push(v);
      }
      await Promise.resolve();
    });
    // 12 generated assets: 3 firewalls, 3 networks (not listed), 3 instances (not listed), 3 buckets + project
    await until(() => changes.length === 7, "first poll: project, 3 firewalls, 3 buckets");
    assert.ok(changes.every((c) => c.type === "resource_created" && c.source === "api"));
    await until(() => reports.length === 1, "sync report");
    assert.equal(reports[0].layer, "api");
    assert.equal(reports[0].ok, true);
    assert.equal(reports[0].items, 7);
    assert.ok(reports[0].next_sync);

    // A feed message deletes fw-0 after the last poll; the server (lagging) still lists the old version.
    const fw0 = "//compute.googleapis.com/projects/web-prod/global/firewalls/fw-0";
    const producer = await broker.producer();
    await producer.send("lz.infra.events.v1", [{
      key: fw0,
      value: encode("lz.infra.events.v1", {
        type: "asset_feed",
        message_id: "m1",
        publish_time: "2024-05-01T11:00:00.000Z",
        subscription: "s",
        asset: {
          name: fw0,
          asset_type: "compute.googleapis.com/Firewall",
          project: "web-prod",
          project_number: "111",
          location: null,
          update_time: "2024-05-01T11:00:00.000Z",
          ancestors: [],
          resource_parent: null,
          data: null,
        },
        prior_asset: null,
        prior_asset_state: "PRESENT",
        deleted: true,
        window_start: "2024-05-01T11:00:00.000Z",
      }),
    }]);
    await until(() => changes.length === 8, "feed deletion");
    assert.equal(changes[7].type, "resource_deleted");
    assert.equal(changes[7].source, "feed");

    // Second poll, read (readTime) before the deletion: 429 twice first; fw-4 changed (newer updateTime),
    // bucket-3 gone, fw-0 still listed (old).
    const inv = inventory(12, "web-prod", "2024-05-01T10:00:00Z")
      .filter((a) => a.name !== "//storage.googleapis.com/bucket-3")
      .map((a) =>
        a.name.endsWith("/fw-4")
          ? {
            ...a,
            updateTime: "2024-05-01T12:00:00Z",
            resource: { ...a.resource, data: { ...a.resource!.data, sourceRanges: ["0.0.0.0/0"] } },
          }
          : a
      );
    server.setAssets(inv);
    server.setReadTime("2024-05-01T10:30:00Z"); // the index lags: read before the feed's deletion
    server.failNext(2);
    await svc.pollNow();
    await until(() => changes.length === 10, "second poll diff");
    const second = changes.slice(8).map((c) => `${c.type} ${c.name.split("/").pop()}`).sort();
    assert.deepEqual(second, ["resource_deleted bucket-3", "resource_updated fw-4"]);
    assert.equal(server.requests.filter((q) => q.status === 429).length, 2);
    await until(() => reports.length === 2, "second report");
    assert.equal(reports[1].ok, true);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(changes.length, 10, "fw-0 stays deleted");
    await producer.close();

    // A poll that cannot succeed is reported as a failure.
    server.failNext(100);
    await svc.pollNow();
    await until(() => reports.length === 3, "failure report");
    assert.equal(reports[2].ok, false);
    assert.match(reports[2].error!, /Quota exceeded/);
  } finally {
    await reader.stop();
    await svc.stop();
    await host.stop();
    await server.close();
    await broker.close();
  }
});
