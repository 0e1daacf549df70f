/**
 * Documents the Hedgehog cluster (githedgehog/fabric v0.126.0 `Validate()`) rejects although the CRD schemas
 * accept them, in the shapes of the Hedgehog docs; each case names the rule id that must report it.
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

/** The docs' DHCP VPC (user-guide/dhcp.md), valid as given. */
const DHCP_VPC = `
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
          leaseTimeSeconds: 7200
          dnsServers:
            - 1.1.1.1
            - 8.8.8.8
          timeServers:
            - 132.163.96.1
          interfaceMTU: 9000
          advertisedRoutes:
            - destination: 10.20.0.0/16
              gateway: 10.10.1.2
        static:
          aa:bb:cc:00:11:22: { ip: 10.10.1.100 }
`;

const STATIC_EXTERNAL_CONN = `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: leaf-01--static-external
spec:
  staticExternal:
    link:
      switch:
        port: leaf-01/E1/7
        ip: 172.31.0.1/24
        nextHop: 172.31.0.5
        subnets: [10.99.0.0/24, 10.199.0.0/24]
        vlan: 100
`;

const MCLAG_CONN = `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-02--mclag--leaf-01--leaf-02
spec:
  mclag:
    links:
      - server: { port: server-01/enp2s1 }
        switch: { port: leaf-01/E1/2 }
      - server: { port: server-01/enp2s2 }
        switch: { port: leaf-02/E1/2 }
`;

/** A fabric with an MCLAG pair (leaf-01, leaf-02 in redundancy group mclag-1) around the test fabric. */
function mclagFabric(): KubeObject[] {
  const objects = fabricObjects();
  (objects.find((o) => o.kind === "IPv4Namespace")!.spec as any).subnets.push("10.10.0.0/16");
  const leaf1 = objects.find((o) => o.metadata.name === "leaf-01")!;
  (leaf1.spec as any).redundancy = { group: "mclag-1", type: "mclag" };
  const leaf2 = structuredClone(leaf1);
  leaf2.metadata.name = "leaf-02";
  const leaf3 = structuredClone(leaf1);
  leaf3.metadata.name = "leaf-03";
  (leaf3.spec as any).redundancy = { group: "mclag-2", type: "mclag" };
  return [...objects, leaf2, leaf3];
}

interface Case {
  name: string;
  doc: string;
  mutate: (o: any) => void;
  rule: string;
  path: string;
  severity?: "error" | "warning";
}

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

