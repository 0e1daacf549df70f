/**
 * The Portal repository sink as a topology (app `lzsync-portal-repo`), run by the processor host like every
 * other consumer of lzsync, so `replay`, `lag`, `digest` and the DLQ cover it.
 *
 * Input `lz.git.files.v1` (one partition: a sync's file records arrive before its commit marker). For every
 * commit marker of the Landing Zone the processor asks the git writer ({@link PortalWriter}, the topology's
 * sink, flushed at the checkpoint) to write the mapped files into the Portal's repository; the write
 * commits only when the mapped tree differs. At its next punctuation the processor takes the writer's
 * reports and forwards the `portal` layer's sync event (`lz.sync.events.v1`) and the `portal_write` audit
 * record (`lz.audit.v1`).
 *
 * **State** (one changelogged store, restored at start, rebuilt by `replay`):
 * - `desired` — by Landing Zone repo id, the revision the Portal should hold: the latest commit marker, its
 *   input offset, and whether it is `pending` (not written yet, or failing transiently), `written`,
 *   `skipped` (a deleted Landing Zone branch) or `failed` (refused for good, in the DLQ), with the attempts
 *   since it was last written and the last error. This is what makes a restart resume: at the first
 *   punctuation the stored revision is written again — a `pending` one lands, a `written` one commits
 *   nothing unless someone changed the Portal's managed files meanwhile (the check the service made at every
 *   start), a `failed` one is tried once more (after fixing a token, restart) — while the input resumes from
 *   the committed offsets.
 *
 * **Derived, not state**: the Landing Zone's files. `lz.git.files.v1` is compacted and holds them already
 * (the latest record per `<repo>:<path>`), so the topology reads it as a table at task start and overlays the
 * records it processes after that; a changelogged copy would double the topic on disk (measured: 29 MB of
 * changelog for a 28 MB topic of 20,000 files) and the restore time, for nothing the topic does not say.
 * While the task catches up, the files of the marker it writes are the ones up to that marker, plus files
 * whose only records come after it (a sync still in progress), as the service had them. Also derived: the
 * desired tree (files × `portal_repo.paths` × marker, recomputed at each write,
 * so a mapping change applies at the next write), the Portal's actual tree (read from the Portal before each
 * write: it is the source of truth, and what makes writes idempotent), the outcome details (in the outputs),
 * and the retry timer (in memory; a restart retries at once).
 *
 * **Catch-up collapses**: a marker older (`synced_at`) than the table's marker of the repo (the latest when the task started) is history: it updates `desired` but
 * is not written. So a first start, a start after a long stop or a `replay --to earliest` writes only the
 * latest state, in one commit naming the newest Landing Zone commit, as the service did; live markers are
 * written as they come, and markers that arrive in one batch collapse into the newest.
 *
 * **Failures** (what Flux and Argo CD users expect of a reconciler): a transient failure — the Portal
 * unreachable, a 5xx or 429, the branch moving under every attempt, a large file not yet in the fetcher's
 * mirror — is reported (audit `failed`, a failed `portal` sync event, so status and alerts show it) and
 * retried with backoff (`retryMs` doubling to 60 s) until it lands or a newer Landing Zone commit replaces
 * it. A failure the server gives as final — HTTP 401/403/404, a push refused by a hook or branch protection,
 * a 4xx from the GitHub API, a missing base branch — is reported the same way and goes to `lz.dlq.v1` with
 * the reason; it is not retried until the next Landing Zone commit or a restart (fix the token, restart).
 * Errors that are not lzsync's own (a library tripping over a torn clone) count as transient: the clone is
 * dropped and the next attempt starts from a fresh one.
 *
 * **Delivery**: a write happens in the checkpoint that follows the marker (before the input commit); its
 * reports are forwarded at the next punctuation. A crash in between writes the revision again on restart,
 * which commits nothing (the trees match) and is reported `unchanged`.
 */
