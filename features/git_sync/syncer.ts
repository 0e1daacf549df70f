/**
 * One Landing Zone repo's sync, run by the `lzsync-git-fetch` topology (`topology.ts`): fetch the branch, diff
 * the trees between the last synced commit and the new head, and forward one `lz.git.files.v1` record per
 * changed tracked path, then the repo's commit marker. What the topic holds (path -> blob sha and the commit
 * the record names, and the last synced commit) is kept in the topology's changelogged stores
 * ({@link SyncIo}), updated with the records forwarded.
 *
 * - first sync (nothing in the stores): every tracked file, `diff: "full"`;
 * - normal push: tree diff from the last synced commit (the mirror keeps old objects), plus the paths a
 *   commit in between changed and a later one changed back (their last change is new, their blob is not);
 * - force-push, and the first sync after a start: the whole tracked tree and each file's last change against
 *   what the stores hold, so a file's `commit` is what a first sync would say (`git log -1 --first-parent`);
 * - the last synced commit is gone from the object store (mirror deleted, history rewritten in a local
 *   repo and gc'd): reconcile the new tree against the blob shas the stores hold, `diff: "reconcile"`;
 * - branch deleted by a push (a webhook with `deleted: true`, and the fetch finds no branch): a tombstone for
 *   every file, then a marker with `commit: null`. A branch that is merely missing (no such push) or a repo
 *   that cannot be opened or fetched is a failed sync: reported, retried at the next hint, nothing deleted.
 *
 * Progress: the intermediate phases (`fetching`, `diffing`, `emitting`) are sent live through
 * {@link SyncIo.progress} while the sync runs; the final phase (`completed`, `skipped`, `failed`) and a failed
 * sync's `lz.sync.events.v1` report are forwarded with the sync's records, so a reader who sees `completed`
 * finds the records produced in the same checkpoint.
 */
import type { Headers } from "../../pipeline/broker/types.ts";
import type { KeyValueStore } from "../../pipeline/processor/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import { describeError, LzError } from "../../pipeline/errors.ts";
import { bytesToBase64 } from "../../pipeline/base64.ts";
import { fileKey, GIT_FILES_TOPIC, type GitCommitMarker, type GitFile } from "../../schemas/git_files.ts";
import type { GitPush } from "../../schemas/git_push.ts";
import { SYNC_PROGRESS_TOPIC, type SyncPhase, type SyncProgress } from "../../schemas/sync_progress.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import type { PathMatcher } from "../../connectors/git/glob.ts";
import { normalizeRepoUrl, type RepoSource } from "../../connectors/git/repo.ts";
import {
  commitInfo,
  diffCommits,
  hasCommit,
  isAncestor,
  listTracked,
  type PathChange,
  readBlobBytes,
  touchedSince,
} from "../../connectors/git/diff.ts";
import { lastChanges } from "../../connectors/git/last_change.ts";

/** Header names on `lz.git.files.v1` records (tombstones carry them too). */
export const SYNC_ID_HEADER = "lz-sync-id";
export const COMMIT_HEADER = "lz-commit";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A file as `lz.git.files.v1` holds it (value of the `files` store, key `<repo>:<path>`). Persisted contract. */
export interface FetchedFile {
  blob_sha: string;
  /** The commit the file record names (the one that last changed the file). */
  commit: string;
}

/** The last synced commit of a repo (value of the `heads` store, key repo). Persisted contract. */
export interface FetchedHead {
  branch: string;
  /** Null once a push deleted the branch. */
  commit: string | null;
}

/** What a sync reads and writes: the topology's stores, its forwards and the live progress channel. */
export interface SyncIo {
  files: KeyValueStore<FetchedFile>;
  heads: KeyValueStore<FetchedHead>;
  forward(topic: string, key: string | null, value: unknown | null, headers?: Headers): void;
  /** Sends intermediate progress records now (not at the checkpoint). */
  progress(records: SyncProgress[]): void;
  now(): number;
}

/** Options of a {@link GitSyncer}. */
export interface SyncerOptions {
  /** The repo, opened on first use (a failure to open is a failed sync). */
  source: () => Promise<RepoSource>;
  /** The repo id used in record keys. */
  repo: string;
  branch: string;
  matcher: PathMatcher;
  inlineMaxBytes: number;
  log: Logger;
}

