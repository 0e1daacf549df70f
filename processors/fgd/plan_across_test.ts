import assert from "node:assert/strict";
import type { Finding } from "./finding.ts";
import { planIngestion } from "./plan.ts";
import { ACROSS_FABRIC, refreshAcrossFabric } from "./plan_across.ts";
import type { ManagedEntry } from "./plan_types.ts";
import { snapshotOf } from "./snapshot.ts";
import { FABRIC_YAML } from "./testdata/mod.ts";
import { validator, vpcYaml } from "./_plan_test_util.ts";

function desiredOfFabric(): Map<string, ManagedEntry> {
  return planIngestion(snapshotOf({ "raw/fabric.yaml": FABRIC_YAML }), { fabricId: "dc1", validator })
    .desired;
}

const byName = (d: Map<string, ManagedEntry>, kind: string, name: string) =>
  [...d.values()].find((e) => e.kind === kind && e.name === name)!;

Deno.test("refreshAcrossFabric warns on an object whose referent left the desired state", () => {
  const desired = desiredOfFabric();
  const conn = byName(desired, "Connection", "server-01--unbundled--leaf-01");
  assert.deepEqual(conn.warnings.filter((f) => ACROSS_FABRIC.has(f.rule)), []);
  desired.delete(byName(desired, "Server", "server-01").key);
  refreshAcrossFabric(desired, validator);
  const missing = conn.warnings.filter((f) => f.rule === "hedgehog.ref.missing");
  assert.equal(missing.length, 1);
  assert.equal(missing[0].severity, "warning");
  assert.match(missing[0].message, /Server server-01 is not defined in this fabric directory/);
});

Deno.test("refreshAcrossFabric turns a conflict between objects already in managed/ into a warning on each", () => {
  // Two VPCs on one subnet, each valid alone: the directory-wide rule rejects them, but they stay in place.
  const files = { "managed/vpcs/a.yaml": vpcYaml("vpc-a", 1), "managed/vpcs/b.yaml": vpcYaml("vpc-b", 1) };
  const desired = planIngestion(snapshotOf(files), { fabricId: "dc1", validator }).desired;
  for (const e of desired.values()) e.warnings = [];
  refreshAcrossFabric(desired, validator);
  for (const name of ["vpc-a", "vpc-b"]) {
    const across = byName(desired, "VPC", name).warnings.filter((f) => ACROSS_FABRIC.has(f.rule));
    assert.ok(across.length > 0, `${name} carries the conflict`);
    for (const f of across) {
      assert.equal(f.severity, "warning");
      assert.match(f.message, /\(in managed\/: the cluster would reject it\)$/);
    }
  }
});

Deno.test("refreshAcrossFabric replaces stale across-fabric findings and keeps every other warning", () => {
  const desired = desiredOfFabric();
  const vpc = byName(desired, "VPC", "vpc-1");
  const stale: Finding = {
    rule: "hedgehog.ref.missing",
    layer: "semantic",
    severity: "warning",
    doc: 0,
    path: "spec",
    message: "stale: the referent is back",
  };
  const own: Finding = { ...stale, rule: "hedgehog.example.own", message: "a warning of the object alone" };
  vpc.warnings = [stale, own];
  refreshAcrossFabric(desired, validator);
  assert.deepEqual(vpc.warnings, [own]);
});
