import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { encode } from "../../pipeline/serde.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { createCommitStatusNotifier } from "./status_notifier.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";
import { decode } from "../../pipeline/serde.ts";
import { startTestApiServer } from "./_test_api_server.ts";
import { STATUS_CONTEXT } from "./client.ts";
import { replay } from "../../pipeline/replay.ts";
import { runToEnd } from "../../pipeline/testing/run_to_end.ts";

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

const lzConfig = (apiUrl: string) => ({
  gateway: { public_url: "https://portal.example" },
  landing_zone: {
    repo: "https://github.example/acme/lz.git",
    github: { owner: "acme", repo: "lz", api_url: apiUrl },
  },
});

Deno.test("commit status notifier is a processor: sets lzsync/portal on each synced commit, retrying a 502", async () => {
  const api = startTestApiServer({ token: "ghp_s", repos: { "acme/lz": "/nonexistent" }, failStatuses: 1 });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, lzConfig(api.url), { GITHUB_TOKEN: "ghp_s" });
  const seen: string[] = [];
  const topo = createCommitStatusNotifier(deps, {
    backoffMs: 5,
    onStatus: (c, s) => seen.push(`${c.slice(0, 1)}:${s}`),
  });
  assert.ok(topo);
  const host = createProcessorHost({ broker, log: silentLogger, metrics: deps.metrics }, topo as Topology);
  try {
    await host.start();
    const p = await broker.producer();
    await p.send(GIT_SYNCED_TOPIC.name, [
      { key: "acme/lz", value: encode(GIT_SYNCED_TOPIC.name, synced("1".repeat(40))) },
      { key: "acme/lz", value: encode(GIT_SYNCED_TOPIC.name, { ...synced("2".repeat(40), false) }) },
      { key: "acme/lz", value: encode(GIT_SYNCED_TOPIC.name, { ...synced("3".repeat(40)), commit: null }) },
    ]);
    await p.close();
    await waitFor(() => seen.length === 2 && host.stats().processed >= 3, "two statuses");
    assert.deepEqual(seen, ["1:success", "2:error"]);
    assert.deepEqual(api.statuses.map((s) => [s.sha[0], s.body.state, s.body.context, s.body.target_url]), [
      ["1", "success", STATUS_CONTEXT, "https://portal.example/api/v1/sync/git"],
      ["2", "error", STATUS_CONTEXT, "https://portal.example/api/v1/sync/git"],
    ]);
    assert.match(api.statuses[0].body.description!, /7 tracked file/);
  } finally {
    await host.stop();
    await broker.close();
    await api.stop();
  }
});

