/**
 * The `lzsync-git-fetch` topology on the embedded broker and a real git smart-HTTP server: coalescing (a
 * backlog is one fetch, a hint older than the last completed sync is served), the upgrade from the
 * hand-written service (its state was `lz.git.files.v1` itself: the first start resumes with a tree diff),
 * and a replay, which is a full resync.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { encode } from "../../pipeline/serde.ts";
import { replay } from "../../pipeline/replay.ts";
import { changelogTopic } from "../../pipeline/processor/types.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { GIT_FILES_TOPIC, type GitCommitMarker, type GitFilesValue } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC } from "../../schemas/git_push.ts";
import { SYNC_PROGRESS_TOPIC, type SyncProgress } from "../../schemas/sync_progress.ts";
import { createGitFetchService, GIT_FETCH_GROUP, requestPush } from "./service.ts";
import { FILES_STORE, HEADS_STORE, PENDING_STORE } from "./topology.ts";
import { readAll, syncQueue } from "./_test_util.ts";

const LZ = { "docs/a.md": "# A\n", "docs/b.md": "# B\n", "pmo.yaml": "x: 1\n", "README.md": "untracked\n" };

async function setup() {
  const server = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-gitfetch-topo-" });
  const broker = await createEmbeddedBroker();
  await server.createRepo("acme/lz", LZ);
  const deps = testDeps(broker, { data_dir: dataDir, landing_zone: { repo: server.url("acme/lz") } });
  const close = async () => {
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  };
  return { server, broker, deps, close };
}

const markers = async (broker: Parameters<typeof readAll>[0]) =>
  (await readAll<GitFilesValue>(broker, GIT_FILES_TOPIC.name))
    .filter((r) => r.value?.kind === "commit").map((r) => r.value as GitCommitMarker);

Deno.test("git-fetch topology: a backlog of pushes is one fetch; a hint older than the last completed sync is served", async () => {
  const t = await setup();
  const q = syncQueue();
  const svc = createGitFetchService(t.deps, { onSynced: q.push, intervalMs: 0, syncOnStart: false });
  const producer = await t.broker.producer();
  const progress = async () => {
    const out = new Map<string, SyncProgress>();
    for (const r of await readAll<SyncProgress>(t.broker, SYNC_PROGRESS_TOPIC.name)) {
      out.set(r.key!, r.value!);
    }
    return out;
  };
  try {
    await t.broker.admin().createTopics([{ name: GIT_PUSH_TOPIC.name, partitions: 1, compacted: false }]);
    const ids = ["b1", "b2", "b3", "b4", "b5"];
    for (const id of ids) {
      const p = requestPush("acme/lz", "main", "trigger", id, Date.now());
      await producer.send(GIT_PUSH_TOPIC.name, [{ key: p.repo, value: encode(GIT_PUSH_TOPIC.name, p) }]);
    }
    await svc.start();
    const first = await q.next();
    assert.deepEqual([first.outcome, first.diff, first.changed], ["synced", "full", 3]);
    await waitFor(
      async () => {
        const p = await progress();
        return ids.every((id) => p.get(id)?.done);
      },
      "every queued sync id done",
      15_000,
    );
    const p = await progress();
    assert.ok(ids.every((id) => p.get(id)!.phase === "completed"), JSON.stringify([...p.values()]));
    const servedBy = ids.filter((id) => !first.syncIds.includes(id));
    for (const id of servedBy) assert.match(p.get(id)!.message, /^served by sync /);
    assert.equal((await markers(t.broker)).length, 1, "five queued pushes, one fetch, one marker");

    // a hint recorded before the last completed sync started: served, no fetch
    const old = requestPush("acme/lz", "main", "trigger", "old-1", Date.now() - 60_000);
    await producer.send(GIT_PUSH_TOPIC.name, [{
      key: old.repo,
      value: encode(GIT_PUSH_TOPIC.name, old),
      timestamp: Date.now() - 60_000,
    }]);
    await waitFor(
      async () => (await progress()).get("old-1")?.done === true,
      "the old hint answered",
      15_000,
    );
    assert.match((await progress()).get("old-1")!.message, /^served by sync /);
    // a new hint fetches again
    await t.server.commitAndPush("acme/lz", { "docs/a.md": "# A2\n" }, "a2");
    await svc.trigger("trigger", "new-1");
    const second = await q.next();
    assert.deepEqual([second.syncIds, second.diff, second.changed], [["new-1"], "tree", 1]);
    assert.equal((await markers(t.broker)).length, 2, "the old hint fetched nothing");
  } finally {
    await producer.close();
    await svc.stop();
    await t.close();
  }
});

Deno.test("git-fetch topology: upgrading from the service (lz.git.files.v1, no changelog) resumes with a tree diff; a replay is a full resync", async () => {
  const t = await setup();
  try {
    // The hand-written service's state: lz.git.files.v1 and the group's committed push offsets, no store
    // changelog. Made here by a first run whose changelog topics are then deleted.
    let q = syncQueue();
    let svc = createGitFetchService(t.deps, { onSynced: q.push, intervalMs: 0 });
    await svc.start();
    assert.equal((await q.next()).diff, "full");
    await svc.stop();
    const changelogs = [FILES_STORE, HEADS_STORE, PENDING_STORE].map((s) =>
      changelogTopic(GIT_FETCH_GROUP, s)
    );
    await t.broker.admin().deleteTopics(changelogs);
    assert.ok(!(await t.broker.admin().listTopics()).some((x) => changelogs.includes(x)));

    await t.server.commitAndPush("acme/lz", { "docs/b.md": "# B2\n" }, "b2");
    const n0 = (await readAll(t.broker, GIT_FILES_TOPIC.name)).length;
    q = syncQueue();
    svc = createGitFetchService(t.deps, { onSynced: q.push, intervalMs: 0 });
    await svc.start();
    const resumed = await q.next();
    assert.deepEqual([resumed.outcome, resumed.diff, resumed.changed, resumed.removed], [
      "synced",
      "tree",
      1,
      0,
    ]);
    const recs = (await readAll<GitFilesValue>(t.broker, GIT_FILES_TOPIC.name)).slice(n0);
    assert.deepEqual(recs.map((r) => r.key), ["acme/lz:docs/b.md", "acme/lz"], "only the changed file");
    assert.deepEqual(svc.syncer.paths, ["docs/a.md", "docs/b.md", "pmo.yaml"]);
    await svc.stop();

    // replay --to earliest drops the stores and resets the offsets: the rebuild fetches everything again
    await waitFor(
      async () => (await t.broker.admin().describeGroup(GIT_FETCH_GROUP)).members.length === 0,
      "the group is empty",
      15_000,
    );
    await replay({ broker: t.broker, group: GIT_FETCH_GROUP, to: "earliest", inputs: [GIT_PUSH_TOPIC.name] });
    q = syncQueue();
    svc = createGitFetchService(t.deps, { onSynced: q.push, intervalMs: 0, syncOnStart: false });
    await svc.start();
    const rebuilt = await q.next();
    assert.deepEqual([rebuilt.outcome, rebuilt.diff, rebuilt.changed], ["synced", "full", 3]);
    await svc.stop();
  } finally {
    await t.close();
  }
});
