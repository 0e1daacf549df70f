/**
 * The materialized infrastructure state in the Landing Zone documents' shape (`projects`, `vpcs`, `vms`,
 * `gke_clusters`, `databases`, `compliance_status`, `policy_violations`, `last_sync`), built from the
 * compacted tables the gateway holds: `lz.assets.v1`, `lz.violations.v1`, `lz.compliance.scores.v1`.
 * Pure and O(assets); the gateway calls it per request.
 */
import type { AssetRecord, AssetState } from "../../schemas/assets.ts";
import type { Violation } from "../../schemas/violations.ts";
import type { ComplianceScore } from "../../schemas/compliance.ts";

type Obj = Record<string, any>;
const last = (s: unknown) => (typeof s === "string" ? s.split("/").pop() ?? s : null);
const SEVERITY_ORDER = { critical: 0, high: 1, medium: 2, low: 3 } as const;

/** The documents' infrastructure state. */
export interface InfrastructureState {
  projects: Obj[];
  vpcs: Obj[];
  vms: Obj[];
  gke_clusters: Obj[];
  databases: Obj[];
  /** Not in the documents' list; the public-bucket rules need a place to show their subject. */
  buckets: Obj[];
  compliance_status: {
    score: number | null;
    passed: number;
    evaluated: number;
    open_violations: number;
    by_severity: Record<string, number>;
    by_project: Record<string, { score: number | null; passed: number; evaluated: number }>;
  };
  policy_violations: Violation[];
  /**
   * Organization policies (content type ORG_POLICY) set on any known asset — organizations, folders,
   * projects, resources — one entry per constraint: shown as they are; no rule evaluates them yet.
   */
  org_policies: Obj[];
  resource_counts: Record<string, number>;
  last_sync: string | null;
}

function networkKey(project: string | null, selfLinkOrName: unknown): string {
  const s = String(selfLinkOrName ?? "");
  const m = /projects\/([^/]+)\/global\/networks\/([^/]+)$/.exec(s);
  return m ? `${m[1]}/${m[2]}` : `${project}/${s}`;
}

function project(a: AssetRecord): Obj {
  const d: Obj = a.data ?? {};
  return {
    project_id: a.project,
    project_number: a.project_number,
    name: d.name ?? a.project,
    state: d.lifecycleState ?? d.state ?? null,
    labels: d.labels ?? {},
    parent: d.parent ? `${d.parent.type ?? ""}s/${d.parent.id ?? ""}` : (a.ancestors[1] ?? null),
  };
}

function vm(a: AssetRecord): Obj {
  const d: Obj = a.data ?? {};
  const nic = (d.networkInterfaces ?? [])[0] ?? {};
  const nat = (nic.accessConfigs ?? []).find((c: Obj) => c.natIP)?.natIP ?? null;
  return {
    name: d.name ?? last(a.name),
    project: a.project,
    zone: a.location,
    status: d.status ?? null,
    machine_type: last(d.machineType),
    internal_ip: nic.networkIP ?? null,
    external_ip: nat,
    network: last(nic.network),
    labels: d.labels ?? {},
  };
}

function cluster(a: AssetRecord): Obj {
  const d: Obj = a.data ?? {};
  return {
    name: d.name ?? last(a.name),
    project: a.project,
    location: a.location ?? d.location ?? null,
    status: d.status ?? null,
    version: d.currentMasterVersion ?? null,
    node_count: d.currentNodeCount ?? null,
    private_nodes: Boolean(d.privateClusterConfig?.enablePrivateNodes),
    legacy_abac: Boolean(d.legacyAbac?.enabled),
    labels: d.resourceLabels ?? {},
  };
}

function database(a: AssetRecord): Obj {
  const d: Obj = a.data ?? {};
  const ip = d.settings?.ipConfiguration ?? {};
  return {
    name: d.name ?? last(a.name),
    project: a.project,
    region: d.region ?? a.location,
    database_version: d.databaseVersion ?? null,
    tier: d.settings?.tier ?? null,
    state: d.state ?? null,
    public_ip: Boolean(ip.ipv4Enabled),
    require_ssl: Boolean(ip.requireSsl) || (ip.sslMode ?? "").startsWith("ENCRYPTED_ONLY") ||
      ip.sslMode === "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
    labels: d.settings?.userLabels ?? {},
  };
}

function orgPolicies(a: AssetRecord): Obj[] {
  return (a.org_policy ?? []).map((p: Obj) => ({
    resource: a.name,
    resource_type: a.asset_type,
    constraint: p.constraint ?? null,
    enforced: typeof p.booleanPolicy?.enforced === "boolean" ? p.booleanPolicy.enforced : null,
    list_policy: p.listPolicy ?? null,
    restore_default: p.restoreDefault !== undefined,
    update_time: p.updateTime ?? null,
  }));
}

