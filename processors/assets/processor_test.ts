import assert from "node:assert/strict";
import { createTestDriver, type TestDriver } from "../../pipeline/processor/driver.ts";
import type { AssetRecord, AssetState } from "../../schemas/assets.ts";
import { assetsTopology } from "./mod.ts";

const SNAP = "lz.assets.snapshot.v1";
const EVENTS = "lz.infra.events.v1";
const PARENT = "projects/web-prod";
const TYPES = [
  "compute.googleapis.com/Firewall",
  "storage.googleapis.com/Bucket",
  "cloudresourcemanager.googleapis.com/Project",
];

function fw(name: string, t: string, ranges = ["10.0.0.0/8"]): AssetRecord {
  return {
    name: `//compute.googleapis.com/projects/web-prod/global/firewalls/${name}`,
    asset_type: "compute.googleapis.com/Firewall",
    project: "web-prod",
    project_number: "111",
    location: "global",
    update_time: t,
    ancestors: ["projects/111", "organizations/9"],
    resource_parent: null,
    data: { name, sourceRanges: ranges },
  };
}

let n = 0;
async function snapshot(
  d: TestDriver,
  assets: AssetRecord[],
  at: string,
  o: { types?: string[]; complete?: boolean; start?: boolean } = {},
) {
  const id = `snap-${++n}`;
  if (o.start !== false) {
    await d.pipe(SNAP, PARENT, {
      type: "snapshot_started",
      snapshot_id: id,
      previous_snapshot_id: null,
      source: "api",
      parent: PARENT,
      asset_types: o.types ?? TYPES,
      content_types: ["RESOURCE"],
      started_at: at,
    });
  }
  for (let i = 0; i < assets.length; i += 2) {
    await d.pipe(SNAP, PARENT, {
      type: "snapshot_assets",
      snapshot_id: id,
      seq: i / 2,
      assets: assets.slice(i, i + 2),
    });
  }
  if (o.complete === false) {
    await d.pipe(SNAP, PARENT, {
      type: "snapshot_failed",
      snapshot_id: id,
      error: "quota",
      asset_count: assets.length,
      failed_at: at,
    });
  } else {
    await d.pipe(SNAP, PARENT, {
      type: "snapshot_completed",
      snapshot_id: id,
      asset_count: assets.length,
      chunk_count: Math.ceil(assets.length / 2),
      pages: 1,
      read_time: at,
      completed_at: at,
      duration_ms: 5,
    });
  }
  return id;
}

function feed(asset: AssetRecord, o: { id: string; deleted?: boolean; window?: string; publish?: string }) {
  return {
    type: "asset_feed",
    message_id: o.id,
    publish_time: o.publish ?? o.window ?? asset.update_time ?? "2024-01-01T00:00:00Z",
    subscription: "projects/p/subscriptions/portal-lz-events",
    asset,
    prior_asset: null,
    prior_asset_state: o.deleted ? "PRESENT" : null,
    deleted: o.deleted ?? false,
    window_start: o.window ?? null,
  };
}

const changes = (d: TestDriver) =>
  d.forwarded("lz.assets.v1").map((r) => {
    const v = r.value as AssetState | null;
    return v ? `${v.type.replace("resource_", "")} ${v.asset.data?.name ?? r.key}` : `tombstone ${r.key}`;
  });

Deno.test("assets: a second snapshot diffs into updated and deleted; unchanged assets make no record", async () => {
  const d = createTestDriver(assetsTopology());
  await snapshot(d, [
    fw("a", "2024-05-01T00:00:00Z"),
    fw("b", "2024-05-01T00:00:00Z"),
    fw("c", "2024-05-01T00:00:00Z"),
  ], "2024-05-01T01:00:00Z");
  assert.deepEqual(changes(d), ["created a", "created b", "created c"]);
  d.clear();
  await snapshot(
    d,
    [fw("a", "2024-05-01T00:00:00Z"), fw("b", "2024-05-01T02:00:00Z", ["0.0.0.0/0"])],
    "2024-05-01T03:00:00Z",
  );
  assert.deepEqual(changes(d), ["updated b", "deleted c"]);
  const deleted = d.forwarded("lz.assets.v1")[1].value as AssetState;
  assert.equal(deleted.changed_at, "2024-05-01T03:00:00.000Z");
  assert.equal(deleted.source, "api");
  assert.deepEqual((d.forwarded("lz.assets.v1")[0].value as AssetState).asset.data?.sourceRanges, [
    "0.0.0.0/0",
  ]);
  await d.close();
});

