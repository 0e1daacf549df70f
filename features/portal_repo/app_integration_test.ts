/** The whole pipeline (`runPipeline`, what `deno task start` runs) with `portal_repo` set: first run → Portal. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runPipeline } from "../../pipeline/app.ts";
import { createBroker } from "../../pipeline/broker/mod.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { freePort } from "../../pipeline/testing/free_port.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { gitOut, treePaths } from "./_test_util.ts";

Deno.test("lzsync start with portal_repo: the sample Landing Zone's docs and pmo.yaml reach the Portal, audited", async () => {
  const git = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-portal-app-" });
  const port = freePort();
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  try {
    await git.createRepo("acme/portal", { "README.md": "# Portal\n" });
    const runtime = resolveConfig(
      {
        data_dir: dataDir,
        log_level: "error",
        gateway: { port },
        layers: { api: { enabled: false } },
        portal_repo: { repo: git.url("acme/portal") },
      },
      {},
      "test",
    );
    running = runPipeline(
      runtime,
      (r) => createBroker({ kind: "embedded", dataDir: join(r.config.data_dir, "broker") }),
      stop.signal,
    );
    const gitdir = join(git.root, "acme/portal.git");
    await waitFor(
      async () => (await treePaths(gitdir)).includes("config/lz-pmo.yaml"),
      "the Portal commit of the sample Landing Zone",
      60_000,
    );
    const paths = await treePaths(gitdir);
    assert.ok(paths.some((p) => p.startsWith("docs/lz-reference/")), paths.join(", "));
    assert.ok(paths.includes("config/lz-config/sync-metadata.json"));
    assert.match(
      await gitOut(gitdir, "log", "-1", "--format=%B", "main"),
      /Landing-Zone-Commit: [0-9a-f]{40}/,
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        const st = await (await fetch(`${base}/api/v1/sync/portal-repo`)).json();
        return st.last_commit?.target === await git.head("acme/portal");
      },
      "the portal-repo status",
      30_000,
    );
    await waitFor(
      async () => {
        const a = await (await fetch(`${base}/api/v1/audit?kind=sync`)).json();
        return a.total >= 1 && a.records[0].trigger === "start";
      },
      "the start-up sync's audit record",
      30_000,
    );
  } finally {
    stop.abort();
    await running?.catch(() => {});
    await git.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
