/**
 * One Landing Zone repo's sync: fetch the branch, diff the trees between the last synced commit and the new
 * head, and produce one `lz.git.files.v1` record per changed tracked path, then the repo's commit marker.
 *
 * - first sync (nothing on the topic): every tracked file, `diff: "full"`;
 * - normal push: tree diff from the last synced commit (the mirror keeps old objects), plus the paths a
 *   commit in between changed and a later one changed back (their last change is new, their blob is not);
 * - force-push, and the first sync after a start: the whole tracked tree and each file's last change against
 *   what the topic holds, so a file's `commit` is what a first sync would say (`git log -1 --first-parent`);
 * - the last synced commit is gone from the object store (mirror deleted, history rewritten in a local
 *   repo and gc'd): reconcile the new tree against the blob shas the topic holds, `diff: "reconcile"`;
 * - branch deleted by a push (a webhook with `deleted: true`, and the fetch finds no branch): a tombstone for
 *   every file, then a marker with `commit: null`. A branch that is merely missing (no such push) or a repo
 *   that cannot be opened or fetched is a failed sync: reported, retried at the next hint, nothing deleted.
 *
 * A sync whose records were all acknowledged is durable; a crash before the marker only repeats records
 * (same keys, same values) at the next sync.
 */
import type { Headers, Producer, ProduceRecord } from "../../pipeline/broker/types.ts";
import type { Clock } from "../../pipeline/processor/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import { describeError, LzError } from "../../pipeline/errors.ts";
import { encode } from "../../pipeline/serde.ts";
import { bytesToBase64 } from "../../pipeline/base64.ts";
import { fileKey, GIT_FILES_TOPIC, type GitCommitMarker, type GitFile } from "../../schemas/git_files.ts";
import type { GitPush } from "../../schemas/git_push.ts";
import { SYNC_PROGRESS_TOPIC, type SyncPhase, type SyncProgress } from "../../schemas/sync_progress.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import type { PathMatcher } from "./glob.ts";
import { normalizeRepoUrl, type RepoSource } from "./repo.ts";
import {
  commitInfo,
  diffCommits,
  hasCommit,
  isAncestor,
  listTracked,
  type PathChange,
  readBlobBytes,
  touchedSince,
} from "./diff.ts";
import { lastChanges } from "./last_change.ts";
import { crashPoint } from "../../pipeline/crash_point.ts";

/** Header names on `lz.git.files.v1` records (tombstones carry them too). */
export const SYNC_ID_HEADER = "lz-sync-id";
export const COMMIT_HEADER = "lz-commit";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Options of a {@link GitSyncer}. */
export interface SyncerOptions {
  source: RepoSource;
  /** The configured repo URL or path (to match webhook `clone_url`s). */
  repoUrl: string;
  branch: string;
  matcher: PathMatcher;
  inlineMaxBytes: number;
  producer: Producer;
  clock: Clock;
  log: Logger;
  /** Records per produce call (default 500). */
  batchSize?: number;
  /** Called after each finished sync (metrics, tests). */
  onSynced?(result: SyncResult): void;
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

/** Syncs one repo + branch; call {@link GitSyncer.restore} with the topic's records before the first sync. */
export class GitSyncer {
  readonly repo: string;
  #o: SyncerOptions;
  #cache = {};
  #marker: GitCommitMarker | null = null;
  /** path → blob sha and the commit the record names, as the topic holds them. */
  #files = new Map<string, { oid: string; commit: string }>();
  /**
   * False until one sync has compared the whole tracked tree with the files restored from the topic. A kill
   * during a sync's produce can leave the commit marker written and some file records or tombstones not
   * (they go to several partitions, not atomically), so the first sync after a start never trusts the
   * marker alone.
   */
  #reconciled = false;
  #progressChain: Promise<void> = Promise.resolve();

  constructor(o: SyncerOptions) {
    this.#o = o;
    this.repo = o.source.id;
  }

  /** The last commit marker produced (or restored). */
  get marker(): GitCommitMarker | null {
    return this.#marker;
  }