Deno.test("assets: a poll read before a feed deletion never resurrects the asset; one read after it does", async () => {
  const d = createTestDriver(assetsTopology());
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T01:00:00Z");
  await d.pipe(
    EVENTS,
    fw("a", "").name,
    feed(fw("a", "2024-05-01T05:00:00Z"), { id: "m1", deleted: true, window: "2024-05-01T05:00:00Z" }),
  );
  d.clear();
  // A poll read before the deletion must not bring it back.
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T04:59:00Z");
  assert.deepEqual(changes(d), []);
  // A poll read after it lists the asset: it exists (unchanged resources keep their old update_time).
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T06:00:00Z");
  assert.deepEqual(changes(d), ["created a"]);
  await d.close();
});

Deno.test("assets: an asset created by the feed after the poll's read time is not deleted by that poll", async () => {
  const d = createTestDriver(assetsTopology());
  await d.pipe(EVENTS, fw("new", "").name, feed(fw("new", "2024-05-01T10:00:00Z"), { id: "m2" }));
  assert.deepEqual(changes(d), ["created new"]);
  d.clear();
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T09:59:00Z");
  assert.deepEqual(changes(d), ["created a"]);
  d.clear();
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T10:05:00Z");
  assert.deepEqual(
    changes(d),
    ["deleted new"],
    "a poll read after the creation that misses it does delete it",
  );
  await d.close();
});

Deno.test("assets: feed events merge by update time — duplicates and stale messages have no effect", async () => {
  const d = createTestDriver(assetsTopology());
  const key = fw("a", "").name;
  await d.pipe(EVENTS, key, feed(fw("a", "2024-05-01T02:00:00Z", ["1.1.1.1/32"]), { id: "m1" }));
  await d.pipe(EVENTS, key, feed(fw("a", "2024-05-01T02:00:00Z", ["1.1.1.1/32"]), { id: "m1" }));
  await d.pipe(EVENTS, key, feed(fw("a", "2024-05-01T01:00:00Z", ["9.9.9.9/32"]), { id: "m0" }));
  await d.pipe(EVENTS, key, feed(fw("a", "2024-05-01T03:00:00Z", ["2.2.2.2/32"]), { id: "m3" }));
  await d.pipe(
    EVENTS,
    key,
    feed(fw("a", "2024-05-01T04:00:00Z"), { id: "m4", deleted: true, window: "2024-05-01T04:00:00Z" }),
  );
  await d.pipe(
    EVENTS,
    key,
    feed(fw("a", "2024-05-01T04:00:00Z"), { id: "m4", deleted: true, window: "2024-05-01T04:00:00Z" }),
  );
  assert.deepEqual(changes(d), ["created a", "updated a", "deleted a"]);
  const sources = d.forwarded("lz.assets.v1").map((r) => (r.value as AssetState).message_id);
  assert.deepEqual(sources, ["m1", "m3", "m4"]);
  await d.close();
});

Deno.test("assets: incomplete or failed snapshots apply upserts but delete nothing", async () => {
  const d = createTestDriver(assetsTopology());
  await snapshot(
    d,
    [fw("a", "2024-05-01T00:00:00Z"), fw("b", "2024-05-01T00:00:00Z")],
    "2024-05-01T01:00:00Z",
  );
  d.clear();
  await snapshot(d, [fw("c", "2024-05-01T00:00:00Z")], "2024-05-01T02:00:00Z", { complete: false });
  await snapshot(d, [fw("d", "2024-05-01T00:00:00Z")], "2024-05-01T03:00:00Z", { start: false });
  assert.deepEqual(changes(d), ["created c", "created d"]);
  await d.close();
});

Deno.test("assets: a snapshot deletes only assets of its types and scope", async () => {
  const d = createTestDriver(assetsTopology());
  const other: AssetRecord = {
    ...fw("x", "2024-05-01T00:00:00Z"),
    name: "//compute.googleapis.com/projects/other/global/firewalls/x",
    project: "other",
    ancestors: ["projects/222"],
  };
  await d.pipe(EVENTS, other.name, feed(other, { id: "o1" }));
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T01:00:00Z");
  d.clear();
  await snapshot(d, [], "2024-05-01T02:00:00Z", { types: ["storage.googleapis.com/Bucket"] });
  assert.deepEqual(changes(d), [], "firewalls are not in this snapshot's types");
  await snapshot(d, [], "2024-05-01T03:00:00Z");
  assert.deepEqual(changes(d), ["deleted a"], "the other project's firewall is out of scope");
  await d.close();
});

