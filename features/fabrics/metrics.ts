/** Prometheus metrics of the Fabric GitOps Directory, registered once per registry. */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The FGD metric set. */
export interface FgdMetrics {
  filesProcessed: Counter<"fabric" | "outcome">;
  failures: Counter<"fabric" | "reason">;
  runDuration: Histogram<"fabric" | "outcome">;
  activeRuns: Gauge<string>;
  queueDepth: Gauge<"fabric">;
  objects: Gauge<"fabric" | "state">;
}

const byRegistry = new WeakMap<Registry, FgdMetrics>();

/** The metrics on `registry` (created on first use). */
export function fgdMetrics(registry: Registry): FgdMetrics {
  let m = byRegistry.get(registry);
  if (m) return m;
  const registers = [registry];
  m = {
    filesProcessed: new Counter({
      name: "lzsync_fgd_files_processed_total",
      help:
        "Input files handled by FGD ingestion, by outcome (ingested, partially-ingested, unmanaged, normalized, ...)",
      labelNames: ["fabric", "outcome"],
      registers,
    }),
    failures: new Counter({
      name: "lzsync_fgd_failures_total",
      help: "FGD runs and edits that failed (git unreachable, push rejected repeatedly, Kubernetes errors)",
      labelNames: ["fabric", "reason"],
      registers,
    }),
    runDuration: new Histogram({
      name: "lzsync_fgd_run_duration_seconds",
      help: "Duration of FGD ingestion runs",
      labelNames: ["fabric", "outcome"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    activeRuns: new Gauge({
      name: "lzsync_fgd_active_runs",
      help: "FGD ingestion runs in progress",
      registers,
    }),
    queueDepth: new Gauge({
      name: "lzsync_fgd_queue_depth",
      help: "FGD operations waiting for their fabric (runs, edits)",
      labelNames: ["fabric"],
      registers,
    }),
    objects: new Gauge({
      name: "lzsync_fgd_objects",
      help: "Objects per fabric and state (managed, unmanaged, drafts, conflicts, drift)",
      labelNames: ["fabric", "state"],
      registers,
    }),
  };
  byRegistry.set(registry, m);
  return m;
}
