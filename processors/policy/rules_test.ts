import assert from "node:assert/strict";
import type { AssetRecord } from "../../schemas/assets.ts";
import { missingPart, type Rule } from "./rule.ts";
import { CIS_RULES } from "./rules.ts";
import { allowsTcpPort } from "./cis_network.ts";
import { asset } from "./test_assets.ts";

const rule = (id: string): Rule => {
  const r = CIS_RULES.find((x) => x.id === id);
  if (!r) throw new Error(`no rule ${id}`);
  return r;
};

function check(id: string, passing: AssetRecord, failing: AssetRecord, failMessage: RegExp) {
  const r = rule(id);
  assert.ok(r.assetTypes.includes(passing.asset_type) && r.assetTypes.includes(failing.asset_type));
  const p = r.evaluate(passing);
  const f = r.evaluate(failing);
  assert.equal(p?.passed, true, `${id} passes ${passing.name}: ${p?.message}`);
  assert.equal(f?.passed, false, `${id} fails ${failing.name}`);
  assert.match(f!.message, failMessage);
}

const FW = "compute.googleapis.com/Firewall";
const VM = "compute.googleapis.com/Instance";
const SQL = "sqladmin.googleapis.com/Instance";
const GKE = "container.googleapis.com/Cluster";
const BUCKET = "storage.googleapis.com/Bucket";

Deno.test("rule ids are unique and every rule has a severity and a benchmark reference", () => {
  assert.equal(new Set(CIS_RULES.map((r) => r.id)).size, CIS_RULES.length);
  for (const r of CIS_RULES) assert.ok(r.benchmarks.length && r.severity && r.assetTypes.length, r.id);
});

Deno.test("CIS GCP 3.1: the default network fails, a custom VPC passes", () => {
  check(
    "cis-gcp-3.1-default-network",
    asset("compute.googleapis.com/Network", "prod-vpc", {}),
    asset("compute.googleapis.com/Network", "default", { autoCreateSubnetworks: true }),
    /default network/,
  );
});

Deno.test("CIS GCP 3.2: a legacy network (IPv4Range) fails, a VPC passes", () => {
  check(
    "cis-gcp-3.2-legacy-network",
    asset("compute.googleapis.com/Network", "vpc", { autoCreateSubnetworks: false }),
    asset("compute.googleapis.com/Network", "old", { IPv4Range: "10.240.0.0/16" }),
    /legacy network/,
  );
});

Deno.test("CIS GCP 3.6: SSH from 0.0.0.0/0 fails (port, range or all ports); from a corporate range passes", () => {
  const open = asset(FW, "allow-ssh", {
    direction: "INGRESS",
    sourceRanges: ["0.0.0.0/0"],
    allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
  });
  check(
    "cis-gcp-3.6-ssh-open",
    asset(FW, "ssh-corp", {
      direction: "INGRESS",
      sourceRanges: ["203.0.113.0/24"],
      allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
    }),
    open,
    /SSH \(tcp\/22\) from 0\.0\.0\.0\/0/,
  );
  const range = asset(FW, "wide", {
    sourceRanges: ["0.0.0.0/0"],
    allowed: [{ IPProtocol: "tcp", ports: ["20-30"] }],
  });
  assert.equal(rule("cis-gcp-3.6-ssh-open").evaluate(range)?.passed, false);
  const all = asset(FW, "all", { sourceRanges: ["::/0"], allowed: [{ IPProtocol: "all" }] });
  assert.equal(rule("cis-gcp-3.6-ssh-open").evaluate(all)?.passed, false);
  const https = asset(FW, "https", {
    sourceRanges: ["0.0.0.0/0"],
    allowed: [{ IPProtocol: "tcp", ports: ["443"] }],
  });
  assert.equal(rule("cis-gcp-3.6-ssh-open").evaluate(https)?.passed, true);
  const disabled = { ...open, data: { ...open.data, disabled: true } };
  assert.equal(rule("cis-gcp-3.6-ssh-open").evaluate(disabled), null, "disabled rules do not apply");
  const egress = { ...open, data: { ...open.data, direction: "EGRESS" } };
  assert.equal(rule("cis-gcp-3.6-ssh-open").evaluate(egress), null);
});

