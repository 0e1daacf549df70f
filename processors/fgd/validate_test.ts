import assert from "node:assert/strict";
import { HEDGEHOG_RULES } from "./rules_hedgehog.ts";
import { DIRECTORY_RULES } from "./rules_hedgehog_directory.ts";
import { type KubeObject, objectKey, splitApiVersion } from "./object.ts";
import type { RuleContext } from "./rule_pack.ts";
import { type ValidationMemo, Validator } from "./validate.ts";
import { fabricObjects, hedgehogCrds, moreObjects } from "./testdata/mod.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);

/** A lookup over a set of objects, as ingestion builds it from the fabric's desired state. */
function contextOf(objects: KubeObject[]): RuleContext {
  const byKey = new Map(
    objects.map((o) => [`${splitApiVersion(o.apiVersion).group}/${o.kind}/${o.metadata.name}`, o]),
  );
  return { lookup: (group, kind, name) => byKey.get(`${group}/${kind}/${name}`) };
}

Deno.test("Validator accepts a valid example of every Hedgehog kind, with and without fabric context", () => {
  const objects = [...fabricObjects(), ...moreObjects()];
  const kinds = new Set(objects.map((o) => o.kind));
  assert.equal(kinds.size, validator.crds.kinds.size, "testdata covers every CRD kind");
  assert.equal(validator.crds.problems.length, 0);
  assert.deepEqual(validator.schema.compileAll(), []);
  const ctx = contextOf(objects);
  objects.forEach((o, i) => {
    assert.deepEqual(validator.validate(o, i, ctx).findings, [], `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(validator.validate(o, i).findings, [], `${o.kind}/${o.metadata.name} without context`);
  });
});

interface Case {
  rule: string;
  target?: string;
  doc?: unknown;
  mutate?: (o: any) => void;
  path?: string;
  severity?: "error" | "warning";
  /** Objects added to the fabric context. */
  extra?: KubeObject[];
}

const STRUCTURE_AND_SCHEMA: Case[] = [
  { rule: "structure.not-an-object", doc: ["a", "list"], path: "" },
  { rule: "structure.not-an-object", doc: "just text", path: "" },
  {
    rule: "structure.api-version",
    target: "VPC/vpc-2",
    mutate: (o) => delete o.apiVersion,
    path: "apiVersion",
  },
  { rule: "structure.kind", target: "VPC/vpc-2", mutate: (o) => (o.kind = "vpc"), path: "kind" },
  { rule: "structure.metadata", target: "VPC/vpc-2", mutate: (o) => delete o.metadata, path: "metadata" },
  {
    rule: "structure.name",
    target: "VPC/vpc-2",
    mutate: (o) => (o.metadata.name = "VPC_2"),
    path: "metadata.name",
  },
  {
    rule: "structure.name",
    target: "VPC/vpc-2",
    mutate: (o) => delete o.metadata.name,
    path: "metadata.name",
  },
  {
    rule: "structure.name-path",
    target: "VPC/vpc-2",
    mutate: (o) => (o.metadata.name = "../../etc/passwd"),
    path: "metadata.name",
  },
  {
    rule: "structure.name-path",
    target: "VPC/vpc-2",
    mutate: (o) => (o.metadata.name = ".."),
    path: "metadata.name",
  },
  {
    rule: "structure.namespace",
    target: "VPC/vpc-2",
    mutate: (o) => (o.metadata.namespace = "Default"),
    path: "metadata.namespace",
  },
  {
    rule: "structure.metadata-map",
    target: "VPC/vpc-2",
    mutate: (o) => (o.metadata.labels = { tier: 1 }),
    path: "metadata.labels.tier",
  },
  { rule: "schema.unknown-kind", target: "VPC/vpc-2", mutate: (o) => (o.kind = "Gateway"), path: "kind" },
  {
    rule: "schema.unknown-kind",
    target: "VPC/vpc-2",
    mutate: (o) => (o.apiVersion = "example.com/v1"),
    path: "kind",
  },
  {
    rule: "schema.version",
    target: "VPC/vpc-2",
    mutate: (o) => (o.apiVersion = "vpc.githedgehog.com/v1alpha2"),
    path: "apiVersion",
  },
  {
    rule: "schema.unknown-field",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnetz = {}),
    path: "spec.subnetz",
  },
  {
    rule: "schema.unknown-field",
    target: "SwitchGroup/empty",
    mutate: (o) => (o.spec.members = ["leaf-01"]),
    path: "spec.members",
  },
  {
    rule: "schema.unknown-field",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.gw = "10.0.2.1"),
    path: "spec.subnets.default.gw",
  },
  { rule: "schema.required", target: "Switch/leaf-01", mutate: (o) => delete o.spec.role, path: "spec.role" },
  {
    rule: "schema.type",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.vlan = "1002"),
    path: "spec.subnets.default.vlan",
  },
  { rule: "schema.enum", target: "Switch/leaf-01", mutate: (o) => (o.spec.role = "leaf"), path: "spec.role" },
  {
    rule: "schema.pattern",
    target: "Connection/leaf-01--external",
    mutate: (
      o,
    ) => (o.spec = {
      fabric: { links: [{ spine: { port: "s/E1/1", ip: "10.0.0.1" }, leaf: { port: "l/E1/1" } }] },
    }),
    path: "spec.fabric.links[0].spine.ip",
  },
  {
    rule: "schema.min-items",
    target: "IPv4Namespace/default",
    mutate: (o) => (o.spec.subnets = []),
    path: "spec.subnets",
  },
  {
    rule: "schema.format",
    target: "ExternalAttachment/ext-1--leaf-01",
    mutate: (o) => (o.spec.neighbor.asn = 3_000_000_000),
    path: "spec.neighbor.asn",
  },
];

const HEDGEHOG: Case[] = [
  {
    rule: "hedgehog.namespace",
    target: "VPC/vpc-2",
    mutate: (o) => (o.metadata.namespace = "prod"),
    path: "metadata.namespace",
  },
  {
    rule: "hedgehog.name-length",
    target: "External/ext-1",
    mutate: (o) => (o.metadata.name = "external-one"),
    path: "metadata.name",
  },
  {
    rule: "hedgehog.name-length",
    target: "VPC/vpc-2",
    mutate: (o) => (o.metadata.name = "vpc-for-team-a"),
    path: "metadata.name",
  },
  {
    rule: "hedgehog.ref.missing",
    target: "VPCAttachment/server-01--unbundled--leaf-01--vpc-1--default",
    mutate: (o) => (o.spec.connection = "nope"),
    path: "spec.connection",
    severity: "warning",
  },
  {
    rule: "hedgehog.defaults.dropped",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.default.dhcp.enable = false),
    path: "spec.subnets.default.dhcp.range",
    severity: "warning",
  },
  {
    rule: "hedgehog.vpc.name-prefix",
    target: "VPC/vpc-2",
    mutate: (o) => (o.metadata.name = "ext.vpc-2"),
    path: "metadata.name",
  },
  {
    rule: "hedgehog.vpcpeering.namespaces",
    target: "VPCPeering/vpc-1--vpc-2",
    mutate: (o) => (o.spec.permit = [{ "vpc-1": {}, "vpc-3": {} }]),
    extra: [{
      apiVersion: "vpc.githedgehog.com/v1beta1",
      kind: "VPC",
      metadata: { name: "vpc-3" },
      spec: { ipv4Namespace: "other", subnets: { default: { subnet: "10.9.0.0/24", vlan: 1009 } } },
    }],
    path: "spec.permit",
  },
  {
    rule: "hedgehog.ipv4namespace.subnets",
    target: "IPv4Namespace/default",
    mutate: (o) => (o.spec.subnets = Array.from({ length: 11 }, (_, i) => `10.${i}.0.0/16`)),
    path: "spec.subnets",
  },
  {
    rule: "hedgehog.vpc.subnets",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets = {}),
    path: "spec.subnets",
  },
  {
    rule: "hedgehog.vpc.mode",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.mode = "l3flat"),
    path: "spec.mode",
  },
  {
    rule: "hedgehog.vpc.subnet-cidr",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.subnet = "10.0.2.0/31"),
    path: "spec.subnets.default.subnet",
  },
  {
    rule: "hedgehog.vpc.subnet-cidr",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.subnet = "10.0.2/24"),
    path: "spec.subnets.default.subnet",
  },
  {
    rule: "hedgehog.vpc.gateway",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.default.gateway = "10.0.2.1"),
    path: "spec.subnets.default.gateway",
  },
  {
    rule: "hedgehog.vpc.vlan",
    target: "VPC/vpc-2",
    mutate: (o) => delete o.spec.subnets.default.vlan,
    path: "spec.subnets.default.vlan",
  },
  {
    rule: "hedgehog.vpc.vlan",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.vlan = 4095),
    path: "spec.subnets.default.vlan",
  },
  {
    rule: "hedgehog.vpc.vlan-unique",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.backend.vlan = 1001),
    path: "spec.subnets.backend.vlan",
  },
  {
    rule: "hedgehog.vpc.subnet-overlap",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.backend.subnet = "10.0.1.128/25"),
  },
  {
    rule: "hedgehog.vpc.dhcp",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.default.dhcp.range.start = "10.0.2.10"),
    path: "spec.subnets.default.dhcp.range.start",
  },
  {
    rule: "hedgehog.vpc.dhcp",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.default.dhcp.relay = "10.99.0.1/32"),
    path: "spec.subnets.default.dhcp",
  },
  {
    rule: "hedgehog.vpc.host-bgp-dhcp",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.default.hostBGP = true),
    path: "spec.subnets.default.dhcp.enable",
  },
  {
    rule: "hedgehog.vpc.dhcp-relay",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.dhcp = { relay: "10.99.0.1" }),
    path: "spec.subnets.default.dhcp.relay",
  },
  {
    rule: "hedgehog.vpc.dhcp-static",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.default.dhcp.static = { "aa:bb:cc:00:11:22": { ip: "10.0.1.1" } }),
    path: 'spec.subnets.default.dhcp.static["aa:bb:cc:00:11:22"]',
  },
  {
    rule: "hedgehog.vpc.dhcp-servers",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.default.dhcp.options = { dnsServers: ["1.1.1"] }),
    path: "spec.subnets.default.dhcp.options.dnsServers[0]",
  },
  {
    rule: "hedgehog.vpc.dhcp-routes",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.subnets.default.dhcp.options = {
      advertisedRoutes: [{ destination: "10.12.0.0/16", gateway: "10.0.2.1" }],
    }),
    path: "spec.subnets.default.dhcp.options.advertisedRoutes[0].gateway",
  },
  {
    rule: "hedgehog.vpc.permit",
    target: "VPC/vpc-1",
    mutate: (o) => (o.spec.permit = [["default"]]),
    path: "spec.permit[0]",
  },
  {
    rule: "hedgehog.vpc.static-route",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.staticRoutes = [{ prefix: "10.42.0.1/24", nextHops: ["10.99.0.1"] }]),
    path: "spec.staticRoutes[0]",
  },
  {
    rule: "hedgehog.vpc.ipv4-namespace",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.subnet = "192.168.2.0/24"),
    path: "spec.subnets.default.subnet",
  },
  {
    rule: "hedgehog.vpc.vlan-namespace",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.vlan = 3500),
    path: "spec.subnets.default.vlan",
  },
  {
    rule: "hedgehog.vpcpeering.two-vpcs",
    target: "VPCPeering/vpc-1--vpc-2",
    mutate: (o) => (o.spec.permit = [{ "vpc-1": {}, "vpc-2": {}, "vpc-3": {} }]),
    path: "spec.permit[0]",
  },
  {
    rule: "hedgehog.vpcpeering.two-vpcs",
    target: "VPCPeering/vpc-1--vpc-2",
    mutate: (o) => (o.spec.permit = [{ "vpc-1": {} }]),
    path: "spec.permit[0]",
  },
  {
    rule: "hedgehog.vpcpeering.two-vpcs",
    target: "VPCPeering/vpc-1--vpc-2",
    mutate: (o) => (o.spec.permit = [{ "vpc-1": {}, "vpc-2": {} }, { "vpc-1": {}, "vpc-3": {} }]),
    path: "spec.permit",
  },
  {
    rule: "hedgehog.vpcpeering.remote",
    target: "VPCPeering/vpc-1--vpc-2",
    mutate: (o) => (o.spec.remote = "border"),
    path: "spec.remote",
  },
  {
    rule: "hedgehog.vpcpeering.subnets",
    target: "VPCPeering/vpc-1--vpc-2",
    mutate: (o) => (o.spec.permit[0]["vpc-1"].subnets = ["nope"]),
    path: "spec.permit[0].vpc-1",
  },
  {
    rule: "hedgehog.ipv4namespace.subnets",
    target: "IPv4Namespace/default",
    mutate: (o) => (o.spec.subnets = ["10.0.0.0/16", "10.0.128.0/17"]),
    path: "spec.subnets[1]",
  },
  {
    rule: "hedgehog.ipv4namespace.subnets",
    target: "IPv4Namespace/default",
    mutate: (o) => (o.spec.subnets = ["10.0.0.0"]),
    path: "spec.subnets[0]",
  },
  {
    rule: "hedgehog.external.community",
    target: "External/ext-1",
    mutate: (o) => (o.spec.inboundCommunity = "65102-5000"),
    path: "spec.inboundCommunity",
  },
  {
    rule: "hedgehog.external.static",
    target: "External/ext-1",
    mutate: (o) => (o.spec.static = { prefixes: ["0.0.0.0/0"] }),
    path: "spec.inboundCommunity",
  },
  {
    rule: "hedgehog.externalattachment.static",
    target: "ExternalAttachment/ext-1--leaf-01",
    mutate: (o) => (o.spec.static = { remoteIP: "100.100.0.6", ip: "100.100.0.1/24" }),
    path: "spec.switch",
  },
  {
    rule: "hedgehog.externalattachment.refs",
    target: "ExternalAttachment/ext-1--leaf-01",
    mutate: (o) => delete o.spec.connection,
    path: "spec.connection",
  },
  {
    rule: "hedgehog.externalattachment.bgp",
    target: "ExternalAttachment/ext-1--leaf-01",
    mutate: (o) => (o.spec.neighbor.ip = "100.100.0.6/24"),
    path: "spec.neighbor.ip",
  },
  {
    rule: "hedgehog.externalattachment.vlan",
    target: "ExternalAttachment/ext-1--leaf-01",
    mutate: (o) => (o.spec.switch.vlan = 5000),
    path: "spec.switch.vlan",
  },
  {
    rule: "hedgehog.externalpeering.refs",
    target: "ExternalPeering/vpc-1--ext-1",
    mutate: (o) => delete o.spec.permit.vpc.name,
    path: "spec.permit.vpc.name",
  },
  {
    rule: "hedgehog.externalpeering.prefixes",
    target: "ExternalPeering/vpc-1--ext-1",
    mutate: (o) => (o.spec.permit.external.prefixes[0].prefix = "default"),
    path: "spec.permit.external.prefixes[0].prefix",
  },
  {
    rule: "hedgehog.externalpeering.namespace",
    target: "ExternalPeering/vpc-1--ext-1",
    mutate: (o) => (o.spec.permit.external.name = "ext-2"),
    extra: [{
      apiVersion: "vpc.githedgehog.com/v1beta1",
      kind: "External",
      metadata: { name: "ext-2" },
      spec: { ipv4Namespace: "other" },
    }],
    path: "spec.permit",
  },
  {
    rule: "hedgehog.ref.missing",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.dhcp = { relay: "10.99.0.1/32", relayVPC: "vpc-9" }),
    path: "spec.subnets.default.dhcp.relayVPC",
    severity: "warning",
  },
  {
    rule: "hedgehog.externalpeering.subnets",
    target: "ExternalPeering/vpc-1--ext-1",
    mutate: (o) => (o.spec.permit.vpc.subnets = ["nope"]),
    path: "spec.permit.vpc.subnets[0]",
  },
  {
    rule: "hedgehog.vpcattachment.connection",
    target: "VPCAttachment/server-01--unbundled--leaf-01--vpc-1--default",
    mutate: (o) => delete o.spec.connection,
    path: "spec.connection",
  },
  {
    rule: "hedgehog.vpcattachment.subnet",
    target: "VPCAttachment/server-01--unbundled--leaf-01--vpc-1--default",
    mutate: (o) => (o.spec.subnet = "/default"),
    path: "spec.subnet",
  },
  {
    rule: "hedgehog.vpcattachment.subnet",
    target: "VPCAttachment/server-01--unbundled--leaf-01--vpc-1--default",
    mutate: (o) => (o.spec.subnet = "vpc-1/nope"),
    path: "spec.subnet",
  },
  {
    rule: "hedgehog.connection.link-type",
    target: "Connection/server-01--unbundled--leaf-01",
    mutate: (o) => (o.spec.external = { link: { switch: { port: "leaf-01/E1/7" } } }),
    path: "spec",
  },
  {
    rule: "hedgehog.connection.link-type",
    target: "Connection/server-01--unbundled--leaf-01",
    mutate: (o) => (o.spec = {}),
    path: "spec",
  },
  {
    rule: "hedgehog.connection.port-name",
    target: "Connection/server-01--unbundled--leaf-01",
    mutate: (o) => (o.spec.unbundled.link.server.port = "enp2s1"),
    path: "spec.unbundled.link.server.port",
  },
  {
    rule: "hedgehog.connection.unique-ports",
    target: "Connection/server-01--unbundled--leaf-01",
    mutate: (o) => (o.spec = {
      bundled: {
        links: [
          { server: { port: "server-01/enp2s1" }, switch: { port: "leaf-01/E1/1" } },
          { server: { port: "server-01/enp2s1" }, switch: { port: "leaf-01/E1/2" } },
        ],
      },
    }),
    path: "spec.bundled.links[1].server.port",
  },
  {
    rule: "hedgehog.connection.endpoints",
    target: "Connection/server-01--unbundled--leaf-01",
    mutate: (o) => (o.spec = {
      bundled: {
        links: [
          { server: { port: "server-01/enp2s1" }, switch: { port: "leaf-01/E1/1" } },
          { server: { port: "server-02/enp2s1" }, switch: { port: "leaf-01/E1/2" } },
        ],
      },
    }),
    path: "spec.bundled",
  },
  {
    rule: "hedgehog.connection.redundancy",
    target: "Connection/server-01--unbundled--leaf-01",
    mutate: (o) => (o.spec = {
      mclag: {
        links: [
          { server: { port: "server-01/enp2s1" }, switch: { port: "leaf-01/E1/1" } },
          { server: { port: "server-01/enp2s2" }, switch: { port: "leaf-01/E1/2" } },
        ],
      },
    }),
    path: "spec.mclag",
  },
  {
    rule: "hedgehog.connection.static-external",
    target: "Connection/leaf-01--external",
    mutate: (o) => (o.spec = {
      staticExternal: {
        link: { switch: { port: "leaf-01/E1/5", ip: "172.31.0.1/24", nextHop: "172.31.1.1" } },
      },
    }),
    path: "spec.staticExternal.link.switch.nextHop",
  },
  {
    rule: "hedgehog.vlannamespace.ranges",
    target: "VLANNamespace/default",
    mutate: (o) => (o.spec.ranges = [{ from: 3000, to: 2000 }]),
    path: "spec.ranges[0]",
  },
  {
    rule: "hedgehog.vlannamespace.ranges",
    target: "VLANNamespace/default",
    mutate: (o) => (o.spec.ranges = [{ from: 1000, to: 2000 }, { from: 1500, to: 2500 }]),
    path: "spec.ranges[1]",
  },
  {
    rule: "hedgehog.switch.addresses",
    target: "Switch/leaf-01",
    mutate: (o) => (o.spec.ip = "172.30.0.8"),
    path: "spec.ip",
  },
  {
    rule: "hedgehog.switch.required",
    target: "Switch/leaf-01",
    mutate: (o) => delete o.spec.asn,
    path: "spec.asn",
  },
  {
    rule: "hedgehog.switch.spine-vtep",
    target: "Switch/leaf-01",
    mutate: (o) => (o.spec.role = "spine"),
    path: "spec.vtepIP",
  },
  {
    rule: "hedgehog.switch.redundancy",
    target: "Switch/leaf-01",
    mutate: (o) => (o.spec.redundancy = { group: "mclag-1" }),
    path: "spec.redundancy",
  },
];

function run(c: Case) {
  const objects = fabricObjects();
  let doc: unknown = c.doc;
  let index = 0;
  if (c.target) {
    index = objects.findIndex((o) => `${o.kind}/${o.metadata.name}` === c.target);
    assert.ok(index >= 0, `target ${c.target} exists`);
    c.mutate!(objects[index]);
    doc = objects[index];
  }
  const ctx = contextOf([
    ...objects.filter((o) => typeof o?.apiVersion === "string" && o.metadata?.name),
    ...(c.extra ?? []),
  ]);
  const { findings } = validator.validate(doc, index, ctx);
  const hit = findings.find((f) => f.rule === c.rule);
  assert.ok(hit, `${c.rule} on ${c.target ?? JSON.stringify(doc)}: got ${JSON.stringify(findings)}`);
  assert.equal(hit.doc, index);
  assert.equal(hit.severity, c.severity ?? "error");
  if (c.path !== undefined) assert.equal(hit.path, c.path, `${c.rule}: ${hit.message}`);
  assert.ok(hit.message.length > 20, hit.message);
  return hit;
}

Deno.test("Validator rejects an invalid document for every structure and schema rule", () => {
  for (const c of STRUCTURE_AND_SCHEMA) run(c);
});

Deno.test("Validator rejects an invalid example for every Hedgehog rule, with the rule id, path and a fix", () => {
  for (const c of HEDGEHOG) run(c);
  const covered = new Set(HEDGEHOG.map((c) => c.rule));
  const directory = new Set(DIRECTORY_RULES.map((r) => r.id)); // cases in validate_directory_test.ts
  const missing = HEDGEHOG_RULES.map((r) => r.id).filter((id) => !covered.has(id) && !directory.has(id));
  assert.deepEqual(missing, [], "every Hedgehog rule has a rejecting example");
});

Deno.test("Validator messages say what is valid", () => {
  const name = run(HEDGEHOG.find((c) => c.rule === "hedgehog.name-length")!);
  assert.match(name.message, /at most 11/);
  const unknown = run(STRUCTURE_AND_SCHEMA.find((c) => c.path === "spec.subnetz")!);
  assert.match(unknown.message, /valid fields here: .*ipv4Namespace.*subnets/);
  const gw = run(HEDGEHOG.find((c) => c.rule === "hedgehog.vpc.gateway")!);
  assert.match(gw.message, /10\.0\.1\.0-10\.0\.1\.255/);
  const en = run(STRUCTURE_AND_SCHEMA.find((c) => c.rule === "schema.enum")!);
  assert.match(en.message, /"server-leaf"/);
});

Deno.test("Validator reports schema and rule findings together, and keeps warnings non-blocking", () => {
  const objects = fabricObjects();
  const vpc = objects.find((o) => o.metadata.name === "vpc-2")!;
  (vpc.spec as any).subnets.default.vlan = "x";
  (vpc.metadata as any).namespace = "prod";
  const { findings } = validator.validate(vpc, 3);
  assert.deepEqual(findings.map((f) => [f.layer, f.rule, f.path]), [
    ["schema", "schema.type", "spec.subnets.default.vlan"],
    ["semantic", "hedgehog.namespace", "metadata.namespace"],
  ]);
});

Deno.test("Validator reports every finding of a document, not only the first", () => {
  const [ipns] = fabricObjects();
  (ipns as any).spec.extra = 1;
  (ipns as any).spec.subnets = "10.0.0.0/16";
  const { findings } = validator.validate(ipns, 0);
  assert.deepEqual(findings.map((f) => f.rule).sort(), ["schema.type", "schema.unknown-field"]);
});

Deno.test("Validator rejects an unknown rule pack by name", () => {
  assert.throws(
    () => new Validator(hedgehogCrds(), ["calico"]),
    /unknown rule pack "calico"; available: hedgehog/,
  );
});

Deno.test("objectKey ignores the API version", () => {
  const [a] = fabricObjects();
  const b = { ...a, apiVersion: "vpc.githedgehog.com/v1" };
  assert.equal(objectKey(a), objectKey(b));
});

Deno.test("parseIPv4/parseCidr accept dotted quads only", async () => {
  const { parseIPv4, parseCidr } = await import("./ipv4.ts");
  assert.equal(parseIPv4("10.0.1.1"), 0x0a000101);
  assert.equal(parseIPv4("255.255.255.255"), 0xffffffff);
  assert.equal(parseIPv4("0.0.0.0"), 0);
  for (
    const bad of [
      "10.0.1",
      "10.0.1.1.1",
      "256.0.0.1",
      "01.0.0.1",
      "1..1.1",
      "a.b.c.d",
      "10.0.1.1/24",
      "",
      " 1.1.1.1",
    ]
  ) {
    assert.equal(parseIPv4(bad), undefined, bad);
  }
  assert.deepEqual(parseCidr("10.0.1.7/24")?.network, 0x0a000100);
  assert.equal(parseCidr("10.0.1.0/33"), undefined);
});

Deno.test("Validator with a memo gives what it gives without one, on every pass and index", () => {
  // valid objects, objects with schema errors, structure errors, warnings (defaulting drops) and refs
  const docs: unknown[] = fabricObjects();
  const broken = fabricObjects().map((o, i) => {
    const c = structuredClone(o) as KubeObject;
    if (i % 3 === 0) c.metadata.name = "Bad_Name";
    if (i % 3 === 1) (c.spec ??= {}).unknownField = 1;
    if (i % 3 === 2) c.kind = "Nope";
    return c;
  });
  docs.push(...broken, "not an object", null, { apiVersion: "v1" });
  const dhcp = fabricObjects().find((o) => o.kind === "VPC")!;
  const subnets = Object.values(dhcp.spec!.subnets as Record<string, Record<string, unknown>>);
  subnets[0].dhcp = { enable: false, range: { start: "10.0.1.10" } }; // dropped by defaulting: a warning
  docs.push(dhcp);
  const ctx = contextOf(fabricObjects());
  const memo: ValidationMemo = new WeakMap();
  docs.forEach((d, i) => {
    for (const [index, c] of [[i, {}], [i, ctx], [i + 1, ctx], [i, ctx]] as const) {
      const want = validator.validate(d, index, c);
      const got = validator.validate(d, index, c, memo);
      assert.deepEqual(got, want, `doc ${i} at ${index}`);
      assert.notEqual(got.findings, validator.validate(d, index, c, memo).findings, "a fresh findings array");
    }
  });
});
