import assert from "node:assert/strict";
import type { AssetRecord, AssetState } from "../../schemas/assets.ts";
import type { ComplianceScore } from "../../schemas/compliance.ts";
import type { Violation } from "../../schemas/violations.ts";
import { materializeInfrastructureState } from "./state.ts";

function st(
  type: AssetState["type"],
  a: Partial<AssetRecord> & { name: string; asset_type: string },
  at = "2024-05-01T00:00:00.000Z",
): AssetState {
  return {
    type,
    name: a.name,
    source: "api",
    snapshot_id: "s",
    message_id: null,
    changed_at: at,
    observed_at: at,
    asset: {
      project: "web-prod",
      project_number: "111",
      location: null,
      update_time: at,
      ancestors: ["projects/111"],
      resource_parent: null,
      data: {},
      ...a,
    },
  };
}

Deno.test("materializeInfrastructureState() builds the documents' shape with networks joined to subnets and firewalls", () => {
  const assets = [
    st("resource_created", {
      name: "//crm/projects/111",
      asset_type: "cloudresourcemanager.googleapis.com/Project",
      data: { projectId: "web-prod", name: "Web", lifecycleState: "ACTIVE", labels: { env: "prod" } },
    }),
    st("resource_created", {
      name: "//c/net",
      asset_type: "compute.googleapis.com/Network",
      data: {
        name: "default",
        autoCreateSubnetworks: true,
        selfLink: "https://www.googleapis.com/compute/v1/projects/web-prod/global/networks/default",
      },
    }),
    st("resource_created", {
      name: "//c/sub",
      asset_type: "compute.googleapis.com/Subnetwork",
      location: "europe-west1",
      data: {
        name: "default",
        network: "https://www.googleapis.com/compute/v1/projects/web-prod/global/networks/default",
        ipCidrRange: "10.132.0.0/20",
        region: "https://www.googleapis.com/compute/v1/projects/web-prod/regions/europe-west1",
      },
    }),
    st("resource_created", {
      name: "//c/fw",
      asset_type: "compute.googleapis.com/Firewall",
      data: {
        name: "default-allow-ssh",
        network: "https://www.googleapis.com/compute/v1/projects/web-prod/global/networks/default",
        sourceRanges: ["0.0.0.0/0"],
        allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
      },
    }),
    st("resource_created", {
      name: "//c/vm",
      asset_type: "compute.googleapis.com/Instance",
      location: "europe-west1-b",
      data: {
        name: "web-1",
        status: "RUNNING",
        machineType: "zones/europe-west1-b/machineTypes/e2-small",
        networkInterfaces: [{ networkIP: "10.132.0.2", accessConfigs: [{ natIP: "34.1.2.3" }] }],
      },
    }),
    st("resource_deleted", {
      name: "//c/vm2",
      asset_type: "compute.googleapis.com/Instance",
      data: { name: "gone" },
    }, "2024-05-02T00:00:00.000Z"),
    st("resource_created", {
      name: "//sql/db",
      asset_type: "sqladmin.googleapis.com/Instance",
      data: {
        name: "orders",
        region: "europe-west1",
        databaseVersion: "POSTGRES_15",
        settings: { tier: "db-f1-micro", ipConfiguration: { ipv4Enabled: true, requireSsl: false } },
      },
    }),
    st("resource_created", {
      name: "//gke/c",
      asset_type: "container.googleapis.com/Cluster",
      location: "europe-west1",
      data: {
        name: "apps",
        status: "RUNNING",
        currentMasterVersion: "1.29",
        privateClusterConfig: { enablePrivateNodes: true },
      },
    }),
  ];
  const violations: Violation[] = [
    {
      type: "policy_violated",
      id: "r1|x",
      state: "open",
      rule_id: "r1",
      title: "t",
      severity: "low",
      benchmarks: [],
      asset_name: "x",
      asset_type: null,
      project: null,
      message: "m",
      source: "policy",
      first_seen: "2024-05-01T00:00:00.000Z",
      last_seen: "2024-05-01T00:00:00.000Z",
      resolved_at: null,
      resolution: null,
    },
    {
      type: "policy_violated",
      id: "r2|x",
      state: "open",
      rule_id: "r2",
      title: "t",
      severity: "critical",
      benchmarks: [],
      asset_name: "x",
      asset_type: null,
      project: null,
      message: "m",
      source: "policy",
      first_seen: "2024-05-01T00:00:00.000Z",
      last_seen: "2024-05-01T00:00:00.000Z",
      resolved_at: null,
      resolution: null,
    },
    {
      type: "policy_resolved",
      id: "r3|x",
      state: "resolved",
      rule_id: "r3",
      title: "t",
      severity: "high",
      benchmarks: [],
      asset_name: "x",
      asset_type: null,
      project: null,
      message: "m",
      source: "policy",
      first_seen: "2024-05-01T00:00:00.000Z",
      last_seen: "2024-05-01T00:00:00.000Z",
      resolved_at: "2024-05-01T00:00:00.000Z",
      resolution: "fixed",
    },
  ];
  const scores = new Map<string, ComplianceScore>([
    ["overall", {
      scope: "overall",
      kind: "overall",
      name: "overall",
      passed: 3,
      evaluated: 4,
      score: 75,
      open_violations: 2,
      updated_at: "2024-05-01T00:00:00.000Z",
    }],
    ["project:web-prod", {
      scope: "project:web-prod",
      kind: "project",
      name: "web-prod",
      passed: 3,
      evaluated: 4,
      score: 75,
      open_violations: 2,
      updated_at: "2024-05-01T00:00:00.000Z",
    }],
  ]);
  const s = materializeInfrastructureState(assets, violations, scores);
  assert.deepEqual(s.projects.map((p) => [p.project_id, p.state]), [["web-prod", "ACTIVE"]]);
  assert.equal(s.vpcs.length, 1);
  assert.equal(s.vpcs[0].subnets[0].cidr, "10.132.0.0/20");
  assert.equal(s.vpcs[0].subnets[0].region, "europe-west1");
  assert.deepEqual(s.vpcs[0].firewall_rules[0].allowed, ["tcp:22"]);
  assert.deepEqual(s.vms.map((v) => [v.name, v.external_ip, v.machine_type]), [[
    "web-1",
    "34.1.2.3",
    "e2-small",
  ]]);
  assert.equal(s.databases[0].public_ip, true);
  assert.equal(s.gke_clusters[0].private_nodes, true);
  assert.equal(s.compliance_status.score, 75);
  assert.equal(s.compliance_status.open_violations, 2);
  assert.deepEqual(s.policy_violations.map((v) => v.rule_id), ["r2", "r1"], "open only, most severe first");
  assert.deepEqual(s.compliance_status.by_project["web-prod"], { score: 75, passed: 3, evaluated: 4 });
  assert.equal(s.last_sync, "2024-05-02T00:00:00.000Z");
  assert.equal(s.resource_counts["compute.googleapis.com/Instance"], 1, "deleted assets are not counted");
});

