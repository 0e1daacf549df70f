/**
 * CIS GCP Foundation sections 4–6 and the CIS GKE Benchmark: OS Login (4.4), VM public IP (4.9), public and
 * non-uniform buckets (5.1, 5.2), Cloud SQL SSL / open to the world / public IP (6.4, 6.5, 6.6), GKE legacy
 * ABAC (GKE 5.8.4) and private nodes (GKE 5.6.5).
 */
import { type Data, dataOf, fail, notEvaluated, pass, type Rule } from "./rule.ts";

function metadataValue(items: Data[] | undefined, key: string): string | undefined {
  const item = (items ?? []).find((i) => i.key === key);
  return item === undefined ? undefined : String(item.value ?? "").toLowerCase();
}

/** CIS GCP 4.4: project metadata enables OS Login; instances must not turn it off. */
export const osLogin: Rule = {
  id: "cis-gcp-4.4-os-login",
  title: "OS Login disabled",
  severity: "medium",
  benchmarks: ["CIS GCP 4.4"],
  assetTypes: ["compute.googleapis.com/Project", "compute.googleapis.com/Instance"],
  evaluate(a) {
    const d = dataOf(a);
    if (a.asset_type === "compute.googleapis.com/Project") {
      return metadataValue(d.commonInstanceMetadata?.items, "enable-oslogin") === "true"
        ? pass(`project ${d.name ?? a.project} enables OS Login`)
        : fail(`project ${d.name ?? a.project} does not set enable-oslogin=TRUE in common instance metadata`);
    }
    return metadataValue(d.metadata?.items, "enable-oslogin") === "false"
      ? fail(`instance ${d.name} overrides enable-oslogin=FALSE; remove the override`)
      : pass(`instance ${d.name} does not disable OS Login`);
  },
};

/** CIS GCP 4.9 (GKE nodes are exempt, as the benchmark says). */
export const vmPublicIp: Rule = {
  id: "cis-gcp-4.9-vm-public-ip",
  title: "VM with a public IP address",
  severity: "medium",
  benchmarks: ["CIS GCP 4.9"],
  assetTypes: ["compute.googleapis.com/Instance"],
  evaluate(a) {
    const d = dataOf(a);
    if (d.labels?.["goog-gke-node"] !== undefined) return null;
    // Every instance has a network interface: none in the data means the data is cut, not "no public IP".
    if (!Array.isArray(d.networkInterfaces)) {
      return notEvaluated(`instance ${d.name ?? a.name} has no networkInterfaces in its data`);
    }
    const external = (d.networkInterfaces ?? []).flatMap((n: Data) => n.accessConfigs ?? []);
    return external.length
      ? fail(
        `instance ${d.name} has an external IP (${
          external.map((c: Data) => c.natIP ?? c.type).join(", ")
        }); remove accessConfigs and use Cloud NAT or IAP`,
      )
      : pass(`instance ${d.name} has no external IP`);
  },
};

/** CIS GCP 5.1 (reads the IAM_POLICY content type only; not evaluated without it). */
export const bucketPublic: Rule = {
  id: "cis-gcp-5.1-bucket-public",
  title: "Bucket publicly accessible",
  severity: "critical",
  benchmarks: ["CIS GCP 5.1"],
  assetTypes: ["storage.googleapis.com/Bucket"],
  needs: ["iam_policy"],
  evaluate(a) {
    const d = dataOf(a);
    const open = (a.iam_policy?.bindings ?? []).filter((b) =>
      b.members.includes("allUsers") || b.members.includes("allAuthenticatedUsers")
    );
    return open.length
      ? fail(
        `bucket ${d.name ?? a.name} grants ${
          open.map((b) => `${b.role} to ${b.members.filter((m) => m.startsWith("all")).join("/")}`).join(", ")
        }; remove allUsers/allAuthenticatedUsers`,
      )
      : pass(`bucket ${d.name ?? a.name} is not public`);
  },
};

/** CIS GCP 5.2. */
export const bucketUniformAccess: Rule = {
  id: "cis-gcp-5.2-bucket-uniform-access",
  title: "Bucket without uniform bucket-level access",
  severity: "medium",
  benchmarks: ["CIS GCP 5.2"],
  assetTypes: ["storage.googleapis.com/Bucket"],
  evaluate(a) {
    const d = dataOf(a);
    const c = d.iamConfiguration ?? {};
    return c.uniformBucketLevelAccess?.enabled === true || c.bucketPolicyOnly?.enabled === true
      ? pass(`bucket ${d.name} uses uniform bucket-level access`)
      : fail(`bucket ${d.name} uses fine-grained ACLs; enable uniform bucket-level access`);
  },
};

