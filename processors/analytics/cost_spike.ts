/**
 * The cost-spike alert: the last day's total billing cost (`daily_metrics`, source `all`) compared with the
 * average of the `trailingDays` days before it; above `ratio` × that average the alert opens, at or below it
 * an open alert resolves. Reads through the neutral {@link AnalyticsReader}, so it runs on any engine.
 *
 * An episode is named by the data, not the clock: its `opened_at` is the start (00:00 UTC) of the first day of
 * the run of spike days that ends on the last day, and its resolve carries the same `opened_at`. A rebuild
 * (`replay`, a lost store) that finds the same spike open again says the same alert, which the alert
 * notifier's ledger counts as a duplicate instead of posting it again.
 */
import type { AnalyticsReader } from "../../pipeline/analytics/sink.ts";
import type { Alert } from "../../schemas/alerts.ts";

/** The alert id (the key on `lz.alerts.v1`; persisted contract). */
export const COST_SPIKE_ALERT_ID = "CostSpike:analytics";

/** Days before the last one searched for the first day of a spike run (a longer run starts at the oldest). */
export const SPIKE_RUN_LOOKBACK_DAYS = 31;

/** Where and how to check. */
export interface CostCheck {
  reader: AnalyticsReader;
  /** Alert when the day's cost exceeds ratio × the trailing average (e.g. 1.5). */
  ratio: number;
  /** Days averaged before the last one (e.g. 7); at least 1 must have a cost. */
  trailingDays: number;
  /** The alert id (default {@link COST_SPIKE_ALERT_ID}); tests sharing one Kafka give each run its own. */
  alertId?: string;
}

/** The open episode an alert check continues: what the analytics store keeps while a spike is open. */
export interface OpenSpike {
  opened_at: string;
}

type Day = { date: string; cost: number };

/** Whether day `i` of `days` (ascending) spikes over the `trailing` days before it, or null without any. */
function judge(days: Day[], i: number, trailing: number, ratio: number) {
  const before = days.slice(Math.max(0, i - trailing), i);
  if (before.length === 0) return null;
  const avg = before.reduce((a, r) => a + r.cost, 0) / before.length;
  const threshold = avg * ratio;
  const cost = days[i].cost;
  return { spike: avg > 0 ? cost > threshold : cost > 0, avg, threshold, trailing: before.length };
}

/**
 * The alert to forward now: an open one when a spike starts (`open` null), the resolve of `open` when the
 * spike is over, or null when nothing changed.
 */
export async function costSpikeAlert(
  check: CostCheck,
  now: number,
  open: OpenSpike | null,
): Promise<Alert | null> {
  const trailing = Math.trunc(check.trailingDays);
  const limit = trailing + 1 + SPIKE_RUN_LOOKBACK_DAYS;
  const rows = await check.reader.query(
    `SELECT CAST(date AS VARCHAR) AS date, total_cost FROM daily_metrics
     WHERE source = 'all' AND total_cost IS NOT NULL ORDER BY date DESC LIMIT ${limit}`,
  );
  const days: Day[] = rows.map((r) => ({ date: String(r.date), cost: Number(r.total_cost) })).reverse();
  const lastAt = days.length - 1;
  const last = judge(days, lastAt, trailing, check.ratio);
  if (!last || last.spike === (open !== null)) return null;
  const day = days[lastAt];
  // The data has not reached the day the open episode began: a rebuild under way (a replay into a fresh file).
  if (open && day.date < open.opened_at.slice(0, 10)) return null;
  const at = new Date(now).toISOString();
  const base = {
    id: check.alertId ?? COST_SPIKE_ALERT_ID,
    type: "CostSpike",
    layer: "analytics",
    severity: "warning",
    value: day.cost,
    threshold: last.threshold,
    updated_at: at,
  } as const;
  if (open) {
    return {
      ...base,
      state: "resolved",
      message: `billing cost on ${day.date} (${
        day.cost.toFixed(2)
      }) is back within ${check.ratio}× the trailing average`,
      opened_at: open.opened_at,
      resolved_at: at,
    };
  }
  // The run's first day: a day is judged only over a full trailing window, unless the table has no older rows.
  const oldest = rows.length < limit ? 1 : trailing;
  let first = lastAt;
  while (first - 1 >= oldest && judge(days, first - 1, trailing, check.ratio)?.spike) first--;
  return {
    ...base,
    state: "open",
    message: `billing cost on ${day.date} was ${
      day.cost.toFixed(2)
    }, above ${check.ratio}× the ${last.trailing}-day average of ${last.avg.toFixed(2)}`,
    opened_at: new Date(`${days[first].date}T00:00:00Z`).toISOString(),
    resolved_at: null,
  };
}
