import assert from "node:assert/strict";
import { mergeAssetParts, normalizeAsset } from "./normalize.ts";
import { ValidationError } from "../../pipeline/errors.ts";

Deno.test("normalizeAsset() reads a gcloud export line (snake_case) with project id from the name", () => {
  const a = normalizeAsset({
    name: "//compute.googleapis.com/projects/web-prod/global/firewalls/allow-ssh",
    asset_type: "compute.googleapis.com/Firewall",
    ancestors: ["projects/111", "folders/2", "organizations/3"],
    update_time: "2024-05-01T10:00:00Z",
    resource: {
      version: "v1",
      parent: "//cloudresourcemanager.googleapis.com/projects/111",
      location: "global",
      data: { name: "allow-ssh" },
    },
  });
  assert.equal(a.project, "web-prod");
  assert.equal(a.project_number, "111");
  assert.equal(a.location, "global");
  assert.equal(a.update_time, "2024-05-01T10:00:00.000Z");
  assert.deepEqual(a.data, { name: "allow-ssh" });
  assert.equal(a.iam_policy, undefined);
});

Deno.test("normalizeAsset() reads the client's camelCase objects with Struct data and Timestamp", () => {
  const a = normalizeAsset({
    name: "//cloudresourcemanager.googleapis.com/projects/111",
    assetType: "cloudresourcemanager.googleapis.com/Project",
    ancestors: ["projects/111", "organizations/3"],
    updateTime: { seconds: "1714557600", nanos: 0 },
    resource: {
      data: { fields: { projectId: { stringValue: "web-prod", kind: "stringValue" } } },
      location: "",
    },
    iamPolicy: null,
  });
  assert.equal(a.project, "web-prod");
  assert.equal(a.project_number, "111");
  assert.equal(a.location, null);
  assert.equal(a.update_time, "2024-05-01T10:00:00.000Z");
});

Deno.test("normalizeAsset() rejects an asset without a name or type, naming the field", () => {
  assert.throws(
    () => normalizeAsset({ asset_type: "x" }),
    (e) => e instanceof ValidationError && e.issues[0].path === "/name",
  );
  assert.throws(
    () => normalizeAsset({ name: "//x" }),
    (e) => e instanceof ValidationError && e.issues[0].path === "/assetType",
  );
  assert.throws(() => normalizeAsset("text"), ValidationError);
});

Deno.test("mergeAssetParts() joins a RESOURCE and an IAM_POLICY observation of one bucket", () => {
  const res = normalizeAsset({
    name: "//storage.googleapis.com/b",
    asset_type: "storage.googleapis.com/Bucket",
    resource: { data: { name: "b" }, location: "US" },
  });
  const iam = normalizeAsset({
    name: "//storage.googleapis.com/b",
    asset_type: "storage.googleapis.com/Bucket",
    iam_policy: { bindings: [{ role: "roles/storage.objectViewer", members: ["allUsers"] }] },
  });
  const m = mergeAssetParts(res, iam);
  assert.deepEqual(m.data, { name: "b" });
  assert.equal(m.location, "US");
  assert.deepEqual(m.iam_policy?.bindings[0].members, ["allUsers"]);
  assert.deepEqual(mergeAssetParts(iam, res).data, { name: "b" });
  assert.deepEqual(mergeAssetParts(iam, res).iam_policy?.bindings.length, 1);
});
