/**
 * The bounded crash test of issue 8 (see `mod.ts`): the pipeline dies once at each named crash point, then a
 * few SIGKILLs of the whole pipeline at random instants during git sync,
 * fabric ingestion with a concurrent committer, and asset polls, on the embedded broker and on a Kafka broker
 * the test starts; then git fsck, raw-file accounting, views against a clean run, digests against a clean
 * rebuild. The report is printed, so a failure says what was lost, doubled or different.
 */
import assert from "node:assert/strict";
import { needs } from "../env.ts";
import { runCrashTest } from "./mod.ts";

const KILLS = Number(Deno.env.get("LZSYNC_CRASH_KILLS") ?? "3");
/**
 * Crash points per broker: every one on the embedded broker; on Kafka (where a start takes ~10 s) the ones
 * whose moment is between two broker writes — the fabric's are git-side and broker-independent.
 */
const POINTS: Record<string, string[] | undefined> = {
  embedded: undefined,
  kafka: ["git-sync:after-produce", "assets:mid-snapshot", "host:before-commit"],
};

for (const broker of ["embedded", "kafka"] as const) {
  Deno.test({
    name:
      `crash test (${broker}): ${
        POINTS[broker] ? "crash points" : "every crash point"
      } and ${KILLS} SIGKILLs lose nothing, double nothing, ` +
      `corrupt no repository`,
    ignore: broker === "kafka" && needs("kafka"),
    sanitizeResources: false, // child processes and the servers are stopped by runCrashTest itself
    sanitizeOps: false,
    async fn() {
      const report = await runCrashTest({
        broker,
        kills: KILLS,
        points: POINTS[broker],
        log: (l) => console.error(`[crash ${broker}] ${l}`),
      });
      console.error(`[crash ${broker}] report: ${JSON.stringify(report, null, 2)}`);
      for (const p of report.crash_points) assert.ok(p.reached, `crash point ${p.point} reached`);
      assert.equal(report.kills, KILLS + report.crash_points.length);
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
