/**
 * Step 4 of planning (references and directory-wide rules against the final desired state) skips the raw
 * objects that pass 2 already checked against the same objects and found nothing across the fabric on. These
 * tests plan with the skip and with `recheckAll` (every desired object checked again, as before the skip) and
 * require the same plan: on every directory-rule case of the spine-leaf fixture (all raw; a change dropped onto
 * the ingested fabric; a raw drop onto the ingested changed fabric), on the corpus and on the sample fabrics.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { applyPlan, planIngestion } from "./plan.ts";
import { type Snapshot, snapshotOf } from "./snapshot.ts";
import { Validator } from "./validate.ts";
import type { KubeObject } from "./object.ts";
import {
  FABRIC_MORE_YAML,
  FABRIC_YAML,
  fabricObjects,
  hedgehogCrds,
  SPINE_LEAF_YAML,
  spineLeafObjects,
} from "./testdata/mod.ts";
import { CASES } from "./testdata/directory_cases.ts";
import type { RuleContext } from "./rule_pack.ts";
import type { DocumentResult, ValidationMemo } from "./validate.ts";

/** A validator that counts the documents it checks with a fabric context. */
class CountingValidator extends Validator {
  withContext = 0;
  override validate(doc: unknown, index: number, ctx?: RuleContext, memo?: ValidationMemo): DocumentResult {
    if (ctx?.lookup) this.withContext++;
    return super.validate(doc, index, ctx, memo);
  }
}

const validator = new CountingValidator(hedgehogCrds(), ["hedgehog"]);

/** Plans `s` with and without the step-4 skip, asserts the same plan; returns how many checks were saved. */
function samePlan(s: Snapshot, what: string): number {
  validator.withContext = 0;
  const fast = planIngestion(s, { fabricId: "dc1", validator });
  const checks = validator.withContext;
  validator.withContext = 0;
  const full = planIngestion(s, { fabricId: "dc1", validator, recheckAll: true });
  assert.deepEqual(fast, full, what);
  return validator.withContext - checks;
}

const id = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;
const yaml = (objects: KubeObject[]) => objects.map((o) => stringify(o)).join("---\n");
const ingest = (s: Snapshot) => applyPlan(s, planIngestion(s, { fabricId: "dc1", validator }));
const withFiles = (s: Snapshot, files: Record<string, string>) => {
  const out = new Map(s);
  for (const [p, ref] of snapshotOf(files)) out.set(p, ref);
  return out;
};

/** The spine-leaf objects after a case's change, and the documents it changed or added. */
function caseObjects(c: (typeof CASES)[number]): { all: KubeObject[]; changed: KubeObject[] } {
  const all = spineLeafObjects().filter((o) => !c.remove?.includes(id(o)));
  const added = (c.add ?? []).map((y) => parse(y) as KubeObject);
  all.push(...added);
  const target = all.find((o) => id(o) === c.target)!;
  c.mutate(target);
  return { all, changed: [target, ...added] };
}

Deno.test("step 4 skip: a raw object whose referent pass 2 rejects still warns that the referent is missing", () => {
  const base = ingest(snapshotOf({ "raw/fabric.yaml": SPINE_LEAF_YAML }));
  const drop = (port: string) => ({
    "raw/server.yaml":
      "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\nmetadata:\n  name: server-05\n",
    "raw/conn.yaml": `apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-05--unbundled--leaf-03
spec:
  unbundled:
    link:
      server: { port: server-05/enp2s1 }
      switch: { port: leaf-03/${port} }
`,
    "raw/att.yaml": `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPCAttachment
metadata:
  name: server-05--unbundled--leaf-03--vpc-2
spec:
  connection: server-05--unbundled--leaf-03
  subnet: vpc-2/default
`,
  });
  const attachment = (s: Snapshot) => {
    const p = planIngestion(s, { fabricId: "dc1", validator });
    const a = [...p.desired.values()].find((e) => e.name === "server-05--unbundled--leaf-03--vpc-2")!;
    return { p, warnings: a.warnings.map((f) => `${f.rule} ${f.severity} ${f.message}`) };
  };
  // leaf-03/E1/1 is used by a managed Connection: pass 2 rejects the new one after checking the attachment
  // against it; the attachment is ingested and must say that its Connection is not in the directory
  const { p, warnings } = attachment(withFiles(base, drop("E1/1")));
  assert.equal(p.objects.find((o) => o.source === "raw/conn.yaml")!.outcome, "rejected");
  assert.equal(p.objects.find((o) => o.source === "raw/att.yaml")!.outcome, "created");
  assert.deepEqual(warnings, [
    "hedgehog.ref.missing warning Connection server-05--unbundled--leaf-03 is not defined in this fabric " +
    "directory; add it, or make sure it exists in the cluster",
  ]);
  // on a free port nothing is rejected and the attachment carries nothing
  assert.deepEqual(attachment(withFiles(base, drop("E1/7"))).warnings, []);
});

