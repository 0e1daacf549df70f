/**
 * `git-fetch` as a topology (app `lzsync-git-fetch`, the consumer group the hand-written service used, so
 * its committed offsets carry over), run by the processor host like every other consumer: `replay`,
 * `digest`, `lag`, changelog restore and the DLQ cover it.
 *
 * Input `lz.git.push.v1` (webhooks, manual triggers, the start-up and scheduled requests). Each accepted push
 * is a hint (as Flux and Argo CD treat one): the processor fetches the branch and forwards the changed
 * tracked files and the commit marker to `lz.git.files.v1` (see `syncer.ts`). A record that cannot be decoded
 * or fails the schema goes to `lz.dlq.v1` (the host's routing), and the partition moves on.
 *
 * **State** (changelogged stores, restored at start, rebuilt by `replay`):
 * - `files` — by `<repo>:<path>`, what `lz.git.files.v1` holds of each tracked file: its blob sha and the
 *   commit its record names ({@link FetchedFile});
 * - `heads` — by repo, the last synced commit (`null` once a push deleted the branch) ({@link FetchedHead});
 * - `pending` — by sync id, pushes taken from the input whose sync has not run yet (see coalescing); empty
 *   at rest, so a crash between the push's commit and its sync loses no hint.
 *
 * Nothing in the stores is a time or a sync id, so a replay that finds git at the same commit rebuilds the
 * same digest. A replay (`--to earliest`: its stores dropped) is a full resync: the first sync re-emits
 * every tracked file.
 *
 * **Coalescing** (a backlog is one fetch): a push whose record is older than the start of the last completed
 * sync of this task is already served — it gets a `completed` progress record naming that sync, no fetch.
 * At most one sync runs per checkpoint: a push that arrives while a sync's records still wait for the
 * checkpoint (and that sync did not serve it) waits in `pending`, and the next punctuation syncs everything
 * pending at once. (Two syncs in one checkpoint would coalesce their markers on the compacted topic into the
 * first one's place, before the second one's files.)
 *
 * **Derived, not state**: the git object cache and "the first sync after a start compares the whole tree"
 * (in memory: a new task reconciles, which repairs a kill between a sync's records and its changelog), and
 * the served-by time (in memory: after a start the first push syncs).
 *
 * **Upgrade** from the hand-written service (its state was `lz.git.files.v1` itself): a task that starts with
 * empty stores while its group has committed push offsets past the earliest one — an install that ran the
 * service, never a fresh one, never `replay --to earliest` (which resets them to the earliest) — seeds the
 * stores once from what the topic holds, so the first start resumes with a tree diff instead of a full
 * resync ({@link GitFetchRun.legacy}).
 *
 * **Side channels**: live progress phases go through the run's {@link GitFetchSink} while a sync runs (the
 * sink's flush, the first step of every checkpoint, waits for them, so they precede the final phase, which is
 * forwarded); the sink reports finished syncs (metrics, `onSynced`) once their records are acknowledged.
 */
import type {
  InputRecord,
  Processor,
  ProcessorContext,
  Sink,
  Topology,
} from "../../pipeline/processor/types.ts";
import { LzError } from "../../pipeline/errors.ts";
import { GIT_FILES_TOPIC } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { SYNC_PROGRESS_TOPIC, type SyncProgress } from "../../schemas/sync_progress.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import type { PathMatcher } from "../../connectors/git/glob.ts";
import type { RepoSource } from "../../connectors/git/repo.ts";
import {
  acceptsPush,
  type FetchedFile,
  type FetchedHead,
  GitSyncer,
  storedPaths,
  type SyncIo,
  type SyncResult,
} from "./syncer.ts";

/** Application id (consumer group, changelog prefix). Persisted contract: the service's group. */
export const GIT_FETCH_APP = "lzsync-git-fetch";
/** Store of the files `lz.git.files.v1` holds, by `<repo>:<path>`. Persisted contract. */
export const FILES_STORE = "files";
/** Store of the last synced commit by repo. Persisted contract. */
export const HEADS_STORE = "heads";
/** Store of pushes waiting for their sync, by sync id. Persisted contract. */
export const PENDING_STORE = "pending";

/** What the hand-written service left on `lz.git.files.v1` of the repo (see {@link GitFetchRun.legacy}). */
export interface LegacyState {
  files: Map<string, FetchedFile>;
  head: FetchedHead | null;
}

/**
 * The topology's sink: sends live progress records, and learns of finished syncs. The host flushes it at
 * each checkpoint (before the outputs) and tells it when the outputs are acknowledged.
 */
export interface GitFetchSink extends Sink {
  /** Sends intermediate progress records now, in order. */
  progress(records: SyncProgress[]): void;
  /** A sync finished (in `seconds`); its records are forwarded and wait for the checkpoint. */
  finished(result: SyncResult, seconds: number): void;
  /** True while a finished sync's records wait for the checkpoint. */
  readonly waiting: boolean;
}

