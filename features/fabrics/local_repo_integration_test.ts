/**
 * A fabric in a local repository (a path, often a checked-out worktree of the user) is written only the way
 * git writes it: lzsync works in its own bare clone and pushes with the git CLI, so the ref moves by
 * compare-and-swap under `<ref>.lock`, the worktree and index are updated by git under `index.lock` and
 * only when they hold no uncommitted change, and a repository that cannot be read is a failed run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openFabricRepo } from "../../connectors/git/git_repo.ts";
import { FabricGit, runIngestion } from "./ingest.ts";
import { crdRepoFiles, FABRIC_YAML } from "./_test_util.ts";

const AUTHOR = { name: "lzsync", email: "lzsync@example.invalid" };
const SPEC = {
  id: "dc1",
  branch: "main",
  path: "fabrics/dc1",
  crd_dirs: ["fabrics/crds/hedgehog"],
  rule_packs: ["hedgehog"],
};
const GIT_ENV = {
  GIT_AUTHOR_NAME: "user",
  GIT_AUTHOR_EMAIL: "user@example.invalid",
  GIT_COMMITTER_NAME: "user",
  GIT_COMMITTER_EMAIL: "user@example.invalid",
};

async function git(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, env: GIT_ENV, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

async function setup() {
  const root = await Deno.makeTempDir({ prefix: "lzsync-fgd-local-" });
  const dir = join(root, "lz");
  await git(["init", "-q", "--initial-branch=main", dir], root);
  const files: Record<string, string> = { ...crdRepoFiles(), "fabrics/dc1/raw/fabric.yaml": FABRIC_YAML };
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  await git(["add", "-A"], dir);
  await git(["commit", "-qm", "initial"], dir);
  const repo = await openFabricRepo({ repo: dir, branch: "main", gitdir: join(root, "data", "dc1.git") });
  const fg = new FabricGit(SPEC, repo, AUTHOR);
  return {
    root,
    dir,
    fg,
    head: () => git(["rev-parse", "main"], dir),
    async stop() {
      repo.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

async function fsck(dir: string): Promise<void> {
  await git(["fsck", "--strict", "--no-progress"], dir);
}

Deno.test("local fabric repo: a held index.lock (a git command running) is respected; the run fails and writes nothing", async () => {
  const t = await setup();
  try {
    const before = await t.head();
    const index = await Deno.readFile(join(t.dir, ".git", "index"));
    await Deno.writeTextFile(join(t.dir, ".git", "index.lock"), "");
    const r = await runIngestion(t.fg, { maxAttempts: 2 });
    assert.equal(r.outcome, "failed");
    assert.match(r.error!, /index\.lock/);
    assert.equal(await t.head(), before, "the branch did not move");
    assert.deepEqual(await Deno.readFile(join(t.dir, ".git", "index")), index, "the index is untouched");
    assert.ok(Deno.statSync(join(t.dir, ".git", "index.lock")).isFile, "someone else's lock is left alone");

    await Deno.remove(join(t.dir, ".git", "index.lock"));
    const ok = await runIngestion(t.fg);
    assert.equal(ok.outcome, "committed", ok.error ?? "");
    assert.equal(await t.head(), ok.commit);
    assert.equal(await git(["status", "--porcelain"], t.dir), "", "worktree and index follow the commit");
    assert.ok(Deno.statSync(join(t.dir, "fabrics/dc1/managed/vpcs/vpc-1.yaml")).isFile);
    await fsck(t.dir);
  } finally {
    await t.stop();
  }
});

Deno.test("local fabric repo: a held <ref>.lock is respected; the ref moves only by compare-and-swap", async () => {
  const t = await setup();
  try {
    const before = await t.head();
    const lock = join(t.dir, ".git", "refs", "heads", "main.lock");
    await Deno.writeTextFile(lock, "");
    const r = await runIngestion(t.fg, { maxAttempts: 2 });
    assert.equal(r.outcome, "failed");
    assert.equal(await t.head(), before, "the branch did not move");
    assert.ok(Deno.statSync(lock).isFile, "someone else's lock is left alone");
    await Deno.remove(lock);

    // compare-and-swap: a commit made after lzsync fetched makes its push a non-fast-forward
    const base = await t.fg.repo.fetch();
    const commit = await t.fg.repo.writeCommit(
      base,
      {
        writes: new Map([["docs/lzsync.md", "x\n"]]),
        deletes: new Set(),
      },
      "lzsync commit",
      AUTHOR,
    );
    await Deno.writeTextFile(join(t.dir, "docs.md"), "user\n");
    await git(["add", "docs.md"], t.dir);
    await git(["commit", "-qm", "user commit"], t.dir);
    const user = await t.head();
    const pushed = await t.fg.repo.push(commit, base);
    assert.equal(pushed.ok, false);
    assert.equal(await t.head(), user, "the user's commit stays");
    const again = await runIngestion(t.fg);
    assert.equal(again.outcome, "committed", again.error ?? "");
    assert.deepEqual(
      (await git(["log", "--format=%s", "-2", "main"], t.dir)).split("\n")[1],
      "user commit",
      "the ingestion is built on the user's commit",
    );
    await fsck(t.dir);
  } finally {
    await t.stop();
  }
});

Deno.test("local fabric repo: a user's uncommitted change is never overwritten; the run waits for the commit", async () => {
  const t = await setup();
  try {
    const before = await t.head();
    const mine = FABRIC_YAML.replaceAll("vpc-2", "vpc-5");
    await Deno.writeTextFile(join(t.dir, "fabrics/dc1/raw/fabric.yaml"), mine);
    await git(["add", "fabrics/dc1/raw/fabric.yaml"], t.dir);
    const r = await runIngestion(t.fg, { maxAttempts: 2 });
    assert.equal(r.outcome, "failed");
    assert.match(r.error!, /uncommitted|changes/);
    assert.equal(await t.head(), before);
    assert.equal(
      await git(["show", ":fabrics/dc1/raw/fabric.yaml"], t.dir),
      mine.trim(),
      "staged version kept",
    );
    assert.equal(await Deno.readTextFile(join(t.dir, "fabrics/dc1/raw/fabric.yaml")), mine, "worktree kept");

    await git(["commit", "-qm", "user edits the raw file"], t.dir);
    const ok = await runIngestion(t.fg);
    assert.equal(ok.outcome, "committed", ok.error ?? "");
    assert.equal(await git(["status", "--porcelain"], t.dir), "");
    assert.ok(Deno.statSync(join(t.dir, "fabrics/dc1/managed/vpcs/vpc-5.yaml")).isFile);
    await fsck(t.dir);
  } finally {
    await t.stop();
  }
});

Deno.test("local fabric repo: a repository moved away is a failed run that names it, and nothing is recreated there", async () => {
  const t = await setup();
  try {
    await Deno.rename(t.dir, `${t.dir}.moved`);
    const r = await runIngestion(t.fg);
    assert.equal(r.outcome, "failed");
    assert.match(r.error!, /cannot be opened.*not a git repository/);
    assert.equal(
      await Deno.stat(t.dir).then(() => true, () => false),
      false,
      "nothing written at the old path",
    );
  } finally {
    await t.stop();
  }
});

Deno.test("local fabric repo: when the ref update is lost after git updated the worktree, the worktree goes back to the branch", async () => {
  const t = await setup();
  try {
    const before = await t.head();
    // git updates the worktree and index, then the ref update is refused (as when another writer wins it)
    const hook = join(t.dir, ".git", "hooks", "reference-transaction");
    await Deno.writeTextFile(
      hook,
      '#!/bin/sh\n[ "$1" = prepared ] || exit 0\ngrep -qE " (HEAD|refs/heads/main)$" && exit 1\nexit 0\n',
    );
    await Deno.chmod(hook, 0o755);
    const r = await runIngestion(t.fg, { maxAttempts: 1 });
    assert.equal(r.outcome, "failed");
    assert.match(r.error!, /aborted by hook/);
    assert.equal(await t.head(), before);
    await Deno.remove(hook);
    assert.equal(
      await git(["status", "--porcelain"], t.dir),
      "",
      "worktree and index are the branch's again",
    );
    assert.ok(Deno.statSync(join(t.dir, "fabrics/dc1/raw/fabric.yaml")).isFile);
    const ok = await runIngestion(t.fg);
    assert.equal(ok.outcome, "committed", ok.error ?? "");
    assert.equal(await git(["status", "--porcelain"], t.dir), "");
    await fsck(t.dir);
  } finally {
    await t.stop();
  }
});

Deno.test("local fabric repo: the user's changes in paths the run does not write are kept, staged and unstaged", async () => {
  const t = await setup();
  try {
    await Deno.writeTextFile(join(t.dir, "notes.md"), "staged\n");
    await git(["add", "notes.md"], t.dir);
    await Deno.writeTextFile(join(t.dir, "scratch.txt"), "untracked\n");
    const crd = join(
      t.dir,
      "fabrics/crds/hedgehog",
      [...Deno.readDirSync(join(t.dir, "fabrics/crds/hedgehog"))][0].name,
    );
    const edited = `${await Deno.readTextFile(crd)}# user edit\n`;
    await Deno.writeTextFile(crd, edited);
    const r = await runIngestion(t.fg);
    assert.equal(r.outcome, "committed", r.error ?? "");
    assert.equal(await t.head(), r.commit);
    assert.equal(await git(["show", ":notes.md"], t.dir), "staged", "staged change kept");
    assert.equal(await Deno.readTextFile(crd), edited, "unstaged change kept");
    assert.equal(await Deno.readTextFile(join(t.dir, "scratch.txt")), "untracked\n");
    assert.ok(Deno.statSync(join(t.dir, "fabrics/dc1/managed/vpcs/vpc-1.yaml")).isFile);
    const status = (await git(["status", "--porcelain=v2"], t.dir)).split("\n").map((l) =>
      l.split(" ").slice(0, 2).join(" ")
    );
    assert.deepEqual(status.sort(), ["1 .M", "1 A.", "? scratch.txt"], "exactly the user's three changes");
  } finally {
    await t.stop();
  }
});

/**
 * `git commit` reads the index before it takes `index.lock` and then writes what it read: a commit that read
 * the index just before lzsync's update would write the old index back over it (the worktree keeps lzsync's
 * files, the index and the user's next commit undo lzsync's commit). The user's commit here is held between
 * its read and its lock by a `core.fsmonitor` hook, which git runs while reading the index, and let go as
 * soon as the branch moved: lzsync still holds `index.lock` then, so the commit fails and writes nothing.
 */
