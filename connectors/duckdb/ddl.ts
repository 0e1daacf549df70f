/**
 * DuckDB DDL of the analytics tables, mapped column by column from `pipeline/analytics/tables.ts` (so from the
 * TypeBox declarations in `schemas/`). Staging tables hold text for timestamps, dates and JSON; the insert
 * casts them.
 */
import type { Column, ColumnType } from "../../pipeline/analytics/columns.ts";
import type { TableDef } from "../../pipeline/analytics/tables.ts";

/** DuckDB type of each neutral column type. */
export const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: "VARCHAR",
  int: "BIGINT",
  float: "DOUBLE",
  bool: "BOOLEAN",
  timestamp: "TIMESTAMP WITH TIME ZONE",
  date: "DATE",
  json: "JSON",
};

/** A quoted identifier. */
export const q = (id: string) => `"${id.replaceAll('"', '""')}"`;

/** `CREATE TABLE IF NOT EXISTS` of a table, with its primary key. */
export function createTableSql(t: TableDef): string {
  const cols = t.columns.map((c) => `${q(c.name)} ${DUCKDB_TYPES[c.type]}${c.nullable ? "" : " NOT NULL"}`);
  if (t.primaryKey.length) cols.push(`PRIMARY KEY (${t.primaryKey.map(q).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${q(t.name)} (\n  ${cols.join(",\n  ")}\n)`;
}

/** The type a staged column is appended as. */
export function stageType(c: Column): string {
  return c.type === "timestamp" || c.type === "date" || c.type === "json" ? "VARCHAR" : DUCKDB_TYPES[c.type];
}

/** Name of the staging table of `t`. */
export const stageName = (t: TableDef) => `_stage_${t.name}`;

/** `CREATE OR REPLACE TABLE` of the staging table of `t` (no constraints; staging holds nothing between flushes). */
export function createStageSql(t: TableDef): string {
  return `CREATE OR REPLACE TABLE ${q(stageName(t))} (${
    t.columns.map((c) => `${q(c.name)} ${stageType(c)}`).join(", ")
  })`;
}

/** The select list that casts staged text back to each column's type. */
export function castList(t: TableDef): string {
  return t.columns.map((c) =>
    stageType(c) === DUCKDB_TYPES[c.type] ? q(c.name) : `CAST(${q(c.name)} AS ${DUCKDB_TYPES[c.type]})`
  ).join(", ");
}

/** DuckDB's description of a table's columns, as (name, type, nullable) for comparisons. */
export function describeColumns(t: TableDef): { name: string; type: string; nullable: boolean }[] {
  return t.columns.map((c) => ({ name: c.name, type: DUCKDB_TYPES[c.type], nullable: c.nullable }));
}