Deno.test("assets: IAM-only feed messages merge into the resource; buckets get the project id", async () => {
  const d = createTestDriver(assetsTopology());
  const project: AssetRecord = {
    name: "//cloudresourcemanager.googleapis.com/projects/111",
    asset_type: "cloudresourcemanager.googleapis.com/Project",
    project: "web-prod",
    project_number: "111",
    location: null,
    update_time: "2024-05-01T00:00:00Z",
    ancestors: ["projects/111"],
    resource_parent: null,
    data: { projectId: "web-prod" },
  };
  const bucket: AssetRecord = {
    name: "//storage.googleapis.com/logs",
    asset_type: "storage.googleapis.com/Bucket",
    project: null,
    project_number: "111",
    location: "EU",
    update_time: "2024-05-01T00:00:00Z",
    ancestors: ["projects/111"],
    resource_parent: null,
    data: { name: "logs" },
  };
  await snapshot(d, [project, bucket], "2024-05-01T01:00:00Z");
  const created = d.forwarded("lz.assets.v1")[1].value as AssetState;
  assert.equal(created.asset.project, "web-prod");
  d.clear();
  const iamOnly = {
    ...bucket,
    data: null,
    location: null,
    update_time: "2024-05-01T02:00:00Z",
    iam_policy: { bindings: [{ role: "roles/storage.objectViewer", members: ["allUsers"] }] },
  };
  await d.pipe(EVENTS, bucket.name, feed(iamOnly, { id: "iam1" }));
  const updated = d.forwarded("lz.assets.v1")[0].value as AssetState;
  assert.equal(updated.type, "resource_updated");
  assert.deepEqual(updated.asset.data, { name: "logs" });
  assert.equal(updated.asset.location, "EU");
  assert.deepEqual(updated.asset.iam_policy?.bindings[0].members, ["allUsers"]);
  await d.close();
});

Deno.test("assets: tombstones are swept after the retention with a null on lz.assets.v1", async () => {
  const d = createTestDriver(
    assetsTopology({ tombstoneRetentionMs: 86_400_000, sweepIntervalMs: 3_600_000 }),
    {
      clock: Date.parse("2024-05-01T00:00:00Z"),
    },
  );
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T00:00:00Z");
  await snapshot(d, [], "2024-05-01T00:30:00Z");
  d.clear();
  await d.advance(12 * 3_600_000);
  assert.deepEqual(changes(d), []);
  await d.advance(14 * 3_600_000);
  assert.deepEqual(changes(d), [`tombstone ${fw("a", "").name}`]);
  assert.equal(d.store("assets").size, 0);
  await d.close();
});

/** Writes one snapshot over `parts` partitions as the snapshot writer does: per partition, its own share. */
async function partitionedSnapshot(
  d: TestDriver,
  parts: number,
  assets: AssetRecord[],
  at: string,
  o: { shortOn?: number } = {},
) {
  const id = `psnap-${++n}`;
  for (let p = 0; p < parts; p++) {
    const mine = assets.filter((a) => d.partitionOf(SNAP, a.name) === p);
    const opts = { partition: p };
    await d.pipe(SNAP, PARENT, {
      type: "snapshot_started",
      snapshot_id: id,
      previous_snapshot_id: null,
      source: "api",
      parent: PARENT,
      asset_types: TYPES,
      content_types: ["RESOURCE"],
      started_at: at,
      partitions: parts,
    }, opts);
    // `shortOn`: that partition's chunk is lost, its marker still counts it (an incomplete share).
    const sent = o.shortOn === p ? mine.slice(1) : mine;
    if (sent.length) {
      await d.pipe(SNAP, PARENT, { type: "snapshot_assets", snapshot_id: id, seq: 0, assets: sent }, opts);
    }
    await d.pipe(SNAP, PARENT, {
      type: "snapshot_completed",
      snapshot_id: id,
      asset_count: mine.length,
      chunk_count: mine.length ? 1 : 0,
      pages: 1,
      read_time: at,
      completed_at: at,
      duration_ms: 5,
      partitions: parts,
    }, opts);
  }
}

