/**
 * Table columns derived from a TypeBox declaration (which is JSON Schema): every top-level property of the
 * value is a column of a neutral {@link ColumnType}; nested objects, arrays and mixed unions are JSON. The
 * DuckDB DDL (`connectors/duckdb/ddl.ts`) and the BigQuery table schema (`connectors/bigquery/schema.ts`) map
 * these types, so a topic's shape is declared once in `schemas/`.
 */
import type { TSchema } from "@sinclair/typebox";

/** Engine-neutral column types. */
export type ColumnType = "string" | "int" | "float" | "bool" | "timestamp" | "date" | "json";

/** One column of an analytics table. */
export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** Path of the value read into this column (property names from the value's root); meta columns: []. */
  path: string[];
  description?: string;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** The column type of one JSON Schema node, and whether it admits null. */
export function columnTypeOf(schema: TSchema): { type: ColumnType; nullable: boolean } {
  const s = schema as Json;
  if (Array.isArray(s.anyOf)) {
    const rest = s.anyOf.filter((x: Json) => x.type !== "null");
    const nullable = rest.length < s.anyOf.length;
    if (rest.length === 1) {
      const t = columnTypeOf(rest[0]);
      return { type: t.type, nullable: nullable || t.nullable };
    }
    const types = new Set(rest.map((x: Json) => columnTypeOf(x).type));
    if (types.size === 1) return { type: [...types][0] as ColumnType, nullable };
    return { type: "json", nullable };
  }
  if (typeof s.const === "string") return { type: "string", nullable: false };
  if (typeof s.const === "boolean") return { type: "bool", nullable: false };
  switch (s.type) {
    case "string":
      if (s.format === "date-time") return { type: "timestamp", nullable: false };
      if (s.format === "date") return { type: "date", nullable: false };
      return { type: "string", nullable: false };
    case "integer":
      return { type: "int", nullable: false };
    case "number":
      return { type: "float", nullable: false };
    case "boolean":
      return { type: "bool", nullable: false };
    default:
      return { type: "json", nullable: false };
  }
}

/** A safe SQL identifier for a property name (letters, digits, underscores; not starting with a digit). */
export function columnName(prop: string): string {
  const n = prop.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(n) ? `_${n}` : n;
}

/**
 * The value columns of `schema`: its properties, or for a union of objects (several record kinds on one
 * topic) the union of their properties, a property whose types disagree across kinds becoming JSON. A value
 * that is not an object is one JSON column `value`. Names in `reserved` (meta columns) get a `value_` prefix.
 */
export function valueColumns(schema: TSchema, reserved: ReadonlySet<string> = new Set()): Column[] {
  const s = schema as Json;
  const variants: Json[] = Array.isArray(s.anyOf) && s.anyOf.every((x: Json) => x.type === "object")
    ? s.anyOf
    : s.type === "object" && s.properties
    ? [s]
    : [];
  if (variants.length === 0) {
    return [{ name: reserved.has("value") ? "value_json" : "value", type: "json", nullable: true, path: [] }];
  }
  const out = new Map<string, Column>();
  for (const v of variants) {
    const required = new Set<string>(v.required ?? []);
    for (const [prop, sub] of Object.entries(v.properties ?? {}) as [string, Json][]) {
      const t = columnTypeOf(sub);
      const nullable = t.nullable || !required.has(prop) || variants.length > 1;
      const prev = out.get(prop);
      if (prev) {
        if (prev.type !== t.type) prev.type = "json";
        prev.nullable ||= nullable;
        continue;
      }
      let name = columnName(prop);
      if (reserved.has(name)) name = `value_${name}`;
      out.set(prop, { name, type: t.type, nullable, path: [prop], description: sub.description });
    }
  }
  return [...out.values()];
}
