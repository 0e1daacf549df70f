/**
 * Directory-wide rules inside an ingestion run: a raw object that conflicts with the desired state in
 * `managed/` is rejected and the managed object stays; raw objects of one run that conflict with each other
 * are all rejected, each naming the other (the cluster's answer would depend on the order of applying).
 */
import assert from "node:assert/strict";
import { applyPlan, planIngestion } from "./plan.ts";
import { type Snapshot, snapshotOf } from "./snapshot.ts";
import { Validator } from "./validate.ts";
import { hedgehogCrds, SPINE_LEAF_YAML } from "./testdata/mod.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);
const plan = (files: Snapshot) => planIngestion(files, { fabricId: "dc1", validator });

const vpc = (name: string, subnet: string, vlan: number) =>
  `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: ${name}
spec:
  subnets:
    default:
      subnet: ${subnet}
      vlan: ${vlan}
`;

const ingested = () => {
  const first = snapshotOf({ "raw/fabric.yaml": SPINE_LEAF_YAML });
  const p = plan(first);
  assert.deepEqual(p.objects.filter((o) => o.outcome === "rejected"), [], "the spine-leaf fabric ingests");
  return applyPlan(first, p);
};

Deno.test("planIngestion rejects a raw Connection on a port a managed Connection uses; the managed one stays", () => {
  const base = ingested();
  const conn = `apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-05--unbundled--leaf-03
spec:
  unbundled:
    link:
      server: { port: server-05/enp2s1 }
      switch: { port: leaf-03/E1/1 }
`;
  const p = plan(new Map(base).set("raw/conn.yaml", snapshotOf({ x: conn }).get("x")!));
  const rejected = p.objects.find((o) => o.source === "raw/conn.yaml")!;
  assert.equal(rejected.outcome, "rejected");
  const f = rejected.findings.find((f) => f.rule === "hedgehog.connection.port-in-use")!;
  assert.match(f.message, /leaf-03\/E1\/1 is already used by Connection server-02--unbundled--leaf-03/);
  assert.ok(p.desired.has("wiring.githedgehog.com/Connection/default/server-02--unbundled--leaf-03"));
  assert.ok(!p.deletes.has("managed/connections/server-02--unbundled--leaf-03.yaml"));
});

Deno.test("planIngestion rejects both raw VPCs of one run that share a VLAN, each naming the other", () => {
  const base = ingested();
  const p = plan(
    new Map(base)
      .set("raw/a.yaml", snapshotOf({ x: vpc("vpc-a", "10.0.20.0/24", 1500) }).get("x")!)
      .set("raw/b.yaml", snapshotOf({ x: vpc("vpc-b", "10.0.21.0/24", 1500) }).get("x")!),
  );
  for (const [source, other] of [["raw/a.yaml", "vpc-b"], ["raw/b.yaml", "vpc-a"]]) {
    const o = p.objects.find((o) => o.source === source)!;
    assert.equal(o.outcome, "rejected", source);
    assert.ok(
      o.findings.some((f) => f.rule === "hedgehog.vpc.vlan-conflict" && f.message.includes(`VPC ${other}`)),
      JSON.stringify(o.findings),
    );
  }
  const fine = plan(
    new Map(base).set("raw/a.yaml", snapshotOf({ x: vpc("vpc-a", "10.0.20.0/24", 1500) }).get("x")!),
  );
  assert.equal(fine.objects.find((o) => o.source === "raw/a.yaml")!.outcome, "created");
});

Deno.test("planIngestion keeps managed Connections that share a port in place and warns on both", () => {
  const base = ingested();
  const clash = `apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-05--unbundled--leaf-03
spec:
  unbundled:
    link:
      server: { port: server-05/enp2s1 }
      switch: { port: leaf-03/E1/1 }
`;
  // A hand-written managed/ file (e.g. present at registration) that conflicts with another managed object.
  const before = new Map(base).set(
    "managed/connections/server-05--unbundled--leaf-03.yaml",
    snapshotOf({ x: clash }).get("x")!,
  );
  const p = plan(before);
  for (const name of ["server-05--unbundled--leaf-03", "server-02--unbundled--leaf-03"]) {
    const entry = p.desired.get(`wiring.githedgehog.com/Connection/default/${name}`)!;
    assert.ok(entry, name);
    const w = entry.warnings.find((f) => f.rule === "hedgehog.connection.port-in-use");
    assert.ok(w, `${name}: ${JSON.stringify(entry.warnings)}`);
    assert.equal(w.severity, "warning");
    assert.match(w.message, /the cluster would reject it/);
  }
  assert.ok(!p.deletes.has("managed/connections/server-05--unbundled--leaf-03.yaml"));
});
