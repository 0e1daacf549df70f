/**
 * A small REST-shaped inventory for the Cloud Asset tests and the bench: `n` assets of the default types in
 * one project, plus helpers to build more. Not a fixture file: generated, so sizes can vary.
 */
import type { RestAsset } from "./rest_test_server.ts";

/** `n` firewalls/networks/instances/buckets in project `proj` (number 111), update time `t`. */
export function inventory(n: number, proj = "web-prod", t = "2024-05-01T10:00:00Z"): RestAsset[] {
  const out: RestAsset[] = [{
    name: "//cloudresourcemanager.googleapis.com/projects/111",
    assetType: "cloudresourcemanager.googleapis.com/Project",
    ancestors: ["projects/111", "organizations/9"],
    updateTime: t,
    resource: {
      version: "v1",
      location: "global",
      data: { projectId: proj, projectNumber: "111", labels: { env: "prod" } },
    },
  }];
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    if (kind === 0) {
      out.push({
        name: `//compute.googleapis.com/projects/${proj}/global/firewalls/fw-${i}`,
        assetType: "compute.googleapis.com/Firewall",
        ancestors: ["projects/111", "organizations/9"],
        updateTime: t,
        resource: {
          version: "v1",
          location: "global",
          data: {
            name: `fw-${i}`,
            direction: "INGRESS",
            sourceRanges: ["10.0.0.0/8"],
            allowed: [{ IPProtocol: "tcp", ports: ["443"] }],
            disabled: false,
            priority: 1000,
          },
        },
      });
    } else if (kind === 1) {
      out.push({
        name: `//compute.googleapis.com/projects/${proj}/global/networks/net-${i}`,
        assetType: "compute.googleapis.com/Network",
        ancestors: ["projects/111", "organizations/9"],
        updateTime: t,
        resource: {
          version: "v1",
          location: "global",
          data: { name: `net-${i}`, autoCreateSubnetworks: false, mtu: 1460 },
        },
      });
    } else if (kind === 2) {
      out.push({
        name: `//compute.googleapis.com/projects/${proj}/zones/europe-west1-b/instances/vm-${i}`,
        assetType: "compute.googleapis.com/Instance",
        ancestors: ["projects/111", "organizations/9"],
        updateTime: t,
        resource: {
          version: "v1",
          location: "europe-west1-b",
          data: {
            name: `vm-${i}`,
            status: "RUNNING",
            machineType: "e2-small",
            labels: { env: "prod", owner: "team-a" },
            networkInterfaces: [{ network: "net", networkIP: "10.0.0.2", accessConfigs: [] }],
            metadata: { items: [{ key: "enable-oslogin", value: "TRUE" }] },
          },
        },
      });
    } else {
      out.push({
        name: `//storage.googleapis.com/bucket-${i}`,
        assetType: "storage.googleapis.com/Bucket",
        ancestors: ["projects/111", "organizations/9"],
        updateTime: t,
        resource: {
          version: "v1",
          location: "EU",
          data: {
            name: `bucket-${i}`,
            projectNumber: "111",
            iamConfiguration: { uniformBucketLevelAccess: { enabled: true } },
          },
        },
        iamPolicy: {
          bindings: [{
            role: "roles/storage.objectViewer",
            members: i % 8 === 3 ? ["allUsers"] : ["group:eng@example.com"],
          }],
          auditConfigs: [{ service: "storage.googleapis.com", auditLogConfigs: [{ logType: 3 }] }],
        } as RestAsset["iamPolicy"],
      });
    }
  }
  return out;
}
