/**
 * Step 4's results kept across runs (`plan_across_cache.ts`): a managed object's across-fabric findings are
 * taken from an earlier run only while everything its check read is unchanged. Over runs that change what
 * the checks read — a referenced object deleted and restored, every directory-rule case of the spine-leaf
 * fixture made as an edit of managed/ files — planning with the cache of the earlier runs gives the plan of
 * an empty cache, and the rules whose referenced object changed fire.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { applyPlan, planIngestion } from "./plan.ts";
import { newPlanCache, type PlanCache, type Snapshot, snapshotOf } from "./snapshot.ts";
import { type DocumentResult, type ValidationMemo, Validator } from "./validate.ts";
import { hedgehogCrds, SPINE_LEAF_YAML } from "./testdata/mod.ts";
import { CASES } from "./testdata/directory_cases.ts";
import type { KubeObject } from "./object.ts";
import type { RuleContext } from "./rule_pack.ts";
import type { Plan } from "./plan_types.ts";

/** A validator that counts the documents it checks with a fabric context. */
class CountingValidator extends Validator {
  withContext = 0;
  override validate(doc: unknown, index: number, ctx?: RuleContext, memo?: ValidationMemo): DocumentResult {
    if (ctx?.lookup) this.withContext++;
    return super.validate(doc, index, ctx, memo);
  }
}

const validator = new CountingValidator(hedgehogCrds(), ["hedgehog"]);
const dec = new TextDecoder();

/** Plans `s` with `cache` and with an empty cache, asserts the same plan; returns it and the checks made. */
function plan(s: Snapshot, cache: PlanCache, what: string): { p: Plan; checks: number } {
  validator.withContext = 0;
  const p = planIngestion(s, { fabricId: "dc1", validator, cache });
  const checks = validator.withContext;
  assert.deepEqual(p, planIngestion(s, { fabricId: "dc1", validator, cache: newPlanCache() }), what);
  return { p, checks };
}

const set = (s: Snapshot, files: Record<string, string | null>) => {
  const out = new Map(s);
  for (const [p, c] of Object.entries(files)) {
    if (c === null) out.delete(p);
    else out.set(p, snapshotOf({ x: c }).get("x")!);
  }
  return out;
};

/** The spine-leaf fabric ingested into managed/, and a cache warmed by two runs over it. */
function ingested(): { s: Snapshot; cache: PlanCache; paths: Map<string, string> } {
  const cache = newPlanCache();
  const first = snapshotOf({ "raw/fabric.yaml": SPINE_LEAF_YAML });
  const s = applyPlan(first, planIngestion(first, { fabricId: "dc1", validator, cache }));
  planIngestion(s, { fabricId: "dc1", validator, cache });
  const { p } = plan(s, cache, "warm");
  const paths = new Map([...p.desired.values()].map((e) => [`${e.kind}/${e.name}`, e.path]));
  return { s, cache, paths };
}

const warningsOf = (p: Plan, kind: string, name: string) =>
  [...p.desired.values()].find((e) => e.kind === kind && e.name === name)!.warnings.map((f) => f.rule);

Deno.test("step 4 cache: nothing is checked again in a run that changes nothing", () => {
  const { s, cache } = ingested();
  const { p, checks } = plan(s, cache, "no change");
  assert.ok(p.desired.size > 20);
  assert.equal(checks, 0);
});

Deno.test("step 4 cache: a Connection warns when the Switch it names is deleted, and stops when it is back", () => {
  const { s, cache, paths } = ingested();
  const conn = ["Connection", "server-04--unbundled--leaf-03"] as const;
  assert.deepEqual(warningsOf(plan(s, cache, "before").p, ...conn), []);
  const leaf = paths.get("Switch/leaf-03")!;
  const gone = set(s, { [leaf]: null });
  const { p, checks } = plan(gone, cache, "switch deleted");
  assert.ok(warningsOf(p, ...conn).includes("hedgehog.ref.missing"), JSON.stringify(warningsOf(p, ...conn)));
  assert.ok(checks < p.desired.size, `only the objects that read leaf-03 or list Switches: ${checks}`);
  // the same bytes again: the same cached object, and the Connection's result without it no longer holds
  assert.deepEqual(warningsOf(plan(s, cache, "switch restored").p, ...conn), []);
});

Deno.test("step 4 cache: every directory-rule case made as an edit of managed/ fires with a warm cache", () => {
  for (const c of CASES) {
    const { s, cache, paths } = ingested();
    const files: Record<string, string | null> = {};
    const path = paths.get(c.target);
    let target: KubeObject;
    if (path) target = parse(dec.decode(s.get(path)!.bytes!)) as KubeObject;
    else target = parse(c.add!.find((y) => `${parse(y).kind}/${parse(y).metadata.name}` === c.target)!);
    for (const [i, y] of (c.add ?? []).entries()) {
      const o = parse(y) as KubeObject;
      if (`${o.kind}/${o.metadata.name}` !== c.target) files[`managed/added-${i}.yaml`] = y;
    }
    for (const r of c.remove ?? []) files[paths.get(r)!] = null;
    c.mutate(target);
    files[path ?? "managed/target.yaml"] = stringify(target);
    const { p } = plan(set(s, files), cache, c.name);
    const [kind, name] = (c.check ?? c.target).split("/");
    const entry = [...p.desired.values()].find((e) => e.kind === kind && e.name === name);
    const found = entry
      ? entry.warnings
      : p.invalidManaged.flatMap((i) => i.findings).concat(p.objects.flatMap((o) => o.findings));
    assert.ok(found.some((f) => f.rule === c.rule), `${c.name}: ${c.rule} on ${c.check ?? c.target}`);
  }
});