function bucket(a: AssetRecord): Obj {
  const d: Obj = a.data ?? {};
  const members = (a.iam_policy?.bindings ?? []).flatMap((b) => b.members);
  return {
    name: d.name ?? last(a.name),
    project: a.project,
    location: a.location,
    uniform_access: Boolean(d.iamConfiguration?.uniformBucketLevelAccess?.enabled),
    public: members.includes("allUsers") || members.includes("allAuthenticatedUsers"),
    labels: d.labels ?? {},
  };
}

const byName = (x: AssetState, y: AssetState) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);

/**
 * Builds the state from the views (current values per key). Resources are listed by asset name, not in the
 * view's order (which depends on when a gateway started reading and how far the topic was compacted).
 */
export function materializeInfrastructureState(
  assets: Iterable<AssetState>,
  violations: Iterable<Violation>,
  scores: ReadonlyMap<string, ComplianceScore>,
): InfrastructureState {
  const projects: Obj[] = [], vms: Obj[] = [], clusters: Obj[] = [], dbs: Obj[] = [], buckets: Obj[] = [];
  const vpcs = new Map<string, Obj>();
  const subnets: AssetRecord[] = [], firewalls: AssetRecord[] = [];
  const counts: Record<string, number> = {};
  const orgs: Obj[] = [];
  let lastSync = "";
  for (const s of Array.from(assets).sort(byName)) {
    if (s.observed_at > lastSync) lastSync = s.observed_at;
    if (s.type === "resource_deleted") continue;
    const a = s.asset;
    counts[a.asset_type] = (counts[a.asset_type] ?? 0) + 1;
    if (a.org_policy?.length) orgs.push(...orgPolicies(a));
    switch (a.asset_type) {
      case "cloudresourcemanager.googleapis.com/Project":
        projects.push(project(a));
        break;
      case "compute.googleapis.com/Network": {
        const d: Obj = a.data ?? {};
        vpcs.set(networkKey(a.project, d.selfLink ?? `projects/${a.project}/global/networks/${d.name}`), {
          name: d.name ?? last(a.name),
          project: a.project,
          auto_create_subnetworks: Boolean(d.autoCreateSubnetworks),
          legacy: d.IPv4Range !== undefined && d.autoCreateSubnetworks === undefined,
          routing_mode: d.routingConfig?.routingMode ?? null,
          subnets: [] as Obj[],
          firewall_rules: [] as Obj[],
        });
        break;
      }
      case "compute.googleapis.com/Subnetwork":
        subnets.push(a);
        break;
      case "compute.googleapis.com/Firewall":
        firewalls.push(a);
        break;
      case "compute.googleapis.com/Instance":
        vms.push(vm(a));
        break;
      case "container.googleapis.com/Cluster":
        clusters.push(cluster(a));
        break;
      case "sqladmin.googleapis.com/Instance":
        dbs.push(database(a));
        break;
      case "storage.googleapis.com/Bucket":
        buckets.push(bucket(a));
        break;
    }
  }
  for (const a of subnets) {
    const d: Obj = a.data ?? {};
    vpcs.get(networkKey(a.project, d.network))?.subnets.push({
      name: d.name ?? last(a.name),
      region: last(d.region) ?? a.location,
      cidr: d.ipCidrRange ?? null,
      flow_logs: Boolean(d.enableFlowLogs || d.logConfig?.enable),
      private_google_access: Boolean(d.privateIpGoogleAccess),
    });
  }
  for (const a of firewalls) {
    const d: Obj = a.data ?? {};
    vpcs.get(networkKey(a.project, d.network))?.firewall_rules.push({
      name: d.name ?? last(a.name),
      direction: d.direction ?? "INGRESS",
      source_ranges: d.sourceRanges ?? [],
      allowed: (d.allowed ?? []).map((x: Obj) => `${x.IPProtocol}${x.ports ? `:${x.ports.join(",")}` : ""}`),
      disabled: Boolean(d.disabled),
    });
  }
  const open = [...violations].filter((v) => v.state === "open")
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.id.localeCompare(b.id));
  const bySeverity: Record<string, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const v of open) bySeverity[v.severity]++;
  const overall = scores.get("overall");
  const byProject: InfrastructureState["compliance_status"]["by_project"] = {};
  for (const s of scores.values()) {
    if (s.kind === "project") {
      byProject[s.name] = { score: s.score, passed: s.passed, evaluated: s.evaluated };
    }
  }
  return {
    projects,
    vpcs: [...vpcs.values()],
    vms,
    gke_clusters: clusters,
    databases: dbs,
    buckets,
    compliance_status: {
      score: overall?.score ?? null,
      passed: overall?.passed ?? 0,
      evaluated: overall?.evaluated ?? 0,
      open_violations: open.length,
      by_severity: bySeverity,
      by_project: byProject,
    },
    policy_violations: open,
    org_policies: orgs,
    resource_counts: counts,
    last_sync: lastSync || null,
  };
}