  /** Tracked paths currently on the topic. */
  get paths(): string[] {
    return [...this.#files.keys()].sort();
  }

  /** Applies one `lz.git.files.v1` record read back from the topic (restore). */
  restore(key: string | null, value: GitFile | GitCommitMarker | null): void {
    const prefix = `${this.repo}:`;
    if (value === null) {
      if (key?.startsWith(prefix)) this.#files.delete(key.slice(prefix.length));
      return;
    }
    if (value.repo !== this.repo) return;
    if (value.kind === "commit") this.#marker = value;
    else this.#files.set(value.path, { oid: value.blob_sha, commit: value.commit });
  }

  /** True when a push record is about this repo and branch. */
  accepts(push: GitPush): boolean {
    const sameRepo = push.repo === this.repo ||
      (!!push.clone_url && normalizeRepoUrl(push.clone_url) === normalizeRepoUrl(this.#o.repoUrl));
    return sameRepo && push.ref === `refs/heads/${this.#o.branch}`;
  }

  #now = () => new Date(this.#o.clock.now()).toISOString();

  async #send(topic: string, records: ProduceRecord[]): Promise<void> {
    const size = this.#o.batchSize ?? 500;
    for (let i = 0; i < records.length; i += size) {
      await this.#o.producer.send(topic, records.slice(i, i + size));
    }
  }

  /**
   * Produces a progress record. Intermediate phases are queued (in order) without holding up the sync;
   * a final phase waits for everything queued before it.
   */
  #progress(
    ids: string[],
    phase: SyncPhase,
    message: string,
    extra: Partial<SyncProgress> = {},
  ): Promise<void> {
    const done = phase === "completed" || phase === "failed" || phase === "skipped";
    const at = this.#now();
    const recs = ids.map((sync_id) => {
      const v: SyncProgress = { sync_id, layer: "git", phase, done, repo: this.repo, message, at, ...extra };
      return { key: sync_id, value: encode(SYNC_PROGRESS_TOPIC.name, v) };
    });
    this.#progressChain = this.#progressChain.then(async () => {
      try {
        await this.#o.producer.send(SYNC_PROGRESS_TOPIC.name, recs);
      } catch (err) {
        this.#o.log.warn("cannot produce sync progress", { error: describeError(err) });
      }
    });
    return done ? this.#progressChain : Promise.resolve();
  }

  /**
   * Syncs once for a group of push records (coalesced: one fetch serves them all). Never throws: a failure
   * is reported on `lz.sync.progress.v1` and `lz.sync.events.v1` and returned.
   */
  async sync(pushes: GitPush[]): Promise<SyncResult> {
    const ids = pushes.map((p) => p.sync_id);
    const started = this.#now();
    const last = pushes[pushes.length - 1];
    const webhookTimes = pushes.filter((p) => p.source === "webhook").map((p) => p.received_at).sort();
    const receivedAt = webhookTimes[0] ?? null;
    let result: SyncResult;
    try {
      await this.#progress(ids, "fetching", `fetching ${this.#o.source.location} ${this.#o.branch}`);
      const head = await this.#o.source.fetchHead(this.#o.branch);
      const deletedByPush = pushes.some((p) => p.source === "webhook" && p.deleted);
      result = await this.#apply(ids, head, deletedByPush, last, receivedAt, started);
    } catch (err) {
      const error = describeError(err);
      this.#o.log.error("git sync failed", { repo: this.repo, sync_ids: ids, error });
      result = { syncIds: ids, outcome: "failed", commit: null, changed: 0, removed: 0, error };
      await this.#progress(ids, "failed", error);
      await this.#reportFailure(ids[ids.length - 1], error, started, receivedAt, last);
    }
    this.#o.onSynced?.(result);
    return result;
  }

