/**
 * Process CPU and memory in Prometheus' standard names (as prom-client's default collectors and every
 * exporter name them), read at scrape time: `process_cpu_user_seconds_total`, `process_cpu_system_seconds_total`,
 * `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_heap_used_bytes`,
 * `process_heap_total_bytes`, `process_start_time_seconds`.
 */
import { cpuUsage } from "node:process";
import { Counter, Gauge, type Registry } from "prom-client";

/** Registers the process metrics in `registry` (once: a second call finds them and does nothing). */
export function registerProcessMetrics(registry: Registry): void {
  if (registry.getSingleMetric("process_cpu_seconds_total")) return;
  const registers = [registry];
  let last = { user: 0, system: 0 };
  const user = new Counter({
    name: "process_cpu_user_seconds_total",
    help: "User CPU time spent",
    registers,
  });
  const system = new Counter({
    name: "process_cpu_system_seconds_total",
    help: "System CPU time spent",
    registers,
  });
  new Counter({
    name: "process_cpu_seconds_total",
    help: "User and system CPU time spent",
    registers,
    collect() {
      const now = cpuUsage(); // microseconds since the process started
      user.inc((now.user - last.user) / 1e6);
      system.inc((now.system - last.system) / 1e6);
      this.inc((now.user - last.user + now.system - last.system) / 1e6);
      last = now;
    },
  });
  const mem = (name: string, help: string, pick: (m: Deno.MemoryUsage) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick(Deno.memoryUsage()));
      },
    });
  mem("process_resident_memory_bytes", "Resident memory size", (m) => m.rss);
  mem("process_heap_used_bytes", "JavaScript heap in use", (m) => m.heapUsed);
  mem("process_heap_total_bytes", "JavaScript heap reserved", (m) => m.heapTotal);
  new Gauge({ name: "process_start_time_seconds", help: "Start time since the epoch", registers }).set(
    Math.round(Date.now() / 1000 - performance.now() / 1000),
  );
}
