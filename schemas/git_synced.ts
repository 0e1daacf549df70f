/**
 * `lz.git.synced.v1`: the commit the Portal's materialized copy (processor `git-sync`) is at, per repo.
 * Produced once every file of a sync is in the Portal's store; drives the `lzsync/portal` commit status.
 */
import { type Static, Type } from "@sinclair/typebox";
import { defineTopic } from "./topic.ts";

const Sha = Type.String({ pattern: "^[0-9a-f]{40}$" });

export const GitSynced = Type.Object({
  repo: Type.String({ minLength: 1 }),
  branch: Type.String(),
  commit: Type.Union([Sha, Type.Null()]),
  commit_time: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  message: Type.String(),
  author: Type.String(),
  previous: Type.Union([Sha, Type.Null()]),
  forced: Type.Boolean(),
  /** Files of this repo in the Portal's copy, and paths changed/removed by this sync. */
  files: Type.Integer({ minimum: 0 }),
  changed: Type.Integer({ minimum: 0 }),
  removed: Type.Integer({ minimum: 0 }),
  /** False when the Portal's file count differs from the fetcher's tracked count (an inconsistency). */
  consistent: Type.Boolean(),
  sync_id: Type.String(),
  source: Type.String(),
  received_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  materialized_at: Type.String({ format: "date-time" }),
  /** commit time → materialized, and webhook receipt → materialized (null when not a webhook sync). */
  commit_latency_seconds: Type.Union([Type.Number(), Type.Null()]),
  receipt_latency_seconds: Type.Union([Type.Number(), Type.Null()]),
}, { additionalProperties: false });
export type GitSynced = Static<typeof GitSynced>;

export const GIT_SYNCED_TOPIC = defineTopic({
  name: "lz.git.synced.v1",
  schema: GitSynced,
  compacted: true,
  partitions: 1,
  key: "repo id",
  description: "The commit the Portal's materialized Landing Zone copy is at, per repo.",
});
