/**
 * Where the fetcher reads the Landing Zone from, with isomorphic-git:
 *
 * - **remote** (`https://…`, `http://…`, any git smart-HTTP server): a bare mirror under
 *   `<data_dir>/git/<slug>.git`, cloned on first use and fetched (single branch, pruned) on every sync. A token
 *   (`landing_zone.token_env`) is sent as HTTP Basic `x-access-token:<token>`, which GitHub and most git
 *   servers accept; it is never logged or put in the URL.
 * - **local** (a filesystem path, or `file://`): isomorphic-git has no file transport, so the repo is read in
 *   place — its gitdir (`<path>/.git`, or `<path>` when bare) is opened directly for refs and objects. No copy,
 *   no network; a commit made there is seen at the next sync (webhook, schedule or trigger). The gitdir is
 *   looked up again at every fetch: a repo that was moved or deleted is a retriable `GIT_REPO` error, never
 *   an empty branch.
 */
import fs from "./fs.ts";
import { join, resolve } from "node:path";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { LzError } from "../../pipeline/errors.ts";

/** A readable Landing Zone repo. */
export interface RepoSource {
  readonly kind: "local" | "remote";
  /** Stable repo id used in record keys (GitHub `owner/name`, else derived from the URL or path). */
  readonly id: string;
  /** Secret-free location for logs and the API. */
  readonly location: string;
  /** The git directory to read objects from (of the last {@link RepoSource.fetchHead}). */
  readonly gitdir: string;
  /** Brings the branch up to date (remote) and returns its head, or null when the branch does not exist. */
  fetchHead(branch: string): Promise<string | null>;
  /** Frees the isomorphic-git object cache. */
  close(): void;
}

/** Options of {@link openRepo}. */
export interface OpenRepoOptions {
  /** URL or path. */
  repo: string;
  /** Where remote mirrors live (`<data_dir>/git`). */
  mirrorDir: string;
  token?: string;
  /** Overrides the derived repo id (e.g. GitHub `owner/name`). */
  id?: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Removes credentials from a URL for display. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url;
  }
}

/** Normalizes a clone URL for comparison (no credentials, no trailing `.git` or `/`, lower-case host). */
export function normalizeRepoUrl(url: string): string {
  if (!isUrl(url)) return resolve(url.replace(/^file:\/\//, "")).replace(/\/+$/, "").replace(/\.git$/, "");
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, "").replace(/\.git$/, "")}`;
  } catch {
    return url.replace(/\/+$/, "").replace(/\.git$/, "");
  }
}

/** Derives a repo id: `owner/name` from a URL's last two path segments, or the last one; a path's basename. */
export function deriveRepoId(repo: string): string {
  const path = isUrl(repo) ? new URL(repo).pathname : repo.replace(/^file:\/\//, "");
  const segs = path.replace(/\/+$/, "").replace(/\.git$/, "").split("/").filter(Boolean);
  if (isUrl(repo) && segs.length >= 2) return `${segs[segs.length - 2]}/${segs[segs.length - 1]}`;
  return segs[segs.length - 1] ?? "landing-zone";
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the gitdir of a local repo (worktree or bare). Throws a retriable `GIT_REPO` error when `path` is not
 * (or no longer) a git repository: the caller reports it, and nothing read from the repo before is dropped.
 */
export async function localGitdir(path: string, field = "landing_zone.repo"): Promise<string> {
  const abs = resolve(path.replace(/^file:\/\//, ""));
  if (await exists(join(abs, ".git", "HEAD")) && await exists(join(abs, ".git", "objects"))) {
    return join(abs, ".git");
  }
  if (await exists(join(abs, "HEAD")) && await exists(join(abs, "objects"))) return abs;
  throw new LzError(
    "GIT_REPO",
    `${abs} cannot be opened: it is not a git repository (no .git/HEAD and not bare; moved or deleted?); ` +
      `nothing is deleted until it is readable again. Check ${field}`,
    { retriable: true },
  );
}

function notFound(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e?.code === "NotFoundError" || e?.name === "NotFoundError";
}

/** Opens the Landing Zone repo (see the module doc for local vs remote). */
export async function openRepo(o: OpenRepoOptions): Promise<RepoSource> {
  const cache = {};
  const id = o.id ?? deriveRepoId(o.repo);
  if (!isUrl(o.repo)) {
    let gitdir = await localGitdir(o.repo);
    return {
      kind: "local",
      id,
      location: resolve(o.repo.replace(/^file:\/\//, "")),
      get gitdir() {
        return gitdir;
      },
      async fetchHead(branch) {
        gitdir = await localGitdir(o.repo);
        try {
          return await git.resolveRef({ fs, gitdir, ref: `refs/heads/${branch}` });
        } catch (err) {
          if (notFound(err)) return null;
          throw err;
        }
      },
      close() {},
    };
  }
  const location = redactUrl(o.repo);
  const gitdir = join(o.mirrorDir, `${id.replace(/[^A-Za-z0-9._-]+/g, "_")}.git`);
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Basic ${btoa(`x-access-token:${o.token}`)}`;
  const url = o.repo;
  return {
    kind: "remote",
    id,
    location,
    gitdir,
    async fetchHead(branch) {
      if (!(await exists(join(gitdir, "HEAD")))) {
        await Deno.mkdir(gitdir, { recursive: true });
        await git.init({ fs, gitdir, bare: true, defaultBranch: branch });
        await git.addRemote({ fs, gitdir, remote: "origin", url, force: true });
      }
      let fetched: string | null = null;
      try {
        const res = await git.fetch({
          fs,
          http,
          gitdir,
          url,
          headers,
          cache,
          ref: branch,
          remoteRef: branch,
          singleBranch: true,
          tags: false,
          prune: true,
        });
        fetched = res.fetchHead;
      } catch (err) {
        // the one way to tell "the branch is gone" from a failure without a second round trip
        if (notFound(err) && (err as { data?: { what?: string } }).data?.what === branch) return null;
        throw wrapFetchError(err, location);
      }
      if (!fetched) {
        throw new LzError("GIT_FETCH", `fetching ${location} ${branch} returned no head`, {
          retriable: true,
        });
      }
      return fetched;
    },
    close() {
      for (const k of Object.keys(cache)) delete (cache as Record<string, unknown>)[k];
    },
  };
}

function wrapFetchError(err: unknown, location: string): LzError {
  const e = err as { code?: string; data?: { statusCode?: number }; message?: string };
  const status = e?.data?.statusCode;
  const hint = status === 401 || status === 403
    ? "check the token in landing_zone.token_env"
    : status === 404
    ? "check landing_zone.repo"
    : status === undefined && e?.code && /Error$/.test(e.code) &&
        !/HttpError|ECONN|fetch failed/i.test(`${e.code} ${e.message}`)
    ? `${e.code}: ${e.message?.split("\n")[0]}`
    : `is the git server reachable? (${e?.message?.split("\n")[0] ?? err})`;
  return new LzError("GIT_FETCH", `cannot fetch ${location}${status ? ` (HTTP ${status})` : ""}: ${hint}`, {
    cause: err,
    retriable: status === undefined || status >= 500,
  });
}