  async #reportFailure(
    syncId: string,
    error: string,
    started: string,
    receivedAt: string | null,
    push: GitPush,
  ) {
    const finished = this.#now();
    const events: SyncEvent[] = [{
      id: `${syncId}:git`,
      layer: "git",
      ok: false,
      items: 0,
      error,
      trigger: push.source,
      triggered_by: push.pusher ?? push.token_name ?? null,
      started_at: started,
      finished_at: finished,
      received_at: receivedAt,
      ref: syncId,
    }];
    if (receivedAt) events.push({ ...events[0], id: `${syncId}:webhook`, layer: "webhook" });
    try {
      await this.#o.producer.send(
        SYNC_EVENTS_TOPIC.name,
        events.map((e) => ({ key: e.layer, value: encode(SYNC_EVENTS_TOPIC.name, e) })),
      );
    } catch (err) {
      this.#o.log.warn("cannot report the failed sync", { error: describeError(err) });
    }
  }

  /**
   * Every tracked path at `head` whose blob or last change differs from what the topic holds, and every path
   * the topic holds that `head` no longer tracks; with the last change of each tracked path.
   */
  async #compareTree(head: string): Promise<{ changes: PathChange[]; lastCommit: Map<string, string> }> {
    const { gitdir } = this.#o.source;
    const tracked = await listTracked(gitdir, head, this.#o.matcher, this.#cache);
    const lastCommit = await lastChanges(gitdir, head, tracked.keys(), this.#cache);
    const changes: PathChange[] = [];
    for (const [path, { oid, mode }] of tracked) {
      const had = this.#files.get(path);
      if (!had || had.oid !== oid || had.commit !== lastCommit.get(path)) {
        changes.push({ path, op: had ? "modified" : "added", oid, mode });
      }
    }
    for (const path of this.#files.keys()) if (!tracked.has(path)) changes.push({ path, op: "removed" });
    return { changes, lastCommit };
  }

  async #apply(
    ids: string[],
    head: string | null,
    deletedByPush: boolean,
    push: GitPush,
    receivedAt: string | null,
    started: string,
  ): Promise<SyncResult> {
    const { source, matcher } = this.#o;
    const gitdir = source.gitdir;
    const prev = this.#marker?.commit ?? null;
    let changes: PathChange[];
    let diff: GitCommitMarker["diff"];
    let forced = false;
    let lastCommit: Map<string, string> | undefined;
    await this.#progress(
      ids,
      "diffing",
      head ? `diffing ${prev?.slice(0, 7) ?? "empty"}..${head.slice(0, 7)}` : "branch deleted",
    );
    if (head === null) {
      diff = "deleted";
      changes = this.paths.map((path) => ({ path, op: "removed" as const }));
      if (this.#marker && this.#marker.commit === null && changes.length === 0) {
        return this.#skip(ids, null, "branch still deleted");
      }
      if (!deletedByPush) {
        throw new LzError(
          "GIT_BRANCH",
          `branch ${this.#o.branch} is not in ${source.location}; nothing is deleted until a push deletes it ` +
            `(webhook deleted: true). Check landing_zone.branch`,
          { retriable: true },
        );
      }
    } else if (!this.#reconciled && this.#marker && prev) {
      // The first sync after a start: the whole tracked tree against the files restored from the topic
      // (see #reconciled), labelled like the diff it replaces.
      const known = await hasCommit(gitdir, prev, this.#cache);
      diff = known ? "tree" : "reconcile";
      forced = !known || !(await isAncestor(gitdir, prev, head, this.#cache));
      ({ changes, lastCommit } = await this.#compareTree(head));
    } else if (prev === head && this.#marker) {
      changes = [];
      diff = "tree";
    } else if (prev && await hasCommit(gitdir, prev, this.#cache)) {
      diff = "tree";
      forced = !(await isAncestor(gitdir, prev, head, this.#cache));
      const touched = forced ? null : await touchedSince(gitdir, prev, head, matcher, this.#cache);
      if (touched === null) ({ changes, lastCommit } = await this.#compareTree(head));
      else {
        changes = await diffCommits(gitdir, prev, head, matcher, this.#cache);
        const changed = new Set(changes.map((c) => c.path));
        for (const [path, c] of touched) {
          // changed and changed back: same blob as the topic holds, but a newer last change
          if (c.op !== "removed" && !changed.has(path) && this.#files.get(path)?.oid === c.oid) {
            changes.push({ path, op: "modified", oid: c.oid, mode: c.mode });
          }
        }
      }
    } else if (!prev && this.#files.size === 0) {
      diff = "full";
      forced = this.#marker !== null; // branch recreated after a deletion
      changes = await diffCommits(gitdir, null, head, matcher, this.#cache);
    } else {
      diff = "reconcile";
      forced = true;
      ({ changes, lastCommit } = await this.#compareTree(head));
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
    const syncedAt = this.#now();
    const records: ProduceRecord[] = [];
    for (const c of changes) {
      const key = fileKey(this.repo, c.path);
      if (c.op === "removed") {
        records.push({ key, value: null, headers });
        continue;
      }
      records.push({
        key,
        value: encode(
          GIT_FILES_TOPIC.name,
          await this.#fileValue(c, lastCommit.get(c.path) ?? head!, times, syncId, syncedAt),
        ),
        headers,
      });
    }
    if (records.length) {
      await this.#progress(ids, "emitting", `${records.length} changed tracked path(s)`, { commit: head });
      await this.#send(GIT_FILES_TOPIC.name, records);
      crashPoint("git-sync:after-produce");
    }
    const removed = changes.filter((c) => c.op === "removed").length;
    const tracked = this.#files.size + changes.filter((c) => c.op === "added").length - removed;
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
      synced_at: this.#now(),
    };
    await this.#o.producer.send(GIT_FILES_TOPIC.name, [{
      key: this.repo,
      value: encode(GIT_FILES_TOPIC.name, marker),
      headers,
    }]);
    for (const c of changes) {
      if (c.op === "removed") this.#files.delete(c.path);
      else this.#files.set(c.path, { oid: c.oid!, commit: lastCommit.get(c.path) ?? head! });
    }
    this.#marker = marker;
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
    await this.#progress(ids, "completed", msg, { commit: head, changed: marker.changed, removed });
    return { syncIds: ids, outcome: "synced", commit: head, changed: marker.changed, removed, diff };
  }

  async #skip(ids: string[], commit: string | null, message: string): Promise<SyncResult> {
    await this.#progress(ids, "skipped", message, { commit });
    return { syncIds: ids, outcome: "skipped", commit, changed: 0, removed: 0 };
  }

  /** A file record; `commit` is the commit that last changed the file (`times`: commit times by sha). */
  async #fileValue(
    c: PathChange,
    commit: string,
    times: ReadonlyMap<string, string>,
    syncId: string,
    syncedAt: string,
  ) {
    const bytes = await readBlobBytes(this.#o.source.gitdir, c.oid!, this.#cache);
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
    const value: GitFile = {
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
    return value;
  }
}