import type { AppDeps } from "../../pipeline/service.ts";
import type { InputRecord, Processor, ProcessorContext, Topology } from "../../pipeline/processor/types.ts";
import { createProcessorHost, type ProcessorHost } from "../../pipeline/processor/host.ts";
import type { PortalRepoConfig } from "../../pipeline/config.ts";
import { LzError } from "../../pipeline/errors.ts";
import { encodeJson } from "../../pipeline/serde.ts";
import { bytesToBase64 } from "../../pipeline/base64.ts";
import {
  GIT_FILES_TOPIC,
  type GitCommitMarker,
  type GitFile,
  type GitFilesValue,
} from "../../schemas/git_files.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { AUDIT_TOPIC } from "../../schemas/audit.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";
import { sampleRepoPath } from "../../connectors/git/sample.ts";
import { compileMapping } from "./mapping.ts";
import type { ReadContent } from "./plan.ts";
import { PortalClone } from "./repo.ts";
import { createPortalPulls, type PortalPulls } from "./pulls.ts";
import { mirrorReader } from "./content.ts";
import { PortalWriter } from "./writer.ts";
import { githubRepo, landingZoneId, portalAudit, portalSyncEvent, type PortalWrite } from "./report.ts";

/** Application id (consumer group, changelog prefix). Persisted contract. */
export const PORTAL_REPO_APP = "lzsync-portal-repo";
/** Store of the Portal's desired revision by Landing Zone repo id. Persisted contract. */
export const DESIRED_STORE = "desired";

/** The revision the Portal should hold (value of the `desired` store). Persisted contract. */
export interface PortalDesired {
  marker: GitCommitMarker;
  /** Where the marker is on `lz.git.files.v1` (the DLQ record names it). */
  source: { partition: number; offset: number };
  state: "pending" | "written" | "skipped" | "failed";
  /** Write attempts of this revision since it was last written (0 once written). */
  attempts: number;
  /** The last failed attempt's error (null once written). */
  error: string | null;
}

/** What a running topology needs (absent for the static declaration). */
export interface PortalRun {
  /** The Landing Zone repo id whose markers drive the sink. */
  lzRepo: string;
  writer: PortalWriter;
  /** First retry delay after a transient failure (doubles up to 60 s). */
  retryMs: number;
  /** Interval of the punctuation that reports writes and retries (clock ms). */
  tickMs: number;
}

const MAX_RETRY_MS = 60_000;

function sameMarker(a: GitCommitMarker, b: GitCommitMarker): boolean {
  return a.sync_id === b.sync_id && a.commit === b.commit && a.synced_at === b.synced_at;
}

