/**
 * The Portal repository sink: reads `lz.git.files.v1` and, for every commit marker of the Landing Zone,
 * writes the mapped files into the Portal's repository (one commit per Landing Zone commit, nothing when the
 * mapped files already match).
 *
 * At start it reads the compacted topic to its end and writes only the latest state (the Portal may be many
 * Landing Zone commits behind; intermediate states cannot be rebuilt from a compacted log, so they collapse
 * into one commit naming the newest source commit); then it follows the topic live. No offsets are
 * committed: every write compares trees first, so a restart or a second run commits nothing twice. Writes are
 * serialized; markers that arrive during a write collapse into the newest. A failed write is retried with
 * backoff (up to a minute apart) until a newer marker replaces it.
 */
import type { Producer, Reader } from "../../pipeline/broker/types.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import type { PortalRepoConfig } from "../../pipeline/config.ts";
import { describeError, LzError } from "../../pipeline/errors.ts";
import { GIT_FILES_TOPIC, type GitCommitMarker } from "../../schemas/git_files.ts";
import { deriveRepoId } from "../git/repo.ts";
import { sampleRepoPath } from "../git/sample.ts";
import { compileMapping } from "./mapping.ts";
import { desiredState, type ReadContent } from "./plan.ts";
import { writeDirect, type WriteResult } from "./direct.ts";
import { PortalClone } from "./repo.ts";
import { FilesTable } from "./table.ts";
import { createPortalPulls, type PortalPulls } from "./pulls.ts";
import { writePullRequest } from "./pull_request.ts";
import { mirrorReader } from "./content.ts";
import { AUDIT_TOPIC, auditPaths, type AuditRecord } from "../../schemas/audit.ts";
import { auditRecord, produceAudit } from "../audit/record.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import { encode } from "../../pipeline/serde.ts";

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
  result?: WriteResult;
  error?: string;
  started_at: string;
  finished_at: string;
}

/** Live state of the sink. */
export interface PortalSinkStatus {
  location: string;
  branch: string;
  mode: PortalRepoConfig["mode"];
  last_write: PortalWrite | null;
  last_success: PortalWrite | null;
  consecutive_failures: number;
}

/** Options of {@link createPortalRepoService} (tests inject these). */
export interface PortalRepoServiceOptions {
  /** The Landing Zone repo id whose markers drive the sink (default: derived from `landing_zone`). */
  lzRepo?: string;
  read?: ReadContent;
  onWrite?(w: PortalWrite): void | Promise<void>;
  /** Pull-request mode's GitHub client (default: `@octokit/rest` per `portal_repo.github`). */
  pulls?: PortalPulls;
  /** First retry delay after a failed write (doubles up to 60 s; default 1 s). */
  retryMs?: number;
}

