import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded.ts";
import { encode } from "../../pipeline/serde.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { createCommitStatusNotifier } from "./status_notifier.ts";
import { startTestApiServer } from "./_test_api_server.ts";
import { STATUS_CONTEXT } from "./client.ts";

const synced = (commit: string, consistent = true): GitSynced => ({
  repo: "acme/lz",
  branch: "main",
  commit,
  commit_time: "2024-05-01T12:00:00.000Z",
  message: "m",
  author: "a",
  previous: null,
  forced: false,
  files: 7,
  changed: 1,
  removed: 0,
  consistent,
  sync_id: "s",
  source: "webhook",
  received_at: null,
  materialized_at: "2024-05-01T12:00:01.000Z",
  commit_latency_seconds: 1,
  receipt_latency_seconds: null,
});

Deno.test("commit status notifier sets lzsync/portal on each synced commit, retrying a 502", async () => {
  const api = startTestApiServer({ token: "ghp_s", repos: { "acme/lz": "/nonexistent" }, failStatuses: 1 });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, {
    gateway: { public_url: "https://portal.example" },
    landing_zone: {
      repo: "https://github.example/acme/lz.git",
      github: { owner: "acme", repo: "lz", api_url: api.url },
    },
  }, { GITHUB_TOKEN: "ghp_s" });
  const seen: string[] = [];
  let done!: () => void;
  const two = new Promise<void>((r) => (done = r));
  const svc = createCommitStatusNotifier(deps, {
    onStatus: (c, s) => {
      seen.push(`${c.slice(0, 1)}:${s}`);
      if (seen.length === 2) done();
    },
  });
  assert.ok(svc);
  try {
    await svc.start();
    const p = await broker.producer();
    await p.send(GIT_SYNCED_TOPIC.name, [
      { key: "acme/lz", value: encode(GIT_SYNCED_TOPIC.name, synced("1".repeat(40))) },
      { key: "acme/lz", value: encode(GIT_SYNCED_TOPIC.name, { ...synced("2".repeat(40), false) }) },
      { key: "acme/lz", value: encode(GIT_SYNCED_TOPIC.name, { ...synced("3".repeat(40)), commit: null }) },
    ]);
    await p.close();
    await two;
    assert.deepEqual(seen, ["1:success", "2:error"]);
    assert.deepEqual(api.statuses.map((s) => [s.sha[0], s.body.state, s.body.context, s.body.target_url]), [
      ["1", "success", STATUS_CONTEXT, "https://portal.example/api/v1/sync/git"],
      ["2", "error", STATUS_CONTEXT, "https://portal.example/api/v1/sync/git"],
    ]);
    assert.match(api.statuses[0].body.description!, /7 tracked file/);
  } finally {
    await svc.stop();
    await broker.close();
    await api.stop();
  }
});

Deno.test("commit status notifier is off without landing_zone.github or a token", async () => {
  const broker = await createEmbeddedBroker();
  try {
    assert.equal(createCommitStatusNotifier(testDeps(broker, {})), null);
    const noToken = testDeps(broker, { landing_zone: { github: { owner: "a", repo: "b" } } });
    assert.equal(createCommitStatusNotifier(noToken), null);
  } finally {
    await broker.close();
  }
});
