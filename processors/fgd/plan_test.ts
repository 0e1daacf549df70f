import assert from "node:assert/strict";
import { parse } from "yaml";
import { applyPlan, planIngestion } from "./plan.ts";
import { commitMessage } from "./plan_message.ts";
import { fileRef, newPlanCache, type Snapshot, snapshotOf } from "./snapshot.ts";
import { Validator } from "./validate.ts";
import { FABRIC_YAML, hedgehogCrds } from "./testdata/mod.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);
const enc = new TextEncoder();
const dec = new TextDecoder();
const snap = (files: Record<string, string | Uint8Array>) => snapshotOf(files);
const plan = (files: Snapshot) => planIngestion(files, { fabricId: "dc1", validator });
const text = (files: Snapshot, p: string) => dec.decode(files.get(p)!.bytes!);
const bytes = (files: Snapshot, p: string) => files.get(p)?.bytes;

const VPC3 = `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-3
spec:
  subnets:
    default:
      subnet: 10.0.3.0/24
      vlan: 1003
`;
const BAD_GATEWAY = `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-4
spec:
  subnets:
    default:
      subnet: 10.0.4.0/24
      gateway: 10.0.5.1
      vlan: 1004
`;

Deno.test("planIngestion moves valid documents to managed/, invalid ones to unmanaged/ with reasons, creates the layout", () => {
  const before = snap({ "raw/fabric.yaml": FABRIC_YAML, "raw/mixed.yml": `${VPC3}---\n${BAD_GATEWAY}` });
  const p = plan(before);
  const after = applyPlan(before, p);
  const managed = [...after.keys()].filter((k) => k.startsWith("managed/") && !k.endsWith(".gitkeep")).sort();
  assert.equal(managed.length, 17);
  assert.ok(managed.includes("managed/vpcs/vpc-3.yaml"));
  assert.ok(managed.includes("managed/connections/server-01--unbundled--leaf-01.yaml"));
  assert.ok(!after.has("raw/fabric.yaml") && !after.has("raw/mixed.yml"), "raw files are consumed");
  for (const s of ["raw/.gitkeep", "unmanaged/.gitkeep", "managed/.gitkeep", "README.md"]) {
    assert.ok(after.has(s), s);
  }
  assert.equal(
    text(after, "unmanaged/mixed.yml"),
    `---\n${BAD_GATEWAY}`,
    "only the rejected document, verbatim",
  );
  const reason = text(after, "unmanaged/mixed.yml.reason.txt");
  assert.match(
    reason,
    /document 1 spec\.subnets\.default\.gateway: gateway "10\.0\.5\.1" is not an address inside subnet/,
  );
  assert.match(reason, /\[hedgehog\.vpc\.gateway\]/);
  const vpc = parse(text(after, "managed/vpcs/vpc-3.yaml"));
  assert.equal(vpc.metadata.namespace, "default");
  assert.equal(vpc.metadata.annotations["lzsync.io/source-file"], "raw/mixed.yml");
  assert.equal(vpc.metadata.annotations["lzsync.io/source-document"], "0");
  assert.match(vpc.metadata.annotations["lzsync.io/content-hash"], /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(p.files.map((f) => [f.path, f.outcome]), [
    ["raw/fabric.yaml", "ingested"],
    ["raw/mixed.yml", "partially-ingested"],
  ]);
  assert.equal(p.objects.filter((o) => o.outcome === "created").length, 17);
  assert.deepEqual(p.objects.filter((o) => o.outcome === "rejected").map((o) => [o.source, o.document]), [[
    "raw/mixed.yml",
    1,
  ]]);
  const msg = commitMessage("dc1", "fabrics/dc1", p);
  assert.match(msg, /^fgd\(dc1\): ingest 17 created, 1 rejected, 1 file\(s\) to unmanaged\/\n\n/);
  assert.match(
    msg,
    /fabrics\/dc1\/raw\/mixed\.yml#0 -> fabrics\/dc1\/managed\/vpcs\/vpc-3\.yaml \(created\)/,
  );
  assert.match(
    msg,
    /fabrics\/dc1\/raw\/mixed\.yml -> fabrics\/dc1\/unmanaged\/mixed\.yml \(hedgehog\.vpc\.gateway\)/,
  );
});

Deno.test("planIngestion is idempotent and byte-identical on re-ingesting the same input", () => {
  const first = applyPlan(
    snap({ "raw/fabric.yaml": FABRIC_YAML }),
    plan(snap({ "raw/fabric.yaml": FABRIC_YAML })),
  );
  const again = plan(first);
  assert.equal(again.changed, false, "a second run over the result changes nothing");
  assert.equal(again.desired.size, 16);
  const redrop = new Map(first).set("raw/fabric.yaml", fileRef(FABRIC_YAML));
  const p = plan(redrop);
  assert.deepEqual([...p.writes.keys()], [], "the same file dropped again rewrites nothing");
  assert.deepEqual([...p.deletes], ["raw/fabric.yaml"]);
  assert.ok(p.objects.every((o) => o.outcome === "unchanged"));
});

Deno.test("planIngestion: YAML syntax errors, non-CR YAML, unknown kinds and non-YAML files go to unmanaged/", () => {
  const compose = "services:\n  web:\n    image: nginx\n";
  const before = snap({
    "raw/broken.yaml": "apiVersion: v1\nkind: [\n",
    "raw/compose.yaml": compose,
    "raw/gw.yaml": "apiVersion: vpc.githedgehog.com/v1beta1\nkind: Gateway\nmetadata:\n  name: gw-1\n",
    "raw/notes.txt": "hello",
    "raw/sub/dir/empty.yaml": "# nothing\n",
  });
  const p = plan(before);
  const after = applyPlan(before, p);
  const reason = (f: string) => text(after, `unmanaged/${f}.reason.txt`);
  assert.equal(text(after, "unmanaged/broken.yaml"), "apiVersion: v1\nkind: [\n");
  assert.match(reason("broken.yaml"), /document 0: line \d+, column \d+: .*\[yaml\.syntax\]/);
  assert.equal(text(after, "unmanaged/compose.yaml"), compose);
  assert.match(reason("compose.yaml"), /apiVersion is missing.*\[structure\.api-version\]/);
  assert.match(reason("compose.yaml"), /\[structure\.kind\]/);
  assert.match(
    reason("gw.yaml"),
    /no CRD defines kind Gateway in group vpc\.githedgehog\.com; kinds of .*VPC/,
  );
  assert.match(reason("notes.txt"), /\[ingest\.not-yaml\]/);
  assert.match(reason("sub/dir/empty.yaml"), /\[ingest\.empty\]/);
  assert.ok([...after.keys()].every((k) => !k.startsWith("raw/") || k === "raw/.gitkeep"));
  assert.equal(p.desired.size, 0);
});

Deno.test("planIngestion: an object defined twice is rejected everywhere, each naming the other source", () => {
  const before = snap({
    "raw/a.yaml": VPC3,
    "raw/b.yaml": `${BAD_GATEWAY}---\n${VPC3.replace("1003", "1033")}`,
  });
  const after = applyPlan(before, plan(before));
  assert.ok(!after.has("managed/vpcs/vpc-3.yaml"), "neither definition wins");
  assert.match(
    text(after, "unmanaged/a.yaml.reason.txt"),
    /VPC\/vpc-3 is also defined in raw\/b\.yaml document 1.*\[ingest\.duplicate\]/,
  );
  assert.match(
    text(after, "unmanaged/b.yaml.reason.txt"),
    /VPC\/vpc-3 is also defined in raw\/a\.yaml document 0/,
  );
  assert.equal(text(after, "unmanaged/a.yaml"), VPC3);
});

Deno.test("planIngestion: names that would escape the directory never produce a path outside managed/", () => {
  const evil = VPC3.replace("name: vpc-3", 'name: "../../../etc/x"');
  const before = snap({ "raw/evil.yaml": evil });
  const p = plan(before);
  for (const path of p.writes.keys()) assert.ok(!path.includes(".."), path);
  assert.match(String(p.writes.get("unmanaged/evil.yaml.reason.txt")), /\[structure\.name-path\]/);
});

Deno.test("planIngestion: oversized files, alias bombs and non-UTF-8 files are moved byte for byte with a reason", () => {
  const big = enc.encode(VPC3 + "# " + "x".repeat(1 << 20) + "\n");
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
  ].join("\n");
  const latin1 = new Uint8Array([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xe9, 0x0a]);
  const before = snap({ "raw/big.yaml": big, "raw/bomb.yaml": bomb, "raw/latin1.yaml": latin1 });
  const after = applyPlan(before, plan(before));
  assert.deepEqual(bytes(after, "unmanaged/big.yaml"), big);
  assert.match(
    text(after, "unmanaged/big.yaml.reason.txt"),
    /more than the limit of 1048576.*\[ingest\.too-large\]/,
  );
  assert.equal(text(after, "unmanaged/bomb.yaml"), bomb);
  assert.match(text(after, "unmanaged/bomb.yaml.reason.txt"), /alias bomb.*\[yaml\.alias-limit\]/);
  assert.deepEqual(bytes(after, "unmanaged/latin1.yaml"), latin1);
  assert.match(text(after, "unmanaged/latin1.yaml.reason.txt"), /\[ingest\.encoding\]/);
});

