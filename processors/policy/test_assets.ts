/** Builders of assets for the policy tests and the bench. */
import type { AssetRecord } from "../../schemas/assets.ts";

const TYPE_PATH: Record<string, string> = {
  "compute.googleapis.com/Network": "//compute.googleapis.com/projects/p1/global/networks/",
  "compute.googleapis.com/Subnetwork":
    "//compute.googleapis.com/projects/p1/regions/europe-west1/subnetworks/",
  "compute.googleapis.com/Firewall": "//compute.googleapis.com/projects/p1/global/firewalls/",
  "compute.googleapis.com/Instance": "//compute.googleapis.com/projects/p1/zones/europe-west1-b/instances/",
  "compute.googleapis.com/Project": "//compute.googleapis.com/projects/",
  "storage.googleapis.com/Bucket": "//storage.googleapis.com/",
  "sqladmin.googleapis.com/Instance": "//cloudsql.googleapis.com/projects/p1/instances/",
  "container.googleapis.com/Cluster":
    "//container.googleapis.com/projects/p1/locations/europe-west1/clusters/",
  "cloudresourcemanager.googleapis.com/Project": "//cloudresourcemanager.googleapis.com/projects/",
};

/** An asset of `type` named `name` with `data` (and extra fields). */
export function asset(
  type: string,
  name: string,
  data: Record<string, unknown>,
  extra: Partial<AssetRecord> = {},
): AssetRecord {
  return {
    name: `${TYPE_PATH[type] ?? "//x/"}${name}`,
    asset_type: type,
    project: "p1",
    project_number: "111",
    location: "europe-west1",
    update_time: "2024-05-01T00:00:00.000Z",
    ancestors: ["projects/111", "organizations/9"],
    resource_parent: null,
    data: { name, ...data },
    ...extra,
  };
}
