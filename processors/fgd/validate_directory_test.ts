/**
 * The directory-wide Hedgehog rules (githedgehog/fabric v0.126.0 `Validate()` behind `kube != nil`), on the
 * spine-leaf fixture: the fabric is valid as given, and each case changes one document so that exactly the
 * cluster's check would reject it (or warn, where the cluster's answer needs something the directory lacks).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { Validator } from "./validate.ts";
import { hedgehogCrds, spineLeafObjects } from "./testdata/mod.ts";
import type { KubeObject } from "./object.ts";
import { directoryContext } from "./rule_context.ts";
import { DIRECTORY_RULES } from "./rules_hedgehog_directory.ts";
import type { Finding } from "./finding.ts";

const validator = new Validator(hedgehogCrds(), ["hedgehog"]);

interface Case {
  name: string;
  /** `Kind/name` of the document changed and checked. */
  target: string;
  // deno-lint-ignore no-explicit-any
  mutate: (o: any) => void;
  rule: string;
  path: string;
  severity?: "error" | "warning";
  /** Documents added to the fabric (YAML). */
  add?: string[];
  /** `Kind/name` of documents removed from the fabric. */
  remove?: string[];
}

/** Validates `target` of the spine-leaf fabric after `mutate`, in the context of the whole fabric. */
function check(c: Pick<Case, "target" | "mutate" | "add" | "remove">): Finding[] {
  const objects = spineLeafObjects().filter((o) => !c.remove?.includes(`${o.kind}/${o.metadata.name}`));
  for (const y of c.add ?? []) objects.push(parse(y) as KubeObject);
  const doc = objects.find((o) => `${o.kind}/${o.metadata.name}` === c.target);
  assert.ok(doc, `target ${c.target} exists`);
  c.mutate(doc);
  return validator.validate(doc, 0, directoryContext(objects)).findings;
}

const SERVER_05 = `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Server
metadata:
  name: server-05
spec:
  description: server-05
`;

const MESH = `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: leaf-01--mesh--leaf-03
spec:
  mesh:
    links:
      - leaf1: { port: leaf-01/E1/52, ip: 172.30.129.0/31 }
        leaf2: { port: leaf-03/E1/51, ip: 172.30.129.1/31 }
`;

const CASES: Case[] = [
  {
    name: "a port already used by another Connection",
    target: "Connection/server-02--unbundled--leaf-03",
    mutate: (o) => (o.spec.unbundled.link.switch.port = "leaf-03/E1/2"),
    rule: "hedgehog.connection.port-in-use",
    path: "spec.unbundled.link.switch.port",
  },
  {
    name: "a breakout port whose first lane another Connection uses (E1/52 is E1/52/1)",
    target: "Connection/server-04--unbundled--leaf-03",
    mutate: (o) => (o.spec.unbundled.link.switch.port = "leaf-03/E1/52"),
    rule: "hedgehog.connection.port-in-use",
    path: "spec.unbundled.link.switch.port",
    add: [
      `
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: server-05--unbundled--leaf-03
spec:
  unbundled:
    link:
      server: { port: server-05/enp2s1 }
      switch: { port: leaf-03/E1/52/1 }
`,
      SERVER_05,
    ],
  },
  {
    name: "a fabric link IP that is not a /31",
    target: "Connection/spine-01--fabric--leaf-01",
    mutate: (o) => (o.spec.fabric.links[0].leaf.ip = "172.30.128.1/30"),
    rule: "hedgehog.connection.link-ips",
    path: "spec.fabric.links[0].leaf.ip",
  },
  {
    name: "a fabric link IP another Connection uses",
    target: "Connection/spine-01--fabric--leaf-02",
    mutate: (o) => {
      o.spec.fabric.links[0].spine.ip = "172.30.128.0/31";
      o.spec.fabric.links[0].leaf.ip = "172.30.128.1/31";
    },
    rule: "hedgehog.connection.link-ips",
    path: "spec.fabric.links[0].spine.ip",
  },
  {
    name: "fabric link ends in different /31s",
    target: "Connection/spine-01--fabric--leaf-03",
    mutate: (o) => (o.spec.fabric.links[0].leaf.ip = "172.30.128.7/31"),
    rule: "hedgehog.connection.link-ips",
    path: "spec.fabric.links[0]",
  },
  {
    name: "a mesh link IP used twice in the same Connection",
    target: "Connection/leaf-01--mesh--leaf-03",
    mutate: (o) =>
      o.spec.mesh.links.push({
        leaf1: { port: "leaf-01/E1/8", ip: "172.30.129.0/31" },
        leaf2: { port: "leaf-03/E1/8", ip: "172.30.129.1/31" },
      }),
    rule: "hedgehog.connection.link-ips",
    path: "spec.mesh.links[1].leaf1.ip",
    add: [MESH],
  },
  {
    name: "a gateway link IP a fabric link uses",
    target: "Connection/spine-01--gateway--gateway-1",
    mutate: (o) => (o.spec.gateway.links[0].switch.ip = "172.30.128.4/31"),
    rule: "hedgehog.connection.link-ips",
    path: "spec.gateway.links[0].switch.ip",
    add: [`
apiVersion: wiring.githedgehog.com/v1beta1
kind: Connection
metadata:
  name: spine-01--gateway--gateway-1
spec:
  gateway:
    links:
      - switch: { port: spine-01/E1/4, ip: 172.30.128.6/31 }
        gateway: { port: gateway-1/enp2s1, ip: 172.30.128.7/31 }
`],
  },
  {
    name: "a VPC subnet inside a subnet of another VPC of the same IPv4Namespace",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.subnet = "10.0.1.128/25"),
    rule: "hedgehog.vpc.subnet-conflict",
    path: "spec.subnets.default.subnet",
  },
  {
    name: "a VPC subnet containing a subnet of another VPC",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.subnet = "10.0.0.0/20"),
    rule: "hedgehog.vpc.subnet-conflict",
    path: "spec.subnets.default.subnet",
  },
  {
    name: "a VPC VLAN another VPC of the same VLANNamespace uses",
    target: "VPC/vpc-2",
    mutate: (o) => (o.spec.subnets.default.vlan = 1011),
    rule: "hedgehog.vpc.vlan-conflict",
    path: "spec.subnets.default.vlan",
  },
];

