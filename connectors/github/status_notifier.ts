/**
 * Sets the `lzsync/portal` commit status on the Landing Zone repo once the Portal has synced a commit: a
 * topology (app `lzsync-github-status`, no stores) over `lz.git.synced.v1` (written by the `git-sync`
 * processor) that calls the GitHub Statuses API. `success` when the Portal's copy matches the fetcher's,
 * `error` when it does not. Runs only when `landing_zone.github` is configured with `commit_status: true` and
 * a token is in `landing_zone.token_env`. A bad record, or a status GitHub still refuses after the retries,
 * goes to `lz.dlq.v1` with the reason; setting a status twice (at-least-once after a crash) is harmless.
 */
import { Counter } from "prom-client";
import type { AppDeps } from "../../pipeline/service.ts";
import type { Processor, Topology } from "../../pipeline/processor/types.ts";
import { LzError } from "../../pipeline/errors.ts";
import { retry } from "../../pipeline/retry.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { createGitHubClient, type GitHubClient } from "./client.ts";

/** Consumer group / application id (persisted contract). */
export const STATUS_NOTIFIER_GROUP = "lzsync-github-status";

/** Options of {@link createCommitStatusNotifier}. */
export interface StatusNotifierOptions {
  client?: GitHubClient;
  /** Retries of a retriable API error (default 3; backoff 200 ms doubling). */
  retries?: number;
  backoffMs?: number;
  onStatus?(commit: string, state: string): void;
}

/** What the topology needs at run time. */
interface StatusSink {
  client: GitHubClient;
  targetUrl: string;
  counter: Counter<"outcome">;
  o: StatusNotifierOptions;
}

/**
 * The notifier topology. Without a sink it only declares the app (for `describe`, `replay`, `digest`); a
 * host must never run it that way.
 */
export function commitStatusTopology(sink?: StatusSink): Topology<GitSynced> {
  return {
    app: STATUS_NOTIFIER_GROUP,
    description: "sets the lzsync/portal commit status of each synced commit (DLQ when GitHub refuses)",
    inputs: [GIT_SYNCED_TOPIC.name],
    stores: [],
    outputs: [],
    create(): Processor<GitSynced> {
      if (!sink) {
        throw new LzError(
          "CONFIG",
          "the commit-status notifier runs only with landing_zone.github.commit_status and a token",
        );
      }
      const { client, targetUrl, counter, o } = sink;
      return {
        async process(rec) {
          const s = rec.value;
          const commit = s?.commit;
          if (!s || !commit) return;
          const state = s.consistent ? "success" : "error";
          const description = s.consistent
            ? `Synced to the Portal: ${s.files} tracked file(s)`
            : "The Portal's copy does not match git; see the sync status";
          try {
            await retry(() => client.setCommitStatus(commit, state, description, targetUrl), {
              retries: o.retries ?? 3,
              initialMs: o.backoffMs ?? 200,
              maxMs: 30_000,
            });
          } catch (err) {
            counter.inc({ outcome: "failed" });
            throw new LzError(
              "NOTIFY_FAILED",
              `cannot set the commit status of ${commit.slice(0, 7)}: ${(err as Error).message}`,
              { cause: err },
            );
          }
          counter.inc({ outcome: "ok" });
          o.onStatus?.(commit, state);
        },
      };
    },
  };
}

/** The notifier topology for a run, or null when the config does not ask for commit statuses. */
export function createCommitStatusNotifier(
  deps: AppDeps,
  o: StatusNotifierOptions = {},
): Topology<GitSynced> | null {
  const cfg = deps.runtime.config;
  const gh = cfg.landing_zone.github;
  const token = deps.runtime.secret(cfg.landing_zone.token_env);
  if (!o.client && (!gh || !gh.commit_status || !token)) return null;
  const client = o.client ??
    createGitHubClient({ owner: gh!.owner, repo: gh!.repo, baseUrl: gh!.api_url, token });
  const name = "lzsync_github_commit_statuses_total";
  const counter = (deps.metrics.getSingleMetric(name) as Counter<"outcome">) ?? new Counter({
    name,
    help: "lzsync/portal commit statuses set (ok) or given up and sent to the DLQ (failed)",
    labelNames: ["outcome"],
    registers: [deps.metrics],
  });
  const base = (cfg.gateway.public_url ?? `http://${cfg.gateway.host}:${cfg.gateway.port}`).replace(
    /\/+$/,
    "",
  );
  return commitStatusTopology({ client, targetUrl: `${base}/api/v1/sync/git`, counter, o });
}
