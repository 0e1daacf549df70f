import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  ANNOTATION_HASH,
  ANNOTATION_SOURCE,
  contentHash,
  normalizeObject,
  provenanceOf,
  renderManaged,
  toYaml,
} from "./normalize.ts";
import type { KubeObject } from "./object.ts";
import { hedgehogCrds } from "./testdata/mod.ts";

const crd = hedgehogCrds().kinds.get("vpc.githedgehog.com/VPC")!;

const decorated: KubeObject = {
  status: { vni: 100 },
  spec: { subnets: { b: { vlan: 1002, subnet: "10.0.2.0/24" }, a: { subnet: "10.0.1.0/24", vlan: 1001 } } },
  metadata: {
    uid: "6c1e…",
    resourceVersion: "4711",
    generation: 3,
    creationTimestamp: "2024-01-01T00:00:00Z",
    managedFields: [{ manager: "kubectl" }],
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", team: "net" },
    labels: {},
    name: "vpc-1",
  },
  kind: "VPC",
  apiVersion: "vpc.githedgehog.com/v1beta1",
};

const plain: KubeObject = {
  apiVersion: "vpc.githedgehog.com/v1beta1",
  kind: "VPC",
  metadata: { name: "vpc-1", namespace: "default", annotations: { team: "net" } },
  spec: { subnets: { a: { subnet: "10.0.1.0/24", vlan: 1001 }, b: { subnet: "10.0.2.0/24", vlan: 1002 } } },
};

Deno.test("normalizeObject drops volatile fields and status, defaults the namespace, sorts keys", () => {
  const n = normalizeObject(decorated, crd);
  assert.deepEqual(Object.keys(n), ["apiVersion", "kind", "metadata", "spec"]);
  assert.deepEqual(n.metadata, { name: "vpc-1", namespace: "default", annotations: { team: "net" } });
  assert.deepEqual(Object.keys((n.spec as any).subnets), ["a", "b"]);
  assert.deepEqual(Object.keys((n.spec as any).subnets.b), ["subnet", "vlan"]);
});

Deno.test("renderManaged is byte-identical for the same object however it was written", () => {
  const p = { source: "raw/vpcs.yaml", document: 0 };
  const a = renderManaged(decorated, crd, p);
  const b = renderManaged(plain, crd, p);
  assert.equal(a.text, b.text);
  assert.equal(a.hash, b.hash);
  assert.equal(
    renderManaged(parse(a.text), crd, p).text,
    a.text,
    "re-rendering managed output is a fixed point",
  );
  assert.match(
    a.text,
    /^apiVersion: vpc\.githedgehog\.com\/v1beta1\nkind: VPC\nmetadata:\n {2}name: vpc-1\n {2}namespace: default\n/,
  );
});

Deno.test("provenance annotations name the source and a hash that ignores them", () => {
  const r = renderManaged(plain, crd, { source: "raw/a.yaml", document: 2 });
  assert.deepEqual(provenanceOf(r.object), { source: "raw/a.yaml", document: 2, hash: r.hash });
  assert.equal(r.object.metadata.annotations![ANNOTATION_SOURCE], "raw/a.yaml");
  assert.equal(contentHash(r.object), r.hash);
  const other = renderManaged(plain, crd, { source: "raw/b.yaml", document: 0 });
  assert.equal(other.hash, r.hash);
  assert.notEqual(other.text, r.text);
  const changed = renderManaged({ ...plain, spec: { subnets: {} } }, crd, {
    source: "raw/a.yaml",
    document: 2,
  });
  assert.notEqual(changed.object.metadata.annotations![ANNOTATION_HASH], r.hash);
});

Deno.test("toYaml quotes strings YAML 1.1 readers (kubectl) would read as something else", () => {
  const values = [
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "0755",
    "1_000",
    "12:30",
    "2001-12-14",
    "1.5",
    "true",
    "null",
    "~",
    "",
  ];
  const text = toYaml({ values, key: "E1/1", community: "65102:5000", "0755": "x" });
  for (const v of values) assert.ok(text.includes(`"${v}"`), `${v} quoted in\n${text}`);
  assert.ok(text.includes("key: E1/1"), "plain strings stay plain");
  assert.ok(text.includes('"0755": x'), "keys are quoted too");
  assert.deepEqual(parse(text), { values, key: "E1/1", community: "65102:5000", "0755": "x" });
  assert.deepEqual(parse(text, { version: "1.1" }), parse(text), "YAML 1.1 reads the same values");
});
