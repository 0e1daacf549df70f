/**
 * Documents the Hedgehog cluster accepts because its mutating webhooks (v0.126.0 `Default()`) fill them in
 * before validation, in the shapes of the Hedgehog docs (user-guide/external.md, vpcs.md, dhcp.md).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { Validator } from "./validate.ts";
import { fabricObjects, hedgehogCrds } from "./testdata/mod.ts";
import { type KubeObject, splitApiVersion } from "./object.ts";
import type { RuleContext } from "./rule_pack.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);

function contextOf(objects: KubeObject[]): RuleContext {
  const byKey = new Map(
    objects.map((o) => [`${splitApiVersion(o.apiVersion).group}/${o.kind}/${o.metadata.name}`, o]),
  );
  return { lookup: (group, kind, name) => byKey.get(`${group}/${kind}/${name}`) };
}

const errors = (doc: unknown, ctx: RuleContext = {}) =>
  validator.validate(doc, 0, ctx).findings.filter((f) => f.severity === "error");

const STATIC_EXTERNAL = `
apiVersion: vpc.githedgehog.com/v1beta1
kind: External
metadata:
  name: static-edge
  namespace: default
spec:
  ipv4Namespace: default
  static:
    prefixes:
      - "0.0.0.0/0"
`;

const STATIC_ATTACHMENT = `
apiVersion: vpc.githedgehog.com/v1beta1
kind: ExternalAttachment
metadata:
  name: switch-border--static-edge
spec:
  connection: switch-border--external--static-edge
  external: static-edge
  static:
    remoteIP: 192.168.30.1
    vlan: 35
    ip: 192.168.30.5/24
`;

Deno.test("Validator accepts the docs' static ExternalAttachment (neighbor and switch default to {})", () => {
  const doc = parse(STATIC_ATTACHMENT);
  assert.deepEqual(errors(doc), []);
  const r = validator.validate(doc, 0);
  assert.equal((r.object!.spec as any).neighbor, undefined, "managed/ keeps the object as written");
  assert.deepEqual((r.defaulted!.spec as any).neighbor, {});
  assert.deepEqual(errors(parse(STATIC_EXTERNAL)), []);
});

Deno.test("Validator accepts an External without ipv4Namespace (defaults to default)", () => {
  const doc = parse(STATIC_EXTERNAL);
  delete doc.spec.ipv4Namespace;
  assert.deepEqual(errors(doc), []);
  assert.equal((validator.validate(doc, 0).defaulted!.spec as any).ipv4Namespace, "default");
});

Deno.test("Validator accepts VPCAttachment subnet: vpc-1 and spells it vpc-1/default for managed/", () => {
  const objects = fabricObjects();
  const attach = objects.find((o) => o.kind === "VPCAttachment")!;
  (attach.spec as any).subnet = "vpc-1";
  assert.deepEqual(errors(attach, contextOf(objects)), []);
  const r = validator.validate(attach, 0, contextOf(objects));
  assert.equal((r.object!.spec as any).subnet, "vpc-1/default");
  assert.equal((attach.spec as any).subnet, "vpc-1", "the input is not mutated");
  // Spelling out is idempotent: the written form validates to itself.
  assert.deepEqual(validator.validate(r.object, 0).object, r.object);
});

Deno.test("Validator accepts dhcp.options with only dnsServers (MTU 9036 and lease 3600 defaulted)", () => {
  const vpc = parse(`
apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-1
  namespace: default
spec:
  subnets:
    default:
      subnet: 10.10.1.0/24
      gateway: 10.10.1.1
      vlan: 1001
      dhcp:
        enable: true
        range:
          start: 10.10.1.10
          end: 10.10.1.99
        options:
          dnsServers:
            - 8.8.8.8
            - 1.1.1.1
`);
  assert.deepEqual(errors(vpc), []);
  const r = validator.validate(vpc, 0);
  const options = (r.defaulted!.spec as any).subnets.default.dhcp.options;
  assert.equal(options.interfaceMTU, 9036);
  assert.equal(options.leaseTimeSeconds, 3600);
  assert.deepEqual(options.timeServers, []);
  assert.deepEqual(options.dnsServers, ["1.1.1.1", "8.8.8.8"], "the webhook sorts DNS servers");
  assert.deepEqual(
    (r.object!.spec as any).subnets.default.dhcp.options,
    { dnsServers: ["8.8.8.8", "1.1.1.1"] },
    "managed/ keeps what the user wrote",
  );
});

Deno.test("Validator accepts DHCP settings of a disabled subnet with a warning: the cluster drops them", () => {
  const vpc = fabricObjects().find((o) => o.metadata.name === "vpc-1")!;
  const dhcp = (vpc.spec as any).subnets.default.dhcp;
  dhcp.enable = false;
  dhcp.options = { dnsServers: ["1.1.1.1"] };
  const { findings } = validator.validate(vpc, 0);
  assert.deepEqual(findings.filter((f) => f.severity === "error"), []);
  assert.deepEqual(
    findings.map((f) => [f.rule, f.path]),
    [
      ["hedgehog.defaults.dropped", "spec.subnets.default.dhcp.range"],
      ["hedgehog.defaults.dropped", "spec.subnets.default.dhcp.options"],
    ],
  );
});

Deno.test("Validator defaults a DHCP range, a gateway and the namespaces of a VPC", () => {
  const vpc = fabricObjects().find((o) => o.metadata.name === "vpc-2")!;
  (vpc.spec as any).subnets.default.dhcp = { enable: true };
  const r = validator.validate(vpc, 0);
  assert.deepEqual(r.findings, []);
  const spec = r.defaulted!.spec as any;
  assert.equal(spec.ipv4Namespace, "default");
  assert.equal(spec.vlanNamespace, "default");
  assert.equal(spec.subnets.default.gateway, "10.0.2.1");
  assert.deepEqual(spec.subnets.default.dhcp.range, { start: "10.0.2.2", end: "10.0.2.255" });
});