/** One task's processor. */
function createPortalProcessor(run: PortalRun): Processor<GitFilesValue> {
  let retryAt = 0;
  /** At a task's start the stored revision is written once more, whatever its state (see the module doc). */
  let recheck = true;

  /** Records of `lz.git.files.v1` processed since the task started (null: a tombstone), over the table. */
  const overlay = new Map<string, GitFile | null>();
  const desiredStore = (ctx: ProcessorContext) => ctx.store<PortalDesired>(DESIRED_STORE);
  const table = (ctx: ProcessorContext) => ctx.table<GitFilesValue>(GIT_FILES_TOPIC.name);

  /** The Landing Zone files of `repo` now: the table as read at start, overlaid with what came since. */
  const filesOf = (ctx: ProcessorContext, repo: string): GitFile[] => {
    const out: GitFile[] = [];
    for (const [k, v] of table(ctx)) {
      if (v.kind === "file" && v.repo === repo && !overlay.has(k)) out.push(v);
    }
    for (const v of overlay.values()) if (v && v.repo === repo) out.push(v);
    return out;
  };

  /** True when the topic held a newer marker of the repo when this task started (catch-up history). */
  const superseded = (ctx: ProcessorContext, m: GitCommitMarker): boolean => {
    const latest = table(ctx).get(m.repo);
    return latest?.kind === "commit" && Date.parse(latest.synced_at) > Date.parse(m.synced_at);
  };

  const arm = (ctx: ProcessorContext, d: PortalDesired) => {
    const files = filesOf(ctx, d.marker.repo);
    desiredStore(ctx).put(run.lzRepo, { ...d, state: "pending", attempts: d.attempts + 1 });
    run.writer.request(d.marker, files);
  };

  const skip = (ctx: ProcessorContext, d: PortalDesired) => {
    const at = new Date(ctx.now()).toISOString();
    const error =
      `the Landing Zone branch ${d.marker.branch} was deleted; the Portal's copy is left as it is`;
    const w: PortalWrite = {
      marker: d.marker,
      ok: false,
      skipped: true,
      error,
      started_at: at,
      finished_at: at,
    };
    const audit = portalAudit(w, run.writer.location);
    ctx.forward(AUDIT_TOPIC.name, audit.id, audit);
    desiredStore(ctx).put(run.lzRepo, { ...d, state: "skipped" });
  };

  const toDlq = (ctx: ProcessorContext, d: PortalDesired, w: PortalWrite) => {
    const dlq: DlqRecord = {
      error:
        `cannot write Landing Zone commit ${d.marker.commit} to the Portal repository ${run.writer.location}: ${
          w.error ?? "failed"
        }`.slice(0, 4000),
      error_code: w.error_code ?? "PORTAL_WRITE",
      stage: PORTAL_REPO_APP,
      attempts: d.attempts,
      source: { topic: GIT_FILES_TOPIC.name, partition: d.source.partition, offset: d.source.offset },
      original: { key: d.marker.repo, value_base64: bytesToBase64(encodeJson(d.marker)), headers: {} },
      failed_at: w.finished_at,
    };
    ctx.forward(DLQ_TOPIC.name, `${GIT_FILES_TOPIC.name}/${d.source.partition}/${d.source.offset}`, dlq);
  };

  const report = (ctx: ProcessorContext, w: PortalWrite, now: number) => {
    const audit = portalAudit(w, run.writer.location);
    ctx.forward(AUDIT_TOPIC.name, audit.id, audit);
    const ev = portalSyncEvent(w);
    if (ev) ctx.forward(SYNC_EVENTS_TOPIC.name, "portal", ev);
    const store = desiredStore(ctx);
    const d = store.get(run.lzRepo);
    if (!d || !sameMarker(d.marker, w.marker)) return; // a newer revision replaced it meanwhile
    if (w.ok) {
      store.put(run.lzRepo, { ...d, state: "written", attempts: 0, error: null });
      retryAt = 0;
    } else if (w.retriable) {
      store.put(run.lzRepo, { ...d, state: "pending", error: w.error ?? "failed" });
      retryAt = now + Math.min(MAX_RETRY_MS, run.retryMs * 2 ** Math.min(d.attempts - 1, 16));
    } else {
      store.put(run.lzRepo, { ...d, state: "failed", error: w.error ?? "failed" });
      toDlq(ctx, d, w);
    }
  };

  const tick = (ctx: ProcessorContext, now: number) => {
    for (const w of run.writer.takeReports()) report(ctx, w, now);
    const d = desiredStore(ctx).get(run.lzRepo);
    if (!d || run.writer.requested || now < retryAt || superseded(ctx, d.marker)) return;
    if (d.state === "pending" || (recheck && d.state !== "skipped")) {
      recheck = false;
      arm(ctx, d);
    }
  };

  return {
    init(ctx) {
      ctx.schedule(run.tickMs, (now) => tick(ctx, now));
    },
    process(rec: InputRecord<GitFilesValue>, ctx: ProcessorContext) {
      const v = rec.value;
      if (v === null) {
        if (rec.key !== null) overlay.set(rec.key, null);
        return;
      }
      if (v.kind === "file") {
        overlay.set(rec.key ?? `${v.repo}:${v.path}`, v);
        return;
      }
      if (v.repo !== run.lzRepo) return;
      const d: PortalDesired = {
        marker: v,
        source: { partition: rec.partition, offset: rec.offset },
        state: "pending",
        attempts: 0,
        error: null,
      };
      retryAt = 0;
      recheck = false;
      if (superseded(ctx, v)) desiredStore(ctx).put(run.lzRepo, d);
      else if (v.commit === null) skip(ctx, d);
      else arm(ctx, d);
    },
  };
}