const CASES: Case[] = [
  {
    name: "static External with a BGP community",
    doc: STATIC_EXTERNAL,
    mutate: (o) => (o.spec.inboundCommunity = "65102:5000"),
    rule: "hedgehog.external.static",
    path: "spec.inboundCommunity",
  },
  {
    name: "static External with overlapping prefixes",
    doc: STATIC_EXTERNAL,
    mutate: (o) => (o.spec.static.prefixes = ["10.0.0.0/8", "10.1.0.0/16"]),
    rule: "hedgehog.external.static",
    path: "spec.static.prefixes[1]",
  },
  {
    name: "static ExternalAttachment with both ip and proxy",
    doc: STATIC_ATTACHMENT,
    mutate: (o) => (o.spec.static.proxy = true),
    rule: "hedgehog.externalattachment.static",
    path: "spec.static",
  },
  {
    name: "static ExternalAttachment with neighbor values",
    doc: STATIC_ATTACHMENT,
    mutate: (o) => (o.spec.neighbor = { asn: 65102, ip: "192.168.30.1" }),
    rule: "hedgehog.externalattachment.static",
    path: "spec.neighbor",
  },
  {
    name: "static ExternalAttachment whose remoteIP is not an IP",
    doc: STATIC_ATTACHMENT,
    mutate: (o) => (o.spec.static.remoteIP = "192.168.30.1/24"),
    rule: "hedgehog.externalattachment.static",
    path: "spec.static.remoteIP",
  },
  {
    name: "dhcp.relay that is not a prefix",
    doc: DHCP_VPC,
    mutate: (o) => (o.spec.subnets.default.dhcp = { relay: "10.20.20.200" }),
    rule: "hedgehog.vpc.dhcp-relay",
    path: "spec.subnets.default.dhcp.relay",
  },
  {
    name: "hostBGP subnet with DHCP",
    doc: DHCP_VPC,
    mutate: (o) => (o.spec.subnets.default.hostBGP = true),
    rule: "hedgehog.vpc.host-bgp-dhcp",
    path: "spec.subnets.default.dhcp.enable",
  },
  {
    name: "DHCP static IP equal to the gateway",
    doc: DHCP_VPC,
    mutate: (o) => (o.spec.subnets.default.dhcp.static["aa:bb:cc:00:11:22"].ip = "10.10.1.1"),
    rule: "hedgehog.vpc.dhcp-static",
    path: 'spec.subnets.default.dhcp.static["aa:bb:cc:00:11:22"]',
  },
  {
    name: "duplicate DHCP static IPs",
    doc: DHCP_VPC,
    mutate: (o) => (o.spec.subnets.default.dhcp.static["aa:bb:cc:00:11:23"] = { ip: "10.10.1.100" }),
    rule: "hedgehog.vpc.dhcp-static",
    path: 'spec.subnets.default.dhcp.static["aa:bb:cc:00:11:23"]',
  },
  {
    name: "DHCP static key that is not a MAC",
    doc: DHCP_VPC,
    mutate: (o) => (o.spec.subnets.default.dhcp.static = { "server-01": { ip: "10.10.1.100" } }),
    rule: "hedgehog.vpc.dhcp-static",
    path: "spec.subnets.default.dhcp.static.server-01",
  },
  {
    name: "DHCP advertised route with a gateway outside the subnet",
    doc: DHCP_VPC,
    mutate: (o) => (o.spec.subnets.default.dhcp.options.advertisedRoutes[0].gateway = "10.20.0.1"),
    rule: "hedgehog.vpc.dhcp-routes",
    path: "spec.subnets.default.dhcp.options.advertisedRoutes[0].gateway",
  },
  {
    name: "DHCP advertised route destination that is not a prefix",
    doc: DHCP_VPC,
    mutate: (o) => (o.spec.subnets.default.dhcp.options.advertisedRoutes[0].destination = "10.20.0.0"),
    rule: "hedgehog.vpc.dhcp-routes",
    path: "spec.subnets.default.dhcp.options.advertisedRoutes[0].destination",
  },
  {
    name: "DNS server that is not an IP",
    doc: DHCP_VPC,
    mutate: (o) => (o.spec.subnets.default.dhcp.options.dnsServers = ["dns.example.com"]),
    rule: "hedgehog.vpc.dhcp-servers",
    path: "spec.subnets.default.dhcp.options.dnsServers[0]",
  },
  {
    name: "staticExternal next hop outside the link's CIDR",
    doc: STATIC_EXTERNAL_CONN,
    mutate: (o) => (o.spec.staticExternal.link.switch.nextHop = "172.32.0.5"),
    rule: "hedgehog.connection.static-external",
    path: "spec.staticExternal.link.switch.nextHop",
  },
  {
    name: "staticExternal subnet that is not canonical",
    doc: STATIC_EXTERNAL_CONN,
    mutate: (o) => (o.spec.staticExternal.link.switch.subnets = ["10.99.0.1/24"]),
    rule: "hedgehog.connection.static-external",
    path: "spec.staticExternal.link.switch.subnets[0]",
  },
  {
    name: "staticExternal default route with other subnets",
    doc: STATIC_EXTERNAL_CONN,
    mutate: (o) => (o.spec.staticExternal.link.switch.subnets = ["0.0.0.0/0", "10.99.0.0/24"]),
    rule: "hedgehog.connection.static-external",
    path: "spec.staticExternal.link.switch.subnets[0]",
  },
  {
    name: "staticExternal overlapping subnets",
    doc: STATIC_EXTERNAL_CONN,
    mutate: (o) => (o.spec.staticExternal.link.switch.subnets = ["10.99.0.0/16", "10.99.1.0/24"]),
    rule: "hedgehog.connection.static-external",
    path: "spec.staticExternal.link.switch.subnets[1]",
  },
  {
    name: "MCLAG connection with 3 switches",
    doc: MCLAG_CONN,
    mutate: (o) =>
      o.spec.mclag.links.push({ server: { port: "server-01/enp2s3" }, switch: { port: "leaf-03/E1/2" } }),
    rule: "hedgehog.connection.endpoints",
    path: "spec.mclag",
  },
  {
    name: "MCLAG connection whose switches are in different redundancy groups",
    doc: MCLAG_CONN,
    mutate: (o) => (o.spec.mclag.links[1].switch.port = "leaf-03/E1/2"),
    rule: "hedgehog.connection.redundancy",
    path: "spec.mclag",
  },
  {
    name: "Connection to a Switch that is not in the fabric",
    doc: STATIC_EXTERNAL_CONN,
    mutate: (o) => (o.spec.staticExternal.link.switch.port = "leaf-09/E1/7"),
    rule: "hedgehog.ref.missing",
    path: "spec.staticExternal",
    severity: "warning",
  },
  {
    name: "Connection to a Server that is not in the fabric",
    doc: MCLAG_CONN,
    mutate: (o) => {
      o.spec.mclag.links[0].server.port = "server-09/enp2s1";
      o.spec.mclag.links[1].server.port = "server-09/enp2s2";
    },
    rule: "hedgehog.ref.missing",
    path: "spec.mclag",
    severity: "warning",
  },
];

Deno.test("Validator accepts the valid docs shapes the parity cases start from", () => {
  const ctx = contextOf(mclagFabric());
  for (const doc of [DHCP_VPC, STATIC_EXTERNAL_CONN, MCLAG_CONN]) {
    assert.deepEqual(validator.validate(parse(doc), 0, ctx).findings, [], doc);
  }
  for (const doc of [STATIC_EXTERNAL, STATIC_ATTACHMENT]) {
    assert.deepEqual(validator.validate(parse(doc), 0).findings, [], doc);
  }
});

for (const c of CASES) {
  Deno.test(`Validator rejects ${c.name} [${c.rule}]`, () => {
    const doc = parse(c.doc);
    c.mutate(doc);
    const { findings } = validator.validate(doc, 0, contextOf(mclagFabric()));
    const hit = findings.find((f) => f.rule === c.rule && f.path === c.path);
    assert.ok(hit, `${c.rule} at ${c.path}: got ${JSON.stringify(findings)}`);
    assert.equal(hit.severity, c.severity ?? "error");
    assert.ok(hit.message.length > 20, hit.message);
  });
}