/** What one sync did. */
export interface SyncResult {
  syncIds: string[];
  outcome: "synced" | "skipped" | "failed";
  commit: string | null;
  changed: number;
  removed: number;
  diff?: GitCommitMarker["diff"];
  error?: string;
}

/** True when a push record is about `repo` (by id or clone URL) and `branch`. */
export function acceptsPush(push: GitPush, repo: string, repoUrl: string, branch: string): boolean {
  const sameRepo = push.repo === repo ||
    (!!push.clone_url && normalizeRepoUrl(push.clone_url) === normalizeRepoUrl(repoUrl));
  return sameRepo && push.ref === `refs/heads/${branch}`;
}

/** Tracked paths of `repo` in a `files` store, sorted. */
export function storedPaths(files: KeyValueStore<FetchedFile>, repo: string): string[] {
  const prefix = `${repo}:`;
  const out: string[] = [];
  for (const [k] of files.entries()) if (k.startsWith(prefix)) out.push(k.slice(prefix.length));
  return out.sort();
}

/** Syncs one repo + branch for one task of the topology (keeps the git object cache between syncs). */
export class GitSyncer {
  readonly repo: string;
  #o: SyncerOptions;
  #cache = {};
  /**
   * False until one sync has compared the whole tracked tree with the files the stores hold. A kill between
   * a sync's records and its stores' changelog leaves the topic ahead of the stores, so the first sync after
   * a start never trusts the last synced commit alone.
   */
  #reconciled = false;

  constructor(o: SyncerOptions) {
    this.#o = o;
    this.repo = o.repo;
  }

  #iso = (io: SyncIo) => new Date(io.now()).toISOString();

