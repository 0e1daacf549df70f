/** Prometheus metrics of the git fetcher, registered once per registry. */
import { Counter, Histogram, type Registry } from "prom-client";

/** The fetcher's metrics. */
export interface GitMetrics {
  syncs: Counter<"outcome">;
  files: Counter<"op">;
  ignored: Counter;
  duration: Histogram;
}

const byRegistry = new WeakMap<Registry, GitMetrics>();

/** Metrics on `registry` (created on first use; a throwaway registry when none is given). */
export function gitMetrics(registry?: Registry): GitMetrics {
  if (registry && byRegistry.has(registry)) return byRegistry.get(registry)!;
  const registers = registry ? [registry] : [];
  const m: GitMetrics = {
    syncs: new Counter({
      name: "lzsync_git_syncs_total",
      help: "Git syncs by outcome (synced, skipped, failed)",
      labelNames: ["outcome"],
      registers,
    }),
    files: new Counter({
      name: "lzsync_git_files_total",
      help: "Tracked paths written (changed) or tombstoned (removed) on lz.git.files.v1",
      labelNames: ["op"],
      registers,
    }),
    ignored: new Counter({
      name: "lzsync_git_pushes_ignored_total",
      help: "Push records for another repo or branch",
      registers,
    }),
    duration: new Histogram({
      name: "lzsync_git_sync_seconds",
      help: "Duration of one git sync (fetch, diff, produce)",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
  };
  if (registry) byRegistry.set(registry, m);
  return m;
}
