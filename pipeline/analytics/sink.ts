/**
 * The one sink contract both analytics engines fill (`connectors/duckdb/`, `connectors/bigquery/`). The
 * analytics processor hands it every record with {@link AnalyticsSink.add}; the processor host calls
 * `flush()` at each checkpoint before outputs, changelog and the input commit, so a record's rows are durable
 * before its offset is committed. A crash between flush and commit re-delivers records whose rows exist:
 * engines write rows keyed by (topic, partition, offset) with upserts, and keep the next offset per topic
 * partition in the same transaction as the rows, so a re-delivered record adds nothing.
 */
import type { Sink } from "../processor/types.ts";
import type { AnalyticsRecord } from "./rows.ts";

/** A row of a query result, JSON-safe (BIGINT as number when safe, else string; timestamps as ISO text). */
export type ResultRow = Record<string, unknown>;

/** An analytics engine as a processor-host sink. */
export interface AnalyticsSink extends Sink {
  /** Buffers a record's rows until the next flush; records already applied are ignored. */
  add(record: AnalyticsRecord): void;
  /** Recomputes `daily_metrics` and `daily_compliance` from the history tables, up to the day of `now`. */
  refreshDaily(now: number): Promise<void>;
}

/** Read access to an engine's tables. */
export interface AnalyticsReader {
  /** Runs one read-only statement (SELECT, EXPLAIN); anything else is refused with a clear error. */
  query(sql: string): Promise<ResultRow[]>;
}
