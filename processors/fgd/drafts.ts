/**
 * Drafts: Portal edits of a fabric object, kept apart from the desired state (git) until committed.
 *
 * A draft records the desired hash it was based on. When git's version of the object changes under an open
 * draft (an ingestion of a raw drop, someone else's commit), the draft becomes `conflicted` and keeps both
 * versions — the draft and git's — until a user resolves it (a new PUT based on git's version, or a
 * discard). Nothing is overwritten silently in either direction.
 */
import type { KubeObject } from "./object.ts";

/** The state of a draft. */
export type DraftState = "open" | "conflicted" | "failed";

/** Git's version of the object at the moment a conflict was detected. */
export interface Conflict {
  theirs: KubeObject | null;
  theirs_hash: string | null;
  commit: string | null;
  detected_at: string;
}

/** A Portal edit. `object` is normalized without provenance; null for a deletion. */
export interface Draft {
  op: "put" | "delete";
  object: KubeObject | null;
  hash: string | null;
  /** Hash of the desired version the edit started from (null: the object did not exist). */
  base_hash: string | null;
  state: DraftState;
  author: string;
  created_at: string;
  updated_at: string;
  error: string | null;
  conflict: Conflict | null;
}

/** True when git no longer holds the version the draft was based on (and does not already hold the draft). */
export function isStale(draft: Draft, desiredHash: string | null): boolean {
  if (desiredHash === draft.base_hash) return false;
  if (draft.op === "put" && desiredHash !== null && desiredHash === draft.hash) return false;
  if (draft.op === "delete" && desiredHash === null) return false;
  return true;
}

/** True when git already holds exactly what the draft asks for (nothing left to commit). */
export function isApplied(draft: Draft, desiredHash: string | null): boolean {
  return draft.op === "put" ? desiredHash !== null && desiredHash === draft.hash : desiredHash === null;
}

/**
 * Re-checks an open draft against the current desired state: returns the draft marked conflicted (with
 * git's version) when it went stale, or unchanged. Conflicted drafts stay conflicted until resolved.
 */
export function checkDraft(
  draft: Draft,
  desired: { object: KubeObject; hash: string } | undefined,
  commit: string | null,
  now: string,
): Draft {
  if (draft.state === "conflicted") return draft;
  const hash = desired?.hash ?? null;
  if (!isStale(draft, hash)) return draft;
  return {
    ...draft,
    state: "conflicted",
    updated_at: now,
    conflict: { theirs: desired?.object ?? null, theirs_hash: hash, commit, detected_at: now },
  };
}
