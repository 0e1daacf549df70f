/**
 * `GET /api/v1/audit`: the audit trail (`lz.audit.v1`, a compacted topic every gateway materializes), newest
 * first, with filters: `kind`, `trigger`, `outcome`, `subject`, `token_name`, `delivery_id`, `sync_id`,
 * `commit`, `since` / `until` (ISO-8601 times, on `at`), `limit` (default 100, at most 1000). A token
 * restricted to fabrics (`gateway.tokens[].fabrics`) sees the fabric records (`fabric_write`, `fabric_sync`)
 * of its fabrics only.
 */
import type { GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import { jsonError } from "../../connectors/gateway/json_error.ts";
import { tokenFabrics } from "../../connectors/gateway/auth.ts";
import { AUDIT_TOPIC, type AuditRecord } from "../../schemas/audit.ts";

const EXACT = [
  "kind",
  "trigger",
  "outcome",
  "subject",
  "token_name",
  "delivery_id",
  "sync_id",
  "commit",
] as const;

/** Audit records of `all` matching `query`, newest first; a string error for a bad query. */
export function queryAudit(
  all: Iterable<AuditRecord>,
  query: Record<string, string | undefined>,
): { records: AuditRecord[]; total: number } | string {
  const known = new Set<string>([...EXACT, "since", "until", "limit"]);
  const unknown = Object.keys(query).filter((k) => !known.has(k) && k !== "access_token");
  if (unknown.length) return `unknown filter ${unknown.join(", ")}; use ${[...known].join(", ")}`;
  const times: Record<string, number> = {};
  for (const k of ["since", "until"]) {
    const v = query[k];
    if (v === undefined) continue;
    const t = Date.parse(v);
    if (Number.isNaN(t)) return `${k}=${v} is not an ISO-8601 time, e.g. 2026-11-01T00:00:00Z`;
    times[k] = t;
  }
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return `limit=${query.limit} must be 1-1000`;
  const hits = [...all].filter((r) => {
    for (const k of EXACT) if (query[k] !== undefined && r[k] !== query[k]) return false;
    const at = Date.parse(r.at);
    if (times.since !== undefined && at < times.since) return false;
    if (times.until !== undefined && at >= times.until) return false;
    return true;
  }).sort((a, b) => b.at.localeCompare(a.at) || a.id.localeCompare(b.id));
  return { records: hits.slice(0, limit), total: hits.length };
}

/** Kinds of audit records about one fabric (`subject` = its id). */
const FABRIC_KINDS = new Set<string>(["fabric_write", "fabric_sync"]);

/** The audit routes and status section. */
export function auditPlugin(): GatewayPlugin {
  return {
    name: "audit",
    compactedTopics: [AUDIT_TOPIC.name],
    routes(app, ctx) {
      app.get("/api/v1/audit", ctx.requireScope("read"), (c) => {
        const fabrics = tokenFabrics(c);
        const all = [...ctx.view<AuditRecord>(AUDIT_TOPIC.name).values()];
        const visible = fabrics
          ? all.filter((r) => !FABRIC_KINDS.has(r.kind) || fabrics.has(r.subject))
          : all;
        const r = queryAudit(visible, c.req.query());
        if (typeof r === "string") return jsonError(c, 400, "bad_request", r);
        return c.json(r);
      });
    },
    statusSections: [{
      id: "audit",
      title: "Audit trail",
      order: 150,
      source: "/api/v1/audit?limit=20",
      path: "records",
      render: "table",
      wide: true,
      refreshOn: [AUDIT_TOPIC.name],
      columns: [
        { key: "at", format: "time" },
        { key: "kind" },
        { key: "trigger" },
        { key: "token_name", label: "token" },
        { key: "subject" },
        { key: "commit", format: "sha" },
        { key: "outcome", format: "status" },
        { key: "message" },
      ],
    }],
  };
}