Deno.test("planIngestion normalizes hand-written managed/ files in place and never moves invalid ones", () => {
  const handWritten = `${VPC3}status:\n  vni: 7\n`.replace("metadata:\n", "metadata:\n  uid: abc\n");
  const before = snap({
    "managed/vpc3.yaml": handWritten,
    "managed/vpcs/broken.yaml": BAD_GATEWAY,
    "managed/kustomization.txt": "x",
    "unmanaged/old.yaml": VPC3.replace("vpc-3", "vpc-9").replace("1003", "1009").replace(
      "10.0.3.",
      "10.0.9.",
    ),
  });
  const p = plan(before);
  const after = applyPlan(before, p);
  assert.ok(!after.has("managed/vpc3.yaml"));
  const moved = parse(text(after, "managed/vpcs/vpc-3.yaml"));
  assert.equal(moved.status, undefined);
  assert.equal(moved.metadata.uid, undefined);
  assert.equal(moved.metadata.annotations["lzsync.io/source-file"], "managed/vpc3.yaml");
  assert.equal(text(after, "managed/vpcs/broken.yaml"), BAD_GATEWAY, "invalid managed files stay untouched");
  assert.deepEqual(p.invalidManaged.map((i) => [i.path, i.findings[0].rule]), [[
    "managed/vpcs/broken.yaml",
    "hedgehog.vpc.gateway",
  ]]);
  assert.ok(after.has("managed/kustomization.txt"));
  const old = p.unmanaged.find((u) => u.path === "unmanaged/old.yaml")!;
  assert.deepEqual(old.findings, [], "unmanaged files are re-validated: this one would pass now");
  assert.equal(plan(after).changed, false);
});

