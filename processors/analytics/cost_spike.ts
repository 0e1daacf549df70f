/**
 * The cost-spike alert: the last day's total billing cost (`daily_metrics`, source `all`) compared with the
 * average of the `trailingDays` days before it; above `ratio` × that average the alert opens, at or below it
 * an open alert resolves. Reads through the neutral {@link AnalyticsReader}, so it runs on any engine.
 */
import type { AnalyticsReader } from "../../pipeline/analytics/sink.ts";
import type { Alert } from "../../schemas/alerts.ts";

/** Where and how to check. */
export interface CostCheck {
  reader: AnalyticsReader;
  /** Alert when the day's cost exceeds ratio × the trailing average (e.g. 1.5). */
  ratio: number;
  /** Days averaged before the last one (e.g. 7); at least 1 must have a cost. */
  trailingDays: number;
}

/** The alert to forward now (open, or resolved when `open` was true and the spike is over), or null. */
export async function costSpikeAlert(check: CostCheck, now: number, open: boolean): Promise<Alert | null> {
  const rows = await check.reader.query(
    `SELECT CAST(date AS VARCHAR) AS date, total_cost FROM daily_metrics
     WHERE source = 'all' AND total_cost IS NOT NULL ORDER BY date DESC LIMIT ${
      Math.trunc(check.trailingDays) + 1
    }`,
  );
  if (rows.length < 2) return null;
  const [last, ...before] = rows.map((r) => ({ date: String(r.date), cost: Number(r.total_cost) }));
  const avg = before.reduce((a, r) => a + r.cost, 0) / before.length;
  const threshold = avg * check.ratio;
  const spike = avg > 0 ? last.cost > threshold : last.cost > 0;
  if (spike === open) return null;
  const at = new Date(now).toISOString();
  return {
    id: "CostSpike:analytics",
    type: "CostSpike",
    layer: "analytics",
    state: spike ? "open" : "resolved",
    severity: "warning",
    message: spike
      ? `billing cost on ${last.date} was ${
        last.cost.toFixed(2)
      }, above ${check.ratio}× the ${before.length}-day ` +
        `average of ${avg.toFixed(2)}`
      : `billing cost on ${last.date} (${
        last.cost.toFixed(2)
      }) is back within ${check.ratio}× the trailing average`,
    value: last.cost,
    threshold,
    opened_at: at,
    resolved_at: spike ? null : at,
    updated_at: at,
  };
}
