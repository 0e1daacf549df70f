/**
 * The infrastructure layers (API sync, real-time events, policy) in the gateway:
 *
 * - `GET /api/v1/sync/infrastructure-state` — the documents' shape (`projects`, `vpcs`, `vms`, `gke_clusters`,
 *   `databases`, `compliance_status`, `policy_violations`, `last_sync`) plus `buckets`, `resource_counts`,
 *   `resource_summary` and the api/pubsub layers' freshness; `?summary=1` drops the resource lists.
 * - `GET /api/v1/violations?severity=&rule=&project=&state=open|resolved|all&limit=&offset=` (comma lists).
 * - `GET /api/v1/compliance` — passed/evaluated overall, per project and per rule.
 * - Live: `lz.assets.v1` frames are `resource_created|updated|deleted`, `lz.violations.v1` frames
 *   `policy_violated|policy_resolved`, scores as `lz.compliance.scores.v1`.
 * - Status page: resources, the compliance score and open violations.
 */
import type { Context, Hono } from "hono";
import type { GatewayContext, GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import { jsonError } from "../../connectors/gateway/json_error.ts";
import { unknownQuery } from "../../connectors/gateway/query.ts";
import { statusAt } from "../../connectors/gateway/status_time.ts";
import { ASSETS_TOPIC, type AssetState } from "../../schemas/assets.ts";
import { type ComplianceScore, SCORES_TOPIC } from "../../schemas/compliance.ts";
import { type Violation, VIOLATIONS_TOPIC } from "../../schemas/violations.ts";
import { SYNC_STATUS_TOPIC, type SyncStatus } from "../../schemas/sync_status.ts";
import { materializeInfrastructureState } from "../../processors/assets/mod.ts";
import { CIS_RULES, governanceRules } from "../../processors/policy/mod.ts";

const SEVERITIES = ["critical", "high", "medium", "low"] as const;
const STATES = ["open", "resolved", "all"] as const;
const KINDS: Record<string, string> = {
  "cloudresourcemanager.googleapis.com/Project": "projects",
  "compute.googleapis.com/Network": "vpcs",
  "compute.googleapis.com/Subnetwork": "subnets",
  "compute.googleapis.com/Firewall": "firewall rules",
  "compute.googleapis.com/Instance": "vms",
  "compute.googleapis.com/Project": "compute projects",
  "container.googleapis.com/Cluster": "gke clusters",
  "sqladmin.googleapis.com/Instance": "databases",
  "storage.googleapis.com/Bucket": "buckets",
};

function list(c: Context, name: string, allowed?: readonly string[]): string[] | Response {
  const raw = c.req.queries(name)?.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean) ?? [];
  if (allowed) {
    const bad = raw.find((v) => !allowed.includes(v.toLowerCase()));
    if (bad !== undefined) {
      return jsonError(
        c,
        400,
        "bad_request",
        `${name}=${bad} is not valid; use one of ${allowed.join(", ")}`,
      );
    }
    return raw.map((v) => v.toLowerCase());
  }
  return raw;
}

function int(c: Context, name: string, def: number, min: number, max: number): number | Response {
  const v = c.req.query(name);
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    return jsonError(
      c,
      400,
      "bad_request",
      `${name}=${v} is not valid; use an integer from ${min} to ${max}`,
    );
  }
  return n;
}

const GOVERNANCE_META = governanceRules({
  repo: null,
  path: "pmo.yaml",
  commit: null,
  present: true,
  required_labels: [{ key: "any", pattern: null, allowed: null }],
  allowed_regions: ["any"],
  exceptions: [],
  updated_at: new Date(0).toISOString(),
});
const ruleMeta = new Map([...CIS_RULES, ...GOVERNANCE_META].map((r) => [r.id, r]));

