import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "./parse_file.ts";
import { acceptRaw, rawDuplicates, retireRaw, scanRaw } from "./plan_raw.ts";
import { normalizeManaged, scanManaged } from "./plan_managed.ts";
import type { ValidationMemo } from "./validate.ts";
import { candidatesOf, validator, vpcYaml, workOver } from "./_plan_test_util.ts";

const VPC1 = vpcYaml("vpc-1", 1);
const VPC2 = vpcYaml("vpc-2", 2);
const NOT_A_VPC = `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-bad
spec:
  subnets: 7
`;

const memo = (): ValidationMemo => new WeakMap();

Deno.test("scanRaw sorts each raw document into candidates, rejected documents and whole-file findings", () => {
  const files = {
    "raw/mixed.yaml": `${VPC1}---\n${NOT_A_VPC}`,
    "raw/notes.txt": "not yaml\n",
    "raw/ok.yaml": VPC2,
  };
  const scan = scanRaw(
    workOver(files).snapshot,
    Object.keys(files).sort(),
    validator,
    DEFAULT_LIMITS,
    memo(),
  );
  assert.deepEqual(scan.candidates.map((c) => [c.source, c.document, c.object.metadata.name]), [
    ["raw/mixed.yaml", 0, "vpc-1"],
    ["raw/ok.yaml", 0, "vpc-2"],
  ]);
  assert.deepEqual([...scan.rejected.keys()], ["raw/mixed.yaml"]);
  assert.deepEqual(scan.rejected.get("raw/mixed.yaml")!.map((r) => [r.index, r.text]), [[
    1,
    `---\n${NOT_A_VPC}`,
  ]]);
  assert.deepEqual(scan.fileLevel.get("raw/notes.txt")!.map((f) => f.rule), ["ingest.not-yaml"]);
  assert.deepEqual([...scan.docCount], [["raw/mixed.yaml", 2], ["raw/notes.txt", 0], ["raw/ok.yaml", 1]]);
});

Deno.test("rawDuplicates rejects every definition of an object dropped twice, each naming the others", () => {
  const cands = [
    ...candidatesOf(`${VPC1}---\n${VPC2}`, "raw/a.yaml"),
    ...candidatesOf(VPC1, "raw/b.yaml"),
  ];
  const { accepted, rejected } = rawDuplicates(cands);
  assert.deepEqual(accepted.map((c) => c.object.metadata.name), ["vpc-2"]);
  assert.deepEqual(rejected.map((r) => [r.source, r.rejected.index]), [["raw/a.yaml", 0], ["raw/b.yaml", 0]]);
  assert.match(rejected[0].rejected.findings[0].message, /is also defined in raw\/b\.yaml document 0;/);
  assert.match(rejected[1].rejected.findings[0].message, /is also defined in raw\/a\.yaml document 0;/);
  assert.equal(rejected[0].rejected.text, cands[0].text, "the source text, to move to unmanaged/");
  assert.deepEqual(rawDuplicates(candidatesOf(VPC1)).rejected, []);
});

Deno.test("acceptRaw places new objects and reports updates of managed ones", () => {
  const managed = { "managed/x.yaml": VPC1 };
  const work = workOver(managed);
  normalizeManaged(work, scanManaged(work, ["managed/x.yaml"], validator, DEFAULT_LIMITS));
  const canonical = work.writes.get("managed/vpcs/vpc-1.yaml");
  const rejected = new Map();
  const changed = vpcYaml("vpc-1", 1).replace("vlan: 1001", "vlan: 1011");
  acceptRaw(
    work,
    [...candidatesOf(changed), ...candidatesOf(VPC2, "raw/two.yaml")],
    rejected,
    validator,
    memo(),
  );
  assert.equal(rejected.size, 0);
  assert.deepEqual(work.objects.map((o) => [o.name, o.outcome, o.path]), [
    ["vpc-1", "updated", "managed/vpcs/vpc-1.yaml"],
    ["vpc-2", "created", "managed/vpcs/vpc-2.yaml"],
  ]);
  assert.notEqual(work.writes.get("managed/vpcs/vpc-1.yaml"), canonical, "the update is written");
  assert.match(work.writes.get("managed/vpcs/vpc-1.yaml") as string, /vlan: 1011/);
  assert.deepEqual(work.moves.slice(-2).map((m) => [m.from, m.to, m.note]), [
    ["raw/drop.yaml#0", "managed/vpcs/vpc-1.yaml", "updated"],
    ["raw/two.yaml#0", "managed/vpcs/vpc-2.yaml", "created"],
  ]);
  assert.equal(work.desired.get(work.objects[0].key!)!.source, "raw/drop.yaml");
});

