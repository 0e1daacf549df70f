import assert from "node:assert/strict";
import { startTestGateway } from "../connectors/gateway/testing.ts";
import { createGitFetchService } from "../features/git_sync/service.ts";
import { gitSyncPlugin } from "../features/git_sync/plugin.ts";
import { syncQueue } from "../features/git_sync/_test_util.ts";
import { githubWebhookPlugin } from "../connectors/github/webhook.ts";
import { demoPush } from "./demo.ts";
import { generatedSecretPath } from "../connectors/github/secrets.ts";

Deno.test("first run with nothing configured: sample Landing Zone, generated secret, demo-push arrives", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-demo-" });
  const t = await startTestGateway({
    plugins: [gitSyncPlugin(), githubWebhookPlugin()],
    config: { data_dir: dataDir },
  });
  const q = syncQueue();
  const fetcher = createGitFetchService(t.deps, { intervalMs: 0, onSynced: q.push });
  try {
    await fetcher.start();
    const first = await q.next();
    assert.equal(first.outcome, "synced");
    assert.equal(fetcher.syncer.repo, "sample-lz");

    const res = await demoPush(t.deps.runtime, { gatewayUrl: t.url, message: "docs: hello from demo-push" });
    assert.equal(res.status, 202, JSON.stringify(res.response));
    assert.equal(res.previous, first.commit);
    assert.equal(
      (await Deno.stat(generatedSecretPath(dataDir))).mode! & 0o777,
      0o600,
      "the secret file is private",
    );
    const synced = await q.next();
    assert.deepEqual(
      [synced.commit, synced.changed],
      [res.commit, 1],
      "the webhook made the fetcher sync the commit",
    );
    let git = { commit: { sha: "", message: "" } };
    for (const end = Date.now() + 5000; git.commit?.sha !== res.commit && Date.now() < end;) {
      git = await (await fetch(`${t.url}/api/v1/sync/git`)).json();
      if (git.commit?.sha !== res.commit) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(git.commit.sha, res.commit, "the gateway serves the demo commit");
    assert.match(git.commit.message, /hello from demo-push/);
    const doc = await (await fetch(`${t.url}/api/v1/docs/docs/changelog.md`)).json();
    assert.match(doc.content, /hello from demo-push/);
  } finally {
    await fetcher.stop();
    await t.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
