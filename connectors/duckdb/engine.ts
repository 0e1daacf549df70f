/**
 * The DuckDB analytics engine: one database file (read-write, held by the one pipeline process that runs
 * the analytics processor) with every table of `pipeline/analytics/tables.ts`. A flush stages the buffered
 * rows with appenders and upserts them, and advances `analytics_offsets`, in one transaction: rows and
 * offsets commit together or not at all, and re-delivered records are filtered by those offsets and by the
 * primary keys.
 */
import { type DuckDBConnection, DuckDBInstance, StatementType } from "@duckdb/node-api";
import type { Logger } from "../../pipeline/log.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { AnalyticsReader, AnalyticsSink, ResultRow } from "../../pipeline/analytics/sink.ts";
import {
  type AnalyticsRecord,
  intervalChanges,
  rawRow,
  type Row,
  syncRunRow,
} from "../../pipeline/analytics/rows.ts";
import {
  analyticsTables,
  EXPORT_MARKS_TABLE,
  INTERVALS,
  OFFSETS_TABLE,
  type TableDef,
} from "../../pipeline/analytics/tables.ts";
import { castList, createStageSql, createTableSql, DUCKDB_TYPES, q, stageName, stageType } from "./ddl.ts";
import { dailySql } from "./daily.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";

/** How to open the database. */
export interface DuckDbOptions {
  /** Database file, or `:memory:`. */
  path: string;
  log: Logger;
  /** Open for reading only (the CLI when the pipeline is stopped); no DDL, no writes. */
  readOnly?: boolean;
}

/** The engine: a sink for the processor host and a reader for queries. */
export interface DuckDbAnalytics extends AnalyticsSink, AnalyticsReader {
  readonly path: string;
  /** Next offset to apply per `topic:partition` (what the last committed flush recorded). */
  applied(): ReadonlyMap<string, number>;
  /**
   * Counters since open: flushes committed, records written, re-delivered records ignored, flushes that met
   * rows already written and went through the upsert path.
   */
  stats(): { flushes: number; records: number; redelivered: number; upserted: number };
  /** Runs `COPY (<select>) TO <path> (FORMAT parquet)` for an exporter; returns the row count. */
  copyToParquet(select: string, path: string): Promise<number>;
  /** The BigQuery exporter's marks (see `bigquery_marks`). */
  exportMarks(): Promise<ExportMark[]>;
  /** Upserts one mark. */
  setExportMark(mark: ExportMark): Promise<void>;
  /** Writes every analytics table as `<dir>/<table>.parquet` (atomically per file); returns the paths. */
  exportParquet(dir: string): Promise<string[]>;
  close(): Promise<void>;
}

/** A row of `bigquery_marks`. */
export interface ExportMark {
  table: string;
  partition: number;
  nextOffset: number;
  /** The end (exclusive) of the load in flight, or null. */
  pendingTo: number | null;
  attempt: number;
}

const READ_ONLY = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);

/** A JSON-safe copy of a DuckDB JS value. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  }
  return v;
}

/**
 * Brings an existing table to its declaration: a declared nullable column it lacks is added (older files);
 * any other difference is an error that says how to rebuild the file from the topics.
 */
