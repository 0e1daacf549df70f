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
 */
import type { InputRecord, Processor, ProcessorContext, Topology } from "../../pipeline/processor/types.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { SYNC_PROGRESS_TOPIC, type SyncProgress } from "../../schemas/sync_progress.ts";
import { AUDIT_TOPIC, type AuditRecord } from "../../schemas/audit.ts";

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

function prune(ctx: ProcessorContext, now: number): void {
  const runs = ctx.store<PendingRun>(RUNS_STORE);
  for (const [id, run] of [...runs.entries()]) {
    if (now - run.since < AUDIT_WAIT_MS) continue;
    if (run.progress) ctx.forward(AUDIT_TOPIC.name, `sync:${id}`, syncAudit(run.progress, undefined));
    runs.delete(id);
  }
}

/** One task's processor. */
export function createAudit(): Processor<GitPush | SyncProgress> {
  return {
    process(record: InputRecord<GitPush | SyncProgress>, ctx: ProcessorContext) {
      const v = record.value;
      if (v === null) return;
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
export function auditTopology(app = AUDIT_APP): Topology<GitPush | SyncProgress> {
  return {
    app,
    inputs: [GIT_PUSH_TOPIC.name, SYNC_PROGRESS_TOPIC.name],
    stores: [RUNS_STORE],
    outputs: [AUDIT_TOPIC.name],
    create: createAudit,
    description:
      "audits every Landing Zone sync run with the push (webhook delivery, trigger token) that asked",
  };
}
