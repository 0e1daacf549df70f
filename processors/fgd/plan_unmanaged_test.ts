import assert from "node:assert/strict";
import type { Finding } from "./finding.ts";
import { copyOf, reasonSource, reasonText, retire } from "./plan_unmanaged.ts";
import { snapshotOf } from "./snapshot.ts";

const FINDING: Finding = {
  rule: "ingest.not-yaml",
  layer: "ingest",
  severity: "error",
  doc: -1,
  path: "",
  message: "only .yaml and .yml files are ingested",
};

Deno.test("reasonText writes what reasonSource reads back: the source and whether the file is partial", () => {
  for (const partial of [false, true]) {
    const text = reasonText("raw/dir/a b.yaml", [FINDING, { ...FINDING, rule: "ingest.other" }], partial);
    assert.equal(text.split("\n").filter((l) => l.startsWith("- ")).length, 2, "one line per finding");
    assert.match(text, /\n# Fix every finding below and move the file back to raw\/ to ingest it again\.\n/);
    const snap = snapshotOf({ "unmanaged/dir/a b.yaml.reason.txt": text });
    assert.deepEqual(reasonSource(snap, "unmanaged/dir/a b.yaml.reason.txt"), {
      source: "raw/dir/a b.yaml",
      partial,
    });
  }
  assert.equal(reasonSource(snapshotOf({ "r.txt": "# my own notes\n" }), "r.txt"), undefined, "not lzsync's");
});

Deno.test("retire drops the unmanaged copy an earlier failed drop of the same raw file left, and only that", () => {
  const snap = snapshotOf({
    "unmanaged/a.yaml": "x",
    "unmanaged/a.yaml.reason.txt": reasonText("raw/a.yaml", [FINDING], false),
    "unmanaged/b.yaml": "x",
    "unmanaged/b.yaml.reason.txt": reasonText("raw/elsewhere/b.yaml", [FINDING], false),
  });
  assert.equal(copyOf(snap, "unmanaged/a.yaml", "raw/a.yaml"), true);
  assert.equal(copyOf(snap, "unmanaged/b.yaml", "raw/b.yaml"), false);
  const deletes = new Set<string>();
  retire(snap, "raw/a.yaml", deletes);
  retire(snap, "raw/b.yaml", deletes);
  assert.deepEqual([...deletes], ["unmanaged/a.yaml", "unmanaged/a.yaml.reason.txt"]);
});
