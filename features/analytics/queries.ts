/**
 * The fixed set of named analytics queries served over HTTP (`GET /api/v1/analytics/query?name=…`, read
 * scope) and the trend series of the status page with their forecasts. Parameters are validated and only
 * numbers and ISO dates ever reach the SQL; arbitrary SQL is for admins (`POST /api/v1/analytics/sql`) and the
 * CLI (`lzsync sql`).
 */
import { LzError } from "../../pipeline/errors.ts";
import type { AnalyticsReader, ResultRow } from "../../pipeline/analytics/sink.ts";
import { rawTableName } from "../../pipeline/analytics/tables.ts";
import { type DailyPoint, type Forecast, linearForecast } from "../../pipeline/analytics/forecast.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";

/** Validated query parameters. */
export interface QueryParams {
  /** Days back from `date` (1..3650, default 90). */
  days: number;
  /** The day of interest, YYYY-MM-DD (default: today, UTC). */
  date: string;
}

/** A named query. */
export interface NamedQuery {
  description: string;
  params: (keyof QueryParams)[];
  sql(p: QueryParams): string;
}

const BILLING = rawTableName(BILLING_TOPIC.name);
const DAY_US = 86_400_000_000;
const since = (p: QueryParams) => `DATE '${p.date}' - INTERVAL ${p.days} DAY`;
const dayEnd = (p: QueryParams) => `CAST(DATE '${p.date}' + INTERVAL 1 DAY AS TIMESTAMPTZ)`;

/** The named queries. */
export const NAMED_QUERIES: Record<string, NamedQuery> = {
  daily_metrics: {
    description: "daily_metrics of the last `days` days up to `date`, per source and `all`",
    params: ["days", "date"],
    sql: (p) =>
      `SELECT CAST(date AS VARCHAR) AS date, source, total_resources, resources_with_violations, total_cost,
              avg_compliance_score FROM daily_metrics
       WHERE date > ${since(p)} AND date <= DATE '${p.date}' ORDER BY date, source`,
  },
  compliance_by_project: {
    description: "compliance score per project at the end of `date`",
    params: ["date"],
    sql: (p) =>
      `SELECT name AS project, passed, evaluated, score, open_violations FROM daily_compliance
       WHERE kind = 'project' AND date = DATE '${p.date}' ORDER BY score NULLS LAST, name`,
  },
  compliance_by_rule: {
    description: "compliance score per rule at the end of `date`",
    params: ["date"],
    sql: (p) =>
      `SELECT name AS rule, passed, evaluated, score, open_violations FROM daily_compliance
       WHERE kind = 'rule' AND date = DATE '${p.date}' ORDER BY score NULLS LAST, name`,
  },
  open_violations_on: {
    description: "violations that were open at the end of `date` (from the validity intervals)",
    params: ["date"],
    sql: (p) =>
      `SELECT key AS id, rule_id, severity, asset_name, project, valid_from, valid_to FROM violations_history
       WHERE valid_from < ${dayEnd(p)} AND (valid_to IS NULL OR valid_to >= ${dayEnd(p)})
       ORDER BY severity, rule_id, asset_name`,
  },
  resources_on: {
    description: "resources that existed at the end of `date`, per asset type",
    params: ["date"],
    sql: (p) =>
      `SELECT json_extract_string(asset, '$.asset_type') AS asset_type, COUNT(*) AS resources
       FROM assets_history WHERE valid_from < ${dayEnd(p)} AND (valid_to IS NULL OR valid_to >= ${dayEnd(p)})
       GROUP BY 1 ORDER BY 2 DESC, 1`,
  },
  sync_latency: {
    description: "sync attempts per layer and day: count, failures, mean and p95 latency (seconds)",
    params: ["days", "date"],
    sql: (p) =>
      `SELECT CAST(CAST(finished_at AS DATE) AS VARCHAR) AS date, layer, COUNT(*) AS runs,
              COUNT(*) FILTER (WHERE NOT ok) AS failures, AVG(latency_seconds) AS mean_latency_seconds,
              quantile_cont(latency_seconds, 0.95) AS p95_latency_seconds
       FROM sync_runs WHERE CAST(finished_at AS DATE) > ${
        since(p)
      } AND CAST(finished_at AS DATE) <= DATE '${p.date}'
       GROUP BY 1, 2 ORDER BY 1, 2`,
  },
  cost_by_service: {
    description: "billing cost (cost + credits) per service and project over the last `days` days",
    params: ["days", "date"],
    sql: (p) =>
      `SELECT service_description AS service, project_id AS project, currency,
              ROUND(SUM(cost + credits), 2) AS cost
       FROM (SELECT * FROM ${BILLING} WHERE NOT tombstone
             QUALIFY ROW_NUMBER() OVER (PARTITION BY key ORDER BY "offset" DESC) = 1)
       WHERE CAST(usage_start_time AS DATE) > ${
        since(p)
      } AND CAST(usage_start_time AS DATE) <= DATE '${p.date}'
       GROUP BY 1, 2, 3 ORDER BY cost DESC`,
  },
};

