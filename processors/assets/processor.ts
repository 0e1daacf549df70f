/**
 * The `assets` processor: Cloud Asset snapshots are diffed against the state into created / updated /
 * deleted changes, real-time feed messages and Landing Zone events are merged into the same state (see
 * `merge.ts`), and every change is forwarded to the compacted `lz.assets.v1`.
 *
 * Deletions by a poll need the whole snapshot: the names a snapshot listed are kept in memory while it
 * streams, and on its completion marker every in-scope asset it did not list (and that no newer feed event
 * touched) is deleted. A snapshot whose start this task did not see (restart mid-snapshot), whose count does
 * not match its marker, or that failed, still applies its creates and updates but deletes nothing — the next
 * complete poll does.
 *
 * One task per partition: everything about an asset is keyed (and so partitioned) by its name, and a snapshot
 * is written per partition with that partition's own marker count (`connectors/cloud_asset/snapshot_writer.ts`),
 * so a task's store holds exactly its partition's assets and its diff deletes only from them. The project
 * number → id map is the one thing shared across partitions: the task that sees a Project asset broadcasts
 * its id on `lz.assets.projects.v1` (an input of every task), and a task that learns an id, from either,
 * fills it into its assets still lacking it (a bucket seen before its project, or on another partition).
 */
import type { InputRecord, Processor, ProcessorContext } from "../../pipeline/processor/types.ts";
import {
  ASSET_PROJECTS_TOPIC,
  type AssetRecord,
  ASSETS_TOPIC,
  type AssetSource,
  type AssetState,
  type ProjectId,
} from "../../schemas/assets.ts";
import type { SnapshotRecord } from "../../schemas/assets.ts";
import type { InfraEvent } from "../../schemas/infra_events.ts";
import {
  applyDelete,
  applyUpsert,
  type AssetEntry,
  inScope,
  lastSeen,
  type MergeResult,
  ms,
} from "./merge.ts";

/** Store names (persisted contract: changelog `assets-<store>-changelog`). */
export const STORE_ASSETS = "assets";
export const STORE_PROJECTS = "projects";
/**
 * The snapshot a task is reading: key `open` holds its header, `seen/<snapshot id>/<n>` the names of its
 * n-th chunk, all deleted once it completes or fails. A restart in the middle of a snapshot resumes it from
 * here (the records before the last checkpoint are not read again), so it still deletes what it must,
 * at the same time as a run that was never interrupted.
 */
export const STORE_SNAPSHOTS = "snapshots";

/** Tunables of the processor. */
export interface AssetsProcessorOptions {
  /** How long a deleted asset's tombstone is kept before `lz.assets.v1` gets a null (default 7 days). */
  tombstoneRetentionMs?: number;
  /** How often tombstones are swept (default 1 h). */
  sweepIntervalMs?: number;
}

interface OpenSnapshot {
  id: string;
  parent: string;
  source: "api" | "export";
  types: Set<string>;
  seen: Set<string>;
  /** Observation time for assets without update_time, and the deletion time. */
  at: number;
  /** False when the start was not seen by this task. */
  whole: boolean;
  /** False when the snapshot lists no RESOURCE content (an IAM- or org-policy-only export): it deletes nothing. */
  resource: boolean;
}

/** What {@link STORE_SNAPSHOTS} keeps of an open snapshot (persisted contract). */
interface OpenSnapshotState {
  id: string;
  parent: string;
  source: "api" | "export";
  types: string[];
  at: number;
  whole: boolean;
  resource: boolean;
  /** Chunks recorded under `seen/<id>/<n>`, n < chunks. */
  chunks: number;
}

const OPEN_KEY = "open";
const seenKey = (id: string, n: number) => `seen/${id}/${n}`;

const PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project";

