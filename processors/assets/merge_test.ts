import assert from "node:assert/strict";
import type { AssetRecord } from "../../schemas/assets.ts";
import { applyDelete, applyUpsert, type AssetEntry, ms } from "./merge.ts";

/** A bucket as the normalizer makes it from a `gcloud asset export` RESOURCE line. */
function bucket(o: Partial<AssetRecord> = {}): AssetRecord {
  return {
    name: "//storage.googleapis.com/web-prod-static-assets",
    asset_type: "storage.googleapis.com/Bucket",
    project: null,
    project_number: "100000000002",
    location: "eu",
    update_time: "2024-05-01T10:00:00.000Z",
    ancestors: ["projects/100000000002", "folders/2001", "organizations/123456789012"],
    resource_parent: "//cloudresourcemanager.googleapis.com/projects/100000000002",
    data: { name: "web-prod-static-assets", labels: { env: "prod" } },
    ...o,
  };
}
const PUBLIC = { bindings: [{ role: "roles/storage.objectViewer", members: ["allUsers"] }] };
const PRIVATE = { bindings: [{ role: "roles/storage.admin", members: ["group:web@example.com"] }] };
const T = (h: number) => ms(`2024-05-01T${String(h).padStart(2, "0")}:00:00Z`);

function entry(r: ReturnType<typeof applyUpsert>): AssetEntry {
  assert.ok("entry" in r, `expected a change, got ${JSON.stringify(r)}`);
  return r.entry;
}

Deno.test("applyUpsert(): same update_time, different content observed later is an update (not a duplicate)", () => {
  // A resource-only feed message (relabelled), then a poll with the same update_time and the IAM policy.
  const e = entry(applyUpsert(undefined, bucket({ data: { name: "b", labels: { env: "dev" } } }), T(10), ""));
  const r = applyUpsert(
    e,
    bucket({ data: { name: "b", labels: { env: "dev" } }, iam_policy: PUBLIC }),
    T(11),
    "p",
  );
  assert.equal(r.kind, "updated");
  assert.deepEqual(r.kind === "updated" && r.asset.iam_policy, PUBLIC);
  // Same update_time, different resource data, observed later: the later observation wins.
  const r2 = applyUpsert(entry(r), bucket({ data: { name: "b", labels: { env: "prod" } } }), T(12), "p");
  assert.equal(r2.kind, "updated");
  assert.deepEqual(r2.kind === "updated" && r2.asset.data, { name: "b", labels: { env: "prod" } });
  assert.deepEqual(r2.kind === "updated" && r2.asset.iam_policy, PUBLIC, "the IAM part is kept");
});

Deno.test("applyUpsert(): ties on both times are broken by content, so any order converges", () => {
  const a = bucket({ data: { name: "b", labels: { env: "a" } } });
  const b = bucket({ data: { name: "b", labels: { env: "b" } } });
  const ab = entry(applyUpsert(entry(applyUpsert(undefined, a, T(10), "")), b, T(10), ""));
  const ba = applyUpsert(entry(applyUpsert(undefined, b, T(10), "")), a, T(10), "");
  assert.equal(ba.kind, "none");
  assert.equal(ab.j, entry(applyUpsert(undefined, b, T(10), "")).j);
});

Deno.test("applyUpsert(): an IAM-only line merges into its asset even after a newer resource update", () => {
  // The resource at 12:00 (feed), then the IAM_POLICY export line of a file read at 13:00 (its policy set at 09:00).
  const e = entry(applyUpsert(undefined, bucket({ update_time: "2024-05-01T12:00:00Z" }), T(12), ""));
  const iamOnly = bucket({
    data: null,
    location: null,
    update_time: "2024-05-01T09:00:00Z",
    iam_policy: PUBLIC,
  });
  const r = applyUpsert(e, iamOnly, T(13), "organizations/123456789012");
  assert.equal(r.kind, "updated");
  assert.ok(r.kind === "updated");
  assert.deepEqual(r.asset.iam_policy, PUBLIC);
  assert.equal(r.asset.update_time, "2024-05-01T12:00:00Z", "the resource part stays");
  assert.equal(r.asset.location, "eu");
  // An older IAM observation never replaces a newer one.
  assert.equal(applyUpsert(r.entry, { ...iamOnly, iam_policy: PRIVATE }, T(12), "").kind, "none");
});

