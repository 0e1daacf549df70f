/**
 * The analytics tables of layer 5, the same names and columns in DuckDB and BigQuery, every one derived from
 * a declaration in `schemas/`:
 * - `raw_<topic>` (dots as underscores): one row per record of a topic, `topic, partition, offset, ts, key,
 *   tombstone` + the value's columns; primary key (topic, partition, offset);
 * - `assets_history`, `violations_history`: state as validity intervals (`valid_from`, `valid_to` null while
 *   current), keyed by the record that opened the interval, so "what was open on day D" is one query;
 * - `sync_runs`: one row per sync attempt of any layer (`lz.sync.events.v1`) with its latency;
 * - `daily_metrics`, `daily_compliance`: computed from the tables above by the engine (see `daily.ts`).
 */
import type { TSchema } from "@sinclair/typebox";
import { type Column, valueColumns } from "./columns.ts";
import type { TopicDef } from "../../schemas/topic.ts";
import { TOPICS } from "../../schemas/mod.ts";
import { ASSETS_TOPIC, type AssetState } from "../../schemas/assets.ts";
import { type Violation, VIOLATIONS_TOPIC } from "../../schemas/violations.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { DailyCompliance, DailyMetrics } from "../../schemas/analytics.ts";

/** One table; `partitionBy` is the day-partitioning column (BigQuery), `clusterBy` the clustering key. */
export interface TableDef {
  name: string;
  kind: "raw" | "interval" | "runs" | "daily" | "internal";
  description: string;
  columns: Column[];
  primaryKey: string[];
  partitionBy: string | null;
  clusterBy: string[];
  /** The topic whose records fill the table (raw, interval, runs). */
  topic?: string;
}

/** An interval table: which records open an interval and which only close the current one. */
export interface IntervalSpec {
  table: string;
  topic: TopicDef;
  /** True for a value that ends the key's current state without starting a new one. */
  closes(value: unknown): boolean;
}

const meta = (name: string, type: Column["type"], nullable = false, description?: string): Column => ({
  name,
  type,
  nullable,
  path: [],
  description,
});

const RAW_META = [
  meta("topic", "string"),
  meta("partition", "int"),
  meta("offset", "int"),
  meta("ts", "timestamp", false, "record timestamp"),
  meta("key", "string", true),
  meta("tombstone", "bool", false, "a null value (compacted topics)"),
];
const RESERVED = new Set(RAW_META.map((c) => c.name));

/** Topics kept out of analytics: the runtime's own test topics. */
const SKIPPED = (name: string) => name.startsWith("lz.test.");

/** The raw history table name of a topic. */
export function rawTableName(topic: string): string {
  return `raw_${topic.replace(/[^A-Za-z0-9]+/g, "_")}`;
}

function rawTable(def: TopicDef): TableDef {
  const cols = valueColumns(def.schema, RESERVED).map((c) => ({ ...c, nullable: true }));
  return {
    name: rawTableName(def.name),
    kind: "raw",
    description: `every record of ${def.name}: ${def.description}`,
    columns: [...RAW_META, ...cols],
    primaryKey: ["topic", "partition", "offset"],
    partitionBy: "ts",
    clusterBy: ["key"],
    topic: def.name,
  };
}

const INTERVAL_META = [
  meta("key", "string"),
  meta("partition", "int"),
  meta("offset", "int", false, "offset of the record that opened the interval"),
  meta("valid_from", "timestamp"),
  meta("valid_to", "timestamp", true, "null while this is the current state"),
  meta("closed_by", "int", true, "offset of the record that ended the interval; null while current"),
];
const INTERVAL_RESERVED = new Set(INTERVAL_META.map((c) => c.name));

/** The state-history tables and what ends an interval. */
export const INTERVALS: readonly IntervalSpec[] = [
  {
    table: "assets_history",
    topic: ASSETS_TOPIC,
    closes: (v) => v === null || (v as AssetState).type === "resource_deleted",
  },
  {
    table: "violations_history",
    topic: VIOLATIONS_TOPIC,
    closes: (v) => v === null || (v as Violation).state === "resolved",
  },
];

