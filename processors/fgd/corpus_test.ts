/**
 * The corpus test (issue 11, Done means): a real-shaped fabric directory (`testdata/corpus/`, see its
 * README) through ingestion planning with no network — what lands in managed/ (with its comments), what
 * goes to unmanaged/ and with which reasons, what stays invalid in managed/, and that a second run over the
 * result writes nothing.
 */
import assert from "node:assert/strict";
import { applyPlan, planIngestion } from "./plan.ts";
import { type Snapshot, snapshotOf } from "./snapshot.ts";
import { Validator } from "./validate.ts";
import { hedgehogCrds } from "./testdata/mod.ts";

const CORPUS = new URL("./testdata/corpus/", import.meta.url);
const validator = new Validator(hedgehogCrds(), ["hedgehog"]);
const dec = new TextDecoder();

function load(dir: URL, prefix = "", out = new Map<string, Uint8Array>()): Map<string, Uint8Array> {
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) load(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`, out);
    else out.set(`${prefix}${e.name}`, Deno.readFileSync(new URL(e.name, dir)));
  }
  return out;
}

const text = (s: Snapshot, p: string) => dec.decode(s.get(p)!.bytes!);
const rulesOf = (reason: string) =>
  [...new Set(reason.split("\n").filter((l) => l.startsWith("- ")).map((l) => /\[([^\],]+)/.exec(l)![1]))]
    .sort();

const MANAGED = [
  "managed/connections/leaf-01--external.yaml",
  "managed/connections/server-01--unbundled--leaf-01.yaml",
  "managed/externalattachments/ext-1--leaf-01.yaml",
  "managed/externalattachments/leaf-01--static-edge.yaml",
  "managed/externalpeerings/vpc-1--ext-1.yaml",
  "managed/externals/ext-1.yaml",
  "managed/externals/static-edge.yaml",
  "managed/gatewaygroups/default.yaml",
  "managed/gatewaypeerings/vpc-1--vpc-2.yaml",
  "managed/ipv4namespaces/default.yaml",
  "managed/kustomization.yaml",
  "managed/serverprofiles/default-sp.yaml",
  "managed/servers/server-01.yaml",
  "managed/switches/leaf-01.yaml",
  "managed/switchgroups/empty.yaml",
  "managed/switchprofiles/vs.yaml",
  "managed/vlannamespaces/default.yaml",
  "managed/vpcattachments/server-01--unbundled--leaf-01--vpc-1--default.yaml",
  "managed/vpcpeerings/vpc-1--vpc-2.yaml",
  "managed/vpcs/legacy-tenant.yaml",
  "managed/vpcs/vpc-1.yaml",
  "managed/vpcs/vpc-2.yaml",
  "managed/vpcs/vpc-docs.yaml",
  "managed/vpcs/vpc-hand.yaml",
];

/** Each file moved to unmanaged/ and the rules its reason file names. */
const UNMANAGED: Record<string, string[]> = {
  "unmanaged/chart/Chart.yaml": ["ingest.not-a-resource"],
  "unmanaged/chart/templates/vpcs.yaml": ["ingest.template"],
  "unmanaged/chart/values.yaml": ["ingest.not-a-resource"],
  "unmanaged/docs/broken-vpc.yaml": ["hedgehog.vpc.gateway", "hedgehog.vpc.mode", "schema.unknown-field"],
  "unmanaged/kustomization.yaml": ["ingest.not-a-resource"],
  "unmanaged/misc/cluster-bits.yaml": ["schema.builtin-kind", "schema.crd-in-fabric"],
};

Deno.test("corpus: a real-shaped fabric directory through ingestion — managed/, unmanaged/ reasons, findings", () => {
  const files = load(CORPUS);
  const before = snapshotOf(files);
  const p = planIngestion(before, { fabricId: "dc1", validator });
  const after = applyPlan(before, p);
  const list = (prefix: string) =>
    [...after.keys()].filter((k) => k.startsWith(prefix) && !k.endsWith(".gitkeep")).sort();

  // managed/: every valid object at its canonical path, raw/ emptied.
  assert.deepEqual(list("managed/"), MANAGED);
  assert.deepEqual(list("raw/"), []);
  assert.equal(p.desired.size, MANAGED.length - 2, "all but the kustomization and the invalid HNP export");

  // unmanaged/: each rejected file byte for byte, with a reason naming every finding; the orphaned reason is gone.
  assert.deepEqual(
    list("unmanaged/"),
    Object.keys(UNMANAGED).flatMap((k) => [k, `${k}.reason.txt`]).sort(),
  );
  for (const [path, rules] of Object.entries(UNMANAGED)) {
    assert.deepEqual(rulesOf(text(after, `${path}.reason.txt`)), rules, path);
    assert.equal(text(after, path), dec.decode(files.get(path.replace(/^unmanaged\//, "raw/"))!), path);
  }
  const reason = (f: string) => text(after, `unmanaged/${f}.reason.txt`);
  assert.match(
    reason("chart/templates/vpcs.yaml"),
    /looks like a template, not a manifest: line 1 holds the template action \{\{- range \.Values\.tenants \}\}/,
  );
  assert.match(reason("chart/values.yaml"), /values\.yaml is a Helm file, not a custom resource/);
  assert.match(
    reason("kustomization.yaml"),
    /kustomization\.yaml is a Kustomize file, not a custom resource/,
  );
  assert.match(reason("misc/cluster-bits.yaml"), /ConfigMap \(v1\) is a built-in Kubernetes kind/);
  assert.match(
    reason("misc/cluster-bits.yaml"),
    /ValidatingWebhookConfiguration \(admissionregistration\.k8s\.io\/v1\) is a built-in/,
  );
  const all = [...after.keys()].filter((k) => k.endsWith(".reason.txt")).map((k) => text(after, k)).join("");
  assert.doesNotMatch(all, /crd_dirs to|add the directory holding its CRD|null null|at line \d+, column/);

  // Invalid in managed/: kept in place byte for byte and reported.
  assert.deepEqual(p.invalidManaged.map((i) => [i.path, i.findings.map((f) => f.rule)]), [
    ["managed/vpcs/legacy-tenant.yaml", ["hedgehog.name-length"]],
  ]);
  assert.equal(
    text(after, "managed/vpcs/legacy-tenant.yaml"),
    dec.decode(files.get("managed/vpcs/legacy-tenant.yaml")!),
  );
  assert.equal(
    text(after, "managed/kustomization.yaml"),
    dec.decode(files.get("managed/kustomization.yaml")!),
  );

  // Comments: HNP headers and per-object notes, the docs' inline comments, a hand-written note.
  const vpc1 = text(after, "managed/vpcs/vpc-1.yaml");
  assert.ok(
    vpc1.startsWith('# Generated by the Hedgehog NetBox Plugin (HNP) from NetBox site "dc1" — vpcs.\n'),
    vpc1,
  );
  assert.match(vpc1, /# hnp-object: vpcs\/vpc-1 \(netbox id 1000\)\napiVersion:/);
  assert.doesNotMatch(
    text(after, "managed/vpcs/vpc-2.yaml"),
    /Generated by/,
    "the file header goes with the first object",
  );
  assert.match(
    text(after, "managed/vpcs/vpc-2.yaml"),
    /^# hnp-object: vpcs\/vpc-2 \(netbox id 1001\)\napiVersion:/,
  );
  const docs = text(after, "managed/vpcs/vpc-docs.yaml");
  assert.match(docs, /\n {2}ipv4Namespace: default # Limits to which subnets could be used by VPC/);
  assert.match(
    docs,
    /\n {6}restricted: true # Causes all hosts in the subnet to be isolated from each other\n/,
  );
  assert.match(docs, /\n {10}interfaceMTU: 1500 # \(optional\) configure the MTU/);
  assert.equal(
    (docs.match(/ # /g) ?? []).length,
    (dec.decode(files.get("raw/docs/vpc-docs.yaml")!).match(/ # /g) ?? []).length,
  );
  assert.match(
    text(after, "managed/vpcs/vpc-hand.yaml"),
    /^# Hand-written by the network team; keep vlan in sync with the DC spreadsheet\.\napiVersion:[\s\S]*\n {6}vlan: 1060 # agreed with the DC team\n/,
  );

  // The docs' static attachment: accepted after defaulting, written as given.
  assert.doesNotMatch(
    text(after, "managed/externalattachments/leaf-01--static-edge.yaml"),
    /^ +(neighbor|switch):/m,
  );
  assert.doesNotMatch(text(after, "managed/externals/static-edge.yaml"), /^ +ipv4Namespace:/m);

  // Findings by file, as the API and the results topic carry them.
  const outcome = Object.fromEntries(p.files.map((f) => [f.path, f.outcome]));
  assert.equal(outcome["raw/hnp/vpcs.yaml"], "ingested");
  assert.equal(outcome["raw/docs/broken-vpc.yaml"], "unmanaged");
  assert.equal(outcome["managed/vpcs/legacy-tenant.yaml"], "invalid-managed");
  assert.equal(outcome["managed/kustomization.yaml"], "ignored");
  assert.equal(outcome["managed/vpcs/vpc-hand.yaml"], "normalized");

  // A second run over the result (read back without a cache) writes nothing.
  const again = planIngestion(snapshotOf(new Map([...after].map(([k, f]) => [k, f.bytes!]))), {
    fabricId: "dc1",
    validator,
  });
  assert.deepEqual([...again.writes.keys(), ...again.deletes], []);
  assert.equal(again.changed, false);
});
