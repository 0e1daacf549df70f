/**
 * The BigQuery engine of the analytics tables: it copies rows already committed in DuckDB to the same tables
 * in BigQuery with batch load jobs of Parquet files (free, unlike streaming inserts), so both engines hold the
 * same rows. Idempotent by construction:
 * - append tables (`raw_<topic>`, `sync_runs`: rows never change): one load job per table, topic partition
 *   and offset range `[from, to)`, with the deterministic job id `<prefix>_<table>_p<P>_<from>_<to>_a<N>`. The
 *   range is recorded in DuckDB (`bigquery_marks.pending_to`) before the job is submitted; after a crash the
 *   exporter finds the job by its id (done: advance; failed: a new attempt; missing: submit it again) instead
 *   of loading the rows twice;
 * - interval and daily tables (rows change: `valid_to`, recomputed days): the changed rows are loaded into a
 *   plain staging table (`_stage_<table>`, WRITE_TRUNCATE) and `MERGE`d on the primary key, which gives the
 *   same result when repeated.
 */
import type { BigQuery, Job } from "@google-cloud/bigquery";
import { LzError } from "../../pipeline/errors.ts";
import type { Logger } from "../../pipeline/log.ts";
import { analyticsTables, type TableDef } from "../../pipeline/analytics/tables.ts";
import type { DuckDbAnalytics, ExportMark } from "../duckdb/engine.ts";
import { q as dq } from "../duckdb/ddl.ts";
import { type BigQueryField, bigQueryTable } from "./schema.ts";

/** What the exporter needs. */
export interface ExporterOptions {
  /** The open DuckDB engine (the exporter reads committed rows and keeps its marks there). */
  db: DuckDbAnalytics;
  client: BigQuery;
  dataset: string;
  /** Dataset location when it is created. */
  location?: string;
  log: Logger;
  /** Job id prefix (letters, digits, underscores); default `lzsync_<dataset>`. */
  jobPrefix?: string;
  /** Offsets per load job of an append table (default 100,000). */
  batchOffsets?: number;
  /** Test hook: runs after a load job finished and before its mark is recorded (a crash there). */
  afterLoad?: (table: string, partition: number) => void | Promise<void>;
}

/** What one {@link BigQueryExporter.syncOnce} did. */
export interface ExportResult {
  rows: number;
  loads: number;
  merges: number;
  /** Record time (ISO) of the oldest raw row loaded this round: its latency is the layer's lag. */
  oldest: string | null;
}

/** The exporter. */
export interface BigQueryExporter {
  /** Creates the dataset and every table (partitioned, clustered) that is missing; checks the others. */
  ensureTables(): Promise<void>;
  /** Copies everything DuckDB has committed and BigQuery lacks. */
  syncOnce(): Promise<ExportResult>;
}

const bq = (id: string) => `\`${id.replaceAll("`", "")}\``;
const stageName = (t: TableDef) => `_stage_${t.name}`;

function sameSchema(have: BigQueryField[], want: BigQueryField[]): string | null {
  for (const [i, w] of want.entries()) {
    const h = have[i];
    if (!h || h.name !== w.name || h.type !== w.type || (h.mode ?? "NULLABLE") !== w.mode) {
      return `column ${i + 1} is ${h ? `${h.name} ${h.type} ${h.mode ?? "NULLABLE"}` : "missing"}, ` +
        `the declaration says ${w.name} ${w.type} ${w.mode}`;
    }
  }
  return have.length > want.length ? `it has ${have.length - want.length} undeclared column(s)` : null;
}