Deno.test("commit status notifier: a status GitHub refuses (bad token, 401) goes to the DLQ with the reason, not skipped", async () => {
  const api = startTestApiServer({ token: "ghp_right", repos: { "acme/lz": "/nonexistent" } });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, lzConfig(api.url), { GITHUB_TOKEN: "ghp_wrong" });
  const topo = createCommitStatusNotifier(deps, { backoffMs: 5 })!;
  const host = createProcessorHost({ broker, log: silentLogger, metrics: deps.metrics }, topo as Topology);
  try {
    await host.start();
    const p = await broker.producer();
    await p.send(GIT_SYNCED_TOPIC.name, [
      { key: "acme/lz", value: encode(GIT_SYNCED_TOPIC.name, synced("4".repeat(40))) },
    ]);
    await p.close();
    await waitFor(() => host.stats().dlq === 1, "one DLQ record");
    const reader = broker.reader({ topics: [DLQ_TOPIC.name] });
    const dlq: DlqRecord[] = [];
    await reader.run((b) => {
      for (const r of b.records) dlq.push(decode<DlqRecord>(DLQ_TOPIC.name, r.value)!);
      return Promise.resolve();
    });
    await waitFor(() => dlq.length === 1, "DLQ read");
    await reader.stop();
    assert.equal(dlq[0].error_code, "NOTIFY_FAILED");
    assert.equal(dlq[0].stage, "lzsync-github-status");
    assert.match(dlq[0].error, /cannot set the commit status of 4444444: GitHub .*HTTP 401.*check the token/);
    assert.ok(!JSON.stringify(dlq[0]).includes("ghp_wrong"), "never the token");
    assert.equal(api.statuses.length, 0);
    assert.match(await deps.metrics.metrics(), /lzsync_github_commit_statuses_total\{outcome="failed"\} 1/);
  } finally {
    await host.stop();
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

Deno.test("commit status notifier: a replay (offsets to earliest, state dropped) sets no status GitHub already shows; a changed one is set", async () => {
  const api = startTestApiServer({ token: "ghp_s", repos: { "acme/lz": "/nonexistent" } });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, lzConfig(api.url), { GITHUB_TOKEN: "ghp_s" });
  const topo = createCommitStatusNotifier(deps, { backoffMs: 5 })! as Topology;
  const send = async (...values: GitSynced[]) => {
    const p = await broker.producer();
    await p.send(
      GIT_SYNCED_TOPIC.name,
      values.map((v) => ({ key: v.repo, value: encode(GIT_SYNCED_TOPIC.name, v) })),
    );
    await p.close();
  };
  const set = () => api.statuses.map((s) => `${s.sha[0]}:${s.body.state}`);
  try {
    await broker.admin().createTopics([{ name: GIT_SYNCED_TOPIC.name, partitions: 1, compacted: true }]);
    await send(synced("1".repeat(40)), {
      ...synced("2".repeat(40), false),
      materialized_at: "2024-05-01T12:01:00.000Z",
    });
    await runToEnd(broker, topo, deps);
    assert.deepEqual(set(), ["1:success", "2:error"]);
    const r = await replay({
      broker,
      group: topo.app,
      to: "earliest",
      inputs: topo.inputs,
      stores: topo.stores,
    });
    assert.deepEqual(r.offsets.map((o) => o.offset), [0]);
    await runToEnd(broker, topo, deps);
    assert.deepEqual(set(), ["1:success", "2:error"], "the replay set no status again");
    // the Portal's copy of commit 2 repaired by a later sync: a change GitHub does not show yet
    await send({ ...synced("2".repeat(40)), materialized_at: "2024-05-01T12:02:00.000Z" });
    await runToEnd(broker, topo, deps);
    assert.deepEqual(set(), ["1:success", "2:error", "2:success"]);
    assert.match(await deps.metrics.metrics(), /lzsync_github_commit_statuses_total\{outcome="ok"\} 3/);
  } finally {
    await broker.close();
    await api.stop();
  }
});

Deno.test("commit status notifier: a record older than commit_status_max_age is skipped when a later one of its repo supersedes it; the latest is set however old", async () => {
  const api = startTestApiServer({ token: "ghp_s", repos: { "acme/lz": "/nonexistent" } });
  const broker = await createEmbeddedBroker();
  const config = lzConfig(api.url);
  const deps = testDeps(broker, {
    ...config,
    landing_zone: {
      ...config.landing_zone,
      github: { ...config.landing_zone.github, commit_status_max_age: "30m" },
    },
  }, { GITHUB_TOKEN: "ghp_s" });
  const topo = createCommitStatusNotifier(deps, { backoffMs: 5 })! as Topology;
  try {
    await broker.admin().createTopics([{ name: GIT_SYNCED_TOPIC.name, partitions: 1, compacted: true }]);
    // a first start (or a notifier that was down) two hours after three syncs
    const old = Date.now() - 2 * 3_600_000;
    const p = await broker.producer();
    await p.send(
      GIT_SYNCED_TOPIC.name,
      ["5", "6", "7"].map((c, i) => ({
        key: "acme/lz",
        value: encode(GIT_SYNCED_TOPIC.name, {
          ...synced(c.repeat(40)),
          materialized_at: new Date(old + i).toISOString(),
        }),
        timestamp: old + i,
      })),
    );
    await p.close();
    await runToEnd(broker, topo, deps);
    assert.deepEqual(api.statuses.map((s) => `${s.sha[0]}:${s.body.state}`), ["7:success"]);
    assert.match(
      await deps.metrics.metrics(),
      /lzsync_github_commit_statuses_total\{outcome="superseded"\} 2/,
    );
  } finally {
    await broker.close();
    await api.stop();
  }
});
