/**
 * Sets the `lzsync/portal` commit status on the Landing Zone repo once the Portal has synced a commit: a
 * topology (app `lzsync-github-status`, no stores) over `lz.git.synced.v1` (written by the `git-sync`
 * processor) that calls the GitHub Statuses API. `success` when the Portal's copy matches the fetcher's,
 * `error` when it does not. Runs only when `landing_zone.github` is configured with `commit_status: true` and
 * a token is in `landing_zone.token_env`. A bad record, or a status GitHub still refuses after the retries,
 * goes to `lz.dlq.v1` with the reason.
 *
 * A status is set once. GitHub is the ledger (as Flux's notification-controller does it): the notifier reads
 * the commit's latest `lzsync/portal` status first and sets nothing when it already shows the same state,
 * description and link (`unchanged`) — so a replay, a restart after a crash, or a replay of `git-sync` that
 * re-sends its records makes no new status. And a record read more than
 * `landing_zone.github.commit_status_max_age` (1h) after it was written, when a later sync of the same repo
 * was already on the topic at start (read as a table), is `superseded`: a replay or a first start does not
 * walk every old commit again, and the latest sync of each repo still gets its status, however old.
 */
import { Counter } from "prom-client";
import type { AppDeps } from "../../pipeline/service.ts";
import type { Processor, Topology } from "../../pipeline/processor/types.ts";
import { parseDuration } from "../../pipeline/config.ts";
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
  /** `landing_zone.github.commit_status_max_age` in ms. */
  maxAgeMs: number;
  counter: Counter<"outcome">;
  o: StatusNotifierOptions;
}

/** When the latest sync of a repo on the topic at task start was materialized (the table's value). */
const materializedAt = (v: unknown) => Date.parse((v as GitSynced).materialized_at);

/**
 * The notifier topology. Without a sink it only declares the app (for `describe`, `replay`, `digest`); a
 * host must never run it that way.
 */
export function commitStatusTopology(sink?: StatusSink): Topology<GitSynced> {
  return {
    app: STATUS_NOTIFIER_GROUP,
    description: "sets the lzsync/portal commit status of each synced commit once (DLQ when GitHub refuses)",
    inputs: [GIT_SYNCED_TOPIC.name],
    stores: [],
    outputs: [],
    // the latest sync of each repo, to tell a superseded old record from the one whose status must show
    tables: [{ topic: GIT_SYNCED_TOPIC.name, select: materializedAt }],
    create(): Processor<GitSynced> {
      if (!sink) {
        throw new LzError(
          "CONFIG",
          "the commit-status notifier runs only with landing_zone.github.commit_status and a token",
        );
      }
      const { client, targetUrl, maxAgeMs, counter, o } = sink;
      return {
        async process(rec, ctx) {
          const s = rec.value;
          const commit = s?.commit;
          if (!s || !commit) return;
          const latest = rec.key === null ? undefined : ctx.table<number>(GIT_SYNCED_TOPIC.name).get(rec.key);
          if (ctx.now() - rec.timestamp > maxAgeMs && latest !== undefined && latest > materializedAt(s)) {
            counter.inc({ outcome: "superseded" });
            return;
          }
          const state = s.consistent ? "success" : "error";
          const description =
            (s.consistent
              ? `Synced to the Portal: ${s.files} tracked file(s)`
              : "The Portal's copy does not match git; see the sync status").slice(0, 140); // GitHub's limit
          let changed = true;
          try {
            await retry(async () => {
              const shown = await client.getCommitStatus(commit);
              changed = shown?.state !== state || shown.description !== description ||
                shown.target_url !== targetUrl;
              if (changed) await client.setCommitStatus(commit, state, description, targetUrl);
            }, {
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
          counter.inc({ outcome: changed ? "ok" : "unchanged" });
          if (changed) o.onStatus?.(commit, state);
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
    help:
      "lzsync/portal commit statuses set (ok), already shown by GitHub (unchanged), old and superseded by " +
      "a later sync (superseded), or given up and sent to the DLQ (failed)",
    labelNames: ["outcome"],
    registers: [deps.metrics],
  });
  const base = (cfg.gateway.public_url ?? `http://${cfg.gateway.host}:${cfg.gateway.port}`).replace(
    /\/+$/,
    "",
  );
  return commitStatusTopology({
    client,
    targetUrl: `${base}/api/v1/sync/git`,
    maxAgeMs: parseDuration(gh?.commit_status_max_age ?? "1h"),
    counter,
    o,
  });
}
