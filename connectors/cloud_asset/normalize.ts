/**
 * One normalizer for every shape a Cloud Asset `Asset` arrives in: the Node client's decoded objects
 * (camelCase, `resource.data` as a protobuf Struct, `updateTime` as a Timestamp), `gcloud asset export` NDJSON
 * lines (snake_case, plain JSON) and real-time feed messages (camelCase, plain JSON). Output is the
 * {@link AssetRecord} of `schemas/assets.ts`.
 */
import type { AssetRecord, IamPolicy } from "../../schemas/assets.ts";
import { ValidationError } from "../../pipeline/errors.ts";
import { fromStruct, timestampToIso } from "./struct.ts";

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
  if (typeof raw.etag === "string" && raw.etag) out.etag = raw.etag;
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
  const assetType = str(field(raw, "assetType"));
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
  const ancestors = Array.isArray(raw.ancestors) ? raw.ancestors.filter((a) => typeof a === "string") : [];
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
  if (b.ancestors.length) out.ancestors = b.ancestors;
  out.project_number = b.project_number ?? a.project_number;
  if (b.update_time && (!a.update_time || b.update_time > a.update_time)) out.update_time = b.update_time;
  return out;
}
