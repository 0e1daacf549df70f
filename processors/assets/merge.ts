/**
 * The merge rules of asset observations, shared by snapshot diffs and feed events, over one store entry per
 * asset name. Pure: no I/O, no clock; the processor decides what to forward from the returned change.
 *
 * An asset has parts that arrive separately (Cloud Asset content types): the resource (`data`, `location`,
 * `resource_parent`), the IAM policy and the org policies. Each part is ordered on its own, so a part never
 * overwrites a newer one and a record lacking a part never erases it:
 *
 * - resource: by (update_time, then observation time, then content) — an equal update_time with different
 *   content is a change when it was observed later (a poll after a feed message), and a tie on both is broken
 *   by content so every interleaving converges to the same state;
 * - IAM policy and org policies: by (observation time, then content): the poll's or feed's time of the part.
 * - Presence: a deletion leaves a tombstone with its time; an observation of the asset made after that time
 *   (a later poll listing it, even with an older update_time) brings it back; one made before it is stale.
 * - An asset with no resource part known yet (an IAM-only or org-policy-only line) is kept as `pending`: its
 *   parts are stored and merged into the resource when it arrives, but nothing is forwarded for it (rules
 *   would otherwise run on an empty resource). Organizations and folders known by their org policies are
 *   the exception ({@link standsAlone}): forwarded with `data: null`, so their policies are shown.
 */
import type { AssetRecord } from "../../schemas/assets.ts";

/**
 * A store entry, as kept in memory (field names are short on purpose, 100k per task); its changelog form is
 * the readable, versioned one of `codec.ts` (format 0, this very shape, still restores).
 * Version 1 (before the part times) had only `u ty sc del j`; such entries restore as is: a missing `o`
 * reads as `u`, a missing `iu`/`gu` as `u` when the part is present.
 */