/** What a running topology needs (absent for the static declaration). */
export interface GitFetchRun {
  /** The repo id in record keys. */
  repo: string;
  /** The configured repo URL or path (to match webhook `clone_url`s). */
  repoUrl: string;
  branch: string;
  matcher: PathMatcher;
  inlineMaxBytes: number;
  /** The repo, opened on first use. */
  open(): Promise<RepoSource>;
  /** Closes the repo and the sink's producer (a task closing; the next use opens them again). */
  close(): Promise<void>;
  sink: GitFetchSink;
  /** The upgrade seed, or null (see the module doc). */
  legacy?(app: string): Promise<LegacyState | null>;
  /** Interval of the punctuation that syncs pending pushes (clock ms). */
  tickMs: number;
  /** A push for another repo or branch was ignored (metrics). */
  onIgnored?(push: GitPush): void;
  /** The stores of the running task (the service's `paths`). */
  attach?(paths: () => string[]): void;
}

function createGitFetchProcessor(run: GitFetchRun): Processor<GitPush> {
  let syncer: GitSyncer | null = null;
  /** The start (clock ms) and id of this task's last sync that completed. */
  let served: { at: number; syncId: string; commit: string | null } | null = null;

  const io = (ctx: ProcessorContext): SyncIo => ({
    files: ctx.store<FetchedFile>(FILES_STORE),
    heads: ctx.store<FetchedHead>(HEADS_STORE),
    forward: (topic, key, value, headers) => ctx.forward(topic, key, value, headers),
    progress: (recs) => run.sink.progress(recs),
    now: () => ctx.now(),
  });

  const sync = async (ctx: ProcessorContext, pushes: GitPush[]) => {
    syncer ??= new GitSyncer({
      source: () => run.open(),
      repo: run.repo,
      branch: run.branch,
      matcher: run.matcher,
      inlineMaxBytes: run.inlineMaxBytes,
      log: ctx.log,
    });
    const pending = ctx.store<GitPush>(PENDING_STORE);
    for (const p of pushes) pending.delete(p.sync_id);
    const at = ctx.now();
    const t0 = performance.now();
    const r = await syncer.sync(pushes, io(ctx));
    if (r.outcome !== "failed") served = { at, syncId: r.syncIds[r.syncIds.length - 1], commit: r.commit };
    run.sink.finished(r, (performance.now() - t0) / 1000);
  };

  const servedAlready = (ctx: ProcessorContext, rec: InputRecord<GitPush>, push: GitPush): boolean => {
    if (!served || !(rec.timestamp < served.at)) return false;
    const p: SyncProgress = {
      sync_id: push.sync_id,
      layer: "git",
      phase: "completed",
      done: true,
      repo: run.repo,
      commit: served.commit,
      changed: 0,
      removed: 0,
      message: `served by sync ${served.syncId}, which fetched after this request`,
      at: new Date(ctx.now()).toISOString(),
    };
    ctx.forward(SYNC_PROGRESS_TOPIC.name, push.sync_id, p);
    return true;
  };

  const tick = async (ctx: ProcessorContext) => {
    const pending = ctx.store<GitPush>(PENDING_STORE);
    if (pending.size === 0 || run.sink.waiting) return;
    await sync(ctx, [...pending.entries()].map(([, p]) => p));
  };

  return {
    async init(ctx) {
      const files = ctx.store<FetchedFile>(FILES_STORE);
      const heads = ctx.store<FetchedHead>(HEADS_STORE);
      if (files.size === 0 && heads.size === 0 && run.legacy) {
        const seed = await run.legacy(ctx.app);
        if (seed) {
          for (const [path, f] of seed.files) files.put(`${run.repo}:${path}`, f);
          if (seed.head) heads.put(run.repo, seed.head);
          ctx.log.info("stores seeded from lz.git.files.v1 (first start after the upgrade)", {
            repo: run.repo,
            files: seed.files.size,
            commit: seed.head?.commit ?? null,
          });
        }
      }
      run.attach?.(() => storedPaths(files, run.repo));
      ctx.schedule(run.tickMs, () => tick(ctx));
    },
    async process(rec: InputRecord<GitPush>, ctx: ProcessorContext) {
      const push = rec.value;
      if (push === null) return;
      if (!acceptsPush(push, run.repo, run.repoUrl, run.branch)) {
        run.onIgnored?.(push);
        ctx.log.info("push is not for the tracked repo/branch; ignored", {
          repo: push.repo,
          ref: push.ref,
          sync_id: push.sync_id,
        });
        return;
      }
      if (servedAlready(ctx, rec, push)) return;
      const pending = ctx.store<GitPush>(PENDING_STORE);
      if (run.sink.waiting) {
        pending.put(push.sync_id, push);
        return;
      }
      await sync(ctx, [...[...pending.entries()].map(([, p]) => p), push]);
    },
    async close() {
      await run.close();
    },
  };
}

/**
 * The git-fetch topology. Without a run it only declares the app (for `describe`, `replay`, `digest`); a
 * host must never run it that way.
 */
export function gitFetchTopology(run?: GitFetchRun, app = GIT_FETCH_APP): Topology<GitPush> {
  return {
    app,
    description:
      "fetches the Landing Zone on every push hint and emits the changed tracked files and the commit marker",
    inputs: [GIT_PUSH_TOPIC.name],
    stores: [FILES_STORE, HEADS_STORE, PENDING_STORE],
    outputs: [GIT_FILES_TOPIC.name, SYNC_PROGRESS_TOPIC.name, SYNC_EVENTS_TOPIC.name],
    sinks: run ? [run.sink] : [],
    create(): Processor<GitPush> {
      if (!run) {
        throw new LzError("CONFIG", "git-fetch runs only with the Landing Zone repo it was built for");
      }
      return createGitFetchProcessor(run);
    },
  };
}
