import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { registerProcessMetrics } from "./process_metrics.ts";

const value = (text: string, name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);

Deno.test("registerProcessMetrics() exposes CPU seconds that grow with work and resident memory", async () => {
  const r = new Registry();
  registerProcessMetrics(r);
  registerProcessMetrics(r); // idempotent
  const before = value(await r.metrics(), "process_cpu_seconds_total");
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i % 7;
  assert.ok(x > 0);
  const text = await r.metrics();
  assert.match(text, /# TYPE process_cpu_seconds_total counter/);
  assert.ok(value(text, "process_cpu_seconds_total") > before, "CPU time grew after a busy loop");
  assert.ok(value(text, "process_resident_memory_bytes") > 10e6, "RSS of a Deno process is megabytes");
  assert.ok(value(text, "process_heap_used_bytes") > 0);
  assert.ok(Math.abs(value(text, "process_start_time_seconds") - Date.now() / 1000) < 3600);
});
