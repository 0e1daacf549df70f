import assert from "node:assert/strict";
import type { SnapshotRecord } from "../../schemas/assets.ts";
import { validate } from "../../pipeline/serde.ts";
import { createAssetLister } from "./client.ts";
import { pollAssets } from "./poll.ts";
import { startAssetRestServer } from "./rest_test_server.ts";
import { inventory } from "./test_inventory.ts";
import "../../pipeline/processor/task.ts"; // registers the date-time format used by the schemas

const clock = { now: () => Date.now() };
const TYPES = [
  "compute.googleapis.com/Firewall",
  "compute.googleapis.com/Network",
  "compute.googleapis.com/Instance",
  "storage.googleapis.com/Bucket",
  "cloudresourcemanager.googleapis.com/Project",
];

function capture() {
  const records: SnapshotRecord[] = [];
  return {
    records,
    sink: (_key: string, recs: SnapshotRecord[]) => {
      for (const r of recs) validate("lz.assets.snapshot.v1", r);
      records.push(...recs);
      return Promise.resolve();
    },
  };
}

Deno.test("pollAssets() pages through ListAssets, backs off on 429, and writes a complete snapshot", async () => {
  const server = startAssetRestServer(inventory(40));
  const lister = createAssetLister({ apiEndpoint: server.url });
  const { records, sink } = capture();
  const retries: number[] = [];
  try {
    server.failNext(2, 20);
    const r = await pollAssets({
      lister,
      sink,
      clock,
      parent: "projects/web-prod",
      assetTypes: TYPES,
      pageSize: 7,
      chunkAssets: 16,
      backoff: { baseMs: 1, onRetry: (i) => retries.push(i.delayMs) },
    });
    assert.equal(retries.length, 2);
    assert.ok(retries.every((d) => d >= 20), "RetryInfo delay honoured");
    assert.equal(r.asset_count, 41);
    assert.equal(r.retries, 2);
    const started = records[0];
    const done = records.at(-1)!;
    assert.equal(started.type, "snapshot_started");
    assert.equal(done.type, "snapshot_completed");
    if (done.type !== "snapshot_completed") throw new Error();
    assert.equal(done.asset_count, 41);
    assert.equal(done.pages, r.pages);
    const chunks = records.filter((x) => x.type === "snapshot_assets");
    assert.equal(done.chunk_count, chunks.length);
    assert.ok(chunks.every((c) => c.type === "snapshot_assets" && c.assets.length <= 16));
    const assets = chunks.flatMap((c) => c.type === "snapshot_assets" ? c.assets : []);
    assert.equal(new Set(assets.map((a) => a.name)).size, 41);
    assert.equal(assets[0].asset_type, "cloudresourcemanager.googleapis.com/Project", "projects first");
    // IAM listed with contentType=2 for buckets only, then merged into the bucket resources.
    const iamReqs = server.requests.filter((q) => q.contentType === "2" && q.status === 200);
    assert.ok(iamReqs.length >= 2, "IAM pages too");
    assert.ok(iamReqs.every((q) => q.assetTypes.join() === "storage.googleapis.com/Bucket"));
    const publicBucket = assets.find((a) => a.name === "//storage.googleapis.com/bucket-3")!;
    assert.deepEqual(publicBucket.iam_policy?.bindings[0].members, ["allUsers"]);
    assert.equal(publicBucket.data?.name, "bucket-3");
    // Every page after the first carried the token the server handed out.
    const resourcePages = server.requests.filter((q) => q.contentType === "1" && q.status === 200);
    assert.ok(resourcePages.filter((q) => q.pageToken).length >= 5);
  } finally {
    await lister.close();
    await server.close();
  }
});

Deno.test("pollAssets() writes snapshot_failed and rethrows when the API keeps refusing", async () => {
  const server = startAssetRestServer(inventory(3));
  const lister = createAssetLister({ apiEndpoint: server.url });
  const { records, sink } = capture();
  try {
    server.failNext(100);
    await assert.rejects(
      pollAssets({
        lister,
        sink,
        clock,
        parent: "projects/web-prod",
        assetTypes: TYPES,
        backoff: { baseMs: 1, maxAttempts: 3 },
      }),
      /Quota exceeded/,
    );
    assert.deepEqual(records.map((r) => r.type), ["snapshot_started", "snapshot_failed"]);
    assert.equal(server.requests.length, 3);
  } finally {
    await lister.close();
    await server.close();
  }
});
