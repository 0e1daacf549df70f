/** Child processes of the test harness (Kafka, the BigQuery emulator). */

/** Ends `child`: SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves once it exited. */
export async function terminate(child: Deno.ChildProcess, graceMs: number): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, graceMs);
  await child.status;
  clearTimeout(timer);
}
