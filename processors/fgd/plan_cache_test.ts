/**
 * The plan cache kept across runs of one fabric (parses by blob id, the normalized form of each cached managed
 * object) never changes a plan: over a sequence of runs — a raw drop, hand-written and commented managed files,
 * a file moved to another path with the same bytes, an edit in place, a delete — planning with the cache of the
 * earlier runs gives the plan that planning with an empty cache gives.
 */
import assert from "node:assert/strict";
import { applyPlan, planIngestion } from "./plan.ts";
import { newPlanCache, type Snapshot, snapshotOf } from "./snapshot.ts";
import { Validator } from "./validate.ts";
import { hedgehogCrds, SPINE_LEAF_YAML } from "./testdata/mod.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);

const HAND = `# hand-written, no provenance
apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-9
spec:
  subnets:
    default: { subnet: 10.0.9.0/24, vlan: 1009 } # the only subnet
`;

const set = (s: Snapshot, files: Record<string, string | null>) => {
  const out = new Map(s);
  for (const [p, c] of Object.entries(files)) {
    if (c === null) out.delete(p);
    else out.set(p, snapshotOf({ x: c }).get("x")!);
  }
  return out;
};

Deno.test("planning with the cache of earlier runs gives the plan of an empty cache, run after run", () => {
  const cache = newPlanCache();
  const plan = (s: Snapshot, what: string) => {
    const warm = planIngestion(s, { fabricId: "dc1", validator, cache });
    assert.deepEqual(warm, planIngestion(s, { fabricId: "dc1", validator, cache: newPlanCache() }), what);
    return warm;
  };
  const dec = new TextDecoder();
  let s: Snapshot = snapshotOf({ "raw/fabric.yaml": SPINE_LEAF_YAML });
  const drop = plan(s, "raw drop");
  s = applyPlan(s, drop);
  // a managed file this planner wrote is not rendered again: its normalized form comes from the cache
  const again = plan(s, "nothing to do");
  assert.ok(again.desired.size > 20);
  for (const [k, e] of again.desired) {
    assert.equal(e.object, drop.desired.get(k)!.object, `${k} rendered once`);
  }
  s = applyPlan(s, again);
  const vpc1 = [...s.keys()].find((p) => p.endsWith("/vpc-1.yaml"))!;
  // the same hand-written bytes at two paths in turn (provenance comes from the path), then normalized
  const hand = set(s, { "managed/vpcs/hand.yaml": HAND });
  plan(hand, "hand-written managed file");
  plan(set(s, { "managed/misc/moved.yaml": HAND }), "the same bytes at another path");
  s = applyPlan(hand, plan(hand, "hand-written managed file, again"));
  s = applyPlan(s, plan(s, "normalized"));
  // a canonical managed file copied verbatim to another path (its provenance names its raw source)
  const text = dec.decode(s.get(vpc1)!.bytes!);
  plan(set(s, { "managed/vpcs/copy.yaml": text, [vpc1]: null }), "a managed file moved verbatim");
  // an edit in place, with a comment, and a delete
  const edited = set(s, { [vpc1]: text.replace("vlan: 1001", "vlan: 1021 # moved") });
  s = applyPlan(edited, plan(edited, "edited in place"));
  s = applyPlan(s, plan(s, "after the edit"));
  const gone = set(s, { [vpc1]: null });
  s = applyPlan(gone, plan(gone, "deleted"));
  plan(s, "after the delete");
});