Deno.test("step 4 skip: a fabric dropped whole into raw/ is not checked again, and the plan is the same", () => {
  const saved = samePlan(snapshotOf({ "raw/fabric.yaml": SPINE_LEAF_YAML }), "spine-leaf");
  assert.equal(saved, spineLeafObjects().length, "every object was cleared by pass 2");
  samePlan(snapshotOf({ "raw/a.yaml": FABRIC_YAML, "raw/b.yaml": FABRIC_MORE_YAML }), "sample fabrics");
  // without its SwitchProfile, every Switch and Connection of the sample fabric warns once that it is missing
  const noProfile = snapshotOf({
    "raw/a.yaml": yaml(fabricObjects().filter((o) => o.kind !== "SwitchProfile")),
  });
  const p = planIngestion(noProfile, { fabricId: "dc1", validator });
  const warned = [...p.desired.values()].filter((e) =>
    e.warnings.some((f) => f.rule === "hedgehog.switchprofile.missing")
  );
  assert.ok(warned.length >= 2, JSON.stringify([...p.desired.values()].map((e) => e.warnings)));
  assert.equal(samePlan(noProfile, "no SwitchProfile"), p.desired.size, "every object was cleared by pass 2");
});

Deno.test("step 4 skip: the same plan on every directory-rule case, all raw, dropped onto the fabric, or under a drop", () => {
  const base = ingest(snapshotOf({ "raw/fabric.yaml": SPINE_LEAF_YAML }));
  const server = "apiVersion: wiring.githedgehog.com/v1beta1\nkind: Server\nmetadata:\n  name: server-09\n";
  let saved = 0;
  for (const c of CASES) {
    const { all, changed } = caseObjects(c);
    // 1. the changed fabric, one raw file per object
    samePlan(
      snapshotOf(Object.fromEntries(all.map((o, i) => [`raw/${i}.yaml`, yaml([o])]))),
      `${c.name}: raw`,
    );
    // 2. the changed and added documents dropped onto the ingested fabric (removed ones deleted)
    const onto = withFiles(base, { "raw/change.yaml": yaml(changed) });
    for (const r of c.remove ?? []) {
      const [kind, name] = r.split("/");
      for (const p of [...onto.keys()]) {
        if (p.endsWith(`/${name}.yaml`) && p.includes(kind.toLowerCase())) onto.delete(p);
      }
    }
    samePlan(onto, `${c.name}: dropped onto the fabric`);
    // 3. the changed fabric as ingested (conflicts kept in managed/ as warnings), then an unrelated raw drop
    const managed = ingest(snapshotOf({ "raw/fabric.yaml": yaml(all) }));
    saved += samePlan(withFiles(managed, { "raw/server.yaml": server }), `${c.name}: under a drop`);
  }
  assert.ok(saved >= CASES.length, `the unrelated Server was skipped in each case (saved ${saved})`);
});

Deno.test("step 4 skip: the same plan on the corpus", () => {
  const load = (dir: URL, prefix = "", out: Record<string, Uint8Array> = {}) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) load(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`, out);
      else if (e.name !== "README.md" || prefix) {
        out[`${prefix}${e.name}`] = Deno.readFileSync(new URL(e.name, dir));
      }
    }
    return out;
  };
  const corpus = snapshotOf(load(new URL("./testdata/corpus/", import.meta.url)));
  samePlan(corpus, "corpus");
  samePlan(ingest(corpus), "corpus, second run");
});