Deno.test("CIS GCP 3.7: RDP from 0.0.0.0/0 fails; RDP from a private range passes", () => {
  check(
    "cis-gcp-3.7-rdp-open",
    asset(FW, "rdp-vpn", { sourceRanges: ["10.0.0.0/8"], allowed: [{ IPProtocol: "tcp", ports: ["3389"] }] }),
    asset(FW, "rdp", { sourceRanges: ["0.0.0.0/0"], allowed: [{ IPProtocol: "tcp", ports: ["3389"] }] }),
    /RDP/,
  );
  assert.equal(allowsTcpPort([{ IPProtocol: "udp", ports: ["3389"] }], 3389), false);
});

Deno.test("CIS GCP 3.8: a subnet without flow logs fails; logConfig.enable passes; proxy-only subnets do not apply", () => {
  const S = "compute.googleapis.com/Subnetwork";
  check(
    "cis-gcp-3.8-subnet-flow-logs",
    asset(S, "app", { logConfig: { enable: true } }),
    asset(S, "db", { enableFlowLogs: false }),
    /flow logs off/,
  );
  assert.equal(
    rule("cis-gcp-3.8-subnet-flow-logs").evaluate(asset(S, "proxy", { purpose: "REGIONAL_MANAGED_PROXY" })),
    null,
  );
});

Deno.test("CIS GCP 4.4: project metadata without enable-oslogin fails; an instance overriding it to FALSE fails", () => {
  const P = "compute.googleapis.com/Project";
  check(
    "cis-gcp-4.4-os-login",
    asset(P, "p1", { commonInstanceMetadata: { items: [{ key: "enable-oslogin", value: "TRUE" }] } }),
    asset(P, "p2", { commonInstanceMetadata: { items: [] } }),
    /enable-oslogin=TRUE/,
  );
  check(
    "cis-gcp-4.4-os-login",
    asset(VM, "vm-ok", { metadata: { items: [] } }),
    asset(VM, "vm-off", { metadata: { items: [{ key: "enable-oslogin", value: "false" }] } }),
    /overrides/,
  );
});

Deno.test("CIS GCP 4.9: a VM with an access config fails; GKE nodes are exempt", () => {
  check(
    "cis-gcp-4.9-vm-public-ip",
    asset(VM, "internal", { networkInterfaces: [{ networkIP: "10.0.0.2" }] }),
    asset(VM, "web", {
      networkInterfaces: [{ accessConfigs: [{ type: "ONE_TO_ONE_NAT", natIP: "34.1.2.3" }] }],
    }),
    /34\.1\.2\.3/,
  );
  const node = asset(VM, "gke-node", {
    labels: { "goog-gke-node": "" },
    networkInterfaces: [{ accessConfigs: [{ natIP: "34.9.9.9" }] }],
  });
  assert.equal(rule("cis-gcp-4.9-vm-public-ip").evaluate(node), null);
});

Deno.test("CIS GCP 5.1: a bucket granting allUsers fails; without IAM data it is not evaluated", () => {
  const iam = (m: string) => ({
    iam_policy: { bindings: [{ role: "roles/storage.objectViewer", members: [m] }] },
  });
  check(
    "cis-gcp-5.1-bucket-public",
    asset(BUCKET, "private", {}, iam("group:eng@example.com")),
    asset(BUCKET, "www", {}, iam("allUsers")),
    /allUsers/,
  );
  assert.equal(
    rule("cis-gcp-5.1-bucket-public").evaluate(asset(BUCKET, "x", {}, iam("allAuthenticatedUsers")))?.passed,
    false,
  );
  assert.match(missingPart(rule("cis-gcp-5.1-bucket-public"), asset(BUCKET, "unknown", {}))!, /IAM_POLICY/);
  assert.equal(
    rule("cis-gcp-5.1-bucket-public").evaluate(asset(BUCKET, "none", {}, { iam_policy: null }))?.passed,
    true,
  );
});

Deno.test("CIS GCP 5.2: a bucket without uniform bucket-level access fails", () => {
  check(
    "cis-gcp-5.2-bucket-uniform-access",
    asset(BUCKET, "u", { iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } }),
    asset(BUCKET, "acl", { iamConfiguration: { uniformBucketLevelAccess: { enabled: false } } }),
    /uniform/,
  );
});