Deno.test("local fabric repo: a git commit that read the index before lzsync's update cannot write the old index back", async () => {
  const t = await setup();
  const gate = await Deno.makeTempDir({ prefix: "lzsync-fgd-gate-" });
  try {
    const hook = join(gate, "fsmonitor.sh");
    await Deno.writeTextFile(
      hook,
      `#!/bin/sh
[ -n "$LZSYNC_GATE" ] && [ ! -e "$LZSYNC_GATE/released" ] || exit 1
: > "$LZSYNC_GATE/waiting"
i=0
while [ ! -e "$LZSYNC_GATE/go" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done
: > "$LZSYNC_GATE/released"
exit 1
`,
    );
    await Deno.chmod(hook, 0o755);
    await git(["config", "core.fsmonitor", hook], t.dir);
    await Deno.writeTextFile(join(t.dir, "notes.md"), "the user's note\n");
    await git(["add", "notes.md"], t.dir);
    const before = await t.head();
    const commit = new Deno.Command("git", {
      args: ["commit", "-qm", "user adds notes"],
      cwd: t.dir,
      env: { ...GIT_ENV, LZSYNC_GATE: gate },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const exists = (p: string) => {
      try {
        Deno.statSync(p);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; !exists(join(gate, "waiting")); i++) {
      assert.ok(i < 1000, "the user's commit reached its index read");
      await new Promise((r) => setTimeout(r, 10));
    }
    // the commit has read the index; lzsync ingests, and the moment the branch moves the commit goes on
    const run = runIngestion(t.fg);
    const refFile = join(t.dir, ".git", "refs", "heads", "main");
    for (let i = 0; Deno.readTextFileSync(refFile).trim() === before; i++) {
      assert.ok(i < 6000, "the ingestion moved the branch");
      await new Promise((r) => setTimeout(r, 2));
    }
    await Deno.writeTextFile(join(gate, "go"), "");
    const r = await run;
    const user = await commit.output();
    assert.equal(r.outcome, "committed", r.error ?? "");
    await git(["config", "--unset", "core.fsmonitor"], t.dir);
    if (user.success) {
      // the commit took the lock after lzsync's update was in place: it records lzsync's commit too
      assert.equal(await git(["rev-parse", "HEAD^"], t.dir), r.commit);
    } else {
      assert.match(new TextDecoder().decode(user.stderr), /index\.lock|cannot lock ref/);
      assert.equal(await t.head(), r.commit);
    }
    const fabric = await git(["status", "--porcelain", "--", "fabrics"], t.dir);
    assert.equal(fabric, "", "index and worktree hold lzsync's commit, nothing of it undone");
    assert.ok(
      (await git(["ls-files", "fabrics/dc1/managed"], t.dir)).includes("fabrics/dc1/managed/vpcs/vpc-1.yaml"),
    );
    assert.equal(
      await git(["show", ":notes.md"], t.dir),
      "the user's note",
      "the user's staged file is kept",
    );
    await fsck(t.dir);
  } finally {
    await Deno.remove(gate, { recursive: true });
    await t.stop();
  }
});

Deno.test("local fabric repo: a rebase of the branch in progress is waited for, never pushed under", async () => {
  const t = await setup();
  try {
    // the user rebases main onto a branch that conflicts with it: HEAD is detached, main is still the old head
    await git(["checkout", "-qb", "other"], t.dir);
    await Deno.writeTextFile(join(t.dir, "notes.md"), "other\n");
    await git(["add", "notes.md"], t.dir);
    await git(["commit", "-qm", "other"], t.dir);
    await git(["checkout", "-q", "main"], t.dir);
    await Deno.writeTextFile(join(t.dir, "notes.md"), "main\n");
    await git(["add", "notes.md"], t.dir);
    await git(["commit", "-qm", "main"], t.dir);
    const before = await t.head();
    await assert.rejects(git(["rebase", "other"], t.dir), /conflict/i);
    const r = await runIngestion(t.fg, { maxAttempts: 1 });
    assert.equal(r.outcome, "failed");
    assert.match(r.error!, /in progress/);
    assert.equal(await t.head(), before, "main was not moved under the rebase");
    await git(["rebase", "--abort"], t.dir);
    const ok = await runIngestion(t.fg);
    assert.equal(ok.outcome, "committed", ok.error ?? "");
    assert.equal(await git(["status", "--porcelain"], t.dir), "");
    await fsck(t.dir);
  } finally {
    await t.stop();
  }
});
