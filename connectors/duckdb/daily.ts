/**
 * The scheduled SQL step of the DuckDB engine: recomputes `daily_metrics` and `daily_compliance` for every
 * day from the first recorded asset to the day of `now` (UTC), from the history tables alone, so a replay of
 * the topics back-fills them. Run in one transaction; running it twice gives the same rows. The engine runs
 * it from the earliest day its flushes touched since the last run (all days after a restart).
 */
import { rawTableName } from "../../pipeline/analytics/tables.ts";
import { SCORES_TOPIC } from "../../schemas/compliance.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";

const SCORES = rawTableName(SCORES_TOPIC.name);
const BILLING = rawTableName(BILLING_TOPIC.name);

/** Days from the first history row (or `from`, when later) to today, as a CTE body. */
const days = (today: string, from: string | null) => `
  SELECT CAST(d AS DATE) AS date FROM (
    SELECT LEAST(
      (SELECT MIN(valid_from) FROM assets_history),
      (SELECT MIN(ts) FROM ${SCORES}),
      (SELECT MIN(usage_start_time) FROM ${BILLING})
    )::DATE AS d0
  ) b, range(${from ? `GREATEST(b.d0, DATE '${from}')` : "b.d0"}, DATE '${today}' + 1, INTERVAL 1 DAY) r(d)
  WHERE b.d0 IS NOT NULL`;

/**
 * The statements, in order. `now` is ms since the epoch; `from` (YYYY-MM-DD) recomputes only the days from it
 * on (the days records changed since the last run: intervals open and close at record times).
 */
export function dailySql(now: number, from: string | null = null): string[] {
  const today = new Date(now).toISOString().slice(0, 10);
  const created = new Date(now).toISOString();
  const where = from ? ` WHERE date >= DATE '${from}'` : "";
  return [
    `DELETE FROM daily_metrics${where}`,
    `INSERT INTO daily_metrics
     WITH days AS (${days(today, from)}),
     alive AS (
       SELECT d.date, h.source, h.key AS asset
       FROM days d JOIN assets_history h
         ON h.valid_from < d.date + 1 AND (h.valid_to IS NULL OR h.valid_to >= d.date + 1)
     ),
     violated AS (
       SELECT DISTINCT d.date, v.asset_name AS asset
       FROM days d JOIN violations_history v
         ON v.valid_from < d.date + 1 AND (v.valid_to IS NULL OR v.valid_to >= d.date + 1)
     ),
     counts AS (
       SELECT a.date, COALESCE(a.source, 'all') AS source, COUNT(*) AS total_resources,
              COUNT(v.asset) AS resources_with_violations, GROUPING(a.source) = 1 AS is_all
       FROM alive a LEFT JOIN violated v ON v.date = a.date AND v.asset = a.asset
       GROUP BY GROUPING SETS ((a.date, a.source), (a.date))
     ),
     cost AS (
       SELECT CAST(usage_start_time AS DATE) AS date, SUM(cost + COALESCE(credits, 0)) AS total_cost
       FROM (SELECT * FROM ${BILLING} WHERE NOT tombstone QUALIFY ROW_NUMBER() OVER (PARTITION BY key ORDER BY "offset" DESC) = 1)
       GROUP BY 1
     ),
     overall AS (SELECT ts, score FROM ${SCORES} WHERE NOT tombstone AND kind = 'overall' AND score IS NOT NULL),
     score AS (
       SELECT d.date, COALESCE(
         (SELECT AVG(o.score) FROM overall o WHERE CAST(o.ts AS DATE) = d.date),
         (SELECT o.score FROM overall o WHERE o.ts < d.date ORDER BY o.ts DESC LIMIT 1)
       ) AS avg_compliance_score
       FROM days d
     ),
     grid AS (
       SELECT d.date, 'all' AS source, TRUE AS is_all FROM days d
       UNION SELECT date, source, is_all FROM counts
     )
     SELECT g.date, g.source, COALESCE(c.total_resources, 0), COALESCE(c.resources_with_violations, 0),
            CASE WHEN g.is_all THEN k.total_cost END, CASE WHEN g.is_all THEN s.avg_compliance_score END,
            TIMESTAMPTZ '${created}'
     FROM grid g
     LEFT JOIN counts c ON c.date = g.date AND c.source = g.source AND c.is_all = g.is_all
     LEFT JOIN cost k ON k.date = g.date
     LEFT JOIN score s ON s.date = g.date
     WHERE g.is_all OR g.source <> 'all'`,
    `DELETE FROM daily_compliance${where}`,
    `INSERT INTO daily_compliance
     WITH days AS (${days(today, from)}),
     scopes AS (SELECT DISTINCT key AS scope FROM ${SCORES} WHERE kind IN ('project', 'rule')),
     grid AS (SELECT d.date, s.scope, CAST(d.date + 1 AS TIMESTAMPTZ) AS day_end FROM days d, scopes s)
     SELECT g.date, r.kind, r.name, r.passed, r.evaluated, r.score, r.open_violations, TIMESTAMPTZ '${created}'
     FROM grid g ASOF JOIN ${SCORES} r ON r.key = g.scope AND g.day_end > r.ts
     WHERE NOT r.tombstone`,
  ];
}
