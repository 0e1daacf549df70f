/**
 * The GitHub calls of pull-request mode, with `@octokit/rest`: find the open pull request of the sync branch,
 * open or update it, close it, and turn on auto-merge (GraphQL `enablePullRequestAutoMerge`; when GitHub
 * answers that the pull request is already mergeable — no required checks pending — it is merged at once).
 */
import { Octokit } from "@octokit/rest";
import { LzError } from "../../pipeline/errors.ts";

/** A pull request as lzsync needs it. */
export interface PullRequest {
  number: number;
  url: string;
  node_id: string;
  body: string;
  state: "open" | "closed";
  auto_merge: boolean;
}

/** How auto-merge ended up. */
export type AutoMergeOutcome = { state: "enabled" | "merged" } | { state: "failed"; error: string };

/** The calls, bound to one repository. */
export interface PortalPulls {
  findOpen(head: string, base: string): Promise<PullRequest | null>;
  create(head: string, base: string, title: string, body: string): Promise<PullRequest>;
  update(number: number, title: string, body: string): Promise<PullRequest>;
  close(number: number): Promise<void>;
  autoMerge(pr: PullRequest, method: "squash" | "merge" | "rebase"): Promise<AutoMergeOutcome>;
}

/** Options of {@link createPortalPulls}. */
export interface PortalPullsOptions {
  owner: string;
  repo: string;
  /** `https://api.github.com` or `https://<ghe>/api/v3`. */
  baseUrl: string;
  token?: string;
  timeoutMs?: number;
}

function wrap(err: unknown, what: string): LzError {
  const status = (err as { status?: number })?.status;
  const hint = status === 401 || status === 403
    ? "check the token in portal_repo.token_env (it needs contents and pull requests: write)"
    : status === 404
    ? "check portal_repo.github owner/repo"
    : status === 422
    ? String((err as { message?: string }).message ?? "GitHub refused the request").split("\n")[0]
    : "is the GitHub API reachable?";
  return new LzError("GITHUB_API", `GitHub ${what} failed${status ? ` (HTTP ${status})` : ""}: ${hint}`, {
    cause: err,
    retriable: status === undefined || status === 429 || status >= 500,
  });
}

type RestPull = {
  number: number;
  html_url: string;
  node_id: string;
  body?: string | null;
  state: string;
  auto_merge?: unknown;
};
const toPull = (p: RestPull): PullRequest => ({
  number: p.number,
  url: p.html_url,
  node_id: p.node_id,
  body: p.body ?? "",
  state: p.state === "open" ? "open" : "closed",
  auto_merge: !!p.auto_merge,
});

/** Creates the client. */
export function createPortalPulls(o: PortalPullsOptions): PortalPulls {
  const octokit = new Octokit({
    auth: o.token,
    baseUrl: o.baseUrl.replace(/\/+$/, ""),
    userAgent: "lzsync",
    request: { timeout: o.timeoutMs ?? 10_000 },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const repo = { owner: o.owner, repo: o.repo };
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw wrap(err, what);
    }
  };
  return {
    findOpen: (head, base) =>
      call("list pull requests", async () => {
        const { data } = await octokit.rest.pulls.list({
          ...repo,
          state: "open",
          head: `${o.owner}:${head}`,
          base,
        });
        return data.length ? toPull(data[0] as RestPull) : null;
      }),
    create: (head, base, title, body) =>
      call(
        "create pull request",
        async () =>
          toPull((await octokit.rest.pulls.create({ ...repo, head, base, title, body })).data as RestPull),
      ),
    update: (number, title, body) =>
      call(
        "update pull request",
        async () =>
          toPull(
            (await octokit.rest.pulls.update({ ...repo, pull_number: number, title, body })).data as RestPull,
          ),
      ),
    close: (number) =>
      call("close pull request", async () => {
        await octokit.rest.pulls.update({ ...repo, pull_number: number, state: "closed" });
      }),
    async autoMerge(pr, method) {
      try {
        await octokit.graphql(
          `mutation($id: ID!, $mergeMethod: PullRequestMergeMethod!) {
            enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $mergeMethod}) {
              pullRequest { number }
            }
          }`,
          { id: pr.node_id, mergeMethod: method.toUpperCase() },
        );
        return { state: "enabled" };
      } catch (err) {
        const message = String((err as { message?: string }).message ?? err);
        if (!/clean status/i.test(message)) return { state: "failed", error: message.split("\n")[0] };
      }
      // nothing to wait for (no required checks pending): merge now, as auto-merge would
      try {
        await octokit.rest.pulls.merge({ ...repo, pull_number: pr.number, merge_method: method });
        return { state: "merged" };
      } catch (err) {
        return { state: "failed", error: wrap(err, "merge pull request").message };
      }
    },
  };
}