Deno.test("CIS GCP 6.4: Cloud SQL without required SSL fails; requireSsl or sslMode ENCRYPTED_ONLY passes", () => {
  check(
    "cis-gcp-6.4-sql-require-ssl",
    asset(SQL, "a", { settings: { ipConfiguration: { sslMode: "ENCRYPTED_ONLY" } } }),
    asset(SQL, "b", { settings: { ipConfiguration: { requireSsl: false } } }),
    /unencrypted/,
  );
  assert.equal(
    rule("cis-gcp-6.4-sql-require-ssl").evaluate(
      asset(SQL, "c", { settings: { ipConfiguration: { requireSsl: true } } }),
    )?.passed,
    true,
  );
});

Deno.test("CIS GCP 6.5: Cloud SQL authorizing 0.0.0.0/0 fails", () => {
  check(
    "cis-gcp-6.5-sql-open-to-world",
    asset(SQL, "a", { settings: { ipConfiguration: { authorizedNetworks: [{ value: "203.0.113.4/32" }] } } }),
    asset(SQL, "b", {
      settings: { ipConfiguration: { authorizedNetworks: [{ value: "0.0.0.0/0", name: "any" }] } },
    }),
    /0\.0\.0\.0\/0/,
  );
});

Deno.test("CIS GCP 6.6: Cloud SQL with a public IPv4 fails; private IP passes", () => {
  check(
    "cis-gcp-6.6-sql-public-ip",
    asset(SQL, "a", {
      settings: {
        ipConfiguration: { ipv4Enabled: false, privateNetwork: "projects/p1/global/networks/vpc" },
      },
    }),
    asset(SQL, "b", { settings: { ipConfiguration: { ipv4Enabled: true } } }),
    /public IPv4/,
  );
});

Deno.test("CIS GKE 5.8.4: legacy ABAC fails", () => {
  check(
    "cis-gke-5.8.4-legacy-abac",
    asset(GKE, "a", { legacyAbac: {} }),
    asset(GKE, "b", { legacyAbac: { enabled: true } }),
    /legacy ABAC/,
  );
});

Deno.test("CIS GKE 5.6.5: a cluster without private nodes fails", () => {
  check(
    "cis-gke-5.6.5-private-nodes",
    asset(GKE, "a", { privateClusterConfig: { enablePrivateNodes: true } }),
    asset(GKE, "b", {}),
    /not a private cluster/,
  );
});

Deno.test("rules are not evaluated, never passed, on cut data: a firewall without allowed/denied or source, a VM without interfaces, Cloud SQL without ipConfiguration", () => {
  const ne = (id: string, a: AssetRecord) => {
    const f = rule(id).evaluate(a);
    assert.equal(f?.evaluated, false, `${id} on ${a.name}: ${JSON.stringify(f)}`);
  };
  ne(
    "cis-gcp-3.6-ssh-open",
    asset("compute.googleapis.com/Firewall", "cut", { sourceRanges: ["0.0.0.0/0"] }),
  );
  ne(
    "cis-gcp-3.7-rdp-open",
    asset("compute.googleapis.com/Firewall", "nosrc", { allowed: [{ IPProtocol: "all" }] }),
  );
  ne("cis-gcp-4.9-vm-public-ip", asset("compute.googleapis.com/Instance", "vm", { labels: {} }));
  ne("cis-gcp-6.5-sql-open-to-world", asset("sqladmin.googleapis.com/Instance", "db", { settings: {} }));
  ne("cis-gcp-6.6-sql-public-ip", asset("sqladmin.googleapis.com/Instance", "db", {}));
  // Complete data still passes.
  const fw = asset("compute.googleapis.com/Firewall", "ok", {
    sourceTags: ["web"],
    allowed: [{ IPProtocol: "tcp" }],
  });
  assert.equal(rule("cis-gcp-3.6-ssh-open").evaluate(fw)?.passed, true);
  const vm = asset("compute.googleapis.com/Instance", "vm", { networkInterfaces: [{ network: "n" }] });
  assert.equal(rule("cis-gcp-4.9-vm-public-ip").evaluate(vm)?.passed, true);
});