function intervalTable(spec: IntervalSpec): TableDef {
  return {
    name: spec.table,
    kind: "interval",
    description: `${spec.topic.name} as validity intervals (valid_from, valid_to)`,
    columns: [...INTERVAL_META, ...valueColumns(spec.topic.schema, INTERVAL_RESERVED)],
    primaryKey: ["partition", "offset"],
    partitionBy: "valid_from",
    clusterBy: ["key"],
    topic: spec.topic.name,
  };
}

function syncRunsTable(): TableDef {
  const cols = valueColumns(SYNC_EVENTS_TOPIC.schema, new Set(["partition", "offset", "ts"]));
  return {
    name: "sync_runs",
    kind: "runs",
    description: "one row per sync attempt of any layer (lz.sync.events.v1), redeliveries counted once",
    columns: [
      meta("partition", "int"),
      meta("offset", "int"),
      meta("ts", "timestamp"),
      ...cols,
      meta("latency_seconds", "float", true, "source change (commit/event time) or start → finished"),
    ],
    primaryKey: ["id"],
    partitionBy: "finished_at",
    clusterBy: ["layer"],
    topic: SYNC_EVENTS_TOPIC.name,
  };
}

function dailyTable(name: string, schema: TSchema, key: string[], description: string): TableDef {
  return {
    name,
    kind: "daily",
    description,
    columns: valueColumns(schema),
    primaryKey: key,
    partitionBy: "date",
    clusterBy: key.slice(1),
  };
}

/** Where each sink keeps the next offset to apply per topic partition (committed with the rows). */
export const OFFSETS_TABLE: TableDef = {
  name: "analytics_offsets",
  kind: "internal",
  description: "per topic partition, the next offset the analytics sink will apply",
  columns: [
    meta("topic", "string"),
    meta("partition", "int"),
    meta("next_offset", "int"),
    meta("updated_at", "timestamp"),
  ],
  primaryKey: ["topic", "partition"],
  partitionBy: null,
  clusterBy: [],
};

/**
 * Per table and topic partition, what the BigQuery exporter has loaded: `next_offset` (everything below is in
 * BigQuery) and the load in flight (`pending_to`, `attempt`), written before the load job is submitted so a
 * restart finds the job by its deterministic id instead of loading the rows again.
 */
export const EXPORT_MARKS_TABLE: TableDef = {
  name: "bigquery_marks",
  kind: "internal",
  description: "per table and topic partition, the rows the BigQuery exporter has loaded",
  columns: [
    meta("table_name", "string"),
    meta("partition", "int"),
    meta("next_offset", "int"),
    meta("pending_to", "int", true),
    meta("attempt", "int"),
    meta("updated_at", "timestamp"),
  ],
  primaryKey: ["table_name", "partition"],
  partitionBy: null,
  clusterBy: [],
};

/** The topics analytics reads (every declared topic but the test topics). */
export function analyticsTopics(): TopicDef[] {
  return [...TOPICS.values()].filter((t) => !SKIPPED(t.name));
}

/** Every analytics table, in a stable order. */
export function analyticsTables(): TableDef[] {
  return [
    ...analyticsTopics().map(rawTable),
    ...INTERVALS.map(intervalTable),
    syncRunsTable(),
    dailyTable(
      "daily_metrics",
      DailyMetrics,
      ["date", "source"],
      "the documents' daily_metrics, per day and source",
    ),
    dailyTable(
      "daily_compliance",
      DailyCompliance,
      ["date", "kind", "name"],
      "compliance per project and per rule at the end of each day",
    ),
    OFFSETS_TABLE,
    EXPORT_MARKS_TABLE,
  ];
}

/** The table named `name`; throws for an unknown name. */
export function tableDef(name: string): TableDef {
  const t = analyticsTables().find((x) => x.name === name);
  if (!t) throw new Error(`no analytics table ${name}`);
  return t;
}
