import assert from "node:assert/strict";
import { resolveConfig } from "../../pipeline/config.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { auditTopology } from "../../processors/audit/mod.ts";
import type { AuditRecord } from "../../schemas/audit.ts";
import { STACK_REPO, startGitStack } from "../git_sync/testing.ts";
import { createPortalRepoHost } from "../portal_repo/topology.ts";
import { auditPlugin } from "./plugin.ts";

const ADMIN = "admin-secret-token";
const CI_TOKEN = "ci-secret-token";

Deno.test("audit trail end to end: webhook delivery, manual trigger by token name, Portal writes, filters", async () => {
  const s = await startGitStack({
    token: ADMIN,
    plugins: [auditPlugin()],
    env: { CI_TRIGGER_TOKEN: CI_TOKEN },
    config: {
      gateway: {
        tokens: [{ name: "portal-ci", token_env: "CI_TRIGGER_TOKEN", scopes: ["read", "trigger"] }],
      },
    },
  });
  const host = createProcessorHost(
    { broker: s.gw.broker, log: s.gw.deps.log, clock: s.gw.deps.clock },
    auditTopology(),
    { tickMs: 50 },
  );
  await host.start();
  await s.git.createRepo("acme/portal", { "README.md": "# Portal\n" });
  const cfg = resolveConfig({ portal_repo: { repo: s.git.url("acme/portal") } }).config.portal_repo!;
  const sink = createPortalRepoHost(s.gw.deps, cfg);
  await sink.start();
  const audit = async (query: string, token = ADMIN) => {
    const res = await fetch(`${s.gw.url}/api/v1/audit${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: await res.json() };
  };
  const records = async (query: string) => (await audit(query)).body.records as AuditRecord[];
  try {
    const c2 = await s.git.commitAndPush(STACK_REPO, { "docs/runbook.md": "# Runbook\n" }, "docs: runbook");
    assert.equal((await s.deliverPush(c2, { deliveryId: "delivery-42" })).status, 202);
    await waitFor(
      async () => (await records("?kind=sync&delivery_id=delivery-42")).length === 1,
      "the webhook sync's audit record",
      30_000,
    );
    const [hook] = await records("?delivery_id=delivery-42");
    assert.deepEqual([hook.trigger, hook.commit, hook.outcome, hook.subject], [
      "webhook",
      c2,
      "ok",
      STACK_REPO,
    ]);
    assert.equal(hook.changed, 1);

    const trig = await fetch(`${s.gw.url}/api/v1/sync/trigger`, {
      method: "POST",
      headers: { authorization: `Bearer ${CI_TOKEN}` },
    });
    assert.equal(trig.status, 202);
    const { sync_id } = await trig.json();
    await waitFor(
      async () => (await records(`?sync_id=${sync_id}`)).length === 1,
      "the trigger's record",
      30_000,
    );
    const [manual] = await records("?token_name=portal-ci");
    assert.deepEqual([manual.trigger, manual.token_name, manual.outcome], [
      "trigger",
      "portal-ci",
      "unchanged",
    ]);
    assert.ok(!JSON.stringify(await records("")).includes(CI_TOKEN), "a token never appears in the trail");

    await waitFor(
      async () => (await records("?kind=portal_write&outcome=ok")).some((r) => r.commit === c2),
      "the Portal write of c2",
      30_000,
    );
    const write = (await records("?kind=portal_write&outcome=ok")).find((r) => r.commit === c2)!;
    assert.equal(write.target, await s.git.head("acme/portal"));
    assert.ok(write.paths.includes("docs/lz-reference/runbook.md"));

    const all = await records("?limit=1000");
    assert.ok(all.every((r, i) => i === 0 || all[i - 1].at >= r.at), "newest first");
    assert.equal((await records(`?since=2999-01-01T00:00:00Z`)).length, 0);
    const bad = await audit("?since=yesterday");
    assert.equal(bad.status, 400);
    assert.match(bad.body.reason, /ISO-8601/);
    assert.equal((await audit("?colour=red")).status, 400);
    assert.equal((await audit("", "wrong")).status, 401);
  } finally {
    await sink.stop();
    await host.stop();
    await s.stop();
  }
});
