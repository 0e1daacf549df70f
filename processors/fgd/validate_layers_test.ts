/**
 * Every layer that can run on a document runs (validate.ts): structure, defaulting, schema and rules report
 * together; the stopping points are a document without a kind or identity, and a kind without a schema.
 */
import assert from "node:assert/strict";
import { hedgehogPack } from "./rules_hedgehog.ts";
import { defaultHedgehog } from "./default_hedgehog.ts";
import { isPlainObject, type KubeObject, splitApiVersion } from "./object.ts";
import type { RuleContext } from "./rule_pack.ts";
import { Validator } from "./validate.ts";
import { fabricObjects, hedgehogCrds, moreObjects } from "./testdata/mod.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);

function contextOf(objects: KubeObject[]): RuleContext {
  const byKey = new Map(
    objects.map((o) => [`${splitApiVersion(o.apiVersion).group}/${o.kind}/${o.metadata.name}`, o]),
  );
  return { lookup: (group, kind, name) => byKey.get(`${group}/${kind}/${name}`) };
}

const find = (name: string, kind?: string) =>
  fabricObjects().find((o) => o.metadata.name === name && (!kind || o.kind === kind))! as any;
const rows = (doc: unknown, ctx?: RuleContext) =>
  validator.validate(doc, 0, ctx).findings.map((f) => [f.layer, f.rule, f.path]);

Deno.test("one VPC with a bad name, an unknown field and two rule violations reports all four at once", () => {
  const vpc = find("vpc-1", "VPC");
  vpc.metadata.name = "VPC_1";
  vpc.spec.subnetz = {};
  vpc.spec.mode = "l3flat";
  vpc.spec.subnets.default.gateway = "10.9.9.1";
  const r = validator.validate(vpc, 0);
  assert.deepEqual(r.findings.map((f) => [f.layer, f.rule, f.path]), [
    ["structure", "structure.name", "metadata.name"],
    ["schema", "schema.unknown-field", "spec.subnetz"],
    ["semantic", "hedgehog.vpc.mode", "spec.mode"],
    ["semantic", "hedgehog.vpc.gateway", "spec.subnets.default.gateway"],
  ]);
  assert.equal(r.object, undefined, "no object for managed/ when the structure failed");
});

Deno.test("a rule does not restate a schema error at the same field or below it", () => {
  const vpc = find("vpc-1", "VPC");
  vpc.spec.subnets.default.vlan = "1001"; // schema.type; hedgehog.vpc.vlan would say "has no VLAN"
  vpc.spec.subnets.default.subnet = 10; // schema.type; subnet-cidr would say "not a CIDR"
  vpc.spec.mode = "l3flat"; // elsewhere: reported
  assert.deepEqual(rows(vpc), [
    ["schema", "schema.type", "spec.subnets.default.subnet"],
    ["schema", "schema.type", "spec.subnets.default.vlan"],
    ["semantic", "hedgehog.vpc.mode", "spec.mode"],
  ]);
});

Deno.test("defaulting warnings are reported beside schema errors", () => {
  const vpc = find("vpc-2", "VPC");
  vpc.spec.subnets.default.dhcp = { enable: false, range: { start: "10.0.2.10" } };
  vpc.spec.extra = true;
  const r = validator.validate(vpc, 0).findings;
  assert.deepEqual(r.map((f) => [f.rule, f.severity]), [
    ["schema.unknown-field", "error"],
    ["hedgehog.defaults.dropped", "warning"],
  ]);
});

Deno.test("the layers stop where nothing more can be said: no kind or identity, or no schema for the kind", () => {
  const vpc = find("vpc-1", "VPC");
  delete vpc.apiVersion;
  vpc.spec.mode = "l3flat";
  assert.deepEqual(rows(vpc), [["structure", "structure.api-version", "apiVersion"]]);
  const noName = find("vpc-1", "VPC");
  delete noName.metadata.name;
  noName.spec.mode = "l3flat";
  assert.deepEqual(rows(noName), [["structure", "structure.name", "metadata.name"]]);
  const unknown = find("vpc-1", "VPC");
  unknown.kind = "VirtualPC";
  unknown.spec.mode = "l3flat";
  assert.deepEqual(rows(unknown), [["schema", "schema.unknown-kind", "kind"]]);
  const version = find("vpc-1", "VPC");
  version.apiVersion = "vpc.githedgehog.com/v1alpha2";
  version.spec.mode = "l3flat";
  assert.deepEqual(rows(version), [["schema", "schema.version", "apiVersion"]]);
});

/** Every field path of a value, with a setter. */
function* fields(v: unknown, set: (x: unknown) => void, at = ""): Generator<[string, (x: unknown) => void]> {
  yield [at, set];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) yield* fields(v[i], (x) => (v[i] = x), `${at}[${i}]`);
  } else if (isPlainObject(v)) {
    for (const k of Object.keys(v)) yield* fields(v[k], (x) => (v[k] = x), `${at}.${k}`);
  }
}

const JUNK: unknown[] = ["x", 7, null, true, [], {}, ["x"], { a: 1 }];

Deno.test("rules and defaulting never throw on a schema-invalid document (every field, every wrong type)", () => {
  const all = [...fabricObjects(), ...moreObjects()];
  const ctx = contextOf(all);
  let checked = 0;
  for (let i = 0; i < all.length; i++) {
    const paths = [...fields(structuredClone(all[i].spec), () => {}, "spec")].map(([p]) => p);
    for (const path of paths) {
      for (const junk of JUNK) {
        const o = structuredClone(all[i]) as any;
        for (const [p, set] of fields(o.spec, (x) => (o.spec = x), "spec")) {
          if (p === path) {
            set(structuredClone(junk));
            break;
          }
        }
        for (const c of [ctx, {}]) {
          const d = defaultHedgehog(o);
          if (hedgehogPack.appliesTo(d.object)) {
            assert.doesNotThrow(
              () => hedgehogPack.check(d.object, () => {}, c),
              `${o.kind} ${path}=${JSON.stringify(junk)}`,
            );
          }
          validator.validate(o, 0, c);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 1000, `${checked} variants`);
});