Deno.test("assets over 3 partitions: each task keeps and diffs only its share; a short share deletes nothing", async () => {
  const d = createTestDriver(assetsTopology(), { keyedPartitions: 3 });
  const all = Array.from({ length: 15 }, (_, i) => fw(`fw-${i}`, "2024-05-01T00:00:00Z"));
  const byPart = [0, 1, 2].map((p) => all.filter((a) => d.partitionOf(SNAP, a.name) === p));
  assert.ok(
    byPart.every((l) => l.length >= 2),
    `every partition holds at least two: ${byPart.map((l) => l.length)}`,
  );
  await partitionedSnapshot(d, 3, all, "2024-05-01T01:00:00Z");
  assert.equal(changes(d).filter((c) => c.startsWith("created")).length, 15);
  for (let p = 0; p < 3; p++) {
    const names = [...d.store<unknown>("assets", p).entries()].map(([k]) => k).sort();
    assert.deepEqual(names, byPart[p].map((a) => a.name).sort(), `task ${p} holds exactly its partition`);
  }
  // Every forward of a task goes to its own partition of lz.assets.v1 (co-partitioned with the policy).
  assert.ok(d.forwarded("lz.assets.v1").every((r) => r.partition === r.fromPartition));
  d.clear();
  // The next poll lists neither the first asset of partition 0 nor that of partition 1, and partition 1's
  // share comes short of its marker: partition 0 deletes its missing asset, partition 1 deletes nothing.
  const gone0 = byPart[0][0], gone1 = byPart[1][0];
  const next = all.filter((a) => a !== gone0 && a !== gone1);
  await partitionedSnapshot(d, 3, [...next, gone1], "2024-05-01T02:00:00Z", { shortOn: 1 });
  assert.deepEqual(changes(d), [`deleted ${gone0.data!.name}`]);
  d.clear();
  // A complete poll without them: partition 1 now deletes its own; nothing else moves.
  await partitionedSnapshot(d, 3, next, "2024-05-01T03:00:00Z");
  assert.deepEqual(changes(d), [`deleted ${gone1.data!.name}`]);
  await d.close();
});

Deno.test("assets over 3 partitions: a bucket known by project number gets the id from a Project on another partition", async () => {
  const d = createTestDriver(assetsTopology(), { keyedPartitions: 3 });
  const project: AssetRecord = {
    ...fw("p", "2024-05-01T00:00:00Z"),
    name: "//cloudresourcemanager.googleapis.com/projects/111",
    asset_type: "cloudresourcemanager.googleapis.com/Project",
    data: { projectId: "web-prod" },
  };
  // A bucket whose name hashes elsewhere than the project's, seen (by feed) before the project.
  const bucket = Array.from({ length: 20 }, (_, i) => ({
    ...fw("b", "2024-05-01T00:00:00Z"),
    name: `//storage.googleapis.com/logs-${i}`,
    asset_type: "storage.googleapis.com/Bucket",
    project: null,
    data: { name: `logs-${i}` },
  })).find((b) => d.partitionOf(EVENTS, b.name) !== d.partitionOf(EVENTS, project.name))!;
  await d.pipe(EVENTS, bucket.name, feed(bucket, { id: "b1" }));
  await d.pipe(EVENTS, project.name, feed(project, { id: "p1" }));
  const ids = d.forwarded("lz.assets.projects.v1");
  assert.deepEqual(ids.map((r) => r.partition).sort(), [0, 1, 2], "the project id goes to every partition");
  assert.deepEqual(ids[0].value, { project_number: "111", project: "web-prod" });
  d.clear();
  for (const r of ids) await d.pipe("lz.assets.projects.v1", r.key, r.value, { partition: r.partition });
  const filled = d.forwarded("lz.assets.v1").map((r) => r.value as AssetState);
  assert.deepEqual(filled.map((v) => [v.type, v.name, v.asset.project]), [
    ["resource_updated", bucket.name, "web-prod"],
  ]);
  assert.equal(d.forwarded("lz.assets.projects.v1").length, 0, "a learned id is not broadcast again");
  await d.close();
});

