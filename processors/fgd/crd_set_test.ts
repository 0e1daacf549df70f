import assert from "node:assert/strict";
import { Validator } from "./validate.ts";
import { fabricObjects, HEDGEHOG_CRD_DIR, hedgehogCrds, moreObjects } from "./testdata/mod.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);

/** `config/crd/bases/` of githedgehog/fabric at tag v0.126.0 (commit 448f131b): 22 CRDs. */
const V0_126_0_KINDS = [
  "agent.githedgehog.com/Agent",
  "agent.githedgehog.com/Catalog",
  "dhcp.githedgehog.com/DHCPSubnet",
  "gateway.githedgehog.com/Gateway",
  "gateway.githedgehog.com/GatewayGroup",
  "gateway.githedgehog.com/GatewayPeering",
  "gateway.githedgehog.com/VPCInfo",
  "gwint.githedgehog.com/GatewayAgent",
  "vpc.githedgehog.com/External",
  "vpc.githedgehog.com/ExternalAttachment",
  "vpc.githedgehog.com/ExternalPeering",
  "vpc.githedgehog.com/IPv4Namespace",
  "vpc.githedgehog.com/VPC",
  "vpc.githedgehog.com/VPCAttachment",
  "vpc.githedgehog.com/VPCPeering",
  "wiring.githedgehog.com/Connection",
  "wiring.githedgehog.com/Server",
  "wiring.githedgehog.com/ServerProfile",
  "wiring.githedgehog.com/Switch",
  "wiring.githedgehog.com/SwitchGroup",
  "wiring.githedgehog.com/SwitchProfile",
  "wiring.githedgehog.com/VLANNamespace",
];

Deno.test("the shipped CRD set is v0.126.0's 22 CRDs, each compiling, with its licence and source note", () => {
  assert.deepEqual([...validator.crds.kinds.keys()].sort(), V0_126_0_KINDS);
  assert.deepEqual(validator.crds.problems, []);
  assert.deepEqual(validator.schema.compileAll(), []);
  const note = Deno.readTextFileSync(new URL("README.md", HEDGEHOG_CRD_DIR));
  assert.match(note, /githedgehog\/fabric/);
  assert.match(note, /v0\.126\.0/);
  assert.match(note, /448f131bf10123eebe2dd5379bdb6aa7a8448538/);
  assert.match(note, /Apache License 2\.0/);
  assert.match(Deno.readTextFileSync(new URL("LICENSE", HEDGEHOG_CRD_DIR)), /Apache License\s+Version 2\.0/);
});

Deno.test("every v0.126.0 kind validates against its schema: a valid example passes, an unknown field fails", () => {
  const objects = [...fabricObjects(), ...moreObjects()];
  const seen = new Set<string>();
  objects.forEach((o, i) => {
    const crd = validator.schema.crdOf(o.apiVersion, o.kind);
    assert.ok(crd, `${o.apiVersion} ${o.kind} has a CRD`);
    seen.add(`${crd.group}/${crd.kind}`);
    assert.deepEqual(validator.validate(o, i).findings, [], `${o.kind}/${o.metadata.name} is valid`);
    const bad = structuredClone(o);
    (bad.spec as Record<string, unknown>).notAField = true;
    const findings = validator.validate(bad, i).findings;
    assert.deepEqual(
      findings.map((f) => [f.rule, f.path]),
      [["schema.unknown-field", "spec.notAField"]],
      `${o.kind}: ${JSON.stringify(findings)}`,
    );
  });
  assert.deepEqual([...seen].sort(), V0_126_0_KINDS, "an example of every kind");
});

Deno.test("the gateway kinds' schemas reject what the CRD forbids (types, enums, required fields)", () => {
  const [group, gateway, peering] = moreObjects();
  assert.equal(group.kind, "GatewayGroup");
  const gw = structuredClone(gateway) as any;
  gw.spec.asn = "65534";
  assert.deepEqual(validator.validate(gw, 0).findings.map((f) => [f.rule, f.path]), [[
    "schema.type",
    "spec.asn",
  ]]);
  const p = structuredClone(peering) as any;
  p.spec.acl = { default: "allow" };
  assert.deepEqual(
    validator.validate(p, 0).findings.map((f) => [f.rule, f.path]),
    [["schema.enum", "spec.acl.default"]],
  );
  p.spec.acl = { rules: [{ name: "x" }] };
  assert.deepEqual(
    validator.validate(p, 0).findings.map((f) => [f.rule, f.path]).sort(),
    [["schema.required", "spec.acl.default"], ["schema.required", "spec.acl.rules[0].action"]],
  );
});
