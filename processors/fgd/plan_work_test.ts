import assert from "node:assert/strict";
import type { Finding } from "./finding.ts";
import { managedEntry } from "./plan_work.ts";
import { renderManaged } from "./normalize.ts";
import { blobId } from "./snapshot.ts";
import { candidatesOf, vpcYaml, workOver } from "./_plan_test_util.ts";

Deno.test("WorkingPlan.place gives an object its canonical path and refuses a path another object holds", () => {
  const work = workOver();
  const [c] = candidatesOf(vpcYaml("vpc-1", 1));
  assert.equal(work.place(c), "managed/vpcs/vpc-1.yaml");
  assert.equal(work.place(c), "managed/vpcs/vpc-1.yaml", "the same object may be placed again");
  const other = { ...c, key: "example.com/Other/default/vpc-1" };
  const f = work.place(other) as Finding;
  assert.equal(f.rule, "ingest.path-collision");
  assert.equal(f.severity, "error");
  assert.match(
    f.message,
    /managed\/vpcs\/vpc-1\.yaml already holds .*VPC.*vpc-1.*two CRDs share the plural vpcs/,
  );
});

Deno.test("WorkingPlan.place refuses a name that would escape managed/", () => {
  const [c] = candidatesOf(vpcYaml("vpc-1", 1));
  const escaping = { ...c, object: { ...c.object, metadata: { ...c.object.metadata, name: ".." } } };
  const f = workOver().place(escaping) as Finding;
  assert.equal(f.rule, "ingest.path-escape");
  assert.equal(f.path, "metadata.name");
  assert.match(f.message, /cannot be a path segment under managed\/; use a lowercase RFC 1123 name/);
});

Deno.test("WorkingPlan.unchanged and taken answer from the snapshot and the plan so far", () => {
  const work = workOver({ "managed/a.yaml": "a: 1\n", "raw/b.yaml": "b: 1\n" });
  assert.equal(work.unchanged("managed/a.yaml", "a: 1\n"), true);
  assert.equal(work.unchanged("managed/a.yaml", new TextEncoder().encode("a: 1\n")), true);
  assert.equal(work.unchanged("managed/a.yaml", "a: 2\n"), false);
  assert.equal(work.unchanged("managed/new.yaml", ""), false);
  assert.equal(work.taken("raw/b.yaml"), true);
  work.deletes.add("raw/b.yaml");
  assert.equal(work.taken("raw/b.yaml"), false, "deleted by the plan");
  work.writes.set("unmanaged/b.yaml", "b: 1\n");
  assert.equal(work.taken("unmanaged/b.yaml"), true, "written by the plan");
});

Deno.test("WorkingPlan.remember caches a written managed file by its blob id, as it parses back", () => {
  const work = workOver();
  const [c] = candidatesOf(vpcYaml("vpc-1", 1));
  const r = renderManaged(c.object, c.crd, { source: c.source, document: c.document }, c.comments);
  work.remember(r, c);
  const hit = work.cache.managed.get(blobId(r.text))!;
  assert.deepEqual(hit.findings, []);
  assert.deepEqual(hit.objects.map((o) => [o.document, o.object, o.crd.plural]), [[0, r.object, "vpcs"]]);
  // with its normalized form: the object itself, as rendered from the candidate's provenance
  const rendered = work.cache.rendered.get(hit.objects[0])!;
  assert.deepEqual([rendered.source, rendered.document, rendered.text, rendered.hash], [
    c.source,
    c.document,
    r.text,
    r.hash,
  ]);
  assert.equal(rendered.object, r.object);
});

Deno.test("WorkingPlan.finish drops no-op writes and deletes of absent or rewritten files, and keeps blob ids", () => {
  const work = workOver({
    "managed/same.yaml": "x: 1\n",
    "managed/gone.yaml": "y: 1\n",
    "raw/r.yaml": "z: 1\n",
  });
  work.writes.set("managed/same.yaml", "x: 1\n"); // writes what is there: no write
  work.writes.set("managed/new.yaml", "n: 1\n");
  work.writes.set("raw/r.yaml", "z: 2\n"); // deleted and rewritten: a write
  work.deletes.add("managed/gone.yaml");
  work.deletes.add("managed/never-there.yaml");
  work.deletes.add("raw/r.yaml");
  work.invalidManaged.push({ path: "managed/gone.yaml", findings: [] }, {
    path: "managed/kept.yaml",
    findings: [],
  });
  const plan = work.finish([]);
  assert.deepEqual([...plan.writes.keys()], ["managed/new.yaml", "raw/r.yaml"]);
  assert.deepEqual([...plan.writeIds], [["managed/new.yaml", blobId("n: 1\n")], [
    "raw/r.yaml",
    blobId("z: 2\n"),
  ]]);
  assert.deepEqual([...plan.deletes], ["managed/gone.yaml"]);
  assert.deepEqual(plan.invalidManaged.map((i) => i.path), ["managed/kept.yaml"], "only what stays in place");
  assert.equal(plan.changed, true);
  assert.equal(workOver({ "a.yaml": "a" }).finish([]).changed, false);
});

Deno.test("managedEntry takes identity from the candidate and content from its rendered form", () => {
  const [c] = candidatesOf(vpcYaml("vpc-1", 1));
  const r = renderManaged(c.object, c.crd, { source: c.source, document: c.document }, c.comments);
  const e = managedEntry(c, "managed/vpcs/vpc-1.yaml", r);
  assert.deepEqual(
    [e.key, e.path, e.kind, e.plural, e.name, e.namespace, e.source, e.document, e.hash],
    [
      c.key,
      "managed/vpcs/vpc-1.yaml",
      "VPC",
      "vpcs",
      "vpc-1",
      r.object.metadata.namespace,
      c.source,
      0,
      r.hash,
    ],
  );
  assert.equal(e.object, r.object);
});