Deno.test("planIngestion: raw updates replace managed objects; cross-object rules see the desired state", () => {
  const base = applyPlan(
    snap({ "raw/fabric.yaml": FABRIC_YAML }),
    plan(snap({ "raw/fabric.yaml": FABRIC_YAML })),
  );
  const update = VPC3.replace("vpc-3", "vpc-2").replace("10.0.3.0", "10.0.22.0").replace("1003", "1022");
  const outside = VPC3.replace("10.0.3.0/24", "192.168.3.0/24");
  const before = new Map(base).set("raw/update.yaml", fileRef(update)).set(
    "raw/outside.yaml",
    fileRef(outside),
  );
  const p = plan(before);
  assert.deepEqual(p.objects.map((o) => [o.source, o.outcome]).sort(), [["raw/outside.yaml", "rejected"], [
    "raw/update.yaml",
    "updated",
  ]]);
  assert.match(
    p.objects.find((o) => o.outcome === "rejected")!.findings[0].message,
    /outside IPv4Namespace default/,
  );
  const after = applyPlan(before, p);
  assert.equal(parse(text(after, "managed/vpcs/vpc-2.yaml")).spec.subnets.default.subnet, "10.0.22.0/24");
});

Deno.test("planIngestion never overwrites an unmanaged file: a second rejected file of the same name gets a suffix", () => {
  const before = snap({
    "unmanaged/x.yaml": "old",
    "unmanaged/x.yaml.reason.txt": "old reason",
    "raw/x.yaml": BAD_GATEWAY,
  });
  const after = applyPlan(before, plan(before));
  assert.equal(text(after, "unmanaged/x.yaml"), "old");
  assert.equal(text(after, "unmanaged/x.2.yaml"), BAD_GATEWAY);
  assert.ok(after.has("unmanaged/x.2.yaml.reason.txt"));
});

Deno.test("planIngestion reuses cached parses by blob id: unchanged managed files need no content", () => {
  const cache = newPlanCache();
  const first = applyPlan(
    snap({ "raw/fabric.yaml": FABRIC_YAML }),
    plan(snap({ "raw/fabric.yaml": FABRIC_YAML })),
  );
  planIngestion(first, { fabricId: "dc1", validator, cache });
  const idsOnly = new Map([...first].map(([p, f]) => [p, p.startsWith("managed/") ? { id: f.id } : f]));
  const p = planIngestion(idsOnly, { fabricId: "dc1", validator, cache });
  assert.equal(p.changed, false);
  assert.equal(p.desired.size, 16);
  assert.throws(() => planIngestion(idsOnly, { fabricId: "dc1", validator }), /was not read/);
});

