/**
 * One normalizer for every shape a Cloud Asset `Asset` arrives in: the Node client's decoded objects
 * (camelCase, `resource.data` as a protobuf Struct, `updateTime` as a Timestamp), `gcloud asset export` NDJSON
 * lines (snake_case, plain JSON) and real-time feed messages (camelCase, plain JSON). Output is the
 * {@link AssetRecord} of `schemas/assets.ts`.
 */
import type { AssetRecord, IamPolicy } from "../../schemas/assets.ts";
import { ValidationError } from "../../pipeline/errors.ts";
import { fromStruct, timestampToIso } from "./struct.ts";
import { bytesToBase64 } from "../../pipeline/base64.ts";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads `camel` or its snake_case twin from `o`. */
function field(o: Obj, camel: string): unknown {
  if (o[camel] !== undefined) return o[camel];
  return o[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

const PROJECT_IN_NAME = /\/projects\/([^/]+)/;

/**
 * Legacy asset type names (Cloud Asset v1beta1, Forseti inventory dumps, older terraform-validator output)
 * mapped to today's `<service>.googleapis.com/<Kind>`, so the rules of the current type apply to them.
 */
export const LEGACY_ASSET_TYPES: Readonly<Record<string, string>> = {
  "google.cloud.resourcemanager.Organization": "cloudresourcemanager.googleapis.com/Organization",
  "google.cloud.resourcemanager.Folder": "cloudresourcemanager.googleapis.com/Folder",
  "google.cloud.resourcemanager.Project": "cloudresourcemanager.googleapis.com/Project",
  "google.compute.Project": "compute.googleapis.com/Project",
  "google.compute.Instance": "compute.googleapis.com/Instance",
  "google.compute.Firewall": "compute.googleapis.com/Firewall",
  "google.compute.Network": "compute.googleapis.com/Network",
  "google.compute.Subnetwork": "compute.googleapis.com/Subnetwork",
  "google.compute.Disk": "compute.googleapis.com/Disk",
  "google.cloud.storage.Bucket": "storage.googleapis.com/Bucket",
  "google.cloud.sql.Instance": "sqladmin.googleapis.com/Instance",
  "google.container.Cluster": "container.googleapis.com/Cluster",
  "google.iam.ServiceAccount": "iam.googleapis.com/ServiceAccount",
  "google.cloud.kms.CryptoKey": "cloudkms.googleapis.com/CryptoKey",
  "google.bigquery.Dataset": "bigquery.googleapis.com/Dataset",
  "google.pubsub.Topic": "pubsub.googleapis.com/Topic",
};

/** Today's asset type of `t` (legacy `google.*` names mapped; unknown ones unchanged). */
export function currentAssetType(t: string): string {
  return LEGACY_ASSET_TYPES[t] ?? t;
}

const ANCESTRY_KINDS: Record<string, string> = {
  organization: "organizations",
  organizations: "organizations",
  folder: "folders",
  folders: "folders",
  project: "projects",
  projects: "projects",
};

/**
 * `ancestors` from policy-library / terraform-validator's `ancestry_path` (`organizations/1/folders/2/
 * projects/3`, singular kinds too): nearest first, as Cloud Asset lists them.
 */
export function ancestorsFromPath(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const kind = ANCESTRY_KINDS[parts[i]];
    if (kind) out.push(`${kind}/${parts[i + 1]}`);
  }
  return out.reverse();
}

/** The project id of an asset when its name or data tells it (never a bare project number). */
export function projectIdOf(name: string, assetType: string, data: Obj | null): string | null {
  if (assetType === "cloudresourcemanager.googleapis.com/Project") return str(data?.projectId);
  const m = PROJECT_IN_NAME.exec(name);
  if (m && !/^[0-9]+$/.test(m[1])) return m[1];
  return null;
}

/** The project number from `ancestors` (or from a name like `//cloudresourcemanager.../projects/123`). */
export function projectNumberOf(name: string, ancestors: string[]): string | null {
  for (const a of ancestors) if (a.startsWith("projects/")) return a.slice("projects/".length);
  const m = PROJECT_IN_NAME.exec(name);
  return m && /^[0-9]+$/.test(m[1]) ? m[1] : null;
}

function iamPolicyOf(raw: unknown): IamPolicy | null {
  if (!isObj(raw)) return null;
  const bindings = Array.isArray(raw.bindings) ? raw.bindings : [];
  const out: IamPolicy = {
    bindings: bindings.filter(isObj).map((b) => ({
      role: String(b.role ?? ""),
      members: Array.isArray(b.members) ? b.members.map(String) : [],
    })),
  };
  // JSON (exports, feeds) carries the etag base64-encoded; the gRPC/REST client decodes it into bytes.
  if (typeof raw.etag === "string" && raw.etag) out.etag = raw.etag;
  else if (raw.etag instanceof Uint8Array && raw.etag.byteLength) out.etag = bytesToBase64(raw.etag);
  return out;
}

/**
 * Normalizes one asset. Throws a {@link ValidationError} naming the field when `name` or the asset type is
 * missing; everything else is optional (a feed message for a deleted asset may carry no resource).
 */
export function normalizeAsset(raw: unknown, where = "asset"): AssetRecord {
  if (!isObj(raw)) {
    throw new ValidationError(`${where} is not an object`, [{
      path: "/",
      message: "expected a JSON object",
    }]);
  }
  const name = str(raw.name);
  const rawType = str(field(raw, "assetType"));
  const assetType = rawType && currentAssetType(rawType);
  if (!name || !assetType) {
    const path = !name ? "/name" : "/assetType";
    throw new ValidationError(`${where} has no ${path.slice(1)}`, [
      { path, message: "required: a full resource name and its asset type" },
    ]);
  }
  const resource = isObj(raw.resource) ? raw.resource : null;
  const data = resource && resource.data !== undefined && resource.data !== null
    ? fromStruct(resource.data)
    : null;
  const path = field(raw, "ancestryPath");
  const ancestors = Array.isArray(raw.ancestors)
    ? raw.ancestors.filter((a) => typeof a === "string")
    : typeof path === "string"
    ? ancestorsFromPath(path)
    : [];
  const rec: AssetRecord = {
    name,
    asset_type: assetType,
    project: projectIdOf(name, assetType, data),
    project_number: projectNumberOf(name, ancestors),
    location: resource ? str(resource.location) : null,
    update_time: timestampToIso(field(raw, "updateTime")),
    ancestors,
    resource_parent: resource ? str(resource.parent) : null,
    data,
  };
  const iam = iamPolicyOf(field(raw, "iamPolicy"));
  if (iam) rec.iam_policy = iam;
  // Content type ORG_POLICY: kept as its own part (never an empty resource).
  const org = field(raw, "orgPolicy");
  // An empty list is what the client library reports for a RESOURCE listing (protobuf's default), not a part.
  if (Array.isArray(org) && org.length) rec.org_policy = org.filter(isObj).map((p) => fromStruct(p) as Obj);
  return rec;
}

/**
 * Merges two observations of the same asset from different content types (RESOURCE and IAM_POLICY): the
 * resource part of one and the IAM policy of the other. `b` wins where both have a part.
 */
export function mergeAssetParts(a: AssetRecord, b: AssetRecord): AssetRecord {
  const out: AssetRecord = { ...a };
  if (b.data !== null) {
    out.data = b.data;
    out.location = b.location;
    out.resource_parent = b.resource_parent;
    out.project = b.project ?? a.project;
  }
  if (b.iam_policy !== undefined) out.iam_policy = b.iam_policy;
  if (b.org_policy !== undefined) out.org_policy = b.org_policy;
  if (b.ancestors.length) out.ancestors = b.ancestors;
  out.project_number = b.project_number ?? a.project_number;
  if (b.update_time && (!a.update_time || b.update_time > a.update_time)) out.update_time = b.update_time;
  return out;
}
