import assert from "node:assert/strict";
import { createMatcher, globToRegExp, trackedGlobs } from "./glob.ts";
import { resolveConfig } from "../../pipeline/config.ts";

Deno.test("globToRegExp matches ** across directories and * within one segment", () => {
  const docs = globToRegExp("docs/**");
  assert.ok(docs.test("docs/a.md"));
  assert.ok(docs.test("docs/x/y/z.md"));
  assert.ok(!docs.test("docsx/a.md"));
  assert.ok(!docs.test("other/docs/a.md"));
  const tf = globToRegExp("terraform/**/*.tf");
  assert.ok(tf.test("terraform/main.tf"));
  assert.ok(tf.test("terraform/modules/net/vpc.tf"));
  assert.ok(!tf.test("terraform/main.tfvars"));
  assert.ok(!tf.test("terraform/README.md"));
  assert.ok(globToRegExp("pmo.yaml").test("pmo.yaml"));
  assert.ok(!globToRegExp("pmo.yaml").test("pmoXyaml"));
  assert.ok(!globToRegExp("pmo.yaml").test("sub/pmo.yaml"));
  assert.ok(globToRegExp("*.{yaml,yml}").test("a.yml"));
  assert.ok(globToRegExp("a?.md").test("ab.md"));
});

Deno.test("createMatcher prunes directories that cannot hold tracked files", () => {
  const m = createMatcher(["docs/**", "pmo.yaml", "terraform/**/*.tf", "fabrics/dc1/**"]);
  assert.ok(m.mayContain("docs"));
  assert.ok(m.mayContain("docs/deep/er"));
  assert.ok(m.mayContain("terraform"));
  assert.ok(m.mayContain("terraform/modules"));
  assert.ok(m.mayContain("fabrics"));
  assert.ok(m.mayContain("fabrics/dc1/raw"));
  assert.ok(!m.mayContain("fabrics/dc2"));
  assert.ok(!m.mayContain("src"));
  assert.ok(!m.mayContain("node_modules"));
  assert.ok(m.matches("fabrics/dc1/raw/vpc.yaml"));
  assert.ok(!m.matches("README.md"));
});

Deno.test("trackedGlobs adds each fabric GitOps directory in the Landing Zone repo", () => {
  const rt = resolveConfig({
    fabrics: [{ id: "dc1", path: "fabrics/dc1/" }, {
      id: "other",
      path: "x",
      repo: "https://elsewhere/r.git",
    }],
  });
  const globs = trackedGlobs(rt.config);
  assert.ok(globs.includes("docs/**"));
  assert.ok(globs.includes("fabrics/dc1/**"));
  assert.ok(!globs.some((g) => g.startsWith("x")));
});

Deno.test("trackedGlobs tracks the sample fabric's GitOps directory on a first run with no fabric configured", () => {
  const sample = trackedGlobs(resolveConfig({}).config);
  assert.ok(sample.includes("fabrics/dc1/**"), `sample fabric dc1 tracked: ${sample.join(", ")}`);
  assert.equal(createMatcher(sample).matches("fabrics/dc1/raw/vpc.yaml"), true);
  // A real Landing Zone gets no sample fabric: only its configured fabrics are tracked.
  const real = trackedGlobs(resolveConfig({ landing_zone: { repo: "https://git.example/lz.git" } }).config);
  assert.ok(!real.some((g) => g.startsWith("fabrics/")), `no sample fabric: ${real.join(", ")}`);
  const own = trackedGlobs(resolveConfig({ fabrics: [{ id: "eu1", path: "gitops/eu1" }] }).config);
  assert.ok(own.includes("gitops/eu1/**"));
  assert.ok(!own.includes("fabrics/dc1/**"), "a configured fabric replaces the sample");
});
