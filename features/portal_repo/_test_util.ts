/** Helpers of the Portal repository sink's tests: Landing Zone records and reading the Portal back with git. */
import type { GitCommitMarker, GitFile } from "../../schemas/git_files.ts";
import { gitObject } from "../../connectors/git/pack.ts";

/** A synced text file of `repo` at `commit`, as the fetcher puts it on `lz.git.files.v1`. */
export function lzFile(repo: string, path: string, content: string, commit: string): GitFile {
  const at = "2026-11-02T10:00:00.000Z";
  return {
    kind: "file",
    repo,
    path,
    commit,
    commit_time: at,
    size: content.length,
    blob_sha: gitObject("blob", content).oid,
    mode: "100644",
    change: "added",
    content,
    encoding: "utf-8",
    content_ref: null,
    sync_id: `s-${commit.slice(0, 6)}`,
    synced_at: at,
  };
}

/** The commit marker that closes a sync of `repo` at `commit`. */
export function lzMarker(repo: string, commit: string, message = "change", tracked = 0): GitCommitMarker {
  const at = "2026-11-02T10:00:01.000Z";
  return {
    kind: "commit",
    repo,
    branch: "main",
    commit,
    commit_time: at,
    message,
    author: "dev <dev@example.com>",
    previous: null,
    forced: false,
    diff: "full",
    changed: tracked,
    removed: 0,
    tracked,
    sync_id: `s-${commit.slice(0, 6)}`,
    source: "webhook",
    received_at: at,
    started_at: at,
    synced_at: at,
  };
}

/** Runs git in `gitdir` and returns stdout. */
export async function gitOut(gitdir: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["--git-dir", gitdir, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** Every file path of `ref` in a bare repo, sorted. */
export async function treePaths(gitdir: string, ref = "main"): Promise<string[]> {
  return (await gitOut(gitdir, "ls-tree", "-r", "--name-only", ref)).split("\n").filter(Boolean).sort();
}
