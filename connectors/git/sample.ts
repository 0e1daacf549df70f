/**
 * The first-run sample Landing Zone: `deploy/sample-lz/` copied into `<data_dir>/sample-lz` and committed
 * (isomorphic-git, a fixed author and date, so the first commit's sha is the same on every machine). With no
 * `landing_zone.repo` configured the fetcher reads it as a local repo, so the Portal fills at once.
 */
import fs from "./fs.ts";
import { dirname, join, relative, resolve } from "node:path";
import git from "isomorphic-git";
import type { Config } from "../../pipeline/config.ts";
import { LzError } from "../../pipeline/errors.ts";
import { gitReason, type GitRun, runGit } from "./cli.ts";

/** The directory holding the sample Landing Zone's files. */
export const SAMPLE_LZ_DIR = new URL("../../deploy/sample-lz/", import.meta.url).pathname;

/** Author of the sample's commits. */
export const SAMPLE_AUTHOR = { name: "lzsync sample", email: "sample@lzsync.invalid" };

/** The sample repo's path inside a data dir. */
export const sampleRepoPath = (dataDir: string) => resolve(dataDir, "sample-lz");

async function* walkFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const full = join(dir, e.name);
    if (e.isDirectory) yield* walkFiles(full);
    else if (e.isFile) yield full;
  }
}

/**
 * Creates the sample Landing Zone repo in `dataDir` on first run (idempotent) and returns its path. The
 * initial commit is by {@link SAMPLE_AUTHOR}, dated `now` (the first run: the page shows it as just made, not
 * years old).
 */
export async function ensureSampleLandingZone(dataDir: string, now = Date.now()): Promise<string> {
  const dir = sampleRepoPath(dataDir);
  try {
    await Deno.stat(join(dir, ".git", "HEAD"));
    return dir;
  } catch { /* first run */ }
  const tmp = `${dir}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await git.init({ fs, dir: tmp, defaultBranch: "main" });
    const files: string[] = [];
    for await (const f of walkFiles(SAMPLE_LZ_DIR)) files.push(relative(SAMPLE_LZ_DIR, f));
    files.sort();
    for (const f of files) {
      await Deno.mkdir(dirname(join(tmp, f)), { recursive: true });
      await Deno.copyFile(join(SAMPLE_LZ_DIR, f), join(tmp, f));
      await git.add({ fs, dir: tmp, filepath: f });
    }
    const when = { timestamp: Math.floor(now / 1000), timezoneOffset: 0 };
    await git.commit({
      fs,
      dir: tmp,
      message: "Sample Landing Zone\n\nCreated by lzsync on first run from deploy/sample-lz.\n",
      author: { ...SAMPLE_AUTHOR, ...when },
      committer: { ...SAMPLE_AUTHOR, ...when },
    });
    try {
      await Deno.rename(tmp, dir);
    } catch (err) {
      // another process created it first: keep theirs
      if (
        !(err instanceof Deno.errors.AlreadyExists) && !(await Deno.stat(join(dir, ".git")).catch(() => null))
      ) {
        throw err;
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return dir;
}

/** The Landing Zone repo to sync: `landing_zone.repo`, or the sample created in `data_dir`. */
export async function landingZoneRepo(config: Readonly<Config>): Promise<string> {
  return config.landing_zone.repo ?? await ensureSampleLandingZone(config.data_dir);
}

/**
 * Commits file changes (string = write, null = delete) to a local worktree repo such as the sample, with the
 * git command-line tool, so the commit takes git's own `index.lock` and `<ref>.lock`; returns the new commit
 * sha. While another git command holds `index.lock` (a fabric ingestion updating the worktree keeps it about
 * half a second) it waits, up to `lockWaitMs`; then it fails with nothing changed but the files written.
 */
export async function commitLocal(
  dir: string,
  files: Record<string, string | null>,
  message: string,
  author: { name: string; email: string } = SAMPLE_AUTHOR,
  lockWaitMs = 5_000,
): Promise<string> {
  const until = Date.now() + lockWaitMs;
  const locked = () =>
    new LzError("GIT_LOCKED", `cannot commit to ${dir}: another git command holds its index.lock`, {
      retriable: true,
    });
  const lockHeld = (run?: GitRun) =>
    run ? /index\.lock|cannot lock ref/.test(run.stderr) : fs.existsSync(join(dir, ".git", "index.lock"));
  const wait = () => new Promise((r) => setTimeout(r, 25));
  while (lockHeld()) {
    if (Date.now() > until) throw locked();
    await wait();
  }
  const paths = Object.keys(files);
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    if (content === null) await Deno.remove(full).catch(() => {});
    else {
      await Deno.mkdir(dirname(full), { recursive: true });
      await Deno.writeTextFile(full, content);
    }
  }
  const env = {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
  const written = paths.filter((p) => files[p] !== null);
  const removed = paths.filter((p) => files[p] === null);
  for (;;) {
    const run = await addAndCommit(dir, written, removed, message, env);
    if (run.ok) break;
    if (!lockHeld(run)) {
      throw new LzError("GIT", `cannot commit to ${dir}: ${run.what} (${gitReason(run)})`, {
        retriable: true,
      });
    }
    if (Date.now() > until) throw locked();
    await wait();
  }
  const head = await runGit(["rev-parse", "HEAD"], dir);
  if (!head.ok) {
    throw new LzError("GIT", `cannot commit to ${dir}: cannot read the new head (${gitReason(head)})`, {
      retriable: true,
    });
  }
  return head.stdout.trim();
}

/** `git add` / `git rm --cached` / `git commit`; the first that fails, with what it was. */
async function addAndCommit(
  dir: string,
  written: string[],
  removed: string[],
  message: string,
  env: Record<string, string>,
): Promise<GitRun & { what?: string }> {
  if (written.length) {
    const add = await runGit(["add", "--", ...written], dir, env);
    if (!add.ok) return { ...add, what: "git add failed" };
  }
  if (removed.length) {
    const rm = await runGit(["rm", "--cached", "--quiet", "--ignore-unmatch", "--", ...removed], dir, env);
    if (!rm.ok) return { ...rm, what: "git rm failed" };
  }
  const commit = await runGit(
    ["-c", "commit.gpgsign=false", "commit", "--quiet", "--allow-empty", "-m", message],
    dir,
    env,
  );
  return commit.ok ? commit : { ...commit, what: "git commit failed" };
}
