/**
 * BigQuery table schemas of the analytics tables, mapped column by column from `pipeline/analytics/tables.ts`
 * (so from the TypeBox declarations in `schemas/`), like the DuckDB DDL in `connectors/duckdb/ddl.ts`. Tables
 * are partitioned by day on their `partitionBy` column and clustered by their `clusterBy` columns.
 */
import type { ColumnType } from "../../pipeline/analytics/columns.ts";
import type { TableDef } from "../../pipeline/analytics/tables.ts";

/** BigQuery (GoogleSQL) type of each neutral column type. */
export const BIGQUERY_TYPES: Record<ColumnType, string> = {
  string: "STRING",
  int: "INT64",
  float: "FLOAT64",
  bool: "BOOL",
  timestamp: "TIMESTAMP",
  date: "DATE",
  json: "JSON",
};

/** One field of a BigQuery table schema (REST `TableFieldSchema`). */
export interface BigQueryField {
  name: string;
  type: string;
  mode: "REQUIRED" | "NULLABLE";
  description?: string;
}

/** The REST `Table` resource parts lzsync sets: schema, day partitioning, clustering, description. */
export interface BigQueryTableSpec {
  schema: { fields: BigQueryField[] };
  timePartitioning?: { type: "DAY"; field: string };
  clustering?: { fields: string[] };
  description: string;
}

/** The schema fields of `t`, in column order. */
export function bigQueryFields(t: TableDef): BigQueryField[] {
  return t.columns.map((c) => ({
    name: c.name,
    type: BIGQUERY_TYPES[c.type],
    mode: c.nullable ? "NULLABLE" : "REQUIRED",
    ...(c.description ? { description: c.description.slice(0, 1024) } : {}),
  }));
}

/** The table resource of `t` (BigQuery clusters on at most four columns). */
export function bigQueryTable(t: TableDef): BigQueryTableSpec {
  return {
    schema: { fields: bigQueryFields(t) },
    ...(t.partitionBy ? { timePartitioning: { type: "DAY" as const, field: t.partitionBy } } : {}),
    ...(t.clusterBy.length ? { clustering: { fields: t.clusterBy.slice(0, 4) } } : {}),
    description: t.description.slice(0, 16_384),
  };
}