  /** A progress record: intermediate phases live, final ones forwarded with the sync's records. */
  #progress(
    io: SyncIo,
    ids: string[],
    phase: SyncPhase,
    message: string,
    extra: Partial<SyncProgress> = {},
  ): void {
    const done = phase === "completed" || phase === "failed" || phase === "skipped";
    const at = this.#iso(io);
    const recs = ids.map((sync_id): SyncProgress => ({
      sync_id,
      layer: "git",
      phase,
      done,
      repo: this.repo,
      message: message.slice(0, 2000),
      at,
      ...extra,
    }));
    if (!done) io.progress(recs);
    else for (const r of recs) io.forward(SYNC_PROGRESS_TOPIC.name, r.sync_id, r);
  }

  /**
   * Syncs once for a group of push records (coalesced: one fetch serves them all). Never throws: a failure
   * is reported on `lz.sync.progress.v1` and `lz.sync.events.v1` and returned.
   */
  async sync(pushes: GitPush[], io: SyncIo): Promise<SyncResult> {
    const ids = pushes.map((p) => p.sync_id);
    const started = this.#iso(io);
    const last = pushes[pushes.length - 1];
    const webhookTimes = pushes.filter((p) => p.source === "webhook").map((p) => p.received_at).sort();
    const receivedAt = webhookTimes[0] ?? null;
    try {
      const source = await this.#o.source();
      this.#progress(io, ids, "fetching", `fetching ${source.location} ${this.#o.branch}`);
      const head = await source.fetchHead(this.#o.branch);
      const deletedByPush = pushes.some((p) => p.source === "webhook" && p.deleted);
      return await this.#apply(io, source, ids, head, deletedByPush, last, receivedAt, started);
    } catch (err) {
      const error = describeError(err);
      this.#o.log.error("git sync failed", { repo: this.repo, sync_ids: ids, error });
      this.#progress(io, ids, "failed", error);
      this.#reportFailure(io, ids[ids.length - 1], error, started, receivedAt, last);
      return { syncIds: ids, outcome: "failed", commit: null, changed: 0, removed: 0, error };
    }
  }

  #reportFailure(
    io: SyncIo,
    syncId: string,
    error: string,
    started: string,
    receivedAt: string | null,
    push: GitPush,
  ): void {
    const finished = this.#iso(io);
    const events: SyncEvent[] = [{
      id: `${syncId}:git`,
      layer: "git",
      ok: false,
      items: 0,
      error: error.slice(0, 2000),
      trigger: push.source,
      triggered_by: push.pusher ?? push.token_name ?? null,
      started_at: started,
      finished_at: finished,
      received_at: receivedAt,
      ref: syncId,
    }];
    if (receivedAt) events.push({ ...events[0], id: `${syncId}:webhook`, layer: "webhook" });
    for (const e of events) io.forward(SYNC_EVENTS_TOPIC.name, e.layer, e);
  }

  /** What the stores hold of a path (blob sha and the commit its record names). */
  #had(io: SyncIo, path: string): { oid: string; commit: string } | undefined {
    const f = io.files.get(fileKey(this.repo, path));
    return f ? { oid: f.blob_sha, commit: f.commit } : undefined;
  }

  /**
   * Every tracked path at `head` whose blob or last change differs from what the stores hold, and every path
   * the stores hold that `head` no longer tracks; with the last change of each tracked path.
   */
  async #compareTree(
    io: SyncIo,
    gitdir: string,
    head: string,
  ): Promise<{ changes: PathChange[]; lastCommit: Map<string, string> }> {
    const tracked = await listTracked(gitdir, head, this.#o.matcher, this.#cache);
    const lastCommit = await lastChanges(gitdir, head, tracked.keys(), this.#cache);
    const changes: PathChange[] = [];
    for (const [path, { oid, mode }] of tracked) {
      const had = this.#had(io, path);
      if (!had || had.oid !== oid || had.commit !== lastCommit.get(path)) {
        changes.push({ path, op: had ? "modified" : "added", oid, mode });
      }
    }
    for (const path of storedPaths(io.files, this.repo)) {
      if (!tracked.has(path)) changes.push({ path, op: "removed" });
    }
    return { changes, lastCommit };
  }

  async #apply(
    io: SyncIo,
    source: RepoSource,
    ids: string[],
    head: string | null,
    deletedByPush: boolean,
    push: GitPush,
    receivedAt: string | null,
    started: string,
  ): Promise<SyncResult> {
    const { matcher } = this.#o;
    const gitdir = source.gitdir;
    const stored = io.heads.get(this.repo);
    const prev = stored?.commit ?? null;
    const known = storedPaths(io.files, this.repo);
    let changes: PathChange[];
    let diff: GitCommitMarker["diff"];
    let forced = false;
    let lastCommit: Map<string, string> | undefined;
    this.#progress(
      io,
      ids,
      "diffing",
      head ? `diffing ${prev?.slice(0, 7) ?? "empty"}..${head.slice(0, 7)}` : "branch deleted",
    );
    if (head === null) {
      diff = "deleted";
      changes = known.map((path) => ({ path, op: "removed" as const }));
      if (stored && stored.commit === null && changes.length === 0) {
        return this.#skip(io, ids, null, "branch still deleted");
      }
      if (!deletedByPush) {
        throw new LzError(
          "GIT_BRANCH",
          `branch ${this.#o.branch} is not in ${source.location}; nothing is deleted until a push deletes it ` +
            `(webhook deleted: true). Check landing_zone.branch`,
          { retriable: true },
        );
      }
    } else if (!this.#reconciled && stored && prev) {
      // The first sync after a start: the whole tracked tree against the files the stores hold (see
      // #reconciled), labelled like the diff it replaces.
      const knownCommit = await hasCommit(gitdir, prev, this.#cache);
      diff = knownCommit ? "tree" : "reconcile";
      forced = !knownCommit || !(await isAncestor(gitdir, prev, head, this.#cache));
      ({ changes, lastCommit } = await this.#compareTree(io, gitdir, head));
    } else if (prev === head && stored) {
      changes = [];
      diff = "tree";
    } else if (prev && await hasCommit(gitdir, prev, this.#cache)) {
      diff = "tree";
      forced = !(await isAncestor(gitdir, prev, head, this.#cache));
      const touched = forced ? null : await touchedSince(gitdir, prev, head, matcher, this.#cache);
      if (touched === null) ({ changes, lastCommit } = await this.#compareTree(io, gitdir, head));
      else {
        changes = await diffCommits(gitdir, prev, head, matcher, this.#cache);
        const changed = new Set(changes.map((c) => c.path));
        for (const [path, c] of touched) {
          // changed and changed back: same blob as the topic holds, but a newer last change
          if (c.op !== "removed" && !changed.has(path) && this.#had(io, path)?.oid === c.oid) {
            changes.push({ path, op: "modified", oid: c.oid, mode: c.mode });
          }
        }
      }
    } else if (!prev && known.length === 0) {
      diff = "full";
      forced = stored !== undefined; // branch recreated after a deletion
      changes = await diffCommits(gitdir, null, head, matcher, this.#cache);
    } else {
      diff = "reconcile";
      forced = true;
      ({ changes, lastCommit } = await this.#compareTree(io, gitdir, head));
    }

    const info = head ? await commitInfo(gitdir, head, this.#cache) : null;
    const written = changes.filter((c) => c.op !== "removed").map((c) => c.path);
    lastCommit ??= head && written.length
      ? await lastChanges(gitdir, head, written, this.#cache)
      : new Map<string, string>();
    const times = new Map<string, string>(head && info ? [[head, info.time]] : []);
    for (const c of new Set(lastCommit.values())) {
      if (!times.has(c)) times.set(c, (await commitInfo(gitdir, c, this.#cache)).time);
    }
    const syncId = ids[ids.length - 1];
    const headers: Headers = { [SYNC_ID_HEADER]: syncId, [COMMIT_HEADER]: head ?? "" };
    const syncedAt = this.#iso(io);
    if (changes.length) {
      this.#progress(io, ids, "emitting", `${changes.length} changed tracked path(s)`, { commit: head });
    }
    for (const c of changes) {
      const key = fileKey(this.repo, c.path);
      if (c.op === "removed") {
        io.forward(GIT_FILES_TOPIC.name, key, null, headers);
        io.files.delete(key);
        continue;
      }
      const commit = lastCommit.get(c.path) ?? head!;
      const value = await this.#fileValue(gitdir, c, commit, times, syncId, syncedAt);
      io.forward(GIT_FILES_TOPIC.name, key, value, headers);
      io.files.put(key, { blob_sha: c.oid!, commit });
    }
    const removed = changes.filter((c) => c.op === "removed").length;
    const tracked = known.length + changes.filter((c) => c.op === "added").length - removed;
    const marker: GitCommitMarker = {
      kind: "commit",
      repo: this.repo,
      branch: this.#o.branch,
      commit: head,
      commit_time: info?.time ?? null,
      message: info?.message ?? "",
      author: info?.author ?? "",
      previous: prev,
      forced,
      diff,
      changed: changes.length - removed,
      removed,
      tracked,
      sync_id: syncId,
      source: push.source,
      triggered_by: push.pusher ?? push.token_name ?? null,
      received_at: receivedAt,
      started_at: started,
      synced_at: this.#iso(io),
    };
    io.forward(GIT_FILES_TOPIC.name, this.repo, marker, headers);
    io.heads.put(this.repo, { branch: this.#o.branch, commit: head });
    this.#reconciled = true;
    this.#o.log.info("git sync done", {
      repo: this.repo,
      commit: head,
      diff,
      changed: marker.changed,
      removed,
      sync_id: syncId,
    });
    const msg = changes.length
      ? `synced ${marker.changed} changed and ${removed} removed path(s)`
      : "up to date";
    this.#progress(io, ids, "completed", msg, { commit: head, changed: marker.changed, removed });
    return { syncIds: ids, outcome: "synced", commit: head, changed: marker.changed, removed, diff };
  }

  #skip(io: SyncIo, ids: string[], commit: string | null, message: string): SyncResult {
    this.#progress(io, ids, "skipped", message, { commit });
    return { syncIds: ids, outcome: "skipped", commit, changed: 0, removed: 0 };
  }

  /** A file record; `commit` is the commit that last changed the file (`times`: commit times by sha). */
  async #fileValue(
    gitdir: string,
    c: PathChange,
    commit: string,
    times: ReadonlyMap<string, string>,
    syncId: string,
    syncedAt: string,
  ): Promise<GitFile> {
    const bytes = await readBlobBytes(gitdir, c.oid!, this.#cache);
    let content: string | null = null;
    let encoding: GitFile["encoding"] = null;
    if (bytes.length <= this.#o.inlineMaxBytes) {
      try {
        content = utf8.decode(bytes);
        encoding = "utf-8";
      } catch {
        content = bytesToBase64(bytes);
        encoding = "base64";
      }
    }
    return {
      kind: "file",
      repo: this.repo,
      path: c.path,
      commit,
      commit_time: times.get(commit)!,
      size: bytes.length,
      blob_sha: c.oid!,
      mode: c.mode!,
      change: c.op === "added" ? "added" : "modified",
      content,
      encoding,
      content_ref: content === null
        ? { kind: "git-blob", repo: this.repo, commit, blob_sha: c.oid!, path: c.path }
        : null,
      sync_id: syncId,
      synced_at: syncedAt,
    };
  }
}
