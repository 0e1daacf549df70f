/**
 * Layer 5 (analytics) for `pipeline/app.ts`: the DuckDB engine as a resource (opened before the processor
 * hosts, closed after their last checkpoint), the analytics topologies whose host flushes it at every
 * checkpoint, the periodic Parquet export to `<data_dir>/analytics/*.parquet`, and the scheduled daily step
 * with the cost-spike check. DuckDB is on by default (`analytics.duckdb.enabled`).
 */
import type { Service } from "../../pipeline/service.ts";
import type { Feature, FeatureParts } from "../../pipeline/feature.ts";
import { BILLING_TOPIC } from "../../schemas/billing.ts";
import type { Config } from "../../pipeline/config.ts";
import { parseDuration, resolveConfig } from "../../pipeline/config.ts";
import { LzError } from "../../pipeline/errors.ts";
import type { AnalyticsReader, AnalyticsSink } from "../../pipeline/analytics/sink.ts";
import { type Logger, silentLogger } from "../../pipeline/log.ts";
import { analyticsTopologies } from "../../processors/analytics/mod.ts";
import { type DuckDbAnalytics, openDuckDb } from "../../connectors/duckdb/engine.ts";
import { createBigQueryService } from "../../connectors/bigquery/service.ts";
import { analyticsPlugin } from "./plugin.ts";
import { createBillingService, SAMPLE_BILLING_EXPORT } from "../../connectors/billing/service.ts";

/** The DuckDB file of a config (`analytics.duckdb.path`, default `<data_dir>/analytics.duckdb`). */
export function duckDbPath(config: Config): string {
  return config.analytics.duckdb.path ?? `${config.data_dir}/analytics.duckdb`;
}

/** Where the periodic Parquet export goes. */
export function parquetDir(config: Config): string {
  return `${config.data_dir}/analytics`;
}

/** The DuckDB engine as a resource service plus a sink/reader that forwards to it once it is open. */
export interface DuckDbResource {
  service: Service;
  sink: AnalyticsSink & AnalyticsReader;
  /** The open engine (null before start and after stop). */
  engine(): DuckDbAnalytics | null;
}

/** Options of {@link createDuckDbResource}. */
export interface DuckDbResourceOptions {
  path: string;
  log: Logger;
  /** Export every table here every `parquetEveryMs` and at stop (none: no export). */
  parquetDir?: string;
  parquetEveryMs?: number;
}

/** Builds the DuckDB resource; nothing is opened until `service.start()`. */
export function createDuckDbResource(opts: DuckDbResourceOptions): DuckDbResource {
  let db: DuckDbAnalytics | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  const open = (): DuckDbAnalytics => {
    if (!db) throw new LzError("NOT_RUNNING", `the analytics database ${opts.path} is not open`);
    return db;
  };
  const exportNow = async () => {
    if (!db || !opts.parquetDir) return;
    const t0 = performance.now();
    const files = await db.exportParquet(opts.parquetDir);
    opts.log.info("parquet export", {
      dir: opts.parquetDir,
      files: files.length,
      ms: Math.round(performance.now() - t0),
    });
  };
  const service: Service = {
    name: "duckdb",
    async start() {
      if (db) return;
      if (opts.path !== ":memory:") {
        const dir = opts.path.slice(0, Math.max(0, opts.path.lastIndexOf("/")));
        if (dir) await Deno.mkdir(dir, { recursive: true });
      }
      db = await openDuckDb({ path: opts.path, log: opts.log });
      if (opts.parquetDir && opts.parquetEveryMs) {
        timer = setInterval(() => {
          exportNow().catch((err) => opts.log.error("parquet export failed", { error: err }));
        }, opts.parquetEveryMs);
      }
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      if (!db) return;
      try {
        await exportNow();
      } catch (err) {
        opts.log.error("parquet export failed", { error: err });
      }
      const d = db;
      db = null;
      await d.close();
    },
  };
  const sink: AnalyticsSink & AnalyticsReader = {
    name: "duckdb",
    add: (r) => open().add(r),
    flush: () => db ? db.flush() : Promise.resolve(),
    refreshDaily: (now) => open().refreshDaily(now),
    query: (sql) => open().query(sql),
  };
  return { service, sink, engine: () => db };
}

/** The engines of a config: their resources, sinks, and the reader the cost check queries. */
function engines(config: Config, log: Logger) {
  const resources: Service[] = [];
  const sinks: AnalyticsSink[] = [];
  let duck: DuckDbResource | null = null;
  if (config.analytics.duckdb.enabled) {
    duck = createDuckDbResource({
      path: duckDbPath(config),
      log,
      parquetDir: parquetDir(config),
      parquetEveryMs: parseDuration(config.analytics.parquet_interval),
    });
    resources.push(duck.service);
    sinks.push(duck.sink);
  }
  return { resources, sinks, duck };
}

/** Layer 5 of a config, and its DuckDB resource (null when disabled). */
export interface AnalyticsParts extends FeatureParts {
  duck: DuckDbResource | null;
}

/** Builds layer 5 from a config (nothing is opened until its resources start). */
export function buildAnalytics(config: Config, log: Logger): AnalyticsParts {
  const { resources, sinks, duck } = engines(config, log);
  const topologies = sinks.length === 0 ? [] : analyticsTopologies({
    sinks,
    dailyEveryMs: parseDuration(config.analytics.daily_interval),
    costs: duck
      ? {
        reader: duck.sink,
        ratio: config.analytics.cost_spike.ratio,
        trailingDays: config.analytics.cost_spike.trailing_days,
      }
      : undefined,
  });
  const plugins = duck ? [analyticsPlugin(() => duck.engine())] : [];
  return { name: "analytics", topologies, services: [], plugins, resources, duck, analytics: duck?.sink };
}

/** The analytics layer's entry in `pipeline/features.ts` (with the `bigquery` layer when enabled). */
export const analyticsFeature: Feature = {
  name: "analytics",
  topics: [BILLING_TOPIC],
  topologies: () => buildAnalytics(resolveConfig({}).config, silentLogger).topologies,
  build: (deps) => {
    const config = deps.runtime.config;
    const log = deps.log.child("analytics");
    const parts = buildAnalytics(config, log);
    const billing = config.analytics.billing;
    if (billing.enabled && parts.topologies.length) {
      parts.services.push(createBillingService({
        path: billing.export_file ?? SAMPLE_BILLING_EXPORT,
        broker: deps.broker,
        log,
        clock: deps.clock,
        intervalMs: parseDuration(billing.interval),
      }));
    }
    const bq = config.layers.bigquery;
    if (bq.enabled && parts.duck) {
      const duck = parts.duck;
      parts.services.push(createBigQueryService({
        target: { project: bq.project!, dataset: bq.dataset, location: bq.location, endpoint: bq.endpoint },
        db: () => duck.engine(),
        broker: deps.broker,
        log,
        clock: deps.clock,
        intervalMs: parseDuration(bq.interval),
      }));
    }
    return parts;
  },
};