/** Reads `days` and `date` from query-string values; a bad value is a USAGE error naming what is valid. */
export function queryParams(raw: { days?: string | null; date?: string | null }, now: number): QueryParams {
  const days = raw.days === undefined || raw.days === null || raw.days === "" ? 90 : Number(raw.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new LzError("USAGE", `days must be an integer from 1 to 3650 (got ${JSON.stringify(raw.days)})`);
  }
  const date = raw.date || new Date(now).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !Number.isFinite(Date.parse(`${date}T00:00:00Z`))) {
    throw new LzError("USAGE", `date must be YYYY-MM-DD (got ${JSON.stringify(raw.date)})`);
  }
  return { days, date };
}

/** Runs a named query; an unknown name is a NOT_FOUND error listing the valid ones. */
export async function runNamedQuery(
  reader: AnalyticsReader,
  name: string,
  p: QueryParams,
): Promise<ResultRow[]> {
  const q = NAMED_QUERIES[name];
  if (!q) {
    throw new LzError(
      "NOT_FOUND",
      `no analytics query ${JSON.stringify(name)}; named queries: ${Object.keys(NAMED_QUERIES).join(", ")}`,
    );
  }
  return await reader.query(q.sql(p));
}

/** The status page's trend series over `days` days up to `date`, with forecasts of three of them. */
export interface Trends {
  from: string;
  to: string;
  days: {
    date: string;
    resources: number;
    resources_with_violations: number;
    open_violations: number;
    compliance_score: number | null;
    cost: number | null;
  }[];
  /** Per layer, per day: mean latency in seconds. */
  sync_latency: { layer: string; points: { date: string; seconds: number | null; runs: number }[] }[];
  forecasts: { resources: Forecast; compliance_score: Forecast; cost: Forecast };
}

/** Reads the trend series and fits the forecasts. */
export async function trends(reader: AnalyticsReader, p: QueryParams): Promise<Trends> {
  // Open violations at the end of each day in one scan: +1 on the day an interval starts, -1 on the day it
  // ends, summed up to the day (an interval is open at the end of day D when valid_from < D+1 <= valid_to).
  // Days are UTC day numbers from epoch microseconds: a TIMESTAMPTZ → DATE cast goes through the time-zone
  // library and costs ~7x more on a million rows.
  const days = await reader.query(
    `WITH d AS (SELECT CAST(x AS DATE) AS date FROM range(${
      since(p)
    } + INTERVAL 1 DAY, DATE '${p.date}' + INTERVAL 1 DAY,
                INTERVAL 1 DAY) r(x)),
     ev AS (SELECT epoch_us(valid_from) // ${DAY_US} AS day, 1 AS delta FROM violations_history
            UNION ALL SELECT epoch_us(valid_to) // ${DAY_US}, -1 FROM violations_history WHERE valid_to IS NOT NULL),
     cum AS (SELECT day, SUM(SUM(delta)) OVER (ORDER BY day) AS open FROM ev GROUP BY day)
     SELECT CAST(d.date AS VARCHAR) AS date, m.total_resources AS resources,
            m.resources_with_violations, m.avg_compliance_score AS compliance_score, m.total_cost AS cost,
            COALESCE(c.open, 0) AS open_violations
     FROM d JOIN daily_metrics m ON m.date = d.date AND m.source = 'all'
     ASOF LEFT JOIN cum c ON c.day <= d.date - DATE '1970-01-01'
     ORDER BY d.date`,
  );
  const lat = await reader.query(NAMED_QUERIES.sync_latency.sql(p));
  const layers = new Map<string, Trends["sync_latency"][number]>();
  for (const r of lat) {
    const layer = String(r.layer);
    if (!layers.has(layer)) layers.set(layer, { layer, points: [] });
    layers.get(layer)!.points.push({
      date: String(r.date),
      seconds: r.mean_latency_seconds === null ? null : Number(r.mean_latency_seconds),
      runs: Number(r.runs),
    });
  }
  const series = (k: string): DailyPoint[] =>
    days.filter((d) => d[k] !== null && d[k] !== undefined).map((d) => ({
      date: String(d.date),
      value: Number(d[k]),
    }));
  return {
    from: new Date(Date.parse(`${p.date}T00:00:00Z`) - (p.days - 1) * 86_400_000).toISOString().slice(0, 10),
    to: p.date,
    days: days.map((d) => ({
      date: String(d.date),
      resources: Number(d.resources),
      resources_with_violations: Number(d.resources_with_violations),
      open_violations: Number(d.open_violations),
      compliance_score: d.compliance_score === null ? null : Number(d.compliance_score),
      cost: d.cost === null ? null : Number(d.cost),
    })),
    sync_latency: [...layers.values()],
    forecasts: {
      resources: linearForecast(series("resources"), 30, [7, 30], [0, Infinity]),
      compliance_score: linearForecast(series("compliance_score"), 30, [7, 30], [0, 100]),
      cost: linearForecast(series("cost"), 30, [7, 30], [0, Infinity]),
    },
  };
}
