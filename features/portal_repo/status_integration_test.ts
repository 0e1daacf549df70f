import assert from "node:assert/strict";
import { join } from "node:path";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import type { SyncStatus } from "../../schemas/sync_status.ts";
import { STACK_REPO, startGitStack } from "../git_sync/testing.ts";
import { auditPlugin } from "../audit/plugin.ts";
import { portalRepoPlugin } from "./plugin.ts";
import { createPortalRepoHost } from "./topology.ts";
import { gitOut } from "./_test_util.ts";
import { resolveConfig } from "../../pipeline/config.ts";

Deno.test("the Portal repository is a layer: last commit and freshness, then the error when it is unreachable", async () => {
  const portalGit = await startGitServer();
  let portalUp = true;
  await portalGit.createRepo("acme/portal", { "README.md": "# Portal\n" });
  const raw = { portal_repo: { repo: portalGit.url("acme/portal") } };
  const cfg = resolveConfig(raw).config.portal_repo!;
  const s = await startGitStack({ config: raw, plugins: [auditPlugin(), portalRepoPlugin(cfg)] });
  const sink = createPortalRepoHost(s.gw.deps, cfg, { retryMs: 200 });
  const get = async (path: string) => (await (await fetch(`${s.gw.url}${path}`)).json());
  const layer = async () =>
    ((await get("/api/v1/sync/sync-status")).layers as SyncStatus[]).find((l) => l.layer === "portal");
  try {
    await sink.start();
    await waitFor(async () => (await layer())?.status === "ok", "portal layer ok", 30_000, () => null);
    const ok = (await layer())!;
    assert.ok(ok.items_synced > 0);
    assert.equal(ok.enabled, true);
    const head = await gitOut(join(portalGit.root, "acme/portal.git"), "rev-parse", "main");
    const audit = (await get("/api/v1/audit?kind=portal_write&outcome=ok")).records;
    assert.equal(audit[0].target, head);
    const st = await get("/api/v1/sync/portal-repo");
    const typo = await fetch(`${s.gw.url}/api/v1/sync/portal-repo?branch=main`);
    assert.equal(typo.status, 400);
    assert.match((await typo.json()).reason, /unknown query parameter branch/);
    assert.deepEqual([st.configured, st.mode, st.branch, st.last_commit.source, st.last_commit.target], [
      true,
      "direct",
      "main",
      s.first,
      head,
    ]);
    assert.equal(st.last_error, null);
    assert.equal(typeof st.freshness_seconds, "number");

    await portalGit.stop();
    portalUp = false;
    const c2 = await s.git.commitAndPush(STACK_REPO, { "docs/x.md": "# X\n" }, "docs: x");
    await s.deliverPush(c2, { deliveryId: "d-down" });
    await waitFor(
      async () => ((await layer())?.consecutive_failures ?? 0) >= 1,
      "a failed portal write",
      30_000,
    );
    const down = (await layer())!;
    assert.match(down.last_error ?? "", /cannot (list refs of|fetch)/);
    assert.ok(!(down.last_error ?? "").includes("x-access-token"));
    await waitFor(
      async () => (await get("/api/v1/sync/portal-repo")).last_error !== null,
      "error in status",
      30_000,
    );
    assert.equal(
      (await get("/api/v1/sync/portal-repo")).last_commit.target,
      head,
      "the last good commit stays",
    );
  } finally {
    await sink.stop();
    if (portalUp) await portalGit.stop();
    await s.stop();
  }
});
