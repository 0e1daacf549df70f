/**
 * The git command-line tool, for every write into a user's local repository (fabric pushes, demo commits):
 * git is the one implementation of its own locking (`<ref>.lock`, `index.lock`), so lzsync never writes a
 * user's refs or index itself.
 */
import { LzError } from "../../pipeline/errors.ts";

/** Output of one git command. */
export interface GitRun {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `git args...` with a neutral environment (C locale, no prompts, no inherited `GIT_DIR`/`GIT_WORK_TREE`
 * of a calling hook). Throws `GIT_CLI` when git is not installed; a failing command is `ok: false`.
 *
 * git's output goes to temp files, not pipes: if lzsync is killed while git works, git finishes its
 * update on its own instead of dying of SIGPIPE half-way (with the worktree written and the index not). And
 * git runs in a session (process group) of its own (`setsid`, when installed): a SIGKILL of lzsync's whole
 * process group — a service manager's stop, `kill -9 -<pgid>` — does not reach git, so the update of a
 * user's checked-out worktree is never cut between its worktree write and its `index.lock` release.
 */
export async function runGit(
  args: string[],
  cwd?: string,
  extraEnv: Record<string, string> = {},
): Promise<GitRun> {
  return await runGitScript('"$GIT" "$@"', args, cwd, extraEnv);
}

/**
 * Runs a POSIX shell `script` (git is `"$GIT"`, `params` are `"$@"`) the way {@link runGit} runs git: its
 * output to temp files, so a sequence of git commands that must not be cut in the middle (a merge and the
 * undo of its worktree update) completes even when lzsync is killed.
 */
export async function runGitScript(
  script: string,
  params: string[],
  cwd?: string,
  extraEnv: Record<string, string> = {},
): Promise<GitRun> {
  const outFile = await Deno.makeTempFile({ prefix: "lzsync-git-out-" });
  const errFile = await Deno.makeTempFile({ prefix: "lzsync-git-err-" });
  const env: Record<string, string> = {
    LC_ALL: "C",
    LANG: "C",
    GIT_TERMINAL_PROMPT: "0",
    ...extraEnv,
    LZSYNC_GIT_OUT: outFile,
    LZSYNC_GIT_ERR: errFile,
  };
  for (const k of ["PATH", "HOME", "XDG_CONFIG_HOME", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v) env[k] = v;
  }
  try {
    env.GIT = await _which("git", env.PATH);
    const sh = ["/bin/sh", "-c", `exec >"$LZSYNC_GIT_OUT" 2>"$LZSYNC_GIT_ERR" </dev/null\n${script}`, "sh"];
    const setsid = await _which("setsid", env.PATH).catch(() => null);
    const [cmd, ...args] = setsid ? [setsid, "--wait", ...sh] : sh;
    const out = await new Deno.Command(cmd, {
      args: [...args, ...params],
      cwd,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return {
      ok: out.success,
      code: out.code,
      stdout: await Deno.readTextFile(outFile),
      stderr: await Deno.readTextFile(errFile),
    };
  } finally {
    await Deno.remove(outFile).catch(() => {});
    await Deno.remove(errFile).catch(() => {});
  }
}

/** The path of `cmd` on `path`, or throws `GIT_CLI` (the message is about git, the one required tool). */
async function _which(cmd: string, path = ""): Promise<string> {
  for (const dir of path.split(":").filter(Boolean)) {
    try {
      const st = await Deno.stat(`${dir}/${cmd}`);
      if (st.isFile) return `${dir}/${cmd}`;
    } catch { /* not here */ }
  }
  throw new LzError(
    "GIT_CLI",
    "a fabric in a local repository needs the git command-line tool on PATH (git 2.29 or later); " +
      "install git, or give the fabric a repo URL",
  );
}

/** The first lines of git's error output, without the `remote: ` prefixes and hints, for a message. */
export function gitReason(run: GitRun): string {
  return run.stderr.split("\n")
    .map((l) => l.replace(/^remote:\s*/, "").trim())
    .filter((l) => l && !/^hint:/.test(l) && !/^To /.test(l))
    .slice(0, 4)
    .join("; ");
}
