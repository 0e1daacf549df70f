/**
 * `GET /api/v1/fabrics/:id` says what the fabric is doing: `running` while a run is active, `idle` when none
 * is, `error` (with `last_error`) after a failed run — on the first-run sample fabric (a local git repo).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { sampleRepoPath } from "../../connectors/git/sample.ts";
import { startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices } from "./service.ts";

Deno.test("GET /api/v1/fabrics/:id is idle when no run is active, error after a failed run", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-state-" });
  const broker = await createEmbeddedBroker();
  const config = { data_dir: dataDir };
  const env = { LZSYNC_TOKEN: "adm" };
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config, env });
  const status = async () =>
    await (await fetch(`${gw.url}/api/v1/fabrics/dc1`, { headers: { authorization: "Bearer adm" } })).json();
  const afterRun = async (syncId: string) => {
    let s: Record<string, unknown> = {};
    await waitFor(
      async () => {
        s = await status();
        return (s.last_run as { sync_id?: string } | null)?.sync_id === syncId;
      },
      `the status of ${syncId}`,
      10_000,
      () => s,
    );
    return s;
  };
  try {
    const w = fgd.manager.workers.get("dc1")!;
    const first = w.trigger("test");
    await first.done;
    const ok = await afterRun(first.syncId);
    assert.equal(ok.state, "idle", JSON.stringify(ok));
    assert.equal(ok.last_error, null);

    const lock = join(sampleRepoPath(dataDir), ".git", "index.lock");
    await Deno.writeTextFile(join(sampleRepoPath(dataDir), "fabrics/dc1/raw/late.yaml"), "kind: VPC\n");
    for (
      const args of [["add", "-A"], [
        "-c",
        "user.name=u",
        "-c",
        "user.email=u@x.invalid",
        "commit",
        "-qm",
        "late",
      ]]
    ) {
      const out = await new Deno.Command("git", { args, cwd: sampleRepoPath(dataDir) }).output();
      assert.ok(out.success, `git ${args.join(" ")}`);
    }
    await Deno.writeTextFile(lock, "");
    const failing = w.trigger("test");
    await failing.done.catch(() => {});
    const failed = await afterRun(failing.syncId);
    assert.equal(failed.state, "error", JSON.stringify(failed));
    assert.match(String(failed.last_error), /index\.lock/);

    await Deno.remove(lock);
    const again = w.trigger("test");
    await again.done;
    const idle = await afterRun(again.syncId);
    assert.equal(idle.state, "idle", JSON.stringify(idle));
  } finally {
    await gw.stop();
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
