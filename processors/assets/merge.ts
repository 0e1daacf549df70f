/**
 * The merge rules of asset observations, shared by snapshot diffs and feed events, over one store entry per
 * asset name. Pure: no I/O, no clock; the processor decides what to forward from the returned change.
 *
 * - Latest `update_time` wins: an observation older than the state is stale and ignored; an equal one is a
 *   duplicate (no effect); a newer one with identical content is recorded without an event.
 * - Deletions leave a tombstone entry with the deletion time. An observation whose time is not after the
 *   tombstone (a poll listed before the deletion, a redelivered feed message) never resurrects the asset.
 */
import type { AssetRecord } from "../../schemas/assets.ts";

/** A store entry (persisted contract of store `assets`: field names are short on purpose, 100k per task). */
export interface AssetEntry {
  /** Time (epoch ms) of the observation that set the current state: update_time, else when it was observed. */
  u: number;
  /** Asset type (scope checks without parsing `j`). */
  ty: string;
  /** Parent of the last snapshot that created/updated it, "" when it came from a feed or event. */
  sc: string;
  /** 0 while present; the deletion time (epoch ms) once deleted (a tombstone). */
  del: number;
  /** JSON of the current (or last known) {@link AssetRecord}. */
  j: string;
}

/** What applying one observation did. */
export type MergeResult =
  | { kind: "none"; reason: "duplicate" | "stale" | "unchanged" | "tombstoned" | "unknown" }
  | { kind: "created" | "updated"; entry: AssetEntry; asset: AssetRecord }
  | { kind: "deleted"; entry: AssetEntry; asset: AssetRecord }
  | { kind: "touched"; entry: AssetEntry }
  | { kind: "tombstone"; entry: AssetEntry };

/** Epoch ms of an ISO time, 0 when absent or unparseable. */
export function ms(iso: string | null | undefined): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Applies an upsert of `asset` observed at `at` (its update_time, or the observation time when it has none).
 * `scope` is the snapshot parent (poll) or "" (feed). An IAM-only observation (`data: null`) keeps the known
 * resource part; a resource-only one keeps the known IAM policy when the observation carries none.
 */
export function applyUpsert(
  e: AssetEntry | undefined,
  asset: AssetRecord,
  at: number,
  scope: string,
): MergeResult {
  if (e && e.del) {
    if (at <= e.del) return { kind: "none", reason: "tombstoned" };
    const j = JSON.stringify(asset);
    return { kind: "created", entry: { u: at, ty: asset.asset_type, sc: scope, del: 0, j }, asset };
  }
  if (!e) {
    return {
      kind: "created",
      entry: { u: at, ty: asset.asset_type, sc: scope, del: 0, j: JSON.stringify(asset) },
      asset,
    };
  }
  if (at < e.u) return { kind: "none", reason: "stale" };
  if (at === e.u && asset.update_time !== null) return { kind: "none", reason: "duplicate" };
  let merged = asset;
  if (asset.data === null || asset.iam_policy === undefined) {
    const prev = JSON.parse(e.j) as AssetRecord;
    merged = { ...asset };
    if (asset.data === null) {
      merged.data = prev.data;
      merged.location = prev.location;
      merged.resource_parent = prev.resource_parent;
      merged.project = asset.project ?? prev.project;
    }
    if (asset.iam_policy === undefined && prev.iam_policy !== undefined) merged.iam_policy = prev.iam_policy;
  }
  const j = JSON.stringify(merged);
  if (j === e.j) {
    // Same content, newer time: remember the time (so older observations stay stale), no event.
    return at > e.u ? { kind: "touched", entry: { ...e, u: at } } : { kind: "none", reason: "unchanged" };
  }
  return {
    kind: "updated",
    entry: { u: at, ty: merged.asset_type, sc: scope || e.sc, del: 0, j },
    asset: merged,
  };
}

/**
 * Applies a deletion observed at `at`. Deleting an unknown asset leaves a tombstone (so an older poll cannot
 * create it later) but no event; deleting an asset re-created after `at` is stale.
 */
export function applyDelete(
  e: AssetEntry | undefined,
  name: string,
  assetType: string,
  at: number,
): MergeResult {
  if (!e) {
    return {
      kind: "tombstone",
      entry: { u: at, ty: assetType, sc: "", del: at, j: JSON.stringify(placeholder(name, assetType)) },
    };
  }
  if (e.del) {
    if (at > e.del) return { kind: "tombstone", entry: { ...e, u: at, del: at } };
    return { kind: "none", reason: "duplicate" };
  }
  if (at < e.u) return { kind: "none", reason: "stale" };
  return { kind: "deleted", entry: { ...e, u: at, del: at }, asset: JSON.parse(e.j) as AssetRecord };
}

function placeholder(name: string, assetType: string): AssetRecord {
  return {
    name,
    asset_type: assetType,
    project: null,
    project_number: null,
    location: null,
    update_time: null,
    ancestors: [],
    resource_parent: null,
    data: null,
  };
}

/** True when `entry` (named `name`) is within a snapshot of `parent` covering `types`. */
export function inScope(name: string, e: AssetEntry, parent: string, types: Set<string>): boolean {
  if (types.size && !types.has(e.ty)) return false;
  if (e.sc === parent) return true;
  if (name.includes(`/${parent}/`) || name.endsWith(`/${parent}`)) return true;
  const a = JSON.parse(e.j) as AssetRecord;
  return a.ancestors.includes(parent);
}