export interface AssetEntry {
  /** Order time (epoch ms) of the resource part: its update_time, else when it was observed. */
  u: number;
  /** Observation time (epoch ms) of the resource part (absent in version-1 entries: `u`). */
  o?: number;
  /** Observation time of the IAM policy part (0: none known; absent in version-1 entries: `u`). */
  iu?: number;
  /** Observation time of the org-policy part (0: none known). */
  gu?: number;
  /** 1 while no resource part is known (pending: stored, never forwarded). */
  nr?: 1;
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
  | { kind: "touched" | "pending" | "tombstone"; entry: AssetEntry };

/** Epoch ms of an ISO time, 0 when absent or unparseable. */
export function ms(iso: string | null | undefined): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/** The latest time anything observed the asset present (deletions older than it are stale). */
export function lastSeen(e: AssetEntry): number {
  return Math.max(e.u, e.o ?? 0, e.iu ?? 0, e.gu ?? 0);
}

const hasIam = (a: AssetRecord) => a.iam_policy !== undefined;
const hasOrg = (a: AssetRecord) => a.org_policy !== undefined;

/** Containers whose org policies are their content: rarely listed with RESOURCE, and no rule reads them. */
const POLICY_CONTAINERS = new Set([
  "cloudresourcemanager.googleapis.com/Organization",
  "cloudresourcemanager.googleapis.com/Folder",
]);

/**
 * True when an asset without a resource part is still shown: an organization or folder known by its org
 * policies (content type ORG_POLICY) is an asset of its own, never left pending for a resource that an
 * asset listing of projects' resources does not bring.
 */
export const standsAlone = (a: AssetRecord) => hasOrg(a) && POLICY_CONTAINERS.has(a.asset_type);

function fresh(asset: AssetRecord, at: number, obs: number, scope: string): AssetEntry {
  const pt = asset.data === null ? Math.max(at, obs) : obs;
  const e: AssetEntry = {
    u: at,
    o: obs,
    iu: hasIam(asset) ? pt : 0,
    gu: hasOrg(asset) ? pt : 0,
    ty: asset.asset_type,
    sc: scope,
    del: 0,
    j: JSON.stringify(asset),
  };
  if (asset.data === null && !standsAlone(asset)) e.nr = 1;
  return e;
}

/** Compares (t1, content1) with (t2, content2): > 0 when the first is later. */
function order(t1: number, c1: string, t2: number, c2: string): number {
  return t1 !== t2 ? t1 - t2 : c1 < c2 ? -1 : c1 > c2 ? 1 : 0;
}

const resourceOf = (a: AssetRecord) =>
  JSON.stringify([a.data, a.location, a.resource_parent, a.update_time, a.project, a.ancestors]);

/**
 * Applies an upsert of `asset`. `obs` is when the source observed it (the snapshot's start, the feed's
 * window), `scope` the snapshot parent (poll) or "" (feed). `data: null` means "no resource part".
 */
export function applyUpsert(
  e: AssetEntry | undefined,
  asset: AssetRecord,
  obs: number,
  scope: string,
): MergeResult {
  const at = ms(asset.update_time) || obs;
  if (!e || e.del) {
    if (e && Math.max(at, obs) <= e.del) return { kind: "none", reason: "tombstoned" };
    const entry = fresh(asset, at, obs, scope);
    return entry.nr ? { kind: "pending", entry } : { kind: "created", entry, asset };
  }
  const eo = e.o ?? e.u;
  // Fast path: the same record observed again (every unchanged asset of every poll).
  if (at === e.u && !e.nr) {
    const j = JSON.stringify(asset);
    if (j === e.j) return { kind: "none", reason: "duplicate" };
  }
  const prev = JSON.parse(e.j) as AssetRecord;
  const out: AssetRecord = { ...prev };
  const next: AssetEntry = { ...e, o: eo, iu: e.iu ?? (hasIam(prev) ? e.u : 0), gu: e.gu ?? 0 };
  if (asset.data !== null) {
    const newer = e.nr || prev.data === null
      ? 1
      : at !== e.u
      ? at - e.u
      : order(obs, resourceOf(asset), eo, resourceOf(prev));
    if (newer > 0) {
      out.data = asset.data;
      out.location = asset.location;
      out.resource_parent = asset.resource_parent;
      out.update_time = asset.update_time;
      out.asset_type = asset.asset_type;
      out.project = asset.project ?? prev.project;
      out.project_number = asset.project_number ?? prev.project_number;
      if (asset.ancestors.length) out.ancestors = asset.ancestors;
      next.u = at;
      next.o = obs;
      next.ty = asset.asset_type;
      delete next.nr;
    } else if (at === e.u && obs > eo) {
      next.o = obs;
    }
  }
  // A part's time: when it was observed; for a part-only record, its update_time may be later.
  const pt = asset.data === null ? Math.max(at, obs) : obs;
  if (hasIam(asset)) {
    const t = pt;
    if (order(t, JSON.stringify(asset.iam_policy), next.iu!, JSON.stringify(prev.iam_policy ?? null)) > 0) {
      out.iam_policy = asset.iam_policy;
      next.iu = t;
    }
  }
  if (hasOrg(asset)) {
    const t = pt;
    if (order(t, JSON.stringify(asset.org_policy), next.gu!, JSON.stringify(prev.org_policy ?? null)) > 0) {
      out.org_policy = asset.org_policy;
      next.gu = t;
    }
  }
  if (!out.project && asset.project) out.project = asset.project;
  if (!out.project_number && asset.project_number) out.project_number = asset.project_number;
  const j = JSON.stringify(out);
  next.j = j;
  if (scope) next.sc = scope;
  if (j === e.j) {
    // Same content: remember newer part times (so older observations stay stale), no event.
    return next.u > e.u ? { kind: "touched", entry: next } : { kind: "none", reason: "unchanged" };
  }
  if (next.nr && standsAlone(out)) delete next.nr;
  if (next.nr) return { kind: "pending", entry: next };
  return { kind: e.nr ? "created" : "updated", entry: next, asset: out };
}

/**
 * Applies a deletion observed at `at`. Deleting an unknown asset leaves a tombstone (so an older poll cannot
 * create it later) but no event; deleting an asset observed present after `at` is stale.
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
  if (at < lastSeen(e)) return { kind: "none", reason: "stale" };
  if (e.nr) return { kind: "tombstone", entry: { ...e, u: at, del: at } };
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