Deno.test("acceptRaw reports a dropped object equal to its managed version as unchanged", () => {
  const first = workOver({ "managed/x.yaml": VPC1 });
  normalizeManaged(first, scanManaged(first, ["managed/x.yaml"], validator, DEFAULT_LIMITS));
  const canonical = first.writes.get("managed/vpcs/vpc-1.yaml") as string;
  const work = workOver({ "managed/vpcs/vpc-1.yaml": canonical });
  normalizeManaged(work, scanManaged(work, ["managed/vpcs/vpc-1.yaml"], validator, DEFAULT_LIMITS));
  acceptRaw(work, candidatesOf(VPC1), new Map(), validator, memo());
  assert.deepEqual(work.objects.map((o) => [o.name, o.outcome]), [["vpc-1", "unchanged"]]);
  // the provenance annotation names the new source file: the managed file is rewritten, its content hash is not
  assert.equal(work.desired.get(work.objects[0].key!)!.hash, first.desired.get(work.objects[0].key!)!.hash);
});

Deno.test("acceptRaw rejects a document that conflicts with the desired state (pass 2)", () => {
  const work = workOver({ "managed/vpcs/vpc-1.yaml": VPC1 });
  normalizeManaged(work, scanManaged(work, ["managed/vpcs/vpc-1.yaml"], validator, DEFAULT_LIMITS));
  const rejected = new Map();
  acceptRaw(work, candidatesOf(vpcYaml("vpc-copy", 1)), rejected, validator, memo()); // vpc-1's subnet
  assert.deepEqual([...rejected.keys()], ["raw/drop.yaml"]);
  assert.ok(rejected.get("raw/drop.yaml")[0].findings.length > 0);
  assert.deepEqual(work.objects, []);
  assert.equal(work.desired.size, 1);
});

Deno.test("retireRaw removes ingested raw files and moves the rest, whole or in part, to unmanaged/ with a reason", () => {
  const files = {
    "raw/good.yaml": VPC1,
    "raw/mixed.yaml": `${VPC2}---\n${NOT_A_VPC}`,
    "raw/bad.yaml": NOT_A_VPC,
  };
  const raws = Object.keys(files).sort();
  const work = workOver(files);
  const scan = scanRaw(work.snapshot, raws, validator, DEFAULT_LIMITS, memo());
  acceptRaw(work, scan.candidates, scan.rejected, validator, memo());
  const movedOut = retireRaw(work, raws, scan);
  assert.deepEqual([...work.deletes].filter((p) => p.startsWith("raw/")).sort(), raws);
  assert.deepEqual(work.files.map((f) => [f.path, f.outcome, f.targets]), [
    ["raw/bad.yaml", "unmanaged", ["unmanaged/bad.yaml"]],
    ["raw/good.yaml", "ingested", ["managed/vpcs/vpc-1.yaml"]],
    ["raw/mixed.yaml", "partially-ingested", ["managed/vpcs/vpc-2.yaml", "unmanaged/mixed.yaml"]],
  ]);
  assert.deepEqual(movedOut.map((m) => [m.path, m.reasonPath, m.from]), [
    ["unmanaged/bad.yaml", "unmanaged/bad.yaml.reason.txt", "raw/bad.yaml"],
    ["unmanaged/mixed.yaml", "unmanaged/mixed.yaml.reason.txt", "raw/mixed.yaml"],
  ]);
  assert.deepEqual(
    work.writes.get("unmanaged/bad.yaml"),
    work.snapshot.get("raw/bad.yaml")!.bytes,
    "whole: as is",
  );
  assert.equal(
    work.writes.get("unmanaged/mixed.yaml"),
    `---\n${NOT_A_VPC}`,
    "partial: the rejected document",
  );
  assert.match(
    work.writes.get("unmanaged/mixed.yaml.reason.txt") as string,
    /^# lzsync could not ingest raw\/mixed\.yaml \(this file holds only its rejected documents/,
  );
  assert.deepEqual(work.objects.filter((o) => o.outcome === "rejected").map((o) => [o.source, o.document]), [
    ["raw/bad.yaml", 0],
    ["raw/mixed.yaml", 1],
  ]);
});
