/**
 * What the Portal repository topology reports of each write: the `portal` layer's sync event
 * (`lz.sync.events.v1`, for the sync-status processor) and the `portal_write` audit record (`lz.audit.v1`,
 * which the gateway's `/api/v1/sync/portal-repo` reads), plus the config helpers that name the Landing Zone
 * and the GitHub repository of pull-request mode.
 */
import type { AppDeps } from "../../pipeline/service.ts";
import type { PortalRepoConfig } from "../../pipeline/config.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { GitCommitMarker } from "../../schemas/git_files.ts";
import { deriveRepoId } from "../../connectors/git/repo.ts";
import { sampleRepoPath } from "../../connectors/git/sample.ts";
import type { WriteResult } from "./direct.ts";
import { auditPaths, type AuditRecord } from "../../schemas/audit.ts";
import { auditRecord } from "../audit/record.ts";
import type { SyncEvent } from "../../schemas/sync_events.ts";

/** The `portal` layer's report of one write, for the sync-status processor (none for a skipped write). */
export function portalSyncEvent(w: PortalWrite): SyncEvent | null {
  if (w.skipped) return null;
  const r = w.result;
  const ev: SyncEvent = {
    id: portalAudit(w, "").id,
    layer: "portal",
    ok: w.ok,
    items: r ? r.written.length + r.removed.length : 0,
    ...(w.ok ? {} : { error: (w.error ?? "failed").slice(0, 2000) }),
    started_at: w.started_at,
    finished_at: w.finished_at,
    commit_time: w.marker.commit_time,
    received_at: w.marker.received_at,
  };
  const ref = r?.pr?.url ?? r?.commit ?? w.marker.commit;
  return ref ? { ...ev, ref } : ev;
}

/** The audit record of one write (ids are deterministic: a repeated write rewrites its record). */
export function portalAudit(w: PortalWrite, location: string): AuditRecord {
  const m = w.marker;
  const r = w.result;
  const outcome = w.skipped ? "skipped" : !w.ok ? "failed" : r!.outcome === "unchanged" ? "unchanged" : "ok";
  const id = outcome === "ok"
    ? `portal:${r!.outcome}:${r!.outcome === "pr_closed" ? m.sync_id : r!.commit}`
    : outcome === "failed"
    ? `portal:${m.sync_id}:failed:${w.started_at}`
    : `portal:${m.sync_id}:${outcome}`;
  const message = outcome === "ok"
    ? `${r!.outcome} ${r!.commit?.slice(0, 12)} on the Portal after ${r!.attempts} attempt(s)${
      r!.pr
        ? `; pull request #${r!.pr.number} ${r!.pr.state}${r!.pr.auto_merge ? ", auto-merge on" : ""}`
        : ""
    }`
    : outcome === "unchanged"
    ? "the Portal already holds the mapped files"
    : w.error ?? "";
  return auditRecord({
    id,
    kind: "portal_write",
    at: w.finished_at,
    trigger: "sync",
    subject: location,
    sync_id: m.sync_id,
    commit: m.commit,
    outcome,
    error: w.ok ? null : w.error ?? null,
    ...(r ? auditPaths(r.written, r.removed) : {}),
    target: r?.pr?.url ?? r?.commit ?? null,
    message,
  });
}

/** One finished write attempt, as the sink reports it (audit, status, tests). */
export interface PortalWrite {
  marker: GitCommitMarker;
  ok: boolean;
  /** True when the marker is not written on purpose (a deleted Landing Zone branch); not retried. */
  skipped?: boolean;
  /** For a failed write: whether the same write may succeed later (network, 5xx, a moving branch). */
  retriable?: boolean;
  /** For a failed write: the error's stable code, when it has one. */
  error_code?: string;
  result?: WriteResult;
  error?: string;
  started_at: string;
  finished_at: string;
}

/** The configured Landing Zone repo id, as the git fetcher names it on `lz.git.files.v1`. */
export function landingZoneId(deps: AppDeps): string {
  const lz = deps.runtime.config.landing_zone;
  return lz.github
    ? `${lz.github.owner}/${lz.github.repo}`
    : deriveRepoId(lz.repo ?? sampleRepoPath(deps.runtime.config.data_dir));
}

/** The GitHub repository of pull-request mode: `portal_repo.github`, else owner/repo of a github.com URL. */
export function githubRepo(cfg: PortalRepoConfig): { owner: string; repo: string; baseUrl: string } {
  if (cfg.github) return { owner: cfg.github.owner, repo: cfg.github.repo, baseUrl: cfg.github.api_url };
  const m = /^https:\/\/github\.com\/([^/]+)\/([^/]+?)(\.git)?\/?$/i.exec(cfg.repo);
  if (!m) {
    throw new LzError(
      "CONFIG",
      `portal_repo.mode pull_request needs GitHub: set portal_repo.github {owner, repo, api_url} for ${cfg.repo}`,
    );
  }
  return { owner: m[1], repo: m[2], baseUrl: "https://api.github.com" };
}