Deno.test("materializeInfrastructureState() lists the org policies of every asset, one per constraint", () => {
  const s = materializeInfrastructureState(
    [
      st("resource_created", {
        name: "//cloudresourcemanager.googleapis.com/organizations/9",
        asset_type: "cloudresourcemanager.googleapis.com/Organization",
        data: null,
        org_policy: [
          {
            constraint: "constraints/iam.allowedPolicyMemberDomains",
            listPolicy: { allowedValues: ["C0abc"] },
          },
          { constraint: "constraints/storage.uniformBucketLevelAccess", booleanPolicy: { enforced: true } },
        ],
      }),
    ],
    [],
    new Map(),
  );
  assert.deepEqual(s.org_policies.map((p) => [p.constraint, p.enforced, p.list_policy]), [
    ["constraints/iam.allowedPolicyMemberDomains", null, { allowedValues: ["C0abc"] }],
    ["constraints/storage.uniformBucketLevelAccess", true, null],
  ]);
  assert.equal(s.resource_counts["cloudresourcemanager.googleapis.com/Organization"], 1);
});

Deno.test("materializeInfrastructureState() lists resources by name, whatever order the view holds them in (two gateways answer alike)", () => {
  const b = (n: string) =>
    st("resource_created", {
      name: `//storage.googleapis.com/${n}`,
      asset_type: "storage.googleapis.com/Bucket",
      data: { name: n },
    });
  const one = [b("bucket-11"), b("bucket-3"), b("bucket-7")];
  const a = materializeInfrastructureState(one, [], new Map());
  const z = materializeInfrastructureState([...one].reverse(), [], new Map());
  assert.deepEqual(a.buckets.map((x) => x.name), ["bucket-11", "bucket-3", "bucket-7"]);
  assert.deepEqual(JSON.stringify(a), JSON.stringify(z));
});
