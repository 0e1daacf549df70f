/**
 * What users are told about files that are not the fabric's custom resources, and reason files that stay
 * true (issue 11, Also 5). Each case failed on main: templates got a dozen YAML syntax errors, Kustomize and
 * Helm files and built-in kinds were told to add a CRD directory, YAML errors named their location twice,
 * a null value read "got null null", and reason files outlived their files.
 */
import assert from "node:assert/strict";
import { applyPlan, planIngestion } from "./plan.ts";
import { type Snapshot, snapshotOf } from "./snapshot.ts";
import { Validator } from "./validate.ts";
import { FABRIC_YAML, hedgehogCrds } from "./testdata/mod.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);
const dec = new TextDecoder();
const plan = (s: Snapshot) => planIngestion(s, { fabricId: "dc1", validator });
const text = (s: Snapshot, p: string) => dec.decode(s.get(p)!.bytes!);
const run = (files: Record<string, string | Uint8Array>) => {
  const before = snapshotOf(files);
  const p = plan(before);
  return { p, after: applyPlan(before, p) };
};
const reasons = (s: Snapshot) =>
  [...s.keys()].filter((k) => k.endsWith(".reason.txt")).map((k) => text(s, k)).join("\n");

const HELM = `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: {{ .Values.vpc.name }}
  labels:
    {{- include "fabric.labels" . | nindent 4 }}
spec:
  subnets:
    default:
      subnet: {{ .Values.vpc.subnet | quote }}
`;

