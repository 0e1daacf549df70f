/**
 * Prometheus metrics of processor hosts. Several hosts share one registry, so each metric is created once
 * per registry and reused (label `app` tells them apart).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The metrics a host updates; every method is a no-op without a registry. */
export interface HostMetrics {
  processed(topic: string, n: number): void;
  batchSeconds(seconds: number): void;
  dlq(topic: string): void;
  lag(topic: string, partition: number, records: number, seconds: number): void;
}

function single<T>(reg: Registry, name: string, make: () => T): T {
  return (reg.getSingleMetric(name) as T | undefined) ?? make();
}

/** Metrics of one topology's host in `registry` (or no-ops when undefined). */
export function hostMetrics(app: string, registry?: Registry): HostMetrics {
  if (!registry) return { processed() {}, batchSeconds() {}, dlq() {}, lag() {} };
  const registers = [registry];
  const processed = single(registry, "lzsync_records_processed_total", () =>
    new Counter({
      name: "lzsync_records_processed_total",
      help: "Input records handled by processors (processed, skipped as already applied, or sent to the DLQ)",
      labelNames: ["app", "topic"],
      registers,
    }));
  const seconds = single(registry, "lzsync_processing_seconds", () =>
    new Histogram({
      name: "lzsync_processing_seconds",
      help: "Time to process one batch and checkpoint it",
      labelNames: ["app"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }));
  const dlq = single(registry, "lzsync_dlq_records_total", () =>
    new Counter({
      name: "lzsync_dlq_records_total",
      help: "Records sent to lz.dlq.v1, by source topic",
      labelNames: ["app", "topic"],
      registers,
    }));
  const lagRecords = single(registry, "lzsync_consumer_lag_records", () =>
    new Gauge({
      name: "lzsync_consumer_lag_records",
      help: "Records between a group's position and the partition's high offset",
      labelNames: ["app", "topic", "partition"],
      registers,
    }));
  const lagSeconds = single(registry, "lzsync_consumer_lag_seconds", () =>
    new Gauge({
      name: "lzsync_consumer_lag_seconds",
      help: "Age of the last record handled while records are waiting (0 when caught up)",
      labelNames: ["app", "topic", "partition"],
      registers,
    }));
  return {
    processed: (topic, n) => processed.inc({ app, topic }, n),
    batchSeconds: (s) => seconds.observe({ app }, s),
    dlq: (topic) => dlq.inc({ app, topic }),
    lag: (topic, partition, records, secs) => {
      lagRecords.set({ app, topic, partition: String(partition) }, records);
      lagSeconds.set({ app, topic, partition: String(partition) }, secs);
    },
  };
}
