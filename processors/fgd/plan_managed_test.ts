import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "./parse_file.ts";
import { managedDuplicates, normalizeManaged, rejectManagedDuplicates, scanManaged } from "./plan_managed.ts";
import { candidatesOf, validator, vpcYaml, workOver } from "./_plan_test_util.ts";

const VPC1 = vpcYaml("vpc-1", 1);
const VPC2 = vpcYaml("vpc-2", 2);

Deno.test("scanManaged returns the candidates of valid files and reports ignored and invalid ones", () => {
  const files = {
    "managed/vpcs/vpc-1.yaml": VPC1,
    "managed/kustomization.yaml": "resources: []\n",
    "managed/notes.txt": "hello\n",
    "managed/broken.yaml": "kind: [\n",
  };
  const work = workOver(files);
  const found = scanManaged(work, Object.keys(files).sort(), validator, DEFAULT_LIMITS);
  assert.deepEqual([...found.keys()], ["managed/vpcs/vpc-1.yaml"]);
  assert.deepEqual(found.get("managed/vpcs/vpc-1.yaml")!.map((c) => c.object.metadata.name), ["vpc-1"]);
  assert.deepEqual(work.files.map((f) => [f.path, f.outcome]), [
    ["managed/broken.yaml", "invalid-managed"],
    ["managed/kustomization.yaml", "ignored"],
    ["managed/notes.txt", "ignored"],
  ]);
  assert.deepEqual(work.invalidManaged.map((i) => i.path), ["managed/broken.yaml"]);
  assert.ok(work.invalidManaged[0].findings.length > 0);
  assert.equal(work.cache.managed.size, 2, "both parsed files are cached by blob id");
});

Deno.test("managedDuplicates names every file that defines an object more than once", () => {
  const files = new Map([
    ["managed/a.yaml", candidatesOf(`${VPC1}---\n${VPC2}`, "managed/a.yaml")],
    ["managed/b.yaml", candidatesOf(VPC1, "managed/b.yaml")],
    ["managed/c.yaml", candidatesOf(vpcYaml("vpc-3", 3), "managed/c.yaml")],
  ]);
  const dupes = managedDuplicates(files);
  assert.deepEqual([...dupes.keys()], ["managed/a.yaml", "managed/b.yaml"]);
  for (const found of dupes.values()) {
    assert.equal(found.length, 1, "only the duplicated object, not vpc-2");
    assert.equal(found[0].rule, "ingest.duplicate");
    assert.match(
      found[0].message,
      /vpc-1.* is defined in managed\/a\.yaml and managed\/b\.yaml; keep exactly one/,
    );
  }
  assert.equal(managedDuplicates(new Map([["managed/c.yaml", files.get("managed/c.yaml")!]])).size, 0);
});

Deno.test("rejectManagedDuplicates leaves both files in place, reported, and out of the desired state", () => {
  const work = workOver();
  const files = new Map([
    ["managed/a.yaml", candidatesOf(VPC1, "managed/a.yaml")],
    ["managed/b.yaml", candidatesOf(VPC1, "managed/b.yaml")],
    ["managed/c.yaml", candidatesOf(VPC2, "managed/c.yaml")],
  ]);
  rejectManagedDuplicates(work, files);
  assert.deepEqual([...files.keys()], ["managed/c.yaml"]);
  assert.deepEqual(work.files.map((f) => [f.path, f.outcome]), [
    ["managed/a.yaml", "invalid-managed"],
    ["managed/b.yaml", "invalid-managed"],
  ]);
  assert.equal(work.deletes.size + work.writes.size, 0, "nothing removed or rewritten");
});

Deno.test("normalizeManaged splits, moves and normalizes managed files into the desired state", () => {
  const files = {
    "managed/both.yaml": `${VPC1}---\n${VPC2}`,
    "managed/elsewhere.yaml": vpcYaml("vpc-3", 3),
  };
  const work = workOver(files);
  const found = scanManaged(work, Object.keys(files).sort(), validator, DEFAULT_LIMITS);
  normalizeManaged(work, found);
  assert.deepEqual([...work.desired.values()].map((e) => e.path), [
    "managed/vpcs/vpc-1.yaml",
    "managed/vpcs/vpc-2.yaml",
    "managed/vpcs/vpc-3.yaml",
  ]);
  assert.deepEqual(work.moves.map((m) => [m.from, m.to, m.note]), [
    ["managed/both.yaml", "managed/vpcs/vpc-1.yaml", "split"],
    ["managed/both.yaml", "managed/vpcs/vpc-2.yaml", "split"],
    ["managed/elsewhere.yaml", "managed/vpcs/vpc-3.yaml", "moved to its canonical path"],
  ]);
  assert.deepEqual([...work.deletes], ["managed/both.yaml", "managed/elsewhere.yaml"]);
  assert.deepEqual([...work.writes.keys()], [
    "managed/vpcs/vpc-1.yaml",
    "managed/vpcs/vpc-2.yaml",
    "managed/vpcs/vpc-3.yaml",
  ]);
  assert.deepEqual(work.files.map((f) => [f.path, f.outcome, f.targets.length]), [
    ["managed/both.yaml", "normalized", 2],
    ["managed/elsewhere.yaml", "normalized", 1],
  ]);
});

Deno.test("normalizeManaged leaves a canonical file alone", () => {
  const first = workOver({ "managed/x.yaml": VPC1 });
  normalizeManaged(first, scanManaged(first, ["managed/x.yaml"], validator, DEFAULT_LIMITS));
  const text = first.writes.get("managed/vpcs/vpc-1.yaml") as string;
  const work = workOver({ "managed/vpcs/vpc-1.yaml": text });
  normalizeManaged(work, scanManaged(work, ["managed/vpcs/vpc-1.yaml"], validator, DEFAULT_LIMITS));
  assert.deepEqual([work.writes.size, work.deletes.size, work.moves.length, work.files.length], [0, 0, 0, 0]);
  assert.deepEqual([...work.desired.values()].map((e) => e.path), ["managed/vpcs/vpc-1.yaml"]);
});
