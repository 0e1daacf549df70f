/**
 * SIGKILL during fabric ingestion into a local repository (a checked-out worktree) while a user commits
 * there: after every kill the repository passes `git fsck --strict`, `git status` works and is clean (no
 * half-written index, nothing left untracked), and every raw file the user committed is in exactly one of
 * raw/ or managed/ (as its object). Bounded: 6 kills at random moments, a few seconds each.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openFabricRepo } from "../../connectors/git/git_repo.ts";
import { FabricGit, runIngestion } from "./ingest.ts";
import { crdRepoFiles } from "./_test_util.ts";

const ENV = {
  GIT_AUTHOR_NAME: "user",
  GIT_AUTHOR_EMAIL: "user@example.invalid",
  GIT_COMMITTER_NAME: "user",
  GIT_COMMITTER_EMAIL: "user@example.invalid",
};
const KILLS = 6;

async function git(args: string[], cwd: string): Promise<{ ok: boolean; out: string; err: string }> {
  const o = await new Deno.Command("git", { args, cwd, env: ENV, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { ok: o.success, out: d.decode(o.stdout).trim(), err: d.decode(o.stderr).trim() };
}

async function must(args: string[], cwd: string): Promise<string> {
  const r = await git(args, cwd);
  if (!r.ok) throw new Error(`git ${args.join(" ")}: ${r.err}${r.out ? `\n${r.out}` : ""}`);
  return r.out;
}

const vpc = (k: number) =>
  `apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v${k}\nspec:\n  subnets:\n` +
  `    default: {subnet: 10.${k}.0.0/24, vlan: ${1000 + k}}\n`;

/** The user's commit of raw file `k`, retried while git (lzsync's push) holds the index. */
async function userCommit(dir: string, k: number): Promise<void> {
  await Deno.writeTextFile(join(dir, `fabrics/dc1/raw/f${k}.yaml`), vpc(k));
  for (let attempt = 0;; attempt++) {
    const add = await git(["add", `fabrics/dc1/raw/f${k}.yaml`], dir);
    const commit = add.ok ? await git(["commit", "-qm", `user adds f${k}`], dir) : add;
    if (commit.ok) return;
    if (attempt > 200) throw new Error(`user commit of f${k}: ${commit.err}`);
    // the file was written a moment ago: a git command that made it vanish lost the user's data
    assert.ok(!/did not match/.test(commit.err), `f${k} vanished from the worktree: ${commit.err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Processes (other than this one) working in `dir` or below, or naming it: the killed child's git script
 * runs in the worktree, its `git push` names the repository, and that push's `git receive-pack` runs in
 * `.git`.
 */
function processesIn(...dirs: string[]): number[] {
  const out: number[] = [];
  const under = (p: string) => dirs.some((dir) => p === dir || p.startsWith(`${dir}/`));
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      const cwd = Deno.readLinkSync(`/proc/${pid}/cwd`);
      const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
      if (under(cwd) || args.some(under)) out.push(pid);
    } catch { /* gone, or not ours */ }
  }
  return out;
}

async function settle(dir: string): Promise<void> {
  // git processes started by the killed child finish on their own (they run in a session of their own):
  // wait until none works in the repository any more — between two git commands of one script no lock
  // is held — and their locks are gone
  const real = Deno.realPathSync(dir);
  for (let i = 0; i < 400; i++) {
    const locks = [".git/index.lock", ".git/refs/heads/main.lock"].filter((p) => {
      try {
        Deno.statSync(join(dir, p));
        return true;
      } catch {
        return false;
      }
    });
    if (!locks.length && processesIn(real, dir).length === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("a git lock or a git process stayed behind");
}

/**
 * `git fsck --strict`. A failure is checked again once the repository has settled a second time: a missing
 * object that a git process still writing brings a moment later is not corruption, and is printed; one
 * that stays fails the test.
 */
async function fsck(dir: string, round: number): Promise<void> {
  const first = await git(["fsck", "--strict", "--no-progress"], dir);
  if (first.ok) return;
  await settle(dir);
  await new Promise((r) => setTimeout(r, 500));
  await must(["fsck", "--strict", "--no-progress"], dir);
  console.log(
    `round ${round}: git fsck failed once while the repository settled, then passed: ${first.err} ${first.out}`,
  );
}

async function check(dir: string, made: number[], round: number): Promise<void> {
  await fsck(dir, round);
  const status = await must(["status", "--porcelain"], dir);
  assert.equal(status, "", `round ${round}: worktree and index match the branch`);
  const tree = new Set((await must(["ls-tree", "-r", "--name-only", "main"], dir)).split("\n"));
  for (const k of made) {
    const places = [`fabrics/dc1/raw/f${k}.yaml`, `fabrics/dc1/managed/vpcs/v${k}.yaml`].filter((p) =>
      tree.has(p)
    );
    assert.equal(places.length, 1, `round ${round}: f${k} is in exactly one place (${places.join(", ")})`);
  }
}

Deno.test("SIGKILL during local fabric ingestion with a concurrent committer loses nothing and never corrupts the repo", async () => {
  const root = await Deno.makeTempDir({ prefix: "lzsync-fgd-kill-" });
  const dir = join(root, "lz");
  const own = join(root, "data", "dc1.git");
  await must(["init", "-q", "--initial-branch=main", dir], root);
  for (const [p, text] of Object.entries({ ...crdRepoFiles(), "fabrics/dc1/raw/.gitkeep": "" })) {
    await Deno.mkdir(join(dir, p, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, p), text);
  }
  await must(["add", "-A"], dir);
  await must(["commit", "-qm", "initial"], dir);
  const child = new URL("./_kill_child.ts", import.meta.url).pathname;
  const made: number[] = [];
  let k = 1;
  let runs = 0;
  const outcomes = new Map<string, number>();
  try {
    for (let round = 1; round <= KILLS; round++) {
      const proc = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", child, dir, own],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const output = new Response(proc.stdout).text();
      const until = Date.now() + 300 + Math.random() * 1500;
      while (Date.now() < until) {
        await userCommit(dir, k);
        made.push(k++);
        await new Promise((r) => setTimeout(r, Math.random() * 150));
      }
      // then the child runs without a competing committer for a while, so kills also land mid-commit
      await new Promise((r) => setTimeout(r, Math.random() * 800));
      proc.kill("SIGKILL");
      await proc.status;
      for (const line of (await output).split("\n").filter(Boolean)) {
        runs++;
        const o = JSON.parse(line) as { outcome: string };
        outcomes.set(o.outcome, (outcomes.get(o.outcome) ?? 0) + 1);
      }
      await settle(dir);
      await check(dir, made, round);
    }
    // after the kills, one clean run ingests everything that is left
    const fg = new FabricGit(
      {
        id: "dc1",
        branch: "main",
        path: "fabrics/dc1",
        crd_dirs: ["fabrics/crds/hedgehog"],
        rule_packs: ["hedgehog"],
      },
      await openFabricRepo({ repo: dir, branch: "main", gitdir: own }),
      { name: "lzsync", email: "lzsync@example.invalid" },
    );
    const last = await runIngestion(fg);
    assert.notEqual(last.outcome, "failed", last.error ?? "");
    fg.repo.close();
    await check(dir, made, KILLS + 1);
    const tree = (await must(["ls-tree", "-r", "--name-only", "main", "fabrics/dc1/raw"], dir)).split("\n");
    assert.deepEqual(tree, ["fabrics/dc1/raw/.gitkeep"], "every raw file was ingested in the end");
    console.log(
      `kill test: ${KILLS} kills survived, ${made.length} user commits, ${runs} finished runs ` +
        `(${[...outcomes].map(([k, n]) => `${k} ${n}`).join(", ")}), 0 files lost`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