/** The sink service plus its status. */
export interface PortalRepoService extends Service {
  status(): PortalSinkStatus;
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

/** Builds the sink from `portal_repo` (the caller checks that it is configured and enabled). */
export function createPortalRepoService(
  deps: AppDeps,
  cfg: PortalRepoConfig,
  o: PortalRepoServiceOptions = {},
): PortalRepoService {
  const config = deps.runtime.config;
  const log = deps.log.child("portal_repo", { repo: cfg.repo });
  const mapping = compileMapping(cfg.paths, cfg.metadata_path);
  const clone = new PortalClone({
    repo: cfg.repo,
    branch: cfg.branch,
    dataDir: config.data_dir,
    token: deps.runtime.secret(cfg.token_env),
  });
  const pulls = cfg.mode === "pull_request"
    ? o.pulls ?? createPortalPulls({ ...githubRepo(cfg), token: deps.runtime.secret(cfg.token_env) })
    : null;
  const lzRepo = o.lzRepo ?? landingZoneId(deps);
  const read = o.read ??
    mirrorReader(config.landing_zone.repo ?? sampleRepoPath(config.data_dir), config.data_dir);
  const table = new FilesTable();
  const iso = () => new Date(deps.clock.now()).toISOString();
  const status: PortalSinkStatus = {
    location: clone.location,
    branch: cfg.branch,
    mode: cfg.mode,
    last_write: null,
    last_success: null,
    consecutive_failures: 0,
  };
  let reader: Reader | null = null;
  let producer: Producer | null = null;
  let live = false;
  let stopped = false;
  let pending: GitCommitMarker | null = null;
  let running: Promise<void> | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const writeOnce = async (marker: GitCommitMarker): Promise<PortalWrite> => {
    const started_at = iso();
    if (marker.commit === null) {
      const error =
        `the Landing Zone branch ${marker.branch} was deleted; the Portal's copy is left as it is`;
      return { marker, ok: false, skipped: true, error, started_at, finished_at: started_at };
    }
    try {
      const desired = desiredState(table.files(lzRepo), marker, mapping, cfg.metadata_path, read);
      const result = pulls
        ? await writePullRequest(
          {
            base: await clone.open(),
            head: await clone.open(cfg.pr_branch),
            gitdir: clone.gitdir,
            baseBranch: cfg.branch,
            prBranch: cfg.pr_branch,
          },
          pulls,
          mapping,
          desired,
          { author: cfg.author, autoMerge: cfg.auto_merge, mergeMethod: cfg.merge_method },
          log,
        )
        : await writeDirect(await clone.open(), mapping, desired, cfg.author, log);
      return { marker, ok: true, result, started_at, finished_at: iso() };
    } catch (err) {
      // the clone is a cache: anything but a clean refusal from a server may have left it torn, so start over
      const clean = err instanceof LzError &&
        ["PORTAL_CONFLICT", "GITHUB_API", "PORTAL_CONTENT"].includes(err.code);
      if (!clean) await clone.discard().catch(() => {});
      return { marker, ok: false, error: describeError(err), started_at, finished_at: iso() };
    }
  };

  const run = async (marker: GitCommitMarker) => {
    const w = await writeOnce(marker);
    status.last_write = w;
    if (w.ok) {
      status.last_success = w;
      status.consecutive_failures = 0;
      log.info("portal repository written", {
        commit: marker.commit,
        outcome: w.result!.outcome,
        portal_commit: w.result!.commit,
        written: w.result!.written.length,
        removed: w.result!.removed.length,
      });
    } else {
      status.consecutive_failures++;
      log.warn("portal repository write failed", { commit: marker.commit, error: w.error });
    }
    try {
      if (producer) {
        await produceAudit(producer, [portalAudit(w, clone.location)], log);
        const ev = portalSyncEvent(w);
        if (ev) {
          await producer.send(SYNC_EVENTS_TOPIC.name, [{
            key: "portal",
            value: encode(SYNC_EVENTS_TOPIC.name, ev),
          }]);
        }
      }
      await o.onWrite?.(w);
    } catch (err) {
      log.warn("portal write report failed", { error: describeError(err) });
    }
    if (!w.ok && !w.skipped && !stopped && pending === null) {
      const delay = Math.min(
        60_000,
        (o.retryMs ?? 1_000) * 2 ** Math.min(status.consecutive_failures - 1, 16),
      );
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        pending ??= marker;
        kick();
      }, delay);
    }
  };

  const kick = () => {
    if (!live || stopped || running || pending === null) return;
    const marker = pending;
    pending = null;
    clearTimeout(retryTimer);
    retryTimer = undefined;
    running = run(marker).finally(() => {
      running = null;
      kick();
    });
  };

  const onMarker = (m: GitCommitMarker | null) => {
    if (m?.repo !== lzRepo) return;
    pending = m;
    kick();
  };

  return {
    name: "portal-repo",
    topics: { reads: [GIT_FILES_TOPIC.name], writes: [SYNC_EVENTS_TOPIC.name, AUDIT_TOPIC.name] },
    status: () => structuredClone(status),
    async start() {
      const admin = deps.broker.admin();
      await admin.createTopics([
        { name: GIT_FILES_TOPIC.name, partitions: 1, compacted: true },
        { name: AUDIT_TOPIC.name, partitions: 1, compacted: true },
        { name: SYNC_EVENTS_TOPIC.name, partitions: 1, compacted: false },
      ]);
      producer = await deps.broker.producer();
      const from = (await admin.topicOffsets(GIT_FILES_TOPIC.name)).map((p) => ({
        topic: GIT_FILES_TOPIC.name,
        partition: p.partition,
        offset: p.high,
      }));
      const apply = (r: { key: string | null; value: Uint8Array | null; offset: number }) => {
        try {
          return table.apply(r);
        } catch (err) {
          log.warn("skipping an undecodable lz.git.files.v1 record", {
            offset: r.offset,
            error: describeError(err),
          });
          return null;
        }
      };
      await readTopicToEnd(deps.broker, GIT_FILES_TOPIC.name, (r) => void apply(r));
      live = true;
      onMarker(table.marker(lzRepo) ?? null);
      reader = deps.broker.reader({ topics: [GIT_FILES_TOPIC.name], from });
      await reader.run((batch) => {
        for (const r of batch.records) onMarker(apply(r));
        return Promise.resolve();
      });
      log.info("portal repository sink started", {
        location: clone.location,
        branch: cfg.branch,
        lz_repo: lzRepo,
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      await reader?.stop();
      reader = null;
      await running;
      await producer?.close();
      producer = null;
      clone.close();
    },
  };
}
