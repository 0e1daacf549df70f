import assert from "node:assert/strict";
import { LiveClient } from "../../connectors/gateway/testing.ts";
import { GIT_FILES_TOPIC } from "../../schemas/git_files.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { SYNC_STATUS_TOPIC, type SyncStatus } from "../../schemas/sync_status.ts";
import { SYNC_PROGRESS_TOPIC, type SyncProgress } from "../../schemas/sync_progress.ts";
import { STACK_REPO, startGitStack } from "./testing.ts";

Deno.test("git sync end to end (embedded): push → signed webhook → fetch → files, synced commit, status, API", async () => {
  const s = await startGitStack();
  let ws: LiveClient | undefined;
  try {
    // the start-up sync materializes the initial commit
    ws = await LiveClient.open(s.gw.wsUrl, {
      topic: [GIT_FILES_TOPIC.name, GIT_SYNCED_TOPIC.name, SYNC_STATUS_TOPIC.name],
    });
    await ws.waitFor(
      (f) => f.topic === GIT_SYNCED_TOPIC.name && (f.data as GitSynced)?.commit === s.first,
      10_000,
    );

    const sha = await s.git.commitAndPush(STACK_REPO, {
      "docs/index.md": "# Landing Zone v2\n",
      "RUNBOOKS.md": null,
    }, "edit");
    const r = await s.deliverPush(sha, { paths: ["docs/index.md"] });
    assert.equal(r.status, 202);
    const [synced] = await ws.waitFor(
      (f) => f.topic === GIT_SYNCED_TOPIC.name && (f.data as GitSynced)?.commit === sha,
      10_000,
    );
    const v = synced.data as GitSynced;
    assert.deepEqual([v.source, v.changed, v.removed, v.consistent, v.files], ["webhook", 1, 1, true, 6]);
    assert.ok(v.receipt_latency_seconds !== null && v.receipt_latency_seconds < 10);
    const files = ws.frames.filter((f) => f.topic === GIT_FILES_TOPIC.name && !f.snapshot);
    assert.ok(
      files.some((f) => f.key === `${STACK_REPO}:RUNBOOKS.md` && f.data === null),
      "tombstone streamed",
    );

    // REST: the commit the gateway serves, a doc at that commit, the layer status
    const git = await (await fetch(`${s.gw.url}/api/v1/sync/git`)).json();
    assert.equal(git.commit.sha, sha);
    assert.equal(git.materialized.commit, sha);
    assert.ok(git.files.some((f: { path: string }) => f.path === "docs/index.md"));
    assert.ok(!git.files.some((f: { path: string }) => f.path === "README.md"));
    const doc = await (await fetch(`${s.gw.url}/api/v1/docs/index.md`)).json();
    assert.deepEqual([doc.content, doc.commit], ["# Landing Zone v2\n", sha]);
    const doubled = await (await fetch(`${s.gw.url}/api/v1/docs/docs/index.md`)).json();
    assert.equal(doubled.content, doc.content, "the older doubled path still resolves");
    const raw = await fetch(`${s.gw.url}/api/v1/docs/pmo.yaml?raw=1`);
    assert.match(raw.headers.get("content-type") ?? "", /yaml/);
    assert.match(await raw.text(), /required_labels/);
    const typo = await fetch(`${s.gw.url}/api/v1/docs/pmo.yaml?row=1`);
    assert.equal(typo.status, 400);
    assert.match((await typo.json()).reason, /unknown query parameter row; .* takes repo, raw/);
    const alertsTypo = await fetch(`${s.gw.url}/api/v1/sync/alerts?al=1`);
    assert.equal(alertsTypo.status, 400);
    await alertsTypo.body?.cancel();
    const missing = await fetch(`${s.gw.url}/api/v1/docs/RUNBOOKS.md`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error, "not_found");
    await ws.waitFor(
      (f) => f.topic === SYNC_STATUS_TOPIC.name && (f.data as SyncStatus)?.layer === "webhook",
      10_000,
    );
    const status = await (await fetch(`${s.gw.url}/api/v1/sync/sync-status`)).json();
    const byLayer = Object.fromEntries(status.layers.map((l: SyncStatus) => [l.layer, l]));
    assert.equal(byLayer.git.status, "ok");
    assert.equal(byLayer.webhook.status, "ok");
    assert.equal(byLayer.webhook.latency_seconds.receipt_to_materialized.count, 1);
  } finally {
    await ws?.close();
    await s.stop();
  }
});

