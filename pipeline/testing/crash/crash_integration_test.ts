/**
 * The bounded crash test of issue 8 (see `mod.ts`): a few SIGKILLs of the whole pipeline during git sync,
 * fabric ingestion with a concurrent committer, and asset polls, on the embedded broker and on a Kafka broker
 * the test starts; then git fsck, raw-file accounting, views against a clean run, digests against a clean
 * rebuild. The report is printed, so a failure says what was lost, doubled or different.
 */
import assert from "node:assert/strict";
import { needs } from "../env.ts";
import { runCrashTest } from "./mod.ts";

const KILLS = Number(Deno.env.get("LZSYNC_CRASH_KILLS") ?? "3");

for (const broker of ["embedded", "kafka"] as const) {
  Deno.test({
    name: `crash test (${broker}): ${KILLS} SIGKILLs lose nothing, double nothing, corrupt no repository`,
    ignore: broker === "kafka" && needs("kafka"),
    sanitizeResources: false, // child processes and the servers are stopped by runCrashTest itself
    sanitizeOps: false,
    async fn() {
      const report = await runCrashTest({
        broker,
        kills: KILLS,
        log: (l) => console.error(`[crash ${broker}] ${l}`),
      });
      console.error(`[crash ${broker}] report: ${JSON.stringify(report, null, 2)}`);
      assert.equal(report.kills, KILLS);
      assert.deepEqual(report.misplaced, [], "every raw file in exactly one of raw/, managed/, unmanaged/");
      for (const f of report.fsck) {
        assert.ok(f.ok, `git fsck ${f.dir}: ${f.output}`);
        assert.deepEqual(f.locks, [], `no lock left in ${f.dir}`);
      }
      assert.deepEqual(report.view_diffs, [], "views equal a clean run");
      for (const d of report.digests) {
        assert.ok(d.equal, `${d.group}: ${d.crashed} != clean ${d.clean}: ${d.differences.join("\n")}`);
      }
      assert.ok(report.ok);
    },
  });
}