/** Creates one task's processor. */
export function createAssetsProcessor(opts: AssetsProcessorOptions = {}): Processor<unknown> {
  const retention = opts.tombstoneRetentionMs ?? 7 * 86_400_000;
  /** The open snapshot, as restored from {@link STORE_SNAPSHOTS} (undefined: not read yet since the start). */
  let open: (OpenSnapshot & { chunks: number }) | null | undefined;

  function openSnapshot(ctx: ProcessorContext): (OpenSnapshot & { chunks: number }) | null {
    if (open !== undefined) return open;
    const store = ctx.store<OpenSnapshotState | string[]>(STORE_SNAPSHOTS);
    const st = store.get(OPEN_KEY) as OpenSnapshotState | undefined;
    if (!st) return open = null;
    const seen = new Set<string>();
    for (let n = 0; n < st.chunks; n++) {
      for (const name of (store.get(seenKey(st.id, n)) as string[] | undefined) ?? []) seen.add(name);
    }
    return open = { ...st, types: new Set(st.types), seen };
  }

  function saveOpen(ctx: ProcessorContext, s: OpenSnapshot & { chunks: number }): void {
    const st: OpenSnapshotState = {
      id: s.id,
      parent: s.parent,
      source: s.source,
      types: [...s.types],
      at: s.at,
      whole: s.whole,
      resource: s.resource,
      chunks: s.chunks,
    };
    ctx.store<OpenSnapshotState>(STORE_SNAPSHOTS).put(OPEN_KEY, st);
  }

  function dropOpen(ctx: ProcessorContext): void {
    const s = openSnapshot(ctx);
    const store = ctx.store(STORE_SNAPSHOTS);
    if (s) { for (let n = 0; n < s.chunks; n++) store.delete(seenKey(s.id, n)); }
    store.delete(OPEN_KEY);
    open = null;
  }
  /** The timestamp of the record being processed: `observed_at` (never the wall clock, so replays agree). */
  let recordAt = 0;

  function emit(
    ctx: ProcessorContext,
    type: AssetState["type"],
    asset: AssetRecord,
    source: AssetSource,
    changedAt: number,
    ref: { snapshot_id?: string; message_id?: string },
  ): void {
    const value: AssetState = {
      type,
      name: asset.name,
      asset,
      source,
      snapshot_id: ref.snapshot_id ?? null,
      message_id: ref.message_id ?? null,
      changed_at: new Date(changedAt || recordAt || ctx.now()).toISOString(),
      observed_at: new Date(recordAt || ctx.now()).toISOString(),
    };
    ctx.forward(ASSETS_TOPIC.name, asset.name, value);
  }

  /**
   * Names of present assets that have a project number but no project id, by number (built from the store
   * on first need, then kept up to date by {@link record}); null until built.
   */
  let lacking: Map<string, Set<string>> | null = null;

  /** The project number each name in {@link lacking} is filed under. */
  const lackingNumber = new Map<string, string>();

  function track(name: string, a: AssetRecord | null): void {
    if (!lacking) return;
    const was = lackingNumber.get(name);
    if (was !== undefined) {
      lacking.get(was)?.delete(name);
      lackingNumber.delete(name);
    }
    if (a && !a.project && a.project_number) {
      let names = lacking.get(a.project_number);
      if (!names) lacking.set(a.project_number, names = new Set());
      names.add(name);
      lackingNumber.set(name, a.project_number);
    }
  }

  function lackingIds(ctx: ProcessorContext): Map<string, Set<string>> {
    if (lacking) return lacking;
    lacking = new Map();
    for (const [name, e] of ctx.store<AssetEntry>(STORE_ASSETS).entries()) {
      if (!e.del && !e.nr) track(name, JSON.parse(e.j) as AssetRecord);
    }
    return lacking;
  }

  /**
   * Records a project id; when it is new, fills it into this task's assets lacking it (each forwarded as an
   * update) and, when it came from a Project asset, broadcasts it to the other tasks.
   */
  function learnProject(ctx: ProcessorContext, number: string, id: string, fromAsset: boolean): void {
    const projects = ctx.store<string>(STORE_PROJECTS);
    if (projects.get(number) === id) return;
    projects.put(number, id);
    if (fromAsset) ctx.broadcast(ASSET_PROJECTS_TOPIC.name, number, { project_number: number, project: id });
    const names = lackingIds(ctx).get(number);
    if (!names?.size) return;
    const store = ctx.store<AssetEntry>(STORE_ASSETS);
    for (const name of [...names]) {
      const e = store.get(name);
      if (!e || e.del || e.nr) continue;
      const prev = JSON.parse(e.j) as AssetRecord;
      // The index is memory only (not rolled back with a failed record): the store entry decides.
      if (prev.project || prev.project_number !== number) continue;
      const asset: AssetRecord = { ...prev, project: id };
      record(ctx, { kind: "updated", entry: { ...e, j: JSON.stringify(asset) }, asset }, name, "api", {});
    }
  }

  /** Fills `project` from the project-number map, and learns ids from Project assets. */
  function enrich(ctx: ProcessorContext, a: AssetRecord): AssetRecord {
    const projects = ctx.store<string>(STORE_PROJECTS);
    if (a.asset_type === PROJECT_TYPE && a.project && a.project_number) {
      learnProject(ctx, a.project_number, a.project, true);
    } else if (!a.project && a.project_number) {
      const id = projects.get(a.project_number);
      if (id) return { ...a, project: id };
    }
    return a;
  }

  function record(
    ctx: ProcessorContext,
    r: MergeResult,
    name: string,
    source: AssetSource,
    ref: { snapshot_id?: string; message_id?: string },
  ): void {
    if (r.kind === "none") return;
    const store = ctx.store<AssetEntry>(STORE_ASSETS);
    store.put(name, r.entry);
    if (r.kind !== "created" && r.kind !== "updated" && r.kind !== "deleted") return;
    track(name, r.kind === "deleted" ? null : r.asset);
    const type = r.kind === "created"
      ? "resource_created"
      : r.kind === "updated"
      ? "resource_updated"
      : "resource_deleted";
    emit(ctx, type, r.asset, source, r.kind === "deleted" ? r.entry.del : r.entry.u, ref);
  }

  function upsert(
    ctx: ProcessorContext,
    a: AssetRecord,
    at: number,
    scope: string,
    source: AssetSource,
    ref: {
      snapshot_id?: string;
      message_id?: string;
    },
  ): void {
    const asset = enrich(ctx, a);
    const store = ctx.store<AssetEntry>(STORE_ASSETS);
    record(
      ctx,
      applyUpsert(store.get(asset.name), asset, at, scope),
      asset.name,
      source,
      ref,
    );
  }

  function remove(
    ctx: ProcessorContext,
    name: string,
    type: string,
    at: number,
    source: AssetSource,
    ref: { message_id?: string; snapshot_id?: string },
  ): void {
    const store = ctx.store<AssetEntry>(STORE_ASSETS);
    record(ctx, applyDelete(store.get(name), name, type, at), name, source, ref);
  }

  function onSnapshot(ctx: ProcessorContext, v: SnapshotRecord, key: string | null, timestamp: number): void {
    switch (v.type) {
      case "snapshot_started":
        dropOpen(ctx); // one that never completed
        open = {
          id: v.snapshot_id,
          parent: v.parent,
          source: v.source,
          types: new Set(v.asset_types),
          seen: new Set(),
          at: ms(v.started_at),
          whole: true,
          resource: !v.content_types.length || v.content_types.includes("RESOURCE"),
          chunks: 0,
        };
        saveOpen(ctx, open);
        return;
      case "snapshot_assets": {
        const was = openSnapshot(ctx);
        if (!was || was.id !== v.snapshot_id) {
          if (was) dropOpen(ctx);
          ctx.log.warn("snapshot chunk without its start (restart mid-snapshot?); no deletions for it", {
            snapshot_id: v.snapshot_id,
          });
          // The record key is the snapshot's parent (the topic's contract): assets first seen in these chunks
          // are in its scope, so a later whole snapshot that no longer lists them deletes them.
          open = {
            id: v.snapshot_id,
            parent: key ?? "",
            source: v.snapshot_id.startsWith("export-") ? "export" : "api",
            types: new Set(),
            seen: new Set(),
            at: timestamp,
            whole: false,
            resource: false,
            chunks: 0,
          };
        }
        const s = open!;
        // Observed when the source read it (ListAssets readTime), else when the snapshot started.
        const at = ms(v.read_time) || s.at;
        for (const a of v.assets) {
          s.seen.add(a.name);
          upsert(ctx, a, at, s.parent, s.source, { snapshot_id: s.id });
        }
        if (s.whole) {
          ctx.store<string[]>(STORE_SNAPSHOTS).put(seenKey(s.id, s.chunks), v.assets.map((a) => a.name));
        }
        s.chunks++;
        saveOpen(ctx, s);
        return;
      }
      case "snapshot_completed": {
        const s = openSnapshot(ctx);
        dropOpen(ctx);
        const unreadable = v.unreadable ?? 0;
        if (
          !s || s.id !== v.snapshot_id || !s.whole || !s.resource || s.seen.size !== v.asset_count ||
          unreadable > 0
        ) {
          ctx.log.warn("incomplete snapshot: creates/updates applied, deletions skipped", {
            snapshot_id: v.snapshot_id,
            seen: s?.id === v.snapshot_id ? s.seen.size : 0,
            expected: v.asset_count,
            unreadable,
          });
          return;
        }
        const asOf = ms(v.read_time) || s.at;
        const store = ctx.store<AssetEntry>(STORE_ASSETS);
        const gone: [string, AssetEntry][] = [];
        for (const [name, e] of store.entries()) {
          if (e.del || s.seen.has(name) || lastSeen(e) > asOf) continue;
          if (inScope(name, e, s.parent, s.types)) gone.push([name, e]);
        }
        for (const [name, e] of gone) remove(ctx, name, e.ty, asOf, s.source, { snapshot_id: s.id });
        return;
      }
      case "snapshot_failed":
        if (openSnapshot(ctx)?.id === v.snapshot_id) dropOpen(ctx);
        return;
    }
  }

  function onEvent(ctx: ProcessorContext, v: InfraEvent): void {
    const ref = { message_id: v.message_id };
    const published = ms(v.publish_time);
    switch (v.type) {
      case "asset_feed": {
        // The feed's observation time: the change's window, else its update_time, else publication.
        const at = ms(v.window_start) || ms(v.asset.update_time) || published;
        if (v.deleted) remove(ctx, v.asset.name, v.asset.asset_type, at, "feed", ref);
        else upsert(ctx, v.asset, at, "", "feed", ref);
        return;
      }
      case "resource_created":
        upsert(ctx, v.asset, ms(v.asset.update_time) || published, "", "lz_event", ref);
        return;
      case "resource_deleted":
        remove(ctx, v.asset.name, v.asset.asset_type, published, "lz_event", ref);
        return;
      case "policy_violated":
        return; // the policy processor's business
    }
  }

  return {
    init(ctx) {
      ctx.schedule(opts.sweepIntervalMs ?? 3_600_000, (now) => {
        const store = ctx.store<AssetEntry>(STORE_ASSETS);
        const expired: string[] = [];
        for (const [name, e] of store.entries()) if (e.del && now - e.del > retention) expired.push(name);
        for (const name of expired) {
          store.delete(name);
          ctx.forward(ASSETS_TOPIC.name, name, null);
        }
      });
    },
    process(rec: InputRecord<unknown>, ctx) {
      if (rec.value === null) return;
      recordAt = rec.timestamp;
      if (rec.topic === "lz.assets.snapshot.v1") {
        onSnapshot(ctx, rec.value as SnapshotRecord, rec.key, rec.timestamp);
      } else if (rec.topic === ASSET_PROJECTS_TOPIC.name) {
        const v = rec.value as ProjectId;
        learnProject(ctx, v.project_number, v.project, false);
      } else onEvent(ctx, rec.value as InfraEvent);
    },
  };
}
