/**
 * Pull-request mode, shaped like the widely used create-pull-request workflow action: one long-lived branch
 * (`portal_repo.pr_branch`, default `lzsync/sync`) and one pull request into the target branch, updated by
 * every Landing Zone commit instead of a new one per sync; closed when the target branch already holds the
 * mapped files (the diff became empty); auto-merge turned on when `auto_merge: true`. Its body lists the
 * source commits.
 *
 * The sync branch only ever moves forward, and the target branch is never written:
 * - no sync branch yet: one commit on the target's head;
 * - the target's head is in the sync branch's history: one commit on the sync branch per Landing Zone commit
 *   (none when the branch already holds the files);
 * - the target moved on (someone committed, or an earlier pull request was merged): a merge commit of the
 *   target's new head and the sync branch, whose tree is the target's tree with the mapped files — the diff
 *   is recomputed from the Portal's new head and nobody's commit is rewritten.
 * The push is a compare-and-swap on the sync branch's fetched head; a lost race starts again from a fetch.
 */
import fs from "node:fs";
import git from "isomorphic-git";
import type { Author, FabricRepo } from "../../connectors/git/git_repo.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { PortalMapping } from "./mapping.ts";
import { commitMessage, type Desired, diffTree } from "./plan.ts";
import { managedTree } from "./tree.ts";
import { MAX_ATTEMPTS, type WriteResult } from "./direct.ts";
import type { PortalPulls, PullRequest } from "./pulls.ts";

/** Where pull-request mode writes. */
export interface PrTarget {
  /** The target branch (read only). */
  base: FabricRepo;
  /** The sync branch (lzsync's; pushed to). Same clone as `base`. */
  head: FabricRepo;
  gitdir: string;
  baseBranch: string;
  prBranch: string;
}

/** Pull-request options. */
export interface PrOptions {
  author: Author;
  autoMerge: boolean;
  mergeMethod: "squash" | "merge" | "rebase";
}

/** Source commits listed in a body (most recent last), at most this many. */
export const MAX_LISTED = 100;
const LINE = /^- `([0-9a-f]{40})` /;

/** The pull request body: the earlier body's source commits plus this one. */
export function prBody(previous: string, d: Desired): string {
  const m = d.marker;
  const lines = previous.split("\n").filter((l) => LINE.test(l));
  const mine = `- \`${m.commit}\` ${m.message.split("\n")[0].slice(0, 120)} (sync ${m.sync_id})`;
  if (!lines.some((l) => l.includes(`\`${m.commit}\``))) lines.push(mine);
  return [
    `lzsync keeps the Landing Zone's docs and config of **${m.repo}** (${m.branch}) in this repository.`,
    "This pull request is updated by every Landing Zone commit and closed when there is nothing to merge.",
    "",
    "Source commits:",
    ...lines.slice(-MAX_LISTED),
    "",
  ].join("\n");
}

const prTitle = (d: Desired) =>
  `lzsync: Landing Zone ${d.marker.repo}@${(d.marker.commit ?? "").slice(0, 12)}`;

async function descends(gitdir: string, oid: string, ancestor: string): Promise<boolean> {
  if (oid === ancestor) return true;
  return await git.isDescendent({ fs, gitdir, oid, ancestor, depth: -1 });
}

const info = (pr: PullRequest, autoMerge: boolean, state = pr.state) => ({
  number: pr.number,
  url: pr.url,
  state,
  auto_merge: autoMerge,
});

/** Brings the sync branch and its pull request to `desired`. */
export async function writePullRequest(
  t: PrTarget,
  pulls: PortalPulls,
  mapping: PortalMapping,
  desired: Desired,
  o: PrOptions,
  log: Logger,
): Promise<WriteResult> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const base = await t.base.fetch();
    if (base === null) {
      throw new LzError("CONFIG", `the Portal's branch ${t.baseBranch} does not exist in ${t.base.location}`);
    }
    const head = await t.head.fetch();
    const vsBase = await diffTree(desired, await managedTree(t.base, base, mapping), mapping);
    const open = await pulls.findOpen(t.prBranch, t.baseBranch);
    if (!vsBase) {
      if (!open) {
        return { outcome: "unchanged", commit: base, written: [], removed: [], attempts: attempt, pr: null };
      }
      await pulls.close(open.number);
      return {
        outcome: "pr_closed",
        commit: base,
        written: [],
        removed: [],
        attempts: attempt,
        pr: info(open, false, "closed"),
      };
    }
    const message = commitMessage(desired, vsBase);
    let commit: string | null = null;
    if (head === null) commit = await t.head.writeCommit(base, vsBase.changes, message, o.author);
    else if (await descends(t.gitdir, head, base)) {
      const vsHead = await diffTree(desired, await managedTree(t.head, head, mapping), mapping);
      if (vsHead) {
        commit = await t.head.writeCommit(head, vsHead.changes, commitMessage(desired, vsHead), o.author);
      }
    } else commit = await t.head.writeCommit(base, vsBase.changes, message, o.author, [head]);
    if (commit) {
      const pushed = await t.head.push(commit, head);
      if (!pushed.ok) {
        log.info("the sync branch moved while writing; recomputing", { attempt, detail: pushed.detail });
        continue;
      }
    }
    const body = prBody(open?.body ?? "", desired);
    const title = prTitle(desired);
    if (open && !commit && open.body === body) {
      return {
        outcome: "unchanged",
        commit: head,
        written: vsBase.written,
        removed: vsBase.removed,
        attempts: attempt,
        pr: info(open, open.auto_merge),
      };
    }
    const pr = open
      ? await pulls.update(open.number, title, body)
      : await pulls.create(t.prBranch, t.baseBranch, title, body);
    let autoMerge = pr.auto_merge;
    let state = pr.state;
    if (o.autoMerge && !autoMerge) {
      const am = await pulls.autoMerge(pr, o.mergeMethod);
      if (am.state === "failed") log.warn("cannot turn on auto-merge", { pr: pr.number, error: am.error });
      autoMerge = am.state !== "failed";
      if (am.state === "merged") state = "closed";
    }
    return {
      outcome: open ? "pr_updated" : "pr_opened",
      commit: commit ?? head,
      written: vsBase.written,
      removed: vsBase.removed,
      attempts: attempt,
      pr: info(pr, autoMerge, state),
    };
  }
  throw new LzError(
    "PORTAL_CONFLICT",
    `the sync branch ${t.prBranch} of ${t.head.location} kept moving during ${MAX_ATTEMPTS} attempts; will retry`,
    { retriable: true },
  );
}
