/**
 * Rows of the analytics tables that are not one topic's values (layer 5): the documents' `daily_metrics`,
 * daily compliance per project and per rule, and forecasts. One declaration each: the DuckDB DDL and the
 * BigQuery table schema are derived from these (see `pipeline/analytics/tables.ts`), never written twice.
 */
import { type Static, Type } from "@sinclair/typebox";

const Day = () => Type.String({ format: "date", description: "calendar day (UTC)" });
const Time = () => Type.String({ format: "date-time" });
const NullableNumber = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

/** `daily_metrics` exactly as the Landing Zone documents define it; one row per day and source. */
export const DailyMetrics = Type.Object({
  date: Day(),
  source: Type.String({
    description: "where the assets were observed (api, export, feed, lz_event), or `all` for the totals",
  }),
  total_resources: Type.Integer({ minimum: 0, description: "assets that existed at the end of the day" }),
  resources_with_violations: Type.Integer({
    minimum: 0,
    description: "of those, assets with at least one open violation at the end of the day",
  }),
  total_cost: NullableNumber("billing cost of the day (cost + credits) from the billing export; `all` only"),
  avg_compliance_score: NullableNumber(
    "mean of the overall compliance scores recorded that day (the last earlier one when none); `all` only",
  ),
  created_at: Time(),
}, { additionalProperties: false });
export type DailyMetrics = Static<typeof DailyMetrics>;

/** Compliance of one project or rule at the end of a day (the last score record at or before it). */
export const DailyCompliance = Type.Object({
  date: Day(),
  kind: Type.Union([Type.Literal("project"), Type.Literal("rule")]),
  name: Type.String({ description: "project id or rule id" }),
  passed: Type.Integer({ minimum: 0 }),
  evaluated: Type.Integer({ minimum: 0 }),
  score: NullableNumber("100 * passed / evaluated"),
  open_violations: Type.Integer({ minimum: 0 }),
  created_at: Time(),
}, { additionalProperties: false });
export type DailyCompliance = Static<typeof DailyCompliance>;