const SQL = ["sqladmin.googleapis.com/Instance"];
const ipConfig = (d: Data): Data => d.settings?.ipConfiguration ?? {};
/** Every Cloud SQL instance reports settings.ipConfiguration; without it the open/public rules cannot tell. */
const noIpConfig = (a: { name: string }, d: Data) =>
  d.settings?.ipConfiguration === undefined
    ? notEvaluated(`Cloud SQL ${d.name ?? a.name} has no settings.ipConfiguration in its data`)
    : null;

/** CIS GCP 6.4. */
export const sqlRequireSsl: Rule = {
  id: "cis-gcp-6.4-sql-require-ssl",
  title: "Cloud SQL does not require SSL",
  severity: "high",
  benchmarks: ["CIS GCP 6.4"],
  assetTypes: SQL,
  evaluate(a) {
    const d = dataOf(a);
    const ip = ipConfig(d);
    const ok = ip.requireSsl === true || ip.sslMode === "ENCRYPTED_ONLY" ||
      ip.sslMode === "TRUSTED_CLIENT_CERTIFICATE_REQUIRED";
    return ok
      ? pass(`Cloud SQL ${d.name} requires SSL`)
      : fail(`Cloud SQL ${d.name} accepts unencrypted connections; set sslMode=ENCRYPTED_ONLY`);
  },
};

/** CIS GCP 6.5. */
export const sqlOpenToWorld: Rule = {
  id: "cis-gcp-6.5-sql-open-to-world",
  title: "Cloud SQL open to 0.0.0.0/0",
  severity: "critical",
  benchmarks: ["CIS GCP 6.5"],
  assetTypes: SQL,
  evaluate(a) {
    const d = dataOf(a);
    const missing = noIpConfig(a, d);
    if (missing) return missing;
    const open = (ipConfig(d).authorizedNetworks ?? []).filter((n: Data) =>
      n.value === "0.0.0.0/0" || n.value === "::/0"
    );
    return open.length
      ? fail(`Cloud SQL ${d.name} authorizes ${open.map((n: Data) => n.value).join(", ")}; remove it`)
      : pass(`Cloud SQL ${d.name} authorizes no world-open network`);
  },
};

/** CIS GCP 6.6. */
export const sqlPublicIp: Rule = {
  id: "cis-gcp-6.6-sql-public-ip",
  title: "Cloud SQL with a public IP",
  severity: "high",
  benchmarks: ["CIS GCP 6.6"],
  assetTypes: SQL,
  evaluate(a) {
    const d = dataOf(a);
    if (noIpConfig(a, d) && !Array.isArray(d.ipAddresses)) return noIpConfig(a, d);
    const publicIp = ipConfig(d).ipv4Enabled === true ||
      (d.ipAddresses ?? []).some((x: Data) => x.type === "PRIMARY");
    return publicIp
      ? fail(`Cloud SQL ${d.name} has a public IPv4 address; use private IP (ipv4Enabled=false)`)
      : pass(`Cloud SQL ${d.name} has no public IP`);
  },
};

const GKE = ["container.googleapis.com/Cluster"];

/** CIS GKE 5.8.4. */
export const gkeLegacyAbac: Rule = {
  id: "cis-gke-5.8.4-legacy-abac",
  title: "GKE legacy ABAC enabled",
  severity: "high",
  benchmarks: ["CIS GKE 5.8.4"],
  assetTypes: GKE,
  evaluate(a) {
    const d = dataOf(a);
    return d.legacyAbac?.enabled === true
      ? fail(`cluster ${d.name} has legacy ABAC on; disable it and use RBAC`)
      : pass(`cluster ${d.name} has legacy ABAC off`);
  },
};

/** CIS GKE 5.6.5. */
export const gkePrivateNodes: Rule = {
  id: "cis-gke-5.6.5-private-nodes",
  title: "GKE cluster without private nodes",
  severity: "medium",
  benchmarks: ["CIS GKE 5.6.5"],
  assetTypes: GKE,
  evaluate(a) {
    const d = dataOf(a);
    return d.privateClusterConfig?.enablePrivateNodes === true
      ? pass(`cluster ${d.name} uses private nodes`)
      : fail(`cluster ${d.name} is not a private cluster; enable private nodes`);
  },
};
