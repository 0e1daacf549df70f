/**
 * The GitHub REST calls lzsync makes, with `@octokit/rest` (base URL configurable for GitHub Enterprise and
 * for tests): the `lzsync/portal` commit status once the Portal has synced a commit (read first, so a status
 * GitHub already shows is not set again), and the Compare API when a push payload's file lists are empty or
 * truncated.
 */
import { Octokit } from "@octokit/rest";
import { LzError } from "../../pipeline/errors.ts";
import type { PushPaths } from "../../schemas/git_push.ts";

/** The commit-status context lzsync sets. */
export const STATUS_CONTEXT = "lzsync/portal";

/** GitHub lists at most 300 files in a comparison. */
export const COMPARE_MAX_FILES = 300;

/** Options of {@link createGitHubClient}. */
export interface GitHubClientOptions {
  owner: string;
  repo: string;
  /** `https://api.github.com` or `https://<ghe>/api/v3`. */
  baseUrl: string;
  token?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/** A commit status as GitHub shows it. */
export interface CommitStatus {
  state: string;
  description: string | null;
  target_url: string | null;
}

/** The calls, bound to one repository. */
export interface GitHubClient {
  /** The latest status of `context` (default {@link STATUS_CONTEXT}) on a commit, or null when it has none. */
  getCommitStatus(sha: string, context?: string): Promise<CommitStatus | null>;
  setCommitStatus(
    sha: string,
    state: "pending" | "success" | "failure" | "error",
    description: string,
    targetUrl?: string,
  ): Promise<void>;
  /** Files changed between two commits (GitHub caps the list at 300: `truncated` says so). */
  compare(base: string, head: string): Promise<PushPaths>;
}

function wrap(err: unknown, what: string): LzError {
  const status = (err as { status?: number })?.status;
  const hint = status === 401 || status === 403
    ? "check the token in landing_zone.token_env and its permissions (statuses: read and write, contents: read)"
    : status === 404
    ? "check landing_zone.github.owner/repo and the commit"
    : "is the GitHub API reachable?";
  return new LzError("GITHUB_API", `GitHub ${what} failed${status ? ` (HTTP ${status})` : ""}: ${hint}`, {
    cause: err,
    retriable: status === undefined || status === 429 || status >= 500,
  });
}

/** Creates a client for one repository. */
export function createGitHubClient(o: GitHubClientOptions): GitHubClient {
  const octokit = new Octokit({
    auth: o.token,
    baseUrl: o.baseUrl.replace(/\/+$/, ""),
    userAgent: "lzsync",
    request: { timeout: o.timeoutMs ?? 10_000 },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  return {
    async getCommitStatus(sha, context = STATUS_CONTEXT) {
      // the combined status: the latest status per context, newest first, paged
      for (let page = 1;; page++) {
        let data;
        try {
          ({ data } = await octokit.rest.repos.getCombinedStatusForRef({
            owner: o.owner,
            repo: o.repo,
            ref: sha,
            per_page: 100,
            page,
          }));
        } catch (err) {
          throw wrap(err, `commit status of ${sha.slice(0, 7)}`);
        }
        const s = data.statuses.find((s) => s.context === context);
        if (s) {
          return { state: s.state, description: s.description ?? null, target_url: s.target_url ?? null };
        }
        if (data.statuses.length < 100 || page * 100 >= data.total_count) return null;
      }
    },
    async setCommitStatus(sha, state, description, targetUrl) {
      try {
        await octokit.rest.repos.createCommitStatus({
          owner: o.owner,
          repo: o.repo,
          sha,
          state,
          context: STATUS_CONTEXT,
          description: description.slice(0, 140),
          ...(targetUrl ? { target_url: targetUrl } : {}),
        });
      } catch (err) {
        throw wrap(err, `commit status on ${sha.slice(0, 7)}`);
      }
    },
    async compare(base, head) {
      let data;
      try {
        ({ data } = await octokit.rest.repos.compareCommitsWithBasehead({
          owner: o.owner,
          repo: o.repo,
          basehead: `${base}...${head}`,
          per_page: COMPARE_MAX_FILES,
        }));
      } catch (err) {
        throw wrap(err, `compare ${base.slice(0, 7)}...${head.slice(0, 7)}`);
      }
      const added: string[] = [], modified: string[] = [], removed: string[] = [];
      for (const f of data.files ?? []) {
        if (f.status === "added" || f.status === "copied") added.push(f.filename);
        else if (f.status === "removed") removed.push(f.filename);
        else if (f.status === "renamed") {
          added.push(f.filename);
          if (f.previous_filename) removed.push(f.previous_filename);
        } else modified.push(f.filename);
      }
      const truncated = (data.files?.length ?? 0) >= COMPARE_MAX_FILES;
      return {
        added: added.sort(),
        modified: modified.sort(),
        removed: removed.sort(),
        truncated,
        from: "compare",
      };
    },
  };
}
