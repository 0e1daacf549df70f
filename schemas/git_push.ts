/**
 * `lz.git.push.v1`: "the Landing Zone repo may have moved; re-read git". Produced by the GitHub webhook
 * (`source: webhook`), by the git fetcher's schedule and start-up (`schedule`, `start`) and by a manual
 * trigger (`trigger`). The fetcher treats every record as a hint, as Flux and Argo CD do: it fetches the
 * branch and syncs to whatever head git has, so `after` and `paths` are informative, never trusted.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

const Sha = Type.String({ pattern: "^[0-9a-f]{40}$" });
const NullableSha = Type.Union([Sha, Type.Null()]);

/** Paths touched by the push, from the payload's `commits[]` or GitHub's Compare API (a hint). */
export const PushPaths = Type.Object({
  added: Type.Array(Type.String()),
  modified: Type.Array(Type.String()),
  removed: Type.Array(Type.String()),
  /** True when the lists may be incomplete (payload truncated, compare unavailable, capped at 3,000). */
  truncated: Type.Boolean(),
  /** Where the lists came from. */
  from: Type.Union([Type.Literal("payload"), Type.Literal("compare"), Type.Literal("none")]),
}, { additionalProperties: false });
export type PushPaths = Static<typeof PushPaths>;

export const GitPush = Type.Object({
  /** Repo id: GitHub `full_name` (`owner/name`), or the configured repo id for schedule/trigger records. */
  repo: Type.String({ minLength: 1 }),
  /** Clone URL from the payload (`repository.clone_url`), used to match a webhook to the configured repo. */
  clone_url: Type.Optional(Type.String()),
  /** Full ref, e.g. `refs/heads/main`. */
  ref: Type.String({ minLength: 1 }),
  /** Head before the push; null when unknown (schedule, trigger) or the ref was created. */
  before: NullableSha,
  /** Head after the push; null when unknown (schedule, trigger) or the ref was deleted. */
  after: NullableSha,
  forced: Type.Boolean(),
  created: Type.Boolean(),
  deleted: Type.Boolean(),
  /** Number of commits in the payload's `commits[]` (0 for branch deletion, some force-pushes, non-webhooks). */
  commit_count: Type.Integer({ minimum: 0 }),
  head_commit: Type.Union([
    Type.Object({
      id: Sha,
      timestamp: Type.String({ description: "commit time from the payload (ISO-8601 with offset)" }),
      message: Type.String({ maxLength: 2000 }),
    }, { additionalProperties: false }),
    Type.Null(),
  ]),
  paths: PushPaths,
  /** `X-GitHub-Delivery` (stable across redeliveries); null for non-webhook sources. */
  delivery_id: Type.Union([Type.String(), Type.Null()]),
  /** When lzsync received the request (webhook receipt), ISO-8601 UTC. */
  received_at: Type.String({ format: "date-time" }),
  source: Type.Union([
    Type.Literal("webhook"),
    Type.Literal("schedule"),
    Type.Literal("start"),
    Type.Literal("trigger"),
  ]),
  /** Identifies the sync this push starts; progress on `lz.sync.progress.v1` is keyed by it. */
  sync_id: Type.String({ minLength: 1 }),
  pusher: Type.Optional(Type.String()),
  /** Config name of the gateway token that asked for a manual trigger (never the token itself). */
  token_name: Type.Optional(Type.String()),
}, { additionalProperties: false });
export type GitPush = Static<typeof GitPush>;

export const GIT_PUSH_TOPIC = defineTopic({
  name: "lz.git.push.v1",
  schema: GitPush,
  compacted: false,
  partitions: 1,
  key: "repo id (one partition: the fetcher serializes syncs)",
  description:
    "Push hints (webhook, schedule, start, manual trigger) that make the git fetcher re-read the Landing Zone.",
});
