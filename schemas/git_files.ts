/**
 * `lz.git.files.v1`: the Landing Zone's tracked files at the synced commit, as a compacted table.
 *
 * Two kinds of records share the topic (one partition, so their order is total):
 * - `kind: "file"`, key `<repo>:<path>`: one record per tracked path that changed in a sync; a tombstone
 *   (null value) when the path was deleted or stopped being tracked (headers `lz-commit`, `lz-sync-id` say
 *   which sync removed it).
 * - `kind: "commit"`, key `<repo>`: written after every file record of a sync was acknowledged — "every
 *   tracked file of this repo is now at `commit`". Consumers that act per sync (the Portal, FGD ingestion)
 *   wait for it; consumers that want files only skip it. It is also the fetcher's resume point.
 *
 * After compaction the latest commit record of a repo still follows every retained file record of that
 * repo, so replaying the topic from the beginning always ends in a consistent state.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

const Sha = Type.String({ pattern: "^[0-9a-f]{40}$" });

/** Where to read a file too large to inline: the blob in the repo (the fetcher's mirror has it). */
export const ContentRef = Type.Object({
  kind: Type.Literal("git-blob"),
  repo: Type.String(),
  commit: Sha,
  blob_sha: Sha,
  path: Type.String(),
}, { additionalProperties: false });
export type ContentRef = Static<typeof ContentRef>;

export const GitFile = Type.Object({
  kind: Type.Literal("file"),
  repo: Type.String({ minLength: 1 }),
  path: Type.String({ minLength: 1, description: "repo-relative, forward slashes" }),
  /** The commit that last changed this file (first-parent history, like `git log -1 --first-parent -- path`). */
  commit: Sha,
  /** Committer time of `commit`. */
  commit_time: Type.String({ format: "date-time" }),
  size: Type.Integer({ minimum: 0 }),
  blob_sha: Sha,
  /** `100644`, `100755` or `120000` (symlink). */
  mode: Type.String(),
  change: Type.Union([Type.Literal("added"), Type.Literal("modified")]),
  /** Inline content when size <= `layers.git.inline_max_bytes`; UTF-8 text, else base64. */
  content: Type.Union([Type.String(), Type.Null()]),
  encoding: Type.Union([Type.Literal("utf-8"), Type.Literal("base64"), Type.Null()]),
  content_ref: Type.Union([ContentRef, Type.Null()]),
  sync_id: Type.String(),
  synced_at: Type.String({ format: "date-time" }),
}, { additionalProperties: false });
export type GitFile = Static<typeof GitFile>;

export const GitCommitMarker = Type.Object({
  kind: Type.Literal("commit"),
  repo: Type.String({ minLength: 1 }),
  branch: Type.String(),
  /** Null when the branch was deleted (every file was tombstoned). */
  commit: Type.Union([Sha, Type.Null()]),
  commit_time: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  message: Type.String({ maxLength: 2000 }),
  author: Type.String(),
  /** The commit synced before this one (null on the first sync). */
  previous: Type.Union([Sha, Type.Null()]),
  /** True when `previous` is not an ancestor of `commit` (force-push) or the branch was recreated. */
  forced: Type.Boolean(),
  /** How the diff was computed: tree diff from previous, full (first sync), or reconciled against the topic. */
  diff: Type.Union([
    Type.Literal("tree"),
    Type.Literal("full"),
    Type.Literal("reconcile"),
    Type.Literal("deleted"),
  ]),
  /** Paths written (file records) and removed (tombstones) by this sync. */
  changed: Type.Integer({ minimum: 0 }),
  removed: Type.Integer({ minimum: 0 }),
  /** Tracked paths in the repo at `commit`. */
  tracked: Type.Integer({ minimum: 0 }),
  sync_id: Type.String(),
  source: Type.String({ description: "source of the push that started the sync" }),
  /** The GitHub pusher (webhook) or gateway token name (manual trigger) of that push. */
  triggered_by: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  /** Webhook receipt time of the push, when the sync was started by a webhook. */
  received_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  started_at: Type.String({ format: "date-time" }),
  synced_at: Type.String({ format: "date-time" }),
}, { additionalProperties: false });
export type GitCommitMarker = Static<typeof GitCommitMarker>;

export const GitFilesValue = Type.Union([GitFile, GitCommitMarker]);
export type GitFilesValue = Static<typeof GitFilesValue>;

/** Record key of a file. */
export const fileKey = (repo: string, path: string) => `${repo}:${path}`;

export const GIT_FILES_TOPIC = defineTopic({
  name: "lz.git.files.v1",
  schema: GitFilesValue,
  compacted: true,
  partitions: 1,
  key: "<repo>:<path> for files, <repo> for the commit marker",
  description:
    "Tracked Landing Zone files at the synced commit (tombstone on delete) plus one commit marker per repo.",
});
