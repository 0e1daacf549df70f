/**
 * The git command-line tool, for the writes into a user's local repository. git is the one implementation
 * of its own locking: `git push` into a local path moves the ref by compare-and-swap under `<ref>.lock`, and
 * `receive.denyCurrentBranch=updateInstead` updates a checked-out worktree and its index under `index.lock`,
 * only when they hold no uncommitted change. lzsync never writes a user's index or refs itself.
 */
import { LzError } from "../../pipeline/errors.ts";

/** Output of one git command. */
export interface GitRun {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

const dec = new TextDecoder();

/**
 * Runs `git args...` with a neutral environment (C locale, no prompts, no inherited `GIT_DIR`/`GIT_WORK_TREE`
 * of a calling hook). Throws `GIT_CLI` when git is not installed; a failing command is `ok: false`.
 */
export async function runGit(args: string[], cwd?: string): Promise<GitRun> {
  const env: Record<string, string> = { LC_ALL: "C", LANG: "C", GIT_TERMINAL_PROMPT: "0" };
  for (const k of ["PATH", "HOME", "XDG_CONFIG_HOME", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v) env[k] = v;
  }
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("git", {
      args,
      cwd,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new LzError(
        "GIT_CLI",
        "a fabric in a local repository needs the git command-line tool on PATH (git 2.29 or later); " +
          "install git, or give the fabric a repo URL",
        { cause: err },
      );
    }
    throw err;
  }
  return { ok: out.success, code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The first lines of git's error output, without the `remote: ` prefixes and hints, for a message. */
export function gitReason(run: GitRun): string {
  return run.stderr.split("\n")
    .map((l) => l.replace(/^remote:\s*/, "").trim())
    .filter((l) => l && !/^hint:/.test(l) && !/^To /.test(l))
    .slice(0, 4)
    .join("; ");
}
