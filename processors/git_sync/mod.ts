/**
 * `git-sync`: the Portal's materialized copy of the Landing Zone's tracked files at the synced commit.
 *
 * Input `lz.git.files.v1` (one partition, so file records and their commit marker arrive in order). File
 * records and tombstones update the `files` store (key `<repo>:<path>`, the file with its content); a commit
 * marker means every file of that sync is in, so the processor checks that its copy holds exactly the
 * fetcher's tracked count, records the commit in `commits`, and forwards:
 * - `lz.git.synced.v1` (key repo): the commit the Portal is at, with the sync's latencies;
 * - `lz.sync.events.v1`: a `git` layer report (and a `webhook` report when a webhook started the sync).
 *
 * Latency "commit → materialized" counts only commits made after the previous sync finished (a commit that
 * predates lzsync's last look is not a delay of lzsync's making); "receipt → materialized" is measured from
 * the webhook receipt time carried by the marker.
 *
 * Times come from the records, never the wall clock: `materialized_at` is the marker record's timestamp (when
 * the fetcher had every file of the sync on the topic), so a replay rebuilds byte-identical stores and reports
 * the same latencies instead of "now − commit time" hours later (no false SyncLatency alert after a replay).
 */
import type { InputRecord, Processor, ProcessorContext, Topology } from "../../pipeline/processor/types.ts";
import {
  GIT_FILES_TOPIC,
  type GitCommitMarker,
  type GitFile,
  type GitFilesValue,
} from "../../schemas/git_files.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";

/** Application id (consumer group, changelog prefix). Persisted contract. */
export const GIT_SYNC_APP = "lzsync-git-sync";
/** Store of files by `<repo>:<path>`. Persisted contract. */
export const FILES_STORE = "files";
/** Store of the last synced commit by repo. Persisted contract. */
export const COMMITS_STORE = "commits";

const seconds = (
  from: string | null,
  to: number,
) => (from ? Math.max(0, (to - Date.parse(from)) / 1000) : null);

function materialize(marker: GitCommitMarker, at: number, ctx: ProcessorContext): void {
  const files = ctx.store<GitFile>(FILES_STORE);
  const commits = ctx.store<GitSynced>(COMMITS_STORE);
  let count = 0;
  for (const [, f] of files.entries()) if (f.repo === marker.repo) count++;
  const now = at;
  const previous = commits.get(marker.repo);
  const changedAfterLastLook = marker.commit_time !== null && previous !== undefined &&
    Date.parse(marker.commit_time) >= Date.parse(previous.materialized_at);
  const consistent = count === marker.tracked;
  const synced: GitSynced = {
    repo: marker.repo,
    branch: marker.branch,
    commit: marker.commit,
    commit_time: marker.commit_time,
    message: marker.message,
    author: marker.author,
    previous: marker.previous,
    forced: marker.forced,
    files: count,
    changed: marker.changed,
    removed: marker.removed,
    consistent,
    sync_id: marker.sync_id,
    source: marker.source,
    received_at: marker.received_at,
    materialized_at: new Date(now).toISOString(),
    commit_latency_seconds: changedAfterLastLook ? seconds(marker.commit_time, now) : null,
    receipt_latency_seconds: marker.source === "webhook" ? seconds(marker.received_at, now) : null,
  };
  if (!consistent) {
    ctx.log.error("the Portal's copy does not match the fetcher's tracked count", {
      repo: marker.repo,
      commit: marker.commit,
      portal: count,
      fetcher: marker.tracked,
    });
  }
  commits.put(marker.repo, synced);
  ctx.forward(GIT_SYNCED_TOPIC.name, marker.repo, synced);
  const base: SyncEvent = {
    id: `${marker.sync_id}:git`,
    layer: "git",
    ok: consistent,
    items: marker.changed + marker.removed,
    started_at: marker.started_at,
    finished_at: synced.materialized_at,
    commit_time: changedAfterLastLook ? marker.commit_time : null,
    received_at: marker.received_at,
    ...(isTrigger(marker.source) ? { trigger: marker.source } : {}),
    triggered_by: marker.triggered_by ?? null,
    ref: marker.commit ?? `deleted ${marker.branch}`,
    ...(consistent
      ? {}
      : { error: `Portal holds ${count} files of ${marker.repo}, the fetcher tracks ${marker.tracked}` }),
  };
  ctx.forward(SYNC_EVENTS_TOPIC.name, "git", base);
  if (marker.source === "webhook" && marker.received_at) {
    ctx.forward(
      SYNC_EVENTS_TOPIC.name,
      "webhook",
      {
        ...base,
        id: `${marker.sync_id}:webhook`,
        layer: "webhook",
        started_at: marker.received_at,
      } satisfies SyncEvent,
    );
  }
}

const TRIGGERS = new Set(["webhook", "schedule", "start", "trigger"]);
const isTrigger = (s: string): s is "webhook" | "schedule" | "start" | "trigger" => TRIGGERS.has(s);

/** One task's processor. */
export function createGitSync(): Processor<GitFilesValue> {
  return {
    process(record: InputRecord<GitFilesValue>, ctx: ProcessorContext) {
      const files = ctx.store<GitFile>(FILES_STORE);
      const v = record.value;
      if (v === null) {
        if (record.key !== null) files.delete(record.key);
        return;
      }
      if (v.kind === "file") files.put(record.key ?? `${v.repo}:${v.path}`, v);
      else materialize(v, record.timestamp, ctx);
    },
  };
}

/** The git-sync topology. */
export function gitSyncTopology(app = GIT_SYNC_APP): Topology<GitFilesValue> {
  return {
    app,
    inputs: [GIT_FILES_TOPIC.name],
    stores: [FILES_STORE, COMMITS_STORE],
    outputs: [GIT_SYNCED_TOPIC.name, SYNC_EVENTS_TOPIC.name],
    create: createGitSync,
    description: "materializes the synced Landing Zone files; reports each synced commit",
  };
}
