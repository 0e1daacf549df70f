/**
 * `audit`: one `lz.audit.v1` record per Landing Zone sync run, joining the push that asked for it
 * (`lz.git.push.v1`: webhook delivery id, manual trigger and the token name, scheduled poll, start-up) with the
 * sync's final progress (`lz.sync.progress.v1`: completed, skipped or failed, commit, counts).
 *
 * The two inputs are separate topics, so either side may be processed first (a replay reads one topic's
 * backlog before the other's): the join is symmetric — the first side waits in the `runs` store until the
 * other arrives. A side that waits longer than {@link AUDIT_WAIT_MS} (by record time) is flushed: a final
 * progress without its push is audited with trigger `unknown`; a push whose sync never finished (coalesced
 * into another, or lost) is dropped. Times come from the records, so a replay rebuilds the same records.
 *
 * Fabric ingestion runs (`lz.fgd.results.v1`, the `run` record of each) are audited as `fabric_sync`: every
 * run that committed into the fabric's repository or failed, and every run somebody asked for (API sync,
 * registration) even when it changed nothing; unchanged scheduled and start-up runs are not (they would
 * fill the trail with no-ops).
 */
import type { InputRecord, Processor, ProcessorContext, Topology } from "../../pipeline/processor/types.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { SYNC_PROGRESS_TOPIC, type SyncProgress } from "../../schemas/sync_progress.ts";
import { AUDIT_TOPIC, type AuditRecord, type AuditTrigger } from "../../schemas/audit.ts";
import { FGD_RESULTS_TOPIC, type FgdResult } from "../../schemas/fgd.ts";

/** Application id (consumer group, changelog prefix). Persisted contract. */
export const AUDIT_APP = "lzsync-audit";
/** Store of half-joined sync runs by sync id. Persisted contract. */
export const RUNS_STORE = "runs";
/** How long (record time) one side of a run waits for the other. */
export const AUDIT_WAIT_MS = 7 * 24 * 3600_000;

/** One half-joined run. */
export interface PendingRun {
  push?: Pick<GitPush, "repo" | "source" | "delivery_id" | "token_name" | "received_at">;
  progress?: SyncProgress;
  /** Record time of the first side. */
  since: number;
}

/** The audit record of a finished sync run. */
export function syncAudit(progress: SyncProgress, push: PendingRun["push"] | undefined): AuditRecord {
  const outcome = progress.phase === "failed"
    ? "failed"
    : progress.phase === "skipped"
    ? "skipped"
    : (progress.changed ?? 0) + (progress.removed ?? 0) === 0
    ? "unchanged"
    : "ok";
  return {
    id: `sync:${progress.sync_id}`,
    kind: "sync",
    at: progress.at,
    trigger: push?.source ?? "unknown",
    delivery_id: push?.delivery_id ?? null,
    token_name: push?.token_name ?? null,
    operator: null,
    subject: progress.repo ?? push?.repo ?? "",
    sync_id: progress.sync_id,
    commit: progress.commit ?? null,
    outcome,
    error: progress.phase === "failed" ? progress.message : null,
    changed: progress.changed ?? 0,
    removed: progress.removed ?? 0,
    paths: [],
    target: null,
    message: progress.message,
  };
}

/** The audit trigger of a fabric run's `trigger` text (see `features/fabrics/manager.ts`). */
function fabricTrigger(trigger: string): { trigger: AuditTrigger; asked: boolean } {
  if (trigger === "api") return { trigger: "trigger", asked: true };
  if (trigger === "registration") return { trigger: "api", asked: true };
  if (trigger === "start" || trigger === "schedule") return { trigger, asked: false };
  if (trigger.startsWith("push")) return { trigger: "webhook", asked: false };
  if (trigger === "git sync") return { trigger: "sync", asked: false };
  return { trigger: "unknown", asked: false };
}

/** The `fabric_sync` audit record of a fabric run's result, or null when the run is not audited. */
export function fabricAudit(r: FgdResult): AuditRecord | null {
  const run = r.run;
  if (r.type !== "run" || !run) return null;
  const { trigger, asked } = fabricTrigger(run.trigger);
  if (run.outcome === "unchanged" && !asked) return null;
  const outcome = run.outcome === "committed" ? "ok" : run.outcome;
  return {
    id: `fabric_sync:${r.fabric}:${run.sync_id}`,
    kind: "fabric_sync",
    at: run.finished_at,
    trigger,
    delivery_id: null,
    token_name: null,
    operator: null,
    subject: r.fabric,
    sync_id: run.sync_id,
    commit: run.commit,
    outcome,
    error: run.error,
    changed: run.created + run.updated,
    removed: 0,
    paths: [],
    target: run.commit ? `${r.path}@${run.commit}` : null,
    message:
      (run.outcome === "committed"
        ? `ingested ${run.files} file(s): ${run.created} object(s) created, ${run.updated} updated, ${run.rejected} rejected`
        : run.outcome === "failed"
        ? `ingestion failed after ${run.attempts} attempt(s): ${run.error ?? "unknown error"}`
        : `nothing to ingest (${run.files} file(s) looked at)`).slice(0, 2000),
  };
}

function prune(ctx: ProcessorContext, now: number): void {
  const runs = ctx.store<PendingRun>(RUNS_STORE);
  for (const [id, run] of [...runs.entries()]) {
    if (now - run.since < AUDIT_WAIT_MS) continue;
    if (run.progress) ctx.forward(AUDIT_TOPIC.name, `sync:${id}`, syncAudit(run.progress, undefined));
    runs.delete(id);
  }
}

/** One task's processor. */
export function createAudit(): Processor<GitPush | SyncProgress | FgdResult> {
  return {
    process(record: InputRecord<GitPush | SyncProgress | FgdResult>, ctx: ProcessorContext) {
      const v = record.value;
      if (v === null) return;
      if (record.topic === FGD_RESULTS_TOPIC.name) {
        const a = fabricAudit(v as FgdResult);
        if (a) ctx.forward(AUDIT_TOPIC.name, a.id, a);
        return;
      }
      const runs = ctx.store<PendingRun>(RUNS_STORE);
      let id: string;
      let side: Partial<PendingRun>;
      if (record.topic === GIT_PUSH_TOPIC.name) {
        const p = v as GitPush;
        prune(ctx, record.timestamp);
        id = p.sync_id;
        side = {
          push: {
            repo: p.repo,
            source: p.source,
            delivery_id: p.delivery_id,
            received_at: p.received_at,
            ...(p.token_name ? { token_name: p.token_name } : {}),
          },
        };
      } else {
        const p = v as SyncProgress;
        if (!p.done || p.layer !== "git") return;
        id = p.sync_id;
        side = { progress: p };
      }
      const run: PendingRun = { ...(runs.get(id) ?? { since: record.timestamp }), ...side };
      if (run.push && run.progress) {
        ctx.forward(AUDIT_TOPIC.name, `sync:${id}`, syncAudit(run.progress, run.push));
        runs.delete(id);
      } else runs.put(id, run);
    },
  };
}

/** The audit topology. */
export function auditTopology(app = AUDIT_APP): Topology<GitPush | SyncProgress | FgdResult> {
  return {
    app,
    inputs: [GIT_PUSH_TOPIC.name, SYNC_PROGRESS_TOPIC.name, FGD_RESULTS_TOPIC.name],
    stores: [RUNS_STORE],
    outputs: [AUDIT_TOPIC.name],
    create: createAudit,
    description:
      "audits every Landing Zone sync run with the push (webhook delivery, trigger token) that asked, " +
      "and every fabric ingestion run that wrote, failed or was asked for",
  };
}
