/**
 * Reads a synced file that `lz.git.files.v1` carries by reference only (above `layers.git.inline_max_bytes`):
 * the blob is in the git fetcher's objects — the Landing Zone repo itself when it is a local path, else the
 * fetcher's mirror under `<data_dir>/git/`. The Portal sink runs next to the fetcher (same data directory).
 */
import fs from "node:fs";
import { join } from "node:path";
import git from "isomorphic-git";
import { LzError } from "../../pipeline/errors.ts";
import type { GitFile } from "../../schemas/git_files.ts";
import { localGitdir } from "../../connectors/git/repo.ts";

/** A reader of referenced contents for the Landing Zone at `lzRepo` (URL or path) with data in `dataDir`. */
export function mirrorReader(lzRepo: string, dataDir: string): (f: GitFile) => Promise<Uint8Array> {
  return async (f) => {
    const candidates: string[] = [];
    if (!/^https?:\/\//i.test(lzRepo)) candidates.push(await localGitdir(lzRepo).catch(() => ""));
    candidates.push(join(dataDir, "git", `${f.repo.replace(/[^A-Za-z0-9._-]+/g, "_")}.git`));
    for (const gitdir of candidates.filter(Boolean)) {
      try {
        return (await git.readBlob({ fs, gitdir, oid: f.blob_sha })).blob;
      } catch { /* not in this object store */ }
    }
    throw new LzError(
      "PORTAL_CONTENT",
      `cannot read ${f.path} (blob ${f.blob_sha}, not inline): the git fetcher's objects are not in ${dataDir}; ` +
        "run the Portal sink with the same data_dir as the git layer",
      { retriable: true },
    );
  };
}