Deno.test("a Helm template is told it looks like a template, once, not a dozen YAML errors", () => {
  const { after } = run({ "raw/templates/vpc.yaml": HELM });
  const reason = text(after, "unmanaged/templates/vpc.yaml.reason.txt");
  assert.match(
    reason,
    /file: looks like a template, not a manifest: line 4 holds the template action \{\{ \.Values\.vpc\.name \}\}; render it first \(e\.g\. helm template/,
  );
  assert.equal(reason.split("\n").filter((l) => l.startsWith("- ")).length, 1, reason);
  assert.equal(text(after, "unmanaged/templates/vpc.yaml"), HELM, "kept byte for byte");
  // A template action inside a comment is no template.
  const { after: ok } = run({ "raw/vpc.yaml": `# rendered from {{ .Values.vpc }} by CI\n${FABRIC_YAML}` });
  assert.equal([...ok.keys()].filter((k) => k.startsWith("unmanaged/") && !k.endsWith(".gitkeep")).length, 0);
});

Deno.test("kustomization.yaml and Helm files in raw/ are explained; kustomization.yaml in managed/ is left alone", () => {
  const kust = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - managed/\n";
  const { p, after } = run({
    "raw/kustomization.yaml": kust,
    "raw/values.yaml": "vpc:\n  name: vpc-1\n",
    "raw/Chart.yaml": "apiVersion: v2\nname: fabric\nversion: 0.1.0\n",
    "managed/kustomization.yaml": kust,
    "managed/fabric.yaml": FABRIC_YAML,
  });
  const r = (f: string) => text(after, `unmanaged/${f}.reason.txt`);
  assert.match(
    r("kustomization.yaml"),
    /kustomization\.yaml is a Kustomize file, not a custom resource.*managed\//,
  );
  assert.match(r("values.yaml"), /values\.yaml is a Helm file, not a custom resource: render the chart/);
  assert.match(r("Chart.yaml"), /Chart\.yaml is a Helm file/);
  assert.doesNotMatch(reasons(after), /crd_dirs|apiVersion is missing|kind is missing/);
  assert.equal(text(after, "managed/kustomization.yaml"), kust, "left alone in managed/");
  assert.equal(p.invalidManaged.length, 0);
  assert.equal(p.files.find((f) => f.path === "managed/kustomization.yaml")?.outcome, "ignored");
  // A Kustomization by content (another file name) is explained too.
  const { after: named } = run({ "raw/kust.yaml": kust });
  assert.match(text(after, "unmanaged/kustomization.yaml.reason.txt"), /Kustomize/);
  assert.match(text(named, "unmanaged/kust.yaml.reason.txt"), /is a Kustomize file, not a Kubernetes object/);
});

Deno.test("built-in kinds are not told to add a CRD directory", () => {
  const { after } = run({
    "raw/builtin.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: fabric-notes
data:
  a: b
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: vpcs.vpc.githedgehog.com
spec: {}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: fabric-webhook
webhooks: []
`,
  });
  const reason = text(after, "unmanaged/builtin.yaml.reason.txt");
  assert.match(
    reason,
    /document 0 kind: ConfigMap \(v1\) is a built-in Kubernetes kind, not a custom resource.*\[schema\.builtin-kind\]/,
  );
  assert.match(
    reason,
    /document 1 kind: a CustomResourceDefinition is not a custom resource of the fabric: put CRD files in a directory the fabric's crd_dirs lists/,
  );
  assert.match(
    reason,
    /document 2 kind: ValidatingWebhookConfiguration \(admissionregistration\.k8s\.io\/v1\) is a built-in/,
  );
  assert.doesNotMatch(reason, /add the directory holding its CRD/);
  // Flux and Argo CD objects are the GitOps tool's configuration, not Kustomize files or fabric resources.
  const { after: gitops } = run({
    "raw/flux.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: fabric-dc1
  namespace: flux-system
spec:
  path: ./fabrics/dc1/managed
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: fabric-dc1
spec: {}
`,
  });
  const g = text(gitops, "unmanaged/flux.yaml.reason.txt");
  assert.match(
    g,
    /document 0 kind: Kustomization \(kustomize\.toolkit\.fluxcd\.io\/v1\) is a Flux object .*managed\/ directory \[schema\.gitops-object\]/,
  );
  assert.match(g, /document 1 kind: Application \(argoproj\.io\/v1alpha1\) is an Argo CD object/);
  assert.doesNotMatch(g, /Kustomize file|crd_dirs/);
});

Deno.test("a YAML error names its location once; an empty value is not 'null null'", () => {
  const { after } = run({
    "raw/syntax.yaml": "apiVersion: v1\nkind: X\nmetadata:\n  name: [a, b\n",
    "raw/empty.yaml":
      "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-9\nspec:\n  subnets:\n    default:\n      subnet:\n      vlan: 1009\n",
  });
  const all = reasons(after);
  assert.doesNotMatch(all, /at line \d+, column \d+/, all);
  assert.match(all, /document 0: line \d+, column \d+: /);
  assert.doesNotMatch(all, /null null/);
  assert.match(
    text(after, "unmanaged/empty.yaml.reason.txt"),
    /spec\.subnets\.default\.subnet: expected string, got an empty value \(null\): give a value or remove the key/,
  );
});

const BAD =
  "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: vpc-4\nspec:\n  subnets:\n    default: {subnet: 10.0.4.0/24, gateway: 10.0.5.1, vlan: 1004}\n";
const FIXED = BAD.replace("10.0.5.1", "10.0.4.1");

Deno.test("reason files stay true: orphans and now-valid reasons go; a fixed re-drop retires the old copy", () => {
  const first = run({ "raw/vpc4.yaml": BAD }).after;
  assert.ok(first.has("unmanaged/vpc4.yaml") && first.has("unmanaged/vpc4.yaml.reason.txt"));
  const files = (s: Snapshot) => Object.fromEntries([...s].map(([k, f]) => [k, f.bytes!]));

  // The same raw path dropped again, still bad: the copy is replaced, not joined by vpc4.2.yaml.
  const again = run({ ...files(first), "raw/vpc4.yaml": BAD.replace("vlan: 1004", "vlan: 1014") }).after;
  assert.ok(!again.has("unmanaged/vpc4.2.yaml"));
  assert.match(text(again, "unmanaged/vpc4.yaml"), /vlan: 1014/);

  // Fixed and dropped again: ingested, and the stale copy and its reason file are retired.
  const fixed = run({ ...files(again), "raw/vpc4.yaml": FIXED });
  assert.ok(fixed.after.has("managed/vpcs/vpc-4.yaml"));
  assert.ok(!fixed.after.has("unmanaged/vpc4.yaml") && !fixed.after.has("unmanaged/vpc4.yaml.reason.txt"));
  assert.deepEqual(fixed.p.unmanaged, []);

  // The user deletes an unmanaged file (or moves it back to raw/): its reason file goes too.
  const orphan = { ...files(first) };
  delete orphan["unmanaged/vpc4.yaml"];
  assert.ok(!run(orphan).after.has("unmanaged/vpc4.yaml.reason.txt"));

  // The user fixes the unmanaged file in place: the stale reason goes; the file is reported valid now.
  const inPlace = run({ ...files(first), "unmanaged/vpc4.yaml": FIXED });
  assert.ok(inPlace.after.has("unmanaged/vpc4.yaml") && !inPlace.after.has("unmanaged/vpc4.yaml.reason.txt"));
  assert.deepEqual(inPlace.p.unmanaged.map((u) => [u.path, u.findings.length, u.reasonPath]), [[
    "unmanaged/vpc4.yaml",
    0,
    undefined,
  ]]);

  // A reason whose findings changed (here: a different failure) is rewritten to the current ones.
  const other =
    run({ ...files(first), "unmanaged/vpc4.yaml": BAD.replace("vlan: 1004", "vlan: 9999") }).after;
  assert.match(text(other, "unmanaged/vpc4.yaml.reason.txt"), /hedgehog\.vpc\.vlan/);
  // ...and a run over an unchanged directory writes nothing.
  const quiet = run(files(first));
  assert.equal(quiet.p.changed, false, JSON.stringify([...quiet.p.writes.keys(), ...quiet.p.deletes]));
});