Deno.test("VPCs of different IPv4/VLAN namespaces may reuse subnets and VLANs; hostBGP subnets share VLAN 0", () => {
  const nsDocs = [
    `
apiVersion: vpc.githedgehog.com/v1beta1
kind: IPv4Namespace
metadata:
  name: tenant-b
spec:
  subnets: [10.0.0.0/16]
`,
    `
apiVersion: wiring.githedgehog.com/v1beta1
kind: VLANNamespace
metadata:
  name: tenant-b
spec:
  ranges: [{ from: 1000, to: 1999 }]
`,
    `
apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-4
spec:
  subnets:
    bgp:
      subnet: 10.0.4.0/24
      hostBGP: true
`,
  ];
  const findings = check({
    target: "VPC/vpc-2",
    add: nsDocs,
    mutate: (o) => {
      o.spec.ipv4Namespace = "tenant-b";
      o.spec.vlanNamespace = "tenant-b";
      o.spec.subnets.default = { subnet: "10.0.1.0/24", vlan: 1001 };
    },
  });
  assert.deepEqual(findings, []);
  assert.deepEqual(check({ target: "VPC/vpc-4", add: nsDocs, mutate: () => {} }), []);
});

Deno.test("the spine-leaf fixture is valid: no findings with the whole fabric as context, nor without", () => {
  const objects = spineLeafObjects();
  const ctx = directoryContext(objects);
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata.name}`;
    assert.deepEqual(validator.validate(o, 0, ctx).findings, [], `${id} in its fabric`);
    assert.deepEqual(validator.validate(o, 0).findings, [], `${id} alone`);
  }
});

Deno.test("the valid variants the cases start from pass (mesh and gateway connections added)", () => {
  for (const c of CASES.filter((c) => c.add)) {
    const added = parse(c.add![0]) as KubeObject;
    const findings = check({ target: `${added.kind}/${added.metadata.name}`, mutate: () => {}, add: c.add });
    assert.deepEqual(findings, [], c.name);
  }
});

for (const c of CASES) {
  Deno.test(`directory rules reject ${c.name} [${c.rule}]`, () => {
    const findings = check(c);
    const hit = findings.find((f) => f.rule === c.rule && f.path === c.path);
    assert.ok(hit, `${c.rule} at ${c.path}: got ${JSON.stringify(findings)}`);
    assert.equal(hit.severity, c.severity ?? "error");
    assert.ok(hit.message.length > 30, hit.message);
  });
}

Deno.test("every directory-wide rule has a case", () => {
  const covered = new Set(CASES.map((c) => c.rule));
  assert.deepEqual(DIRECTORY_RULES.map((r) => r.id).filter((id) => !covered.has(id)), []);
});