/** The plugin. */
export function infraGatewayPlugin(): GatewayPlugin {
  return {
    name: "infrastructure",
    compactedTopics: [ASSETS_TOPIC.name, VIOLATIONS_TOPIC.name, SCORES_TOPIC.name, SYNC_STATUS_TOPIC.name],
    routes(app: Hono, ctx: GatewayContext) {
      const assets = () => ctx.view<AssetState>(ASSETS_TOPIC.name);
      const violations = () => ctx.view<Violation>(VIOLATIONS_TOPIC.name);
      const scores = () => ctx.view<ComplianceScore>(SCORES_TOPIC.name);
      const layers = () => ctx.view<SyncStatus>(SYNC_STATUS_TOPIC.name);

      app.get("/api/v1/sync/infrastructure-state", ctx.requireScope("read"), (c) => {
        const badQuery = unknownQuery(c, ["summary"]);
        if (badQuery) return badQuery;
        const s = materializeInfrastructureState(assets().values(), violations().values(), scores());
        const sync: Record<string, unknown> = {};
        for (const layer of ["api", "pubsub"]) {
          const st = layers().get(layer);
          sync[layer] = st
            ? {
              status: st.status,
              last_sync: st.last_sync,
              freshness_seconds: statusAt(st, ctx.deps.clock.now()).freshness_seconds,
              next_sync: st.next_sync,
            }
            : null;
        }
        const layerSyncs = Object.values(sync).map((x) =>
          (x as { last_sync?: string } | null)?.last_sync ?? ""
        );
        const lastSync = [s.last_sync ?? "", ...layerSyncs].sort().at(-1) || null;
        const summary = Object.entries(s.resource_counts)
          .map(([type, count]) => ({ kind: KINDS[type] ?? type, asset_type: type, count }))
          .sort((a, b) => a.kind.localeCompare(b.kind));
        const body = { ...s, last_sync: lastSync, resource_summary: summary, sync };
        if (c.req.query("summary") === "1") {
          return c.json({
            compliance_status: body.compliance_status,
            resource_counts: body.resource_counts,
            resource_summary: summary,
            last_sync: lastSync,
            sync,
          });
        }
        return c.json(body);
      });

      app.get("/api/v1/violations", ctx.requireScope("read"), (c) => {
        const bad = unknownQuery(c, [
          "severity",
          "state",
          "rule",
          "project",
          "limit",
          "offset",
          "access_token",
        ]);
        if (bad) return bad;
        const severity = list(c, "severity", SEVERITIES);
        if (severity instanceof Response) return severity;
        const states = list(c, "state", STATES);
        if (states instanceof Response) return states;
        const rules = list(c, "rule");
        const projects = list(c, "project");
        const limit = int(c, "limit", 1000, 1, 10_000);
        if (limit instanceof Response) return limit;
        const offset = int(c, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
        if (offset instanceof Response) return offset;
        const state = states.length ? states : ["open"];
        const hits = [...violations().values()].filter((v) =>
          (state.includes("all") || state.includes(v.state)) &&
          (!severity.length || severity.includes(v.severity)) &&
          (!(rules as string[]).length || (rules as string[]).includes(v.rule_id)) &&
          (!(projects as string[]).length || (projects as string[]).includes(v.project ?? ""))
        ).sort((a, b) =>
          SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
          b.last_seen.localeCompare(a.last_seen) ||
          a.id.localeCompare(b.id)
        );
        if (offset > 0 && offset >= hits.length) {
          return jsonError(
            c,
            400,
            "bad_request",
            `offset ${offset} is beyond the end: ${hits.length} violation(s) match; use an offset below ${hits.length}`,
            { total: hits.length },
          );
        }
        return c.json({
          total: hits.length,
          offset,
          limit,
          violations: hits.slice(offset, offset + limit).map((v) => ({
            ...v,
            asset_short_name: v.asset_name.split("/").pop(),
          })),
        });
      });

      app.get("/api/v1/compliance", ctx.requireScope("read"), (c) => {
        const badQuery = unknownQuery(c, []);
        if (badQuery) return badQuery;
        const all = [...scores().values()];
        const overall = scores().get("overall") ?? null;
        const ratio = (s: ComplianceScore | null) => (s && s.evaluated ? s.passed / s.evaluated : null);
        return c.json({
          overall: overall ? { ...overall, ratio: ratio(overall) } : null,
          by_project: all.filter((s) => s.kind === "project").sort((a, b) => a.name.localeCompare(b.name)),
          by_rule: all.filter((s) => s.kind === "rule").map((s) => {
            const r = ruleMeta.get(s.name);
            return {
              ...s,
              title: r?.title ?? s.name,
              severity: r?.severity ?? null,
              benchmarks: r?.benchmarks ?? [],
            };
          }).sort((a, b) => a.name.localeCompare(b.name)),
        });
      });
    },
    statusSections: [
      {
        id: "infra-resources",
        title: "Infrastructure resources",
        order: 110,
        source: "/api/v1/sync/infrastructure-state?summary=1",
        path: "resource_summary",
        render: "table",
        columns: [{ key: "kind", label: "kind" }, { key: "count", label: "count", format: "number" }],
        refreshOn: [ASSETS_TOPIC.name],
      },
      {
        id: "infra-compliance",
        title: "Compliance score",
        order: 111,
        source: "/api/v1/compliance",
        path: "overall.ratio",
        render: "score",
        refreshOn: [SCORES_TOPIC.name],
      },
      {
        id: "infra-violations",
        title: "Open violations",
        order: 112,
        source: "/api/v1/violations?state=open&limit=200",
        path: "violations",
        render: "table",
        wide: true,
        columns: [
          { key: "severity", format: "status" },
          { key: "rule_id", label: "rule" },
          { key: "project" },
          { key: "asset_short_name", label: "resource" },
          { key: "message" },
          { key: "first_seen", label: "since", format: "age" },
        ],
        refreshOn: [VIOLATIONS_TOPIC.name],
      },
    ],
  };
}
