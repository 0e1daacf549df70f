/**
 * `GET /api/v1/sync/portal-repo`: the Portal repository as a layer — where lzsync writes, the last write and
 * the last successful one (Portal commit, pull request), the last error, freshness. Derived from the
 * `portal_write` records of `lz.audit.v1` (a compacted topic every gateway reads), so any gateway answers;
 * the `portal` layer's health and alerts are in `GET /api/v1/sync/sync-status` like every layer's.
 */
import type { GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import { unknownQuery } from "../../connectors/gateway/query.ts";
import type { PortalRepoConfig } from "../../pipeline/config.ts";
import { redactUrl } from "../../connectors/git/repo.ts";
import { AUDIT_TOPIC, type AuditRecord } from "../../schemas/audit.ts";

/** The answer of the route. */
export function portalRepoStatus(
  cfg: PortalRepoConfig | undefined,
  audit: Iterable<AuditRecord>,
  now: number,
) {
  if (!cfg?.enabled) {
    return { configured: false as const, reason: "portal_repo is not set (or not enabled) in lzsync.yaml" };
  }
  const writes = [...audit].filter((r) => r.kind === "portal_write").sort((a, b) => b.at.localeCompare(a.at));
  const lastSuccess = writes.find((r) => r.outcome === "ok" || r.outcome === "unchanged") ?? null;
  const lastFailure = writes.find((r) => r.outcome === "failed") ?? null;
  const lastCommit = writes.find((r) => r.outcome === "ok") ?? null;
  const pr = cfg.mode === "pull_request" && lastCommit?.target?.startsWith("http") ? lastCommit : null;
  const prState = pr && /pull request #(\d+) (open|closed)/.exec(pr.message);
  return {
    configured: true as const,
    repo: redactUrl(cfg.repo),
    branch: cfg.branch,
    mode: cfg.mode,
    ...(cfg.mode === "pull_request" ? { pr_branch: cfg.pr_branch, auto_merge: cfg.auto_merge } : {}),
    last_write: writes[0] ?? null,
    last_success: lastSuccess,
    last_commit: lastCommit
      ? { source: lastCommit.commit, target: lastCommit.target, at: lastCommit.at }
      : null,
    pull_request: pr
      ? {
        url: pr.target,
        number: prState ? Number(prState[1]) : null,
        state: prState ? prState[2] : null,
        auto_merge: /auto-merge on/.test(pr.message),
        at: pr.at,
      }
      : null,
    last_error: lastFailure && (!lastSuccess || lastFailure.at > lastSuccess.at) ? lastFailure.error : null,
    freshness_seconds: lastSuccess ? Math.max(0, (now - Date.parse(lastSuccess.at)) / 1000) : null,
  };
}

/** The route and a status-page section. */
export function portalRepoPlugin(cfg: PortalRepoConfig | undefined): GatewayPlugin {
  return {
    name: "portal-repo",
    compactedTopics: [AUDIT_TOPIC.name],
    routes(app, ctx) {
      app.get(
        "/api/v1/sync/portal-repo",
        ctx.requireScope("read"),
        (c) =>
          unknownQuery(c, []) ?? c.json(
            portalRepoStatus(cfg, ctx.view<AuditRecord>(AUDIT_TOPIC.name).values(), ctx.deps.clock.now()),
          ),
      );
    },
    statusSections: cfg?.enabled
      ? [{
        id: "portal-repo",
        title: "Portal repository",
        order: 140,
        source: "/api/v1/sync/portal-repo",
        render: "kv",
        refreshOn: [AUDIT_TOPIC.name],
      }]
      : [],
  };
}
