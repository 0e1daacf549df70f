/**
 * Pushing a commit from lzsync's own clone into a user's local repository, with git doing every write:
 *
 * - the branch is not checked out anywhere (a bare repo, or another branch is): `git push
 *   --force-with-lease=<ref>:<expected>` — the ref moves by compare-and-swap under `<ref>.lock`;
 * - the branch is checked out in a worktree: the commit is pushed to lzsync's own ref
 *   (`refs/lzsync/fgd/<branch>`), then one shell script ({@link WORKTREE_SCRIPT}) updates that worktree while
 *   it holds the worktree's `index.lock` for the whole update: a two-way `git read-tree -u -m` from the
 *   planned head to lzsync's commit into a copy of the index (the user's staged and unstaged changes in
 *   other paths are kept; a change in a path lzsync writes, or an untracked file in its way, makes git
 *   refuse), the ref's compare-and-swap (`git update-ref <ref> <new> <old>`), then the new index renamed into
 *   place. If the ref update is refused the worktree goes back (the reverse two-way read-tree) and the index
 *   was never touched. A merge, rebase, cherry-pick or revert in progress there is refused.
 *
 * Why the lock is kept a moment longer ({@link INDEX_HOLD_SECONDS}) after the update: `git commit` reads the
 * index before it takes `index.lock`, then writes what it read. A commit that read the index just before
 * lzsync's update would write the old index back over it, and the user's next commit would undo lzsync's.
 * With the lock still held, such a commit fails ("index.lock: File exists") and writes nothing; the user's
 * retry then records lzsync's commit. (`git merge --ff-only` releases `index.lock` before it moves the ref,
 * and `receive.denyCurrentBranch=updateInstead` checks cleanliness and replaces the index in two steps; both
 * lost a concurrent user's commit.)
 *
 * The script runs in a session of its own (`runGitScript`), so it completes even if lzsync is killed.
 */
import { dirname } from "node:path";
import { LzError } from "../../pipeline/errors.ts";
import { gitReason, type GitRun, runGit, runGitScript } from "./cli.ts";

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

/**
 * The worktree that has `ref` checked out, or null. A worktree in the middle of rebasing `ref` counts (its
 * HEAD is detached, the rebase moves `ref` when it ends): the update script then refuses until it ends.
 */
async function checkedOutIn(userGitdir: string, ref: string): Promise<string | null> {
  const list = await runGit([`--git-dir=${userGitdir}`, "worktree", "list", "--porcelain"]);
  if (!list.ok) return userGitdir.endsWith("/.git") ? dirname(userGitdir) : null;
  let path: string | null = null;
  for (const line of list.stdout.split("\n")) {
    if (line.startsWith("worktree ")) path = line.slice("worktree ".length);
    else if (line === `branch ${ref}` && path) return path;
    else if (line === "detached" && path && await rebasing(path, ref)) return path;
  }
  return null;
}

/** Whether the worktree at `path` is rebasing `ref`. */
async function rebasing(path: string, ref: string): Promise<boolean> {
  const dir = await runGit(["-C", path, "rev-parse", "--absolute-git-dir"]);
  if (!dir.ok) return false;
  for (const d of ["rebase-merge", "rebase-apply"]) {
    const name = await Deno.readTextFile(`${dir.stdout.trim()}/${d}/head-name`).catch(() => "");
    if (name.trim() === ref) return true;
  }
  return false;
}

const worktreeRefusal = (text: string) =>
  /would be overwritten|local changes|not uptodate|unmerged|resolve your current index|needs merge/i.test(
    text,
  );

/** Seconds lzsync keeps a worktree's `index.lock` after updating it (see the module doc). */
export const INDEX_HOLD_SECONDS = 0.5;

const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const ZERO_ID = "0".repeat(40);

/**
 * Updates the worktree (cwd) from `$2` (the planned head; the empty tree and no ref for an unborn branch) to
 * `$1` and moves ref `$3` by compare-and-swap from `$2` (`$4`: the old value for update-ref), holding
 * `index.lock` throughout and `$5` seconds after. Exit codes: 0 done; 75 the lock is held; 76 an operation
 * is in progress; 77 the ref moved; others: git's own refusal (its message on stderr).
 */
export const WORKTREE_SCRIPT = `GITDIR=$("$GIT" rev-parse --absolute-git-dir) || exit 70
LOCK="$GITDIR/index.lock"
NEXT="$GITDIR/lzsync-index.next"
if ! (set -C; : >"$LOCK") 2>/dev/null; then echo "lzsync: $LOCK exists: another git command holds index.lock" >&2; exit 75; fi
fail() { rc=$1; shift; echo "lzsync: $*" >&2; rm -f "$NEXT" "$LOCK"; exit "$rc"; }
for f in MERGE_HEAD CHERRY_PICK_HEAD REVERT_HEAD rebase-merge rebase-apply; do
  [ -e "$GITDIR/$f" ] && fail 76 "an operation is in progress in the worktree ($f); lzsync waits for it to end"
done
rm -f "$NEXT"
if [ -f "$GITDIR/index" ]; then cp "$GITDIR/index" "$NEXT" || fail 70 "cannot copy the index"; fi
head=$("$GIT" rev-parse --verify --quiet "$3^{commit}")
[ "$head" = "$([ "$4" = ${ZERO_ID} ] || echo "$4")" ] || fail 77 "$3 moved to \${head:-nothing}"
GIT_INDEX_FILE="$NEXT" "$GIT" read-tree -u -m "$2" "$1" || fail $? "git read-tree refused to update the worktree"
"$GIT" update-ref -m "lzsync fgd ingestion" "$3" "$1" "$4" || {
  rc=$?
  GIT_INDEX_FILE="$NEXT" "$GIT" read-tree -u -m "$1" "$2" && echo "lzsync: worktree restored to the branch" >&2
  fail "$rc" "the ref update was refused"
}
mv -f "$NEXT" "$GITDIR/index" || fail 70 "cannot install the new index"
sleep "$5"
rm -f "$LOCK"
exit 0`;

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
    const merge = await runGitScript(
      WORKTREE_SCRIPT,
      [p.commit, p.expected ?? EMPTY_TREE, ref, p.expected ?? ZERO_ID, String(INDEX_HOLD_SECONDS)],
      worktree,
    );
    if (merge.ok) return { ok: true };
    const text = `${merge.stdout}\n${merge.stderr}`;
    if (merge.code === 75 || /index\.lock/i.test(text)) {
      throw refused("GIT_LOCKED", "another git command holds its index.lock", merge);
    }
    if (merge.code === 76) throw refused("GIT_WORKTREE", "an operation is in progress there", merge);
    if (merge.code === 77) return { ok: false, reason: "non-fast-forward", detail: gitReason(merge) };
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