Deno.test("applyUpsert(): an IAM-only line of an unknown asset is pending until its resource arrives", () => {
  const iamOnly = bucket({ data: null, location: null, iam_policy: PUBLIC });
  const p = applyUpsert(undefined, iamOnly, T(10), "");
  assert.equal(p.kind, "pending", "no empty asset is forwarded");
  const r = applyUpsert(entry(p), bucket(), T(11), "");
  assert.equal(r.kind, "created");
  assert.ok(r.kind === "created");
  assert.deepEqual(r.asset.iam_policy, PUBLIC);
  assert.deepEqual(r.asset.data, bucket().data);
  // Deleting a pending asset forwards nothing.
  assert.equal(applyDelete(entry(p), iamOnly.name, iamOnly.asset_type, T(12)).kind, "tombstone");
});

Deno.test("applyUpsert(): a tombstone yields to an observation made after it, even with an older update_time", () => {
  const e = entry(applyUpsert(undefined, bucket(), T(10), "p"));
  const d = applyDelete(e, bucket().name, bucket().asset_type, T(11));
  assert.equal(d.kind, "deleted");
  assert.equal(applyUpsert(entry(d), bucket(), T(10), "p").kind, "none", "observed before the deletion");
  assert.equal(applyUpsert(entry(d), bucket(), T(12), "p").kind, "created", "observed after it");
});

Deno.test("applyUpsert(): version-1 store entries (before part times) restore and merge", () => {
  // An entry exactly as today's main writes it to the `assets-assets-changelog`.
  const v1: AssetEntry = JSON.parse(JSON.stringify({
    u: T(10),
    ty: "storage.googleapis.com/Bucket",
    sc: "organizations/123456789012",
    del: 0,
    j: JSON.stringify(bucket({ iam_policy: PRIVATE })),
  }));
  assert.equal(applyUpsert(v1, bucket({ iam_policy: PRIVATE }), T(11), "").kind, "none", "unchanged");
  assert.equal(applyUpsert(v1, bucket({ iam_policy: PUBLIC }), T(9), "").kind, "none", "older IAM");
  const r = applyUpsert(v1, bucket({ iam_policy: PUBLIC }), T(11), "");
  assert.equal(r.kind, "updated");
  assert.equal(applyDelete(v1, bucket().name, bucket().asset_type, T(9)).kind, "none", "stale delete");
  assert.equal(applyDelete(v1, bucket().name, bucket().asset_type, T(11)).kind, "deleted");
});

Deno.test("applyUpsert(): an organization known by its org policies is shown; a bucket's org policies wait for the bucket", () => {
  const org: AssetRecord = {
    name: "//cloudresourcemanager.googleapis.com/organizations/123456789012",
    asset_type: "cloudresourcemanager.googleapis.com/Organization",
    project: null,
    project_number: null,
    location: null,
    update_time: "2024-05-01T09:00:00.000Z",
    ancestors: ["organizations/123456789012"],
    resource_parent: null,
    data: null,
    org_policy: [{ constraint: "constraints/compute.vmExternalIpAccess", listPolicy: { allValues: "DENY" } }],
  };
  const r = applyUpsert(undefined, org, T(10), "organizations/123456789012");
  assert.equal(r.kind, "created", "an ORG_POLICY-only organization is an asset of its own");
  assert.deepEqual(r.kind === "created" && r.asset.org_policy, org.org_policy);
  // Its resource, listed later with an older update_time, still fills the resource part.
  const withResource = applyUpsert(
    entry(r),
    {
      ...org,
      update_time: "2024-04-01T00:00:00.000Z",
      org_policy: undefined,
      data: { displayName: "example.com" },
    },
    T(11),
    "",
  );
  assert.equal(withResource.kind, "updated");
  assert.deepEqual(withResource.kind === "updated" && withResource.asset.data, {
    displayName: "example.com",
  });
  assert.deepEqual(withResource.kind === "updated" && withResource.asset.org_policy, org.org_policy);
  const b = applyUpsert(undefined, bucket({ data: null, org_policy: org.org_policy }), T(10), "");
  assert.equal(b.kind, "pending", "a bucket is never shown without its resource");
});
