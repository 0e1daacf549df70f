/**
 * Pushing a commit from lzsync's own clone into a user's local repository, with git doing every write:
 *
 * - the branch is not checked out anywhere (a bare repo, or another branch is): `git push
 *   --force-with-lease=<ref>:<expected>` — the ref moves by compare-and-swap under `<ref>.lock`;
 * - the branch is checked out in a worktree: the commit is pushed to lzsync's own ref
 *   (`refs/lzsync/fgd/<branch>`), then that worktree fast-forwards to it with `git merge --ff-only`, which
 *   holds `index.lock` for the whole two-way merge (a concurrent `git add` waits and is kept, changes in
 *   untouched paths are kept, a change in a path lzsync touches makes git refuse) and then moves the ref by
 *   compare-and-swap. (`receive.denyCurrentBranch=updateInstead` is not used: it checks cleanliness and
 *   replaces the index in two steps, so a file staged in between was deleted.)
 *
 * If the ref update is lost after git updated the worktree, the worktree and index are moved back to the
 * branch (a two-way `read-tree` from lzsync's commit to the head, only when the index still holds exactly
 * lzsync's commit), in the same shell as the merge so that it happens even if lzsync is killed.
 */
import { dirname } from "node:path";
import { LzError } from "../../pipeline/errors.ts";
import { gitReason, type GitRun, runGit, runGitScript } from "../git/cli.ts";

/** Outcome of a push (local here, remote in `git_repo.ts`'s `FabricRepo.push`). */
export type PushOutcome = { ok: true } | { ok: false; reason: "non-fast-forward"; detail: string };

/** What {@link pushToLocal} needs. */
export interface LocalPush {
  /** lzsync's own bare clone holding `commit`. */
  ownGitdir: string;
  /** The user's repository (worktree or bare) and its gitdir. */
  localPath: string;
  userGitdir: string;
  branch: string;
  commit: string;
  /** Head the commit was planned on (null: the branch must not exist). */
  expected: string | null;
  /** Secret-free location for messages. */
  location: string;
}

/** The worktree that has `ref` checked out, or null. */
async function checkedOutIn(userGitdir: string, ref: string): Promise<string | null> {
  const list = await runGit([`--git-dir=${userGitdir}`, "worktree", "list", "--porcelain"]);
  if (!list.ok) return userGitdir.endsWith("/.git") ? dirname(userGitdir) : null;
  let path: string | null = null;
  for (const line of list.stdout.split("\n")) {
    if (line.startsWith("worktree ")) path = line.slice("worktree ".length);
    else if (line === `branch ${ref}` && path) return path;
  }
  return null;
}

const worktreeRefusal = (text: string) =>
  /would be overwritten|local changes|not uptodate|unmerged|merge is in progress|MERGE_HEAD|needs merge/i
    .test(
      text,
    );

/** Pushes (see the module doc); a held lock or uncommitted changes in touched paths throw, retriable. */
export async function pushToLocal(p: LocalPush): Promise<PushOutcome> {
  const ref = `refs/heads/${p.branch}`;
  const refused = (code: string, what: string, run: GitRun) =>
    new LzError(
      code,
      `cannot update ${p.branch} in ${p.location}: ${what} (${
        gitReason(run)
      }); nothing was changed, the next ` +
        "trigger retries",
      { retriable: true },
    );
  const worktree = await checkedOutIn(p.userGitdir, ref);
  if (!worktree) {
    const run = await runGit([
      `--git-dir=${p.ownGitdir}`,
      "push",
      "--porcelain",
      "--no-verify",
      `--force-with-lease=${ref}:${p.expected ?? ""}`,
      p.localPath,
      `${p.commit}:${ref}`,
    ]);
    if (run.ok) return { ok: true };
    const text = `${run.stdout}\n${run.stderr}`;
    if (
      /stale info|non-fast-forward|fetch first|cannot lock ref|failed to update ref|incorrect old/i.test(text)
    ) {
      return { ok: false, reason: "non-fast-forward", detail: gitReason(run) || run.stdout.trim() };
    }
    throw new LzError("GIT_PUSH", `push to ${p.location} was rejected: ${gitReason(run)}`, {
      retriable: true,
    });
  }

  const staging = `refs/lzsync/fgd/${p.branch}`;
  const push = await runGit([
    `--git-dir=${p.ownGitdir}`,
    "push",
    "--quiet",
    "--no-verify",
    "--force",
    p.localPath,
    `${p.commit}:${staging}`,
  ]);
  if (!push.ok) {
    throw new LzError("GIT_PUSH", `push to ${p.location} failed: ${gitReason(push)}`, { retriable: true });
  }
  const inTree = ["-C", worktree];
  try {
    const head = await runGit([...inTree, "rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    const current = head.ok ? head.stdout.trim() : null;
    if (current !== p.expected) {
      return {
        ok: false,
        reason: "non-fast-forward",
        detail: `${p.branch} moved to ${current ?? "nothing"}`,
      };
    }
    // one shell: if git updated the worktree but not the ref, the undo runs even when lzsync is killed
    const merge = await runGitScript(
      `"$GIT" merge --ff-only --no-edit --quiet --no-stat "$1" && exit 0
rc=$?
echo "lzsync: merge failed ($rc)" >&2
if "$GIT" diff-index --cached --quiet "$1" -- && [ "$("$GIT" rev-parse HEAD)" != "$1" ]; then
  "$GIT" read-tree -u -m "$1" HEAD >&2 && echo "lzsync: worktree restored to the branch" >&2
fi
exit $rc`,
      [p.commit],
      worktree,
      { GIT_REFLOG_ACTION: "lzsync fgd ingestion" },
    );
    if (merge.ok) return { ok: true };
    const text = `${merge.stdout}\n${merge.stderr}`;
    if (/index\.lock/i.test(text)) {
      throw refused("GIT_LOCKED", "another git command holds its index.lock", merge);
    }
    if (/not possible to fast-forward|diverging/i.test(text)) {
      return { ok: false, reason: "non-fast-forward", detail: gitReason(merge) };
    }
    if (worktreeRefusal(text)) {
      throw refused(
        "GIT_WORKTREE",
        "it is checked out and has uncommitted changes in paths this run writes; commit or stash them — lzsync " +
          "never overwrites them",
        merge,
      );
    }
    if (/cannot lock ref|failed to update|incorrect old value|is at .* but expected/i.test(text)) {
      return { ok: false, reason: "non-fast-forward", detail: gitReason(merge) };
    }
    throw new LzError("GIT_PUSH", `cannot fast-forward ${p.branch} in ${p.location}: ${gitReason(merge)}`, {
      retriable: true,
    });
  } finally {
    await runGit([`--git-dir=${p.userGitdir}`, "update-ref", "-d", staging]);
  }
}