Deno.test("git sync end to end: a manual trigger answers sync_id/status_url/websocket_url and streams progress", async () => {
  const s = await startGitStack({ token: "stack-admin-token" });
  const auth = { authorization: "Bearer stack-admin-token" };
  let ws: LiveClient | undefined;
  try {
    await s.git.commitAndPush(STACK_REPO, { "docs/new.md": "# new\n" }, "new doc");
    const denied = await fetch(`${s.gw.url}/api/v1/sync/trigger`, { method: "POST" });
    assert.equal(denied.status, 401, "trigger needs a token with the trigger scope");
    await denied.body?.cancel();
    const res = await fetch(`${s.gw.url}/api/v1/sync/trigger`, { method: "POST", headers: auth });
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.match(body.sync_id, /^[0-9a-f-]{36}$/);
    assert.equal(body.status_url, `${s.gw.url}/api/v1/sync/syncs/${body.sync_id}`);
    assert.ok(
      body.websocket_url.startsWith(`${s.gw.wsUrl}?topic=${SYNC_PROGRESS_TOPIC.name}&key=${body.sync_id}`),
    );
    ws = await LiveClient.open(`${body.websocket_url}&access_token=stack-admin-token`);
    const [done] = await ws.waitFor((f) => (f.data as SyncProgress)?.done === true, 10_000);
    assert.equal((done.data as SyncProgress).phase, "completed");
    assert.ok(
      ws.frames.every((f) => f.topic === "~gateway" || f.key === body.sync_id),
      "only this sync's frames",
    );
    const st = await (await fetch(body.status_url, { headers: auth })).json();
    assert.deepEqual([st.phase, st.done, st.changed], ["completed", true, 1]);
    const unknown = await fetch(`${s.gw.url}/api/v1/sync/syncs/nope`, { headers: auth });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  } finally {
    await ws?.close();
    await s.stop();
  }
});

Deno.test("docs API: a file above the inline cap is served from the fetcher's git objects; bad paths are 400", async () => {
  const s = await startGitStack({ config: { layers: { git: { inline_max_bytes: 1024 } } } });
  let ws: LiveClient | undefined;
  try {
    ws = await LiveClient.open(s.gw.wsUrl, { topic: GIT_FILES_TOPIC.name });
    const big = "# big\n" + "y".repeat(4000);
    const sha = await s.git.commitAndPush(STACK_REPO, { "docs/big.md": big }, "big");
    assert.equal((await s.deliverPush(sha)).status, 202);
    await ws.waitFor((f) => f.key === STACK_REPO && (f.data as { commit?: string })?.commit === sha, 10_000);
    const doc = await (await fetch(`${s.gw.url}/api/v1/docs/docs/big.md`)).json();
    assert.equal(doc.content_ref.blob_sha, doc.blob_sha);
    assert.equal(doc.encoding, "base64");
    assert.equal(new TextDecoder().decode(Uint8Array.from(atob(doc.content), (c) => c.charCodeAt(0))), big);
    const raw = await fetch(`${s.gw.url}/api/v1/docs/docs/big.md?raw=1`);
    assert.equal(await raw.text(), big);
    assert.equal(raw.headers.get("x-lzsync-commit"), sha);
    for (const bad of ["%E0%A4%A", "docs%2F..%2Fpmo.yaml", "docs//x.md"]) {
      const r = await fetch(`${s.gw.url}/api/v1/docs/${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal((await r.json()).error, "bad_request");
    }
  } finally {
    await ws?.close();
    await s.stop();
  }
});
