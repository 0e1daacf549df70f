/**
 * Records → rows of the analytics tables (engine-neutral values: string, number, boolean, null; JSON columns
 * as JSON text; timestamps as ISO-8601 text), and the validity intervals a batch opens and closes.
 */
import type { Column, ColumnType } from "./columns.ts";
import type { IntervalSpec, TableDef } from "./tables.ts";

/** A record as the analytics sink receives it (decoded, validated). */
export interface AnalyticsRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Record timestamp, ms since the epoch. */
  timestamp: number;
  key: string | null;
  value: unknown | null;
}

/** A row: one value per column of its table, in column order. */
export type Row = (string | number | boolean | null)[];

function cell(type: ColumnType, v: unknown): string | number | boolean | null {
  if (v === undefined || v === null) return null;
  switch (type) {
    case "json":
      return JSON.stringify(v);
    case "int":
      return typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : null;
    case "float":
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    case "bool":
      return typeof v === "boolean" ? v : null;
    default:
      return typeof v === "string" ? v : JSON.stringify(v);
  }
}

function read(value: unknown, path: string[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** Fills the columns of `cols` from `meta` (by column name) or from the value (by path). */
export function rowOf(cols: Column[], meta: Record<string, unknown>, value: unknown): Row {
  const row: Row = new Array(cols.length);
  const obj = value !== null && typeof value === "object" ? value as Record<string, unknown> : null;
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    const p = c.path;
    // the common shapes inline (a meta column, a top-level property); deeper paths through read()
    const v = p.length === 0
      ? (c.name in meta ? meta[c.name] : value)
      : p.length === 1
      ? obj?.[p[0]]
      : read(value, p);
    row[i] = cell(c.type, v);
  }
  return row;
}

/** Hour (ms since the epoch / 3,600,000) whose `YYYY-MM-DDTHH:` prefix {@link isoTime} holds. */
let isoHour = NaN;
let isoPrefix = "";
const pad2 = (n: number) => (n < 10 ? "0" : "") + n;

/**
 * `new Date(ms).toISOString()`, faster for the usual case of many times in the same hour (a batch's record
 * timestamps): the date and hour are formatted once per hour, the rest by arithmetic. Times that are not
 * integers or fall outside the years 1970–9999 (and NaN, which throws RangeError) go through `Date`.
 */
export function isoTime(ms: number): string {
  const hour = Math.floor(ms / 3_600_000);
  if (hour !== isoHour) {
    if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
    isoHour = hour;
    isoPrefix = new Date(hour * 3_600_000).toISOString().slice(0, 14);
  } else if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const rest = ms - hour * 3_600_000;
  const milli = rest % 1000;
  return isoPrefix + pad2(Math.floor(rest / 60_000)) + ":" + pad2(Math.floor(rest / 1000) % 60) + "." +
    (milli < 100 ? (milli < 10 ? "00" : "0") : "") + milli + "Z";
}

/** The `raw_<topic>` row of a record. */
export function rawRow(table: TableDef, r: AnalyticsRecord): Row {
  return rowOf(table.columns, {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    ts: isoTime(r.timestamp),
    key: r.key,
    tombstone: r.value === null,
  }, r.value ?? {});
}

/** The `sync_runs` row of a `lz.sync.events.v1` record. */
export function syncRunRow(table: TableDef, r: AnalyticsRecord): Row {
  const v = (r.value ?? {}) as Record<string, unknown>;
  const finished = Date.parse(String(v.finished_at));
  const from = [v.commit_time, v.event_time, v.started_at].find((t) => typeof t === "string");
  const latency = Number.isFinite(finished) && from ? (finished - Date.parse(from as string)) / 1000 : null;
  return rowOf(table.columns, {
    partition: r.partition,
    offset: r.offset,
    ts: isoTime(r.timestamp),
    latency_seconds: latency !== null && Number.isFinite(latency) ? latency : null,
  }, v);
}

/** What a batch does to an interval table: intervals it opens (valid_to set when closed in the batch). */
export interface IntervalChanges {
  opens: Row[];
  /** Per key, the first record of the batch: it closes the key's open interval from an earlier offset. */
  closes: { key: string; partition: number; offset: number; ts: string }[];
}

/**
 * The intervals opened and closed by `records` (one topic partition's records of an interval topic, in any
 * order). Applying the same changes twice leaves the table as applying them once (see the engines).
 */
export function intervalChanges(
  table: TableDef,
  spec: IntervalSpec,
  records: AnalyticsRecord[],
): IntervalChanges {
  const byKey = new Map<string, AnalyticsRecord[]>();
  for (const r of records) {
    if (r.key === null) continue;
    let l = byKey.get(r.key);
    if (!l) byKey.set(r.key, l = []);
    l.push(r);
  }
  const opens: Row[] = [];
  const closes: IntervalChanges["closes"] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    closes.push({
      key,
      partition: list[0].partition,
      offset: list[0].offset,
      ts: isoTime(list[0].timestamp),
    });
    for (const [i, r] of list.entries()) {
      if (spec.closes(r.value)) continue;
      const next = list[i + 1];
      opens.push(rowOf(table.columns, {
        key,
        partition: r.partition,
        offset: r.offset,
        valid_from: isoTime(r.timestamp),
        valid_to: next ? isoTime(next.timestamp) : null,
        closed_by: next ? next.offset : null,
      }, r.value));
    }
  }
  return { opens, closes };
}