const BUCKET: AssetRecord = {
  name: "//storage.googleapis.com/web-prod-static-assets",
  asset_type: "storage.googleapis.com/Bucket",
  project: "web-prod",
  project_number: "111",
  location: "eu",
  update_time: "2024-05-01T10:00:00.000Z",
  ancestors: ["projects/111", "organizations/9"],
  resource_parent: null,
  data: { name: "web-prod-static-assets", labels: { team: "web" } },
};
const ALL_USERS = { bindings: [{ role: "roles/storage.objectViewer", members: ["allUsers"] }] };

Deno.test("assets: a poll with the feed's update_time but new content (IAM made public) is an update", async () => {
  const d = createTestDriver(assetsTopology());
  // Resource-only feed (relabelled at 10:00), then a poll read at 11:00: same update_time, public IAM.
  await d.pipe(EVENTS, BUCKET.name, feed(BUCKET, { id: "r1", window: "2024-05-01T10:00:00Z" }));
  await snapshot(d, [{ ...BUCKET, iam_policy: ALL_USERS }], "2024-05-01T11:00:00Z");
  assert.deepEqual(changes(d), ["created web-prod-static-assets", "updated web-prod-static-assets"]);
  const last = d.forwarded("lz.assets.v1").at(-1)!.value as AssetState;
  assert.deepEqual(last.asset.iam_policy, ALL_USERS);
  await d.close();
});

Deno.test("assets: an IAM-only record of an unknown asset forwards nothing until its resource arrives", async () => {
  const d = createTestDriver(assetsTopology());
  const iamOnly = { ...BUCKET, data: null, location: null, iam_policy: ALL_USERS };
  await d.pipe(EVENTS, BUCKET.name, feed(iamOnly, { id: "i1", window: "2024-05-01T10:00:00Z" }));
  assert.deepEqual(changes(d), [], "no empty bucket");
  await d.pipe(EVENTS, BUCKET.name, feed(BUCKET, { id: "r1", window: "2024-05-01T10:05:00Z" }));
  assert.deepEqual(changes(d), ["created web-prod-static-assets"]);
  const v = d.forwarded("lz.assets.v1")[0].value as AssetState;
  assert.deepEqual(v.asset.iam_policy, ALL_USERS, "the IAM policy that came first is merged in");
  await d.close();
});

Deno.test("assets: an IAM-only export snapshot deletes no resource", async () => {
  const d = createTestDriver(assetsTopology());
  await snapshot(d, [BUCKET, fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T01:00:00Z");
  d.clear();
  const id = "iam-only";
  await d.pipe(SNAP, PARENT, {
    type: "snapshot_started",
    snapshot_id: id,
    previous_snapshot_id: null,
    source: "export",
    parent: PARENT,
    asset_types: TYPES,
    content_types: ["IAM_POLICY"],
    started_at: "2024-05-01T02:00:00Z",
  });
  await d.pipe(SNAP, PARENT, {
    type: "snapshot_assets",
    snapshot_id: id,
    seq: 0,
    assets: [{ ...BUCKET, data: null, location: null, iam_policy: ALL_USERS }],
  });
  await d.pipe(SNAP, PARENT, {
    type: "snapshot_completed",
    snapshot_id: id,
    asset_count: 1,
    chunk_count: 1,
    pages: 0,
    read_time: null,
    completed_at: "2024-05-01T02:00:00Z",
    duration_ms: 1,
  });
  assert.deepEqual(changes(d), ["updated web-prod-static-assets"], "the firewall is not deleted");
  await d.close();
});

Deno.test("assets: an asset first seen in a chunk whose start the task did not see (restart mid-snapshot) is deleted by a later whole snapshot", async () => {
  // a bucket's name and ancestors do not name the parent: only the snapshot's scope puts it in a poll's scope
  const bucket: AssetRecord = {
    name: "//storage.googleapis.com/bucket-11",
    asset_type: "storage.googleapis.com/Bucket",
    project: "web-prod",
    project_number: "111",
    location: "EU",
    update_time: "2024-05-01T00:00:00Z",
    ancestors: ["projects/111", "organizations/9"],
    resource_parent: null,
    data: { name: "bucket-11" },
  };
  const d = createTestDriver(assetsTopology());
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T01:00:00Z");
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z"), bucket], "2024-05-01T02:00:00Z", { start: false });
  d.clear();
  await snapshot(d, [fw("a", "2024-05-01T00:00:00Z")], "2024-05-01T03:00:00Z");
  assert.deepEqual(changes(d), ["deleted bucket-11"]);
  await d.close();
});