async function migrate(conn: DuckDBConnection, t: TableDef, path: string): Promise<number[] | null> {
  const r = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
    [t.name],
  );
  const have = new Map(r.getRows().map(([n, ty]) => [String(n), String(ty)]));
  for (const c of t.columns) {
    const want = DUCKDB_TYPES[c.type];
    const got = have.get(c.name);
    if (got === undefined && c.nullable) {
      await conn.run(`ALTER TABLE ${q(t.name)} ADD COLUMN ${q(c.name)} ${want}`);
    } else if (got !== want) {
      throw new LzError(
        "DUCKDB_SCHEMA",
        `table ${t.name} in ${path} has column ${c.name} ${
          got ?? "missing"
        }, the declaration says ${want}: ` +
          `move the file away and rebuild it from the topics (lzsync replay --group lzsync-analytics --to earliest)`,
      );
    }
  }
  // The physical column order, as indexes into the declaration (an appender fills columns by position).
  const order = (await conn.runAndReadAll(
    `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
    [t.name],
  )).getRows().map(([n]) => t.columns.findIndex((c) => c.name === String(n)));
  return order.includes(-1) ? null : order;
}

/** Opens (creating tables when writable) the DuckDB analytics database at `opts.path`. */
export async function openDuckDb(opts: DuckDbOptions): Promise<DuckDbAnalytics> {
  const log = opts.log.child("duckdb", { path: opts.path });
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(opts.path, opts.readOnly ? { access_mode: "READ_ONLY" } : {});
  } catch (err) {
    const msg = (err as Error).message;
    throw new LzError(
      "DUCKDB_OPEN",
      /lock/i.test(msg)
        ? `the analytics database ${opts.path} is held by a running lzsync: query it through its gateway ` +
          `(POST /api/v1/analytics/sql with an admin token, GET /api/v1/analytics/query for the named queries), ` +
          `read the Parquet export (<data_dir>/analytics/*.parquet), or stop it first (${msg})`
        : `cannot open the analytics database ${opts.path}: ${msg}`,
      { cause: err },
    );
  }
  const conn: DuckDBConnection = await instance.connect();
  await conn.run("SET TimeZone = 'UTC'");
  const tables = analyticsTables();
  /** Per table, its physical column order (null: an undeclared column, so only the staged path writes it). */
  const physical = new Map<string, number[] | null>();
  const byTopic = new Map<string, TableDef>();
  for (const t of tables) if (t.kind === "raw") byTopic.set(t.topic!, t);
  const runs = tables.find((t) => t.kind === "runs")!;
  const intervals = INTERVALS.map((spec) => ({ spec, table: tables.find((t) => t.name === spec.table)! }));
  const closeStage = (t: TableDef) => `_stage_close_${t.name}`;
  if (!opts.readOnly) {
    for (const t of tables) {
      await conn.run(createTableSql(t));
      physical.set(t.name, await migrate(conn, t, opts.path));
      if (t.kind !== "daily" && t.kind !== "internal") await conn.run(createStageSql(t));
    }
    for (const { table } of intervals) {
      await conn.run(
        `CREATE OR REPLACE TABLE ${
          q(closeStage(table))
        } ("key" VARCHAR, "partition" BIGINT, "offset" BIGINT, "ts" VARCHAR)`,
      );
    }
  }
  const applied = new Map<string, number>();
  try {
    const r = await conn.runAndReadAll(
      `SELECT topic, "partition", next_offset FROM ${q(OFFSETS_TABLE.name)}`,
    );
    for (const [topic, p, o] of r.getRows()) applied.set(`${topic}:${p}`, Number(o));
  } catch (err) {
    if (!opts.readOnly) throw err;
  }

  let pending = new Map<string, Map<string, AnalyticsRecord>>();
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  const counters = { flushes: 0, records: 0, redelivered: 0, upserted: 0 };
  /** The earliest time (ms) flushed records touched since the last daily step; the day it last ran. */
  let dirtyFrom: number | null = null;
  let refreshedDay: string | null = null;
  const touched = (r: AnalyticsRecord): number => {
    const usage = r.topic === BILLING_TOPIC.name
      ? Date.parse(String((r.value as { usage_start_time?: string } | null)?.usage_start_time))
      : NaN;
    return Number.isFinite(usage) ? Math.min(usage, r.timestamp) : r.timestamp;
  };
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const r = chain.then(fn);
    chain = r.catch(() => {});
    return r;
  };

  async function stage(t: TableDef, rows: Row[], name = stageName(t), types?: string[]): Promise<void> {
    await conn.run(`DELETE FROM ${q(name)}`);
    if (rows.length === 0) return;
    const kinds = types ?? t.columns.map(stageType);
    const app = await conn.createAppender(name);
    try {
      for (const row of rows) {
        for (let i = 0; i < kinds.length; i++) {
          const v = row[i];
          if (v === null) app.appendNull();
          else if (kinds[i] === "BIGINT") app.appendBigInt(BigInt(v as number));
          else if (kinds[i] === "DOUBLE") app.appendDouble(v as number);
          else if (kinds[i] === "BOOLEAN") app.appendBoolean(v as boolean);
          else app.appendVarchar(String(v));
        }
        app.endRow();
      }
      app.flushSync();
    } finally {
      app.closeSync();
    }
  }

  /** Appends rows straight into `t` (the fast path: a duplicate key fails the transaction). */
  async function appendDirect(t: TableDef, rows: Row[], order: number[]): Promise<void> {
    const kinds = t.columns.map((c) => DUCKDB_TYPES[c.type]);
    const app = await conn.createAppender(t.name);
    try {
      for (const row of rows) {
        for (const i of order) {
          const v = row[i];
          if (v === null) app.appendNull();
          else if (kinds[i] === "BIGINT") app.appendBigInt(BigInt(v as number));
          else if (kinds[i] === "DOUBLE") app.appendDouble(v as number);
          else if (kinds[i] === "BOOLEAN") app.appendBoolean(v as boolean);
          else app.appendVarchar(String(v)); // the appender casts text to TIMESTAMPTZ, DATE, JSON
        }
        app.endRow();
      }
      app.flushSync();
    } finally {
      try {
        app.closeSync();
      } catch { /* the flush error (e.g. a duplicate key) is the one to report */ }
    }
  }

  /** Set for the flush in progress: append rows directly instead of staging and upserting. */
  let fast = false;

  async function upsert(t: TableDef, rows: Row[], conflict: string): Promise<void> {
    if (rows.length === 0) return;
    const order = physical.get(t.name);
    if (fast && order) return await appendDirect(t, rows, order);
    await stage(t, rows);
    await conn.run(
      `INSERT INTO ${q(t.name)} (${t.columns.map((c) => q(c.name)).join(", ")}) SELECT ${castList(t)} FROM ${
        q(stageName(t))
      } ${conflict}`,
    );
  }

  async function write(batch: Map<string, Map<string, AnalyticsRecord>>): Promise<Map<string, number>> {
    const next = new Map<string, number>();
    for (const [topic, recs] of batch) {
      const list = [...recs.values()];
      for (const r of list) {
        const tp = `${topic}:${r.partition}`;
        if (!(next.get(tp)! > r.offset)) next.set(tp, r.offset + 1);
      }
      const raw = byTopic.get(topic);
      if (raw) await upsert(raw, list.map((r) => rawRow(raw, r)), "ON CONFLICT DO NOTHING");
      for (const { spec, table } of intervals) {
        if (spec.topic.name !== topic) continue;
        const ch = intervalChanges(table, spec, list);
        await stage(table, ch.closes.map((c) => [c.key, c.partition, c.offset, c.ts]), closeStage(table), [
          "VARCHAR",
          "BIGINT",
          "BIGINT",
          "VARCHAR",
        ]);
        await conn.run(
          `UPDATE ${q(table.name)} h SET valid_to = CAST(c.ts AS TIMESTAMPTZ), closed_by = c."offset" FROM ${
            q(closeStage(table))
          } c ` +
            `WHERE h."key" = c."key" AND h."partition" = c."partition" AND h.valid_to IS NULL AND h."offset" < c."offset"`,
        );
        await upsert(
          table,
          ch.opens,
          `ON CONFLICT ("partition", "offset") DO UPDATE SET valid_to = COALESCE(EXCLUDED.valid_to, valid_to), ` +
            `closed_by = COALESCE(EXCLUDED.closed_by, closed_by)`,
        );
      }
      if (topic === runs.topic) {
        const seen = new Set<string>();
        const rows = list.filter((r) => {
          const id = (r.value as { id?: string } | null)?.id;
          return id !== undefined && !seen.has(id) && seen.add(id);
        }).map((r) => syncRunRow(runs, r));
        await upsert(runs, rows, "ON CONFLICT DO NOTHING");
      }
    }
    const now = new Date().toISOString();
    for (const [tp, o] of next) {
      const i = tp.lastIndexOf(":");
      await conn.run(
        `INSERT INTO ${
          q(OFFSETS_TABLE.name)
        } VALUES ($1, $2, $3, CAST($4 AS TIMESTAMPTZ)) ON CONFLICT DO UPDATE ` +
          `SET next_offset = GREATEST(EXCLUDED.next_offset, next_offset), updated_at = EXCLUDED.updated_at`,
        [tp.slice(0, i), Number(tp.slice(i + 1)), o, now],
      );
    }
    return next;
  }

  async function transaction<T>(fn: () => Promise<T>): Promise<T> {
    await conn.run("BEGIN TRANSACTION");
    try {
      const r = await fn();
      await conn.run("COMMIT");
      return r;
    } catch (err) {
      await conn.run("ROLLBACK").catch(() => {});
      throw err;
    }
  }

  const engine: DuckDbAnalytics = {
    name: "duckdb",
    path: opts.path,
    applied: () => applied,
    stats: () => ({ ...counters }),
    add(r) {
      if (opts.readOnly) throw new LzError("READ_ONLY", `${opts.path} is open read-only`);
      if (r.offset < (applied.get(`${r.topic}:${r.partition}`) ?? 0)) {
        counters.redelivered++;
        return;
      }
      let m = pending.get(r.topic);
      if (!m) pending.set(r.topic, m = new Map());
      m.set(`${r.partition}:${r.offset}`, r);
    },
    flush() {
      return serial(async () => {
        if (pending.size === 0) return;
        const batch = pending;
        pending = new Map();
        const t0 = performance.now();
        let n = 0;
        for (const m of batch.values()) n += m.size;
        try {
          let next: Map<string, number>;
          try {
            // Fast path: records past the committed offsets are new rows, appended directly.
            fast = true;
            next = await transaction(() => write(batch));
          } catch (err) {
            if (!/Duplicate key|violates primary key/i.test((err as Error).message)) throw err;
            // Rows already there (offsets lost, or a sync attempt reported twice): upsert on the keys.
            log.debug("duplicate keys in a flush; writing it again with upserts", { records: n });
            counters.upserted++;
            fast = false;
            next = await transaction(() => write(batch));
          } finally {
            fast = false;
          }
          for (const [tp, o] of next) if (!(applied.get(tp)! >= o)) applied.set(tp, o);
          counters.flushes++;
          counters.records += n;
          for (const m of batch.values()) {
            for (const r of m.values()) {
              const t = touched(r);
              if (dirtyFrom === null || t < dirtyFrom) dirtyFrom = t;
            }
          }
          log.debug("flushed", { records: n, ms: Math.round(performance.now() - t0) });
        } catch (err) {
          // Keep the records for the retry of this checkpoint (newer ones added meanwhile win).
          for (const [topic, m] of batch) {
            const cur = pending.get(topic);
            pending.set(topic, cur ? new Map([...m, ...cur]) : m);
          }
          throw new LzError(
            "DUCKDB_WRITE",
            `writing ${n} records to ${opts.path} failed: ${(err as Error).message}`,
            {
              cause: err,
              retriable: true,
            },
          );
        }
      });
    },
    refreshDaily(now) {
      return serial(async () => {
        const today = new Date(now).toISOString().slice(0, 10);
        if (dirtyFrom === null && refreshedDay === today) return;
        // Days from the earliest change since the last run, and the last run's day (a new day needs its row);
        // everything after a restart.
        let from: string | null = null;
        if (refreshedDay !== null) {
          const dirty = dirtyFrom === null ? today : new Date(dirtyFrom).toISOString().slice(0, 10);
          from = dirty < refreshedDay ? dirty : refreshedDay;
        }
        const was = dirtyFrom;
        dirtyFrom = null;
        try {
          await transaction(async () => {
            for (const sql of dailySql(now, from)) await conn.run(sql);
          });
          refreshedDay = today;
        } catch (err) {
          if (was !== null && (dirtyFrom === null || was < dirtyFrom)) dirtyFrom = was;
          throw err;
        }
      });
    },
    query(sql) {
      return serial(async () => {
        const extracted = await conn.extractStatements(sql);
        if (extracted.count !== 1) {
          throw new LzError("SQL", `expected exactly one statement, got ${extracted.count}`);
        }
        const prepared = await extracted.prepare(0);
        if (!READ_ONLY.has(prepared.statementType)) {
          throw new LzError(
            "SQL_NOT_READ_ONLY",
            `only SELECT and EXPLAIN statements are allowed (got ${StatementType[prepared.statementType]})`,
          );
        }
        const reader = await prepared.runAndReadAll();
        return reader.getRowObjectsJS().map((r) => jsonSafe(r) as ResultRow);
      });
    },
    copyToParquet(select, path) {
      return serial(async () => {
        const r = await conn.runAndReadAll(
          `COPY (${select}) TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`,
        );
        return Number(r.getRows()[0]?.[0] ?? 0);
      });
    },
    exportMarks() {
      return serial(async () => {
        const r = await conn.runAndReadAll(
          `SELECT table_name, "partition", next_offset, pending_to, attempt FROM ${
            q(EXPORT_MARKS_TABLE.name)
          }`,
        );
        return r.getRows().map(([t, p, n, pt, a]) => ({
          table: String(t),
          partition: Number(p),
          nextOffset: Number(n),
          pendingTo: pt === null ? null : Number(pt),
          attempt: Number(a),
        }));
      });
    },
    setExportMark(m) {
      return serial(async () => {
        await conn.run(
          `INSERT OR REPLACE INTO ${
            q(EXPORT_MARKS_TABLE.name)
          } VALUES ($1, $2, $3, $4, $5, CAST($6 AS TIMESTAMPTZ))`,
          [m.table, m.partition, m.nextOffset, m.pendingTo, m.attempt, new Date().toISOString()],
        );
      });
    },
    exportParquet(dir) {
      return serial(async () => {
        await Deno.mkdir(dir, { recursive: true });
        const out: string[] = [];
        for (const t of tables) {
          if (t.kind === "internal") continue;
          const path = `${dir}/${t.name}.parquet`;
          const tmp = `${path}.tmp`;
          await conn.run(`COPY ${q(t.name)} TO '${tmp.replaceAll("'", "''")}' (FORMAT parquet)`);
          await Deno.rename(tmp, path);
          out.push(path);
        }
        return out;
      });
    },
    close() {
      return serial(() => {
        if (!closed) {
          closed = true;
          conn.closeSync();
          instance.closeSync();
        }
        return Promise.resolve();
      });
    },
  };
  return engine;
}
