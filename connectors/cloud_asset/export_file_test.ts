import assert from "node:assert/strict";
import type { SnapshotRecord } from "../../schemas/assets.ts";
import { loadExportFile, parseExport } from "./export_file.ts";

const LINES = [
  JSON.stringify({
    name: "//storage.googleapis.com/logs",
    asset_type: "storage.googleapis.com/Bucket",
    ancestors: ["projects/5", "folders/7", "organizations/9"],
    resource: { data: { name: "logs" }, location: "EU" },
    update_time: "2024-01-01T00:00:00Z",
  }),
  "{not json",
  JSON.stringify({
    name: "//cloudresourcemanager.googleapis.com/projects/5",
    asset_type: "cloudresourcemanager.googleapis.com/Project",
    ancestors: ["projects/5", "organizations/9"],
    resource: { data: { projectId: "data-prod" } },
  }),
  JSON.stringify({ asset_type: "compute.googleapis.com/Network" }),
  "",
  JSON.stringify({
    name: "//storage.googleapis.com/logs",
    asset_type: "storage.googleapis.com/Bucket",
    ancestors: ["projects/5", "folders/7", "organizations/9"],
    iam_policy: { bindings: [{ role: "roles/storage.objectViewer", members: ["allUsers"] }] },
  }),
];

Deno.test("parseExport() merges content types per asset, finds the common root, and reports bad lines by number", () => {
  const p = parseExport(LINES.join("\n"));
  assert.equal(p.assets.length, 2);
  assert.equal(p.root, "organizations/9");
  const bucket = p.assets.find((a) => a.asset_type === "storage.googleapis.com/Bucket")!;
  assert.deepEqual(bucket.data, { name: "logs" });
  assert.deepEqual(bucket.iam_policy?.bindings[0].members, ["allUsers"]);
  assert.deepEqual(p.errors.map((e) => e.line), [2, 4]);
  assert.match(p.errors[0].error, /not JSON/);
  assert.match(p.errors[1].error, /no name/);
});

Deno.test("loadExportFile() writes one snapshot with projects first and hands bad lines to onBadLine", async () => {
  const path = await Deno.makeTempFile({ suffix: ".ndjson" });
  try {
    await Deno.writeTextFile(path, LINES.join("\n"));
    const records: SnapshotRecord[] = [];
    const bad: number[] = [];
    const r = await loadExportFile({
      path,
      sink: (key, recs) => {
        assert.equal(key, "organizations/9");
        records.push(...recs);
        return Promise.resolve();
      },
      clock: { now: () => Date.now() },
      assetTypes: ["compute.googleapis.com/Network"],
      onBadLine: (e) => Promise.resolve(void bad.push(e.line)),
    });
    assert.equal(r.asset_count, 2);
    assert.equal(r.bad_lines, 2);
    assert.deepEqual(bad, [2, 4]);
    const start = records[0];
    assert.ok(start.type === "snapshot_started" && start.source === "export");
    assert.ok(
      start.type === "snapshot_started" && start.asset_types.includes("storage.googleapis.com/Bucket"),
    );
    const chunk = records[1];
    assert.ok(chunk.type === "snapshot_assets" && chunk.assets[0].project === "data-prod");
    assert.equal(records.at(-1)!.type, "snapshot_completed");
  } finally {
    await Deno.remove(path);
  }
});