/** Builds an exporter over an open DuckDB engine. */
export function createBigQueryExporter(opts: ExporterOptions): BigQueryExporter {
  const { client, db, log } = opts;
  const ds = client.dataset(opts.dataset);
  const tables = analyticsTables().filter((t) => t.kind !== "internal");
  const prefix = (opts.jobPrefix ?? `lzsync_${opts.dataset}`).replace(/[^A-Za-z0-9_]/g, "_");
  const batch = opts.batchOffsets ?? 100_000;
  const fq = (name: string) => `${bq(opts.dataset)}.${bq(name)}`;

  async function ensureTable(name: string, t: TableDef, staging: boolean): Promise<void> {
    const spec = bigQueryTable(t);
    const table = ds.table(name);
    const [exists] = await table.exists();
    if (!exists) {
      await table.create(staging ? { schema: spec.schema, description: `staging of ${t.name}` } : spec);
      return;
    }
    const [meta] = await table.getMetadata();
    const diff = sameSchema(meta.schema?.fields ?? [], spec.schema.fields);
    if (diff) {
      throw new LzError(
        "BIGQUERY_SCHEMA",
        `BigQuery table ${opts.dataset}.${name} does not match its declaration: ${diff}; ` +
          `drop it (or use another dataset) and lzsync loads it again from DuckDB`,
      );
    }
  }

  /** Loads a Parquet file into `name` with a given job id; resolves when the job is done. */
  async function load(name: string, file: string, fields: BigQueryField[], jobId: string, truncate: boolean) {
    const [job] = await ds.table(name).load(file, {
      sourceFormat: "PARQUET",
      schema: { fields },
      writeDisposition: truncate ? "WRITE_TRUNCATE" : "WRITE_APPEND",
      jobId,
      // deno-lint-ignore no-explicit-any
    } as any);
    const err = (job as { status?: { errorResult?: { message?: string } } }).status?.errorResult;
    if (err) throw new LzError("BIGQUERY_LOAD", `load job ${jobId} into ${name} failed: ${err.message}`);
  }

  /** State of an existing job: done, failed, or null when there is no such job. */
  async function jobState(jobId: string): Promise<"done" | "failed" | null> {
    const job: Job = client.job(jobId, { location: opts.location });
    const [exists] = await job.exists();
    if (!exists) return null;
    for (;;) {
      const [meta] = await job.getMetadata();
      if (meta.status?.state === "DONE") return meta.status.errorResult ? "failed" : "done";
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function withFile<T>(fn: (file: string) => Promise<T>): Promise<T> {
    const dir = await Deno.makeTempDir({ prefix: "lzsync-bq-" });
    try {
      return await fn(`${dir}/rows.parquet`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }

  let oldest: string | null = null;

  /** Loads `[from, to)` of one partition of an append table, once, whatever happened before. */
  async function appendRange(t: TableDef, mark: ExportMark, to: number): Promise<number> {
    const fields = bigQueryTable(t).schema.fields;
    const select = `SELECT * FROM ${
      dq(t.name)
    } WHERE "partition" = ${mark.partition} AND "offset" >= ${mark.nextOffset} AND "offset" < ${to} ORDER BY "offset"`;
    let rows = 0;
    for (let attempt = mark.attempt;; attempt++) {
      const jobId = `${prefix}_${t.name}_p${mark.partition}_${mark.nextOffset}_${to}_a${attempt}`;
      const state = await jobState(jobId);
      if (state === "done") break;
      if (state === "failed") continue;
      await db.setExportMark({ ...mark, pendingTo: to, attempt });
      const n = await withFile(async (file) => {
        const n = await db.copyToParquet(select, file);
        if (n > 0) await load(t.name, file, fields, jobId, false);
        return n;
      });
      rows = n;
      if (n > 0 && t.kind === "raw") {
        const [r] = await db.query(`SELECT MIN(ts) AS t FROM (${select})`);
        if (typeof r?.t === "string" && (oldest === null || r.t < oldest)) oldest = r.t;
      }
      break;
    }
    if (opts.afterLoad) await opts.afterLoad(t.name, mark.partition);
    await db.setExportMark({ ...mark, nextOffset: to, pendingTo: null, attempt: 0 });
    return rows;
  }

  /** Stages `select`'s rows and MERGEs them into `t` on its primary key. */
  async function merge(t: TableDef, select: string): Promise<number> {
    const fields = bigQueryTable(t).schema.fields;
    const n = await withFile(async (file) => {
      const n = await db.copyToParquet(select, file);
      if (n > 0) {
        await load(stageName(t), file, fields, `${prefix}_stage_${t.name}_${crypto.randomUUID()}`, true);
      }
      return n;
    });
    if (n === 0) return 0;
    const on = t.primaryKey.map((c) => `T.${bq(c)} = S.${bq(c)}`).join(" AND ");
    const set = t.columns.filter((c) => !t.primaryKey.includes(c.name)).map((c) =>
      `${bq(c.name)} = S.${bq(c.name)}`
    );
    await client.query({
      query: `MERGE ${fq(t.name)} T USING ${fq(stageName(t))} S ON ${on} ` +
        `WHEN MATCHED THEN UPDATE SET ${set.join(", ")} WHEN NOT MATCHED THEN INSERT ROW`,
      location: opts.location,
    });
    return n;
  }

  return {
    async ensureTables() {
      const [exists] = await ds.exists();
      if (!exists) await ds.create({ location: opts.location });
      for (const t of tables) {
        await ensureTable(t.name, t, false);
        if (t.kind === "interval" || t.kind === "daily") await ensureTable(stageName(t), t, true);
      }
    },
    async syncOnce() {
      const t0 = performance.now();
      const result: ExportResult = { rows: 0, loads: 0, merges: 0, oldest: null };
      oldest = null;
      const marks = new Map((await db.exportMarks()).map((m) => [`${m.table}:${m.partition}`, m]));
      const applied = db.applied();
      const partitionsOf = (topic: string) =>
        [...applied].filter(([tp]) => tp.slice(0, tp.lastIndexOf(":")) === topic).map(([tp, next]) => ({
          partition: Number(tp.slice(tp.lastIndexOf(":") + 1)),
          next,
        }));
      for (const t of tables) {
        if (t.kind === "daily") {
          const n = await merge(t, `SELECT * FROM ${dq(t.name)}`);
          if (n) result.merges++;
          result.rows += n;
          continue;
        }
        for (const { partition, next } of partitionsOf(t.topic!)) {
          const mark = marks.get(`${t.name}:${partition}`) ??
            { table: t.name, partition, nextOffset: 0, pendingTo: null, attempt: 0 };
          if (t.kind === "interval") {
            if (mark.nextOffset >= next) continue;
            const from = mark.nextOffset;
            const n = await merge(
              t,
              `SELECT * FROM ${
                dq(t.name)
              } WHERE "partition" = ${partition} AND ("offset" >= ${from} OR closed_by >= ${from})`,
            );
            if (n) result.merges++;
            result.rows += n;
            await db.setExportMark({ ...mark, nextOffset: next, pendingTo: null, attempt: 0 });
            continue;
          }
          // Append tables: first finish a load in flight before a crash, then new ranges.
          let m = mark;
          const add = (n: number) => {
            result.rows += n;
            if (n > 0) result.loads++;
          };
          if (m.pendingTo !== null) {
            add(await appendRange(t, m, m.pendingTo));
            m = { ...m, nextOffset: m.pendingTo, pendingTo: null, attempt: 0 };
          }
          while (m.nextOffset < next) {
            const to = Math.min(next, m.nextOffset + batch);
            add(await appendRange(t, m, to));
            m = { ...m, nextOffset: to, pendingTo: null, attempt: 0 };
          }
        }
      }
      result.oldest = oldest;
      log.info("bigquery export", { ...result, ms: Math.round(performance.now() - t0) });
      return result;
    },
  };
}
