/**
 * Sets the `lzsync/portal` commit status on the Landing Zone repo once the Portal has synced a commit: a
 * consumer of `lz.git.synced.v1` (written by the `git-sync` processor) that calls the GitHub Statuses API.
 * `success` when the Portal's copy matches the fetcher's, `error` when it does not. Runs only when
 * `landing_zone.github` is configured with `commit_status: true` and a token is in `landing_zone.token_env`.
 */
import { Counter } from "prom-client";
import type { Consumer } from "../../pipeline/broker/types.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import { decode } from "../../pipeline/serde.ts";
import { describeError } from "../../pipeline/errors.ts";
import { retry } from "../../pipeline/retry.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { createGitHubClient, type GitHubClient } from "./client.ts";

/** Consumer group (persisted contract). */
export const STATUS_NOTIFIER_GROUP = "lzsync-github-status";

/** Options of {@link createCommitStatusNotifier}. */
export interface StatusNotifierOptions {
  client?: GitHubClient;
  /** Retries of a retriable API error (default 3; backoff 200 ms doubling). */
  retries?: number;
  groupId?: string;
  onStatus?(commit: string, state: string): void;
}

/** The notifier service, or null when the config does not ask for commit statuses. */
export function createCommitStatusNotifier(deps: AppDeps, o: StatusNotifierOptions = {}): Service | null {
  const cfg = deps.runtime.config;
  const gh = cfg.landing_zone.github;
  const token = deps.runtime.secret(cfg.landing_zone.token_env);
  if (!o.client && (!gh || !gh.commit_status || !token)) return null;
  const client = o.client ??
    createGitHubClient({ owner: gh!.owner, repo: gh!.repo, baseUrl: gh!.api_url, token });
  const log = deps.log.child("github.status");
  const name = "lzsync_github_commit_statuses_total";
  const counter = (deps.metrics.getSingleMetric(name) as Counter<"outcome">) ?? new Counter({
    name,
    help: "lzsync/portal commit statuses set (ok) or given up (failed)",
    labelNames: ["outcome"],
    registers: [deps.metrics],
  });
  const base = (cfg.gateway.public_url ?? `http://${cfg.gateway.host}:${cfg.gateway.port}`).replace(
    /\/+$/,
    "",
  );
  let consumer: Consumer | null = null;

  const notify = async (s: GitSynced) => {
    const commit = s.commit;
    if (!commit) return;
    const state = s.consistent ? "success" : "error";
    const description = s.consistent
      ? `Synced to the Portal: ${s.files} tracked file(s)`
      : "The Portal's copy does not match git; see the sync status";
    try {
      await retry(() => client.setCommitStatus(commit, state, description, `${base}/api/v1/sync/git`), {
        retries: o.retries ?? 3,
        initialMs: 200,
        maxMs: 30_000,
      });
    } catch (err) {
      counter.inc({ outcome: "failed" });
      log.warn("cannot set the commit status", { commit, error: describeError(err) });
      return;
    }
    counter.inc({ outcome: "ok" });
    o.onStatus?.(commit, state);
  };

  return {
    name: "github-commit-status",
    async start() {
      await deps.broker.admin().createTopics([{
        name: GIT_SYNCED_TOPIC.name,
        partitions: 1,
        compacted: true,
      }]);
      consumer = deps.broker.consumer({
        groupId: o.groupId ?? STATUS_NOTIFIER_GROUP,
        topics: [GIT_SYNCED_TOPIC.name],
        fromBeginning: true,
      });
      const c = consumer;
      await c.run({
        eachBatch: async (batch) => {
          for (const r of batch.records) {
            let s: GitSynced | null = null;
            try {
              s = decode<GitSynced>(GIT_SYNCED_TOPIC.name, r.value);
            } catch (err) {
              log.warn("skipping a bad lz.git.synced.v1 record", {
                offset: r.offset,
                error: describeError(err),
              });
            }
            if (s) await notify(s);
          }
          const last = batch.records[batch.records.length - 1];
          await c.commit([{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
        },
      });
    },
    async stop() {
      await consumer?.stop();
      consumer = null;
    },
  };
}