/**
 * The Portal repository topology. Without a run it only declares the app (for `describe`, `replay`,
 * `digest`); a host must never run it that way.
 */
export function portalRepoTopology(run?: PortalRun): Topology<GitFilesValue> {
  return {
    app: PORTAL_REPO_APP,
    description:
      "writes the mapped Landing Zone files into the Portal's repository (one commit per Landing Zone commit that changes them; DLQ when the Portal refuses)",
    inputs: [GIT_FILES_TOPIC.name],
    stores: [DESIRED_STORE],
    tables: [{ topic: GIT_FILES_TOPIC.name }],
    outputs: [SYNC_EVENTS_TOPIC.name, AUDIT_TOPIC.name, DLQ_TOPIC.name],
    sinks: run ? [run.writer] : [],
    create(): Processor<GitFilesValue> {
      if (!run) throw new LzError("CONFIG", "the Portal repository sink runs only with portal_repo enabled");
      return createPortalProcessor(run);
    },
  };
}

/** Options of {@link createPortalRepo} (tests inject these). */
export interface PortalRepoOptions {
  /** The Landing Zone repo id whose markers drive the sink (default: derived from `landing_zone`). */
  lzRepo?: string;
  read?: ReadContent;
  onWrite?(w: PortalWrite): void | Promise<void>;
  /** Pull-request mode's GitHub client (default: `@octokit/rest` per `portal_repo.github`). */
  pulls?: PortalPulls;
  /** First retry delay after a transient failure (doubles up to 60 s; default 1 s). */
  retryMs?: number;
  /** Interval of the reporting/retry punctuation (default 250 ms). */
  tickMs?: number;
}

/** Builds the topology and its writer from `portal_repo` (the caller checks that it is enabled). */
export function createPortalRepo(
  deps: AppDeps,
  cfg: PortalRepoConfig,
  o: PortalRepoOptions = {},
): { topology: Topology<GitFilesValue>; writer: PortalWriter } {
  const config = deps.runtime.config;
  const clone = new PortalClone({
    repo: cfg.repo,
    branch: cfg.branch,
    dataDir: config.data_dir,
    token: deps.runtime.secret(cfg.token_env),
  });
  const pulls = cfg.mode === "pull_request"
    ? o.pulls ?? createPortalPulls({ ...githubRepo(cfg), token: deps.runtime.secret(cfg.token_env) })
    : null;
  const writer = new PortalWriter({
    cfg,
    clone,
    mapping: compileMapping(cfg.paths, cfg.metadata_path),
    pulls,
    read: o.read ??
      mirrorReader(config.landing_zone.repo ?? sampleRepoPath(config.data_dir), config.data_dir),
    log: deps.log.child("portal_repo", { repo: clone.location }),
    clock: deps.clock,
    onWrite: o.onWrite,
  });
  const topology = portalRepoTopology({
    lzRepo: o.lzRepo ?? landingZoneId(deps),
    writer,
    retryMs: o.retryMs ?? 1_000,
    tickMs: o.tickMs ?? 250,
  });
  return { topology, writer };
}

/** The topology in a processor host of its own, closing the writer's clone on stop (tests, tools). */
export function createPortalRepoHost(
  deps: AppDeps,
  cfg: PortalRepoConfig,
  o: PortalRepoOptions & { hostTickMs?: number } = {},
): ProcessorHost & { writer: PortalWriter; topology: Topology } {
  const { topology, writer } = createPortalRepo(deps, cfg, o);
  const host = createProcessorHost(
    { broker: deps.broker, log: deps.log, metrics: deps.metrics, clock: deps.clock },
    topology as Topology,
    { tickMs: o.hostTickMs ?? 50 },
  );
  return {
    ...host,
    writer,
    topology: topology as Topology,
    async stop() {
      await host.stop();
      writer.close();
    },
  };
}
