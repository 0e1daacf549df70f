import assert from "node:assert/strict";
import { parse } from "yaml";
import { defaultHedgehog, parseMac } from "./default_hedgehog.ts";
import { planIngestion } from "./plan.ts";
import { snapshotOf } from "./snapshot.ts";
import { Validator } from "./validate.ts";
import { FABRIC_YAML, hedgehogCrds } from "./testdata/mod.ts";
import type { KubeObject } from "./object.ts";

Deno.test("parseMac reads the forms Go's net.ParseMAC reads and answers the lowercase colon form", () => {
  assert.equal(parseMac("AA:BB:CC:00:11:22"), "aa:bb:cc:00:11:22");
  assert.equal(parseMac("aa-bb-cc-00-11-22"), "aa:bb:cc:00:11:22");
  assert.equal(parseMac("aabb.cc00.1122"), "aa:bb:cc:00:11:22");
  assert.equal(parseMac("02:00:5e:10:00:00:00:01"), "02:00:5e:10:00:00:00:01");
  for (const bad of ["aa:bb:cc:00:11", "aa:bb-cc:00:11:22", "aabbcc001122", "server-01", "", 7]) {
    assert.equal(parseMac(bad), undefined, String(bad));
  }
});

Deno.test("defaultHedgehog does not mutate its input and is idempotent", () => {
  const vpc = parse(`
apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata: { name: vpc-1 }
spec:
  subnets:
    default:
      subnet: 10.0.1.0/24
      vlan: 1001
      dhcp:
        enable: true
        options: {}
        static:
          AA:BB:CC:00:11:22: { ip: 10.0.1.50 }
`) as KubeObject;
  const before = structuredClone(vpc);
  const once = defaultHedgehog(vpc);
  assert.deepEqual(vpc, before);
  const dhcp = (once.object.spec as any).subnets.default.dhcp;
  assert.equal(dhcp.options, undefined, "empty options are dropped, as the webhook does");
  assert.deepEqual(Object.keys(dhcp.static), ["aa:bb:cc:00:11:22"]);
  assert.deepEqual(once.written, vpc, "nothing of a VPC is rewritten in managed/");
  const twice = defaultHedgehog(once.object);
  assert.deepEqual(twice.object, once.object);
  assert.deepEqual(twice.changed, []);
});

Deno.test("defaultHedgehog returns kinds without defaults unchanged", () => {
  const ipns = {
    apiVersion: "vpc.githedgehog.com/v1beta1",
    kind: "IPv4Namespace",
    metadata: { name: "default" },
    spec: { subnets: ["10.0.0.0/16"] },
  } as KubeObject;
  const d = defaultHedgehog(ipns);
  assert.equal(d.object, ipns);
  assert.equal(d.written, ipns);
});

Deno.test("planIngestion writes the docs' shorthand objects as written, spelling out VPCAttachment subnets", () => {
  const validator = new Validator(hedgehogCrds(), ["hedgehog"]);
  const extra = `---
apiVersion: vpc.githedgehog.com/v1beta1
kind: VPCAttachment
metadata:
  name: server-01--vpc-2
spec:
  connection: server-01--unbundled--leaf-01
  subnet: vpc-2
---
apiVersion: vpc.githedgehog.com/v1beta1
kind: External
metadata:
  name: static-edge
spec:
  static:
    prefixes: ["0.0.0.0/0"]
---
apiVersion: vpc.githedgehog.com/v1beta1
kind: ExternalAttachment
metadata:
  name: leaf-01--static-edge
spec:
  connection: leaf-01--external
  external: static-edge
  static:
    remoteIP: 192.168.30.1
    vlan: 35
    ip: 192.168.30.5/24
`;
  const snapshot = snapshotOf({ "raw/fabric.yaml": FABRIC_YAML + extra });
  const p = planIngestion(snapshot, { fabricId: "dc1", validator });
  const write = (path: string) => {
    const w = p.writes.get(path);
    assert.ok(w !== undefined, `${path} written; plan: ${JSON.stringify(p.files)}`);
    return typeof w === "string" ? w : new TextDecoder().decode(w);
  };
  assert.match(write("managed/vpcattachments/server-01--vpc-2.yaml"), /\n {2}subnet: vpc-2\/default\n/);
  const ext = write("managed/externals/static-edge.yaml");
  assert.doesNotMatch(ext, /ipv4Namespace/, "filled-in defaults stay the cluster's");
  const att = write("managed/externalattachments/leaf-01--static-edge.yaml");
  assert.doesNotMatch(att, /neighbor|switch:/);
  // Byte-stable: ingesting the written managed/ files again changes nothing.
  const again = planIngestion(
    snapshotOf(Object.fromEntries([...p.writes].filter(([k]) => k.startsWith("managed/")))),
    { fabricId: "dc1", validator },
  );
  assert.deepEqual(
    [...again.writes.keys()].filter((k) => k.startsWith("managed/") && !k.endsWith(".gitkeep")),
    [],
  );
});
