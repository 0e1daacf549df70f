import assert from "node:assert/strict";
import { compileMapping } from "./mapping.ts";

const META = "config/lz-config/sync-metadata.json";

Deno.test("compileMapping() maps a glob into a directory and a file onto a file", () => {
  const m = compileMapping([
    { from: "docs/**", to: "docs/lz-reference/" },
    { from: "pmo.yaml", to: "config/lz-pmo.yaml" },
    { from: "RUNBOOKS.md", to: "docs/ops/" },
  ], META);
  assert.equal(m.target("docs/index.md"), "docs/lz-reference/index.md");
  assert.equal(m.target("docs/net/vpc.md"), "docs/lz-reference/net/vpc.md");
  assert.equal(m.target("pmo.yaml"), "config/lz-pmo.yaml");
  assert.equal(m.target("RUNBOOKS.md"), "docs/ops/RUNBOOKS.md");
  assert.equal(m.target("terraform/main.tf"), null);
  assert.ok(m.managed("docs/lz-reference/old.md"));
  assert.ok(m.managed(META));
  assert.ok(!m.managed("docs/guide.md"));
  assert.deepEqual(m.dirs, ["docs/lz-reference/", "docs/ops/"]);
});

Deno.test("compileMapping() refuses targets outside the repo and globs onto one file", () => {
  assert.throws(() => compileMapping([{ from: "docs/**", to: "../x/" }], META), /inside the repo/);
  assert.throws(
    () => compileMapping([{ from: "docs/*.md", to: "docs/one.md" }], META),
    /directory ending in/,
  );
});
