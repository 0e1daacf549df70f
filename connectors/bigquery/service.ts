/**
 * The `bigquery` sync layer: every `layers.bigquery.interval` it runs the exporter (rows committed in DuckDB
 * → BigQuery load jobs and MERGEs) and reports the attempt on `lz.sync.events.v1` like every other layer, so
 * the status page shows its status, freshness and latency, and failures count toward its alerts.
 */
import type { Producer } from "../../pipeline/broker/types.ts";
import type { Clock } from "../../pipeline/processor/types.ts";
import type { Broker } from "../../pipeline/broker/types.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { Service } from "../../pipeline/service.ts";
import { describeError } from "../../pipeline/errors.ts";
import { encode } from "../../pipeline/serde.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import type { DuckDbAnalytics } from "../duckdb/engine.ts";
import { bigQueryClient, type BigQueryTarget } from "./client.ts";
import { type BigQueryExporter, createBigQueryExporter, type ExportResult } from "./exporter.ts";

/** What the layer runs on. */
export interface BigQueryServiceOptions {
  target: BigQueryTarget;
  /** The DuckDB engine once its resource has started. */
  db: () => DuckDbAnalytics | null;
  broker: Broker;
  log: Logger;
  clock: Clock;
  intervalMs: number;
}

/** The service, with a way to run one export now (tests, manual triggers). */
export interface BigQueryService extends Service {
  syncNow(): Promise<ExportResult | null>;
}

/** Builds the `bigquery` layer service. */
export function createBigQueryService(o: BigQueryServiceOptions): BigQueryService {
  const log = o.log.child("bigquery", { dataset: o.target.dataset });
  let producer: Producer | undefined;
  let exporter: BigQueryExporter | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const report = (ev: SyncEvent) =>
    producer!.send(SYNC_EVENTS_TOPIC.name, [{ key: "bigquery", value: encode(SYNC_EVENTS_TOPIC.name, ev) }]);

  async function once(): Promise<ExportResult | null> {
    const started = o.clock.now();
    const next = new Date(started + o.intervalMs).toISOString();
    try {
      const db = o.db();
      if (!db) throw new Error("the DuckDB analytics database is not open");
      if (!exporter) {
        const e = createBigQueryExporter({
          db,
          client: bigQueryClient(o.target),
          dataset: o.target.dataset,
          location: o.target.location,
          log,
        });
        await e.ensureTables();
        exporter = e;
      }
      const r = await exporter.syncOnce();
      await report({
        id: `bigquery-${started}-${crypto.randomUUID().slice(0, 8)}`,
        layer: "bigquery",
        trigger: "schedule",
        ok: true,
        items: r.rows,
        started_at: new Date(started).toISOString(),
        finished_at: new Date(o.clock.now()).toISOString(),
        next_sync: next,
        event_time: r.oldest,
        ref: `${r.loads} load jobs, ${r.merges} merges`,
      });
      return r;
    } catch (err) {
      const error = describeError(err);
      log.error("export failed", { error });
      await report({
        id: `bigquery-failed-${started}-${crypto.randomUUID().slice(0, 8)}`,
        layer: "bigquery",
        trigger: "schedule",
        ok: false,
        items: 0,
        error: error.slice(0, 2000),
        started_at: new Date(started).toISOString(),
        finished_at: new Date(o.clock.now()).toISOString(),
        next_sync: next,
      }).catch((e) => log.error("could not report the failed export", { error: describeError(e) }));
      return null;
    }
  }

  const syncNow = (): Promise<ExportResult | null> => {
    const r = running.then(once, once);
    running = r.catch(() => {});
    return r;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => syncNow().finally(schedule), o.intervalMs);
  };

  return {
    name: "bigquery",
    topics: { writes: [SYNC_EVENTS_TOPIC.name] },
    async start() {
      producer = await o.broker.producer();
      await o.broker.admin().createTopics([{
        name: SYNC_EVENTS_TOPIC.name,
        partitions: SYNC_EVENTS_TOPIC.partitions,
        compacted: SYNC_EVENTS_TOPIC.compacted,
      }]);
      schedule();
    },
    syncNow,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
      await producer?.close();
    },
  };
}
