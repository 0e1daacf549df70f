import assert from "node:assert/strict";
import { resolveConfig } from "./config.ts";
import { allTopologies, declaredTopicSpecs, selectTopologies } from "./app.ts";

Deno.test("selectTopologies() runs every processor by default and only the named ones when asked", () => {
  const all = allTopologies();
  assert.ok(all.length >= 4, "git sync, sync status, assets, policy at least");
  assert.equal(selectTopologies(resolveConfig({}), all).length, all.length);
  const one = selectTopologies(resolveConfig({ processors: { enabled: [all[0].app] } }), all);
  assert.deepEqual(one.map((t) => t.app), [all[0].app]);
});

Deno.test("selectTopologies() rejects an unknown processor name and lists the valid ones", () => {
  const all = allTopologies();
  assert.throws(
    () => selectTopologies(resolveConfig({ processors: { enabled: ["lzsync-nope"] } }), all),
    (err: Error) => {
      assert.match(err.message, /unknown processor\(s\) lzsync-nope/);
      assert.ok(err.message.includes(all[0].app), "lists valid names");
      return true;
    },
  );
});

Deno.test("declaredTopicSpecs() applies partition overrides and rejects unknown topic names", () => {
  const specs = declaredTopicSpecs(
    resolveConfig({ processors: { topics: { "lz.dlq.v1": { partitions: 6 } } } }),
  );
  assert.equal(specs.find((s) => s.name === "lz.dlq.v1")?.partitions, 6);
  assert.throws(
    () => declaredTopicSpecs(resolveConfig({ processors: { topics: { "lz.typo.v1": { partitions: 2 } } } })),
    /unknown topic\(s\) lz\.typo\.v1; declared topics are: .*lz\.dlq\.v1/,
  );
});