Deno.test("planIngestion: the same object in two managed files is reported, neither file is touched", () => {
  const before = snap({ "managed/a.yaml": VPC3, "managed/b.yaml": VPC3 });
  const p = plan(before);
  assert.deepEqual(p.invalidManaged.map((i) => i.path), ["managed/a.yaml", "managed/b.yaml"]);
  assert.match(p.invalidManaged[0].findings[0].message, /defined in managed\/a\.yaml and managed\/b\.yaml/);
  assert.ok(
    ![...p.writes.keys(), ...p.deletes].some((k) => k.startsWith("managed/") && !k.endsWith(".gitkeep")),
  );
});

Deno.test("planIngestion warns on managed objects whose referenced Switch was deleted from managed/", () => {
  const first = plan(snap({ "raw/fabric.yaml": FABRIC_YAML }));
  const managed = new Map(
    [...first.writes].filter(([k]) => k.startsWith("managed/") && k !== "managed/switches/leaf-01.yaml"),
  );
  assert.ok(first.writes.has("managed/switches/leaf-01.yaml"));
  const after = planIngestion(snapshotOf(managed), { fabricId: "dc1", validator });
  const conn = [...after.desired.values()].find((e) => e.name === "server-01--unbundled--leaf-01")!;
  const warn = conn.warnings.find((f) => f.rule === "hedgehog.ref.missing");
  assert.ok(warn, JSON.stringify(conn.warnings));
  assert.equal(warn.severity, "warning");
  assert.match(warn.message, /Switch leaf-01 is not defined/);
  const before = [...first.desired.values()].find((e) => e.name === "server-01--unbundled--leaf-01")!;
  assert.deepEqual(before.warnings, [], "no warning while the switch exists");
});

Deno.test("planIngestion keeps the reason of a file rejected for a rule across the fabric while it still fails", () => {
  const base = applyPlan(
    snap({ "raw/fabric.yaml": FABRIC_YAML }),
    plan(snap({ "raw/fabric.yaml": FABRIC_YAML })),
  );
  // rejected for what the rest of the fabric says (the file alone is valid): a subnet outside its
  // IPv4Namespace, a VLAN that a VPC in managed/ already uses
  const outside = VPC3.replace("10.0.3.0/24", "192.168.3.0/24");
  const clash = VPC3.replace("vpc-3", "vpc-9").replace("10.0.3.0", "10.0.9.0").replace("1003", "1001");
  const first = new Map(base).set("raw/outside.yaml", fileRef(outside)).set("raw/clash.yaml", fileRef(clash));
  const p1 = plan(first);
  const rejected = p1.objects.filter((o) => o.outcome === "rejected").map((o) => o.source).sort();
  assert.deepEqual(rejected, ["raw/clash.yaml", "raw/outside.yaml"]);
  const after = applyPlan(first, p1);
  assert.match(text(after, "unmanaged/outside.yaml.reason.txt"), /outside IPv4Namespace default/);
  assert.match(text(after, "unmanaged/clash.yaml.reason.txt"), /vlan-conflict/);
  // the next run changes nothing: both still fail, so both reasons stay
  const p2 = plan(after);
  assert.ok(!p2.deletes.has("unmanaged/outside.yaml.reason.txt"), "the namespace reason is kept");
  assert.ok(!p2.deletes.has("unmanaged/clash.yaml.reason.txt"), "the VLAN reason is kept");
  assert.equal(p2.changed, false);
  const u = p2.unmanaged.find((x) => x.path === "unmanaged/clash.yaml")!;
  assert.ok(u.findings.some((f) => f.rule === "hedgehog.vpc.vlan-conflict"), JSON.stringify(u.findings));
  // once the VPC holding the VLAN is gone, the clash's reason goes: it would pass now
  const freed = new Map(after);
  freed.delete("managed/vpcs/vpc-1.yaml");
  const p3 = plan(freed);
  assert.ok(p3.deletes.has("unmanaged/clash.yaml.reason.txt"), "the reason of a file that passes now goes");
  assert.ok(!p3.deletes.has("unmanaged/outside.yaml.reason.txt"));
});
