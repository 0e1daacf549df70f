/**
 * Direct mode: one commit on the Portal's branch per Landing Zone commit that changes the mapped files.
 *
 * Each attempt fetches the branch, diffs the managed files against the Landing Zone's, builds a commit on
 * the fetched head and pushes it with a compare-and-swap on that head (never a force). When someone else
 * committed in between, the push is refused as non-fast-forward and the next attempt starts again from the
 * Portal's new head, so their commit survives and ours lands on top of it.
 */
import type { Author, FabricRepo } from "../../connectors/git/git_repo.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { PortalMapping } from "./mapping.ts";
import { commitMessage, type Desired, diffTree } from "./plan.ts";
import { managedTree } from "./tree.ts";

/** What one write did to the Portal's repository. */
export interface WriteResult {
  /** `committed` (pushed a commit), `unchanged` (the mapped files already matched), PR outcomes in PR mode. */
  outcome: "committed" | "unchanged" | "pr_opened" | "pr_updated" | "pr_closed";
  /** The Portal commit now holding the files (branch head or PR head), null when the branch is absent. */
  commit: string | null;
  written: string[];
  removed: string[];
  /** Push attempts (more than one when a concurrent commit moved the branch). */
  attempts: number;
  pr?: { number: number; url: string; state: "open" | "closed"; auto_merge: boolean } | null;
}

/** Attempts before a write that keeps losing the race gives up (retriable). */
export const MAX_ATTEMPTS = 5;

/** Writes `desired` onto the branch of `repo`. */
export async function writeDirect(
  repo: FabricRepo,
  mapping: PortalMapping,
  desired: Desired,
  author: Author,
  log: Logger,
): Promise<WriteResult> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const head = await repo.fetch();
    const diff = await diffTree(desired, await managedTree(repo, head, mapping), mapping);
    if (!diff) return { outcome: "unchanged", commit: head, written: [], removed: [], attempts: attempt };
    const commit = await repo.writeCommit(head, diff.changes, commitMessage(desired, diff), author);
    const pushed = await repo.push(commit, head);
    if (pushed.ok) {
      return {
        outcome: "committed",
        commit,
        written: diff.written,
        removed: diff.removed,
        attempts: attempt,
      };
    }
    log.info("the Portal branch moved while writing; recomputing from its new head", {
      repo: repo.location,
      attempt,
      detail: pushed.detail,
    });
  }
  throw new LzError(
    "PORTAL_CONFLICT",
    `the Portal repository ${repo.location} kept moving during ${MAX_ATTEMPTS} attempts; will retry on the next sync`,
    { retriable: true },
  );
}
