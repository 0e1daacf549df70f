/**
 * The directory-wide Hedgehog rules (githedgehog/fabric v0.126.0 `Validate()` behind `kube != nil`), on the
 * spine-leaf fixture: the fabric is valid as given, and each case changes one document so that exactly the
 * cluster's check would reject it (or warn, where the cluster's answer needs something the directory lacks).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { Validator } from "./validate.ts";
import { hedgehogCrds, spineLeafObjects } from "./testdata/mod.ts";
import type { KubeObject } from "./object.ts";
import { directoryContext } from "./rule_context.ts";
import { DIRECTORY_RULES } from "./rules_hedgehog_directory.ts";
import type { Finding } from "./finding.ts";
import { type Case, CASES } from "./testdata/directory_cases.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);

/** Validates `target` of the spine-leaf fabric after `mutate`, in the context of the whole fabric. */
function check(c: Pick<Case, "target" | "mutate" | "add" | "remove" | "check">): Finding[] {
  const objects = spineLeafObjects().filter((o) => !c.remove?.includes(`${o.kind}/${o.metadata.name}`));
  for (const y of c.add ?? []) objects.push(parse(y) as KubeObject);
  const doc = objects.find((o) => `${o.kind}/${o.metadata.name}` === c.target);
  assert.ok(doc, `target ${c.target} exists`);
  c.mutate(doc);
  const checked = c.check ? objects.find((o) => `${o.kind}/${o.metadata.name}` === c.check) : doc;
  assert.ok(checked, `checked ${c.check} exists`);
  return validator.validate(checked, 0, directoryContext(objects)).findings;
}

Deno.test("Switch port speeds may carry the SPEED_ prefix the cluster strips, and valid breakout lanes pass", () => {
  assert.deepEqual(
    check({ target: "Switch/spine-01", mutate: (o) => (o.spec.portSpeeds["E1/65"] = "SPEED_10G") }),
    [],
  );
  assert.deepEqual(
    check({
      target: "Connection/server-04--unbundled--leaf-03",
      mutate: (o) => (o.spec.unbundled.link.switch.port = "leaf-03/E1/52/4"),
    }),
    [],
  );
});

Deno.test("VPCs of different IPv4/VLAN namespaces may reuse subnets and VLANs; hostBGP subnets share VLAN 0", () => {
  const nsDocs = [
    `
apiVersion: vpc.githedgehog.com/v1beta1
kind: IPv4Namespace
metadata:
  name: tenant-b
spec:
  subnets: [10.0.0.0/16]
`,
    `
apiVersion: wiring.githedgehog.com/v1beta1
kind: VLANNamespace
metadata:
  name: tenant-b
spec:
  ranges: [{ from: 1000, to: 1999 }]
`,
    `
apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-4
spec:
  subnets:
    bgp:
      subnet: 10.0.4.0/24
      hostBGP: true
`,
  ];
  const findings = check({
    target: "VPC/vpc-2",
    add: nsDocs,
    mutate: (o) => {
      o.spec.ipv4Namespace = "tenant-b";
      o.spec.vlanNamespace = "tenant-b";
      o.spec.subnets.default = { subnet: "10.0.1.0/24", vlan: 1001 };
    },
  });
  assert.deepEqual(findings, []);
  assert.deepEqual(check({ target: "VPC/vpc-4", add: nsDocs, mutate: () => {} }), []);
});

Deno.test("the spine-leaf fixture is valid: no findings with the whole fabric as context, nor without", () => {
  const objects = spineLeafObjects();
  const ctx = directoryContext(objects);
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.name}`;
    assert.deepEqual(validator.validate(o, 0, ctx).findings, [], `${id} in its fabric`);
    assert.deepEqual(validator.validate(o, 0).findings, [], `${id} alone`);
  }
});

Deno.test("the valid variants the cases start from pass (mesh and gateway connections added)", () => {
  for (const c of CASES.filter((c) => c.add)) {
    const added = parse(c.add![c.add!.length - 1]) as KubeObject;
    const findings = check({ target: `${added.kind}/${added.metadata.name}`, mutate: () => {}, add: c.add });
    assert.deepEqual(findings, [], c.name);
  }
});

for (const c of CASES) {
  Deno.test(`directory rules reject ${c.name} [${c.rule}]`, () => {
    const findings = check(c);
    const hit = findings.find((f) => f.rule === c.rule && f.path === c.path);
    assert.ok(hit, `${c.rule} at ${c.path}: got ${JSON.stringify(findings)}`);
    assert.equal(hit.severity, c.severity ?? "error");
    assert.ok(hit.message.length > 30, hit.message);
  });
}

Deno.test("every directory-wide rule has a case", () => {
  const covered = new Set(CASES.map((c) => c.rule));
  assert.deepEqual(DIRECTORY_RULES.map((r) => r.id).filter((id) => !covered.has(id)), []);
});
