import assert from "node:assert/strict";
import { createAssetLister } from "./client.ts";
import { retryInfoDelay } from "./backoff.ts";
import { startAssetRestServer } from "./rest_test_server.ts";
import { inventory } from "./test_inventory.ts";

Deno.test("createAssetLister() drives Google's AssetServiceClient in REST mode against a local server", async () => {
  const server = startAssetRestServer(inventory(6));
  const lister = createAssetLister({ apiEndpoint: server.url });
  try {
    const page = await lister.listPage({
      parent: "projects/web-prod",
      assetTypes: ["compute.googleapis.com/Firewall", "compute.googleapis.com/Instance"],
      contentType: "RESOURCE",
      pageSize: 2,
    });
    const req = server.requests[0];
    assert.equal(req.parent, "projects/web-prod");
    assert.equal(req.contentType, "1", "the REST transport sends enums as integers");
    assert.equal(req.enumEncoding, "json;enum-encoding=int");
    assert.deepEqual(req.assetTypes, ["compute.googleapis.com/Firewall", "compute.googleapis.com/Instance"]);
    assert.equal(page.assets.length, 2);
    assert.ok(page.nextPageToken);
    assert.ok(page.readTime);
    const fw = page.assets[0];
    assert.equal(fw.asset_type, "compute.googleapis.com/Firewall");
    // resource.data came back as a protobuf Struct and was converted to plain JSON.
    assert.deepEqual(fw.data?.sourceRanges, ["10.0.0.0/8"]);
    assert.deepEqual(fw.data?.allowed, [{ IPProtocol: "tcp", ports: ["443"] }]);
    assert.equal(fw.data?.priority, 1000);
    assert.equal(fw.update_time, "2024-05-01T10:00:00.000Z");
    assert.equal(fw.project, "web-prod");
    const next = await lister.listPage({
      parent: "projects/web-prod",
      assetTypes: ["compute.googleapis.com/Firewall", "compute.googleapis.com/Instance"],
      contentType: "RESOURCE",
      pageSize: 2,
      pageToken: page.nextPageToken!,
    });
    assert.equal(next.assets.length, 1);
    assert.equal(next.nextPageToken, null);
    assert.equal(next.assets[0].name, "//compute.googleapis.com/projects/web-prod/global/firewalls/fw-4");
    const vm = page.assets[1];
    assert.deepEqual(vm.data?.labels, { env: "prod", owner: "team-a" });
    assert.equal(vm.location, "europe-west1-b");
  } finally {
    await lister.close();
    await server.close();
  }
});

Deno.test("createAssetLister() surfaces HTTP 429 as RESOURCE_EXHAUSTED (code 8) with the RetryInfo delay", async () => {
  const server = startAssetRestServer(inventory(2));
  const lister = createAssetLister({ apiEndpoint: server.url });
  try {
    server.failNext(1, 250);
    await assert.rejects(
      lister.listPage({ parent: "projects/web-prod", assetTypes: [], contentType: "IAM_POLICY" }),
      (e: any) => e.code === 8 && /Quota exceeded/.test(e.message) && retryInfoDelay(e) === 250,
    );
    const page = await lister.listPage({
      parent: "projects/web-prod",
      assetTypes: [],
      contentType: "IAM_POLICY",
    });
    assert.equal(server.requests[1].contentType, "2");
    assert.equal(page.assets.length, 0, "no bucket among 2 assets");
  } finally {
    await lister.close();
    await server.close();
  }
});
