/**
 * Each synced file names the commit that last changed it (as `git log -1 --first-parent -- <path>` does),
 * not the head at fetch time: on a first sync of a repo with history, and on a sync that covers several
 * commits. Real git smart-HTTP server, embedded broker, the gateway's `/api/v1/sync/git`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { GIT_FILES_TOPIC, type GitFile, type GitFilesValue } from "../../schemas/git_files.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { LiveClient } from "../../connectors/gateway/testing.ts";
import { readAll, syncQueue } from "./_test_util.ts";
import { createGitFetchService } from "./service.ts";
import { STACK_REPO, startGitStack } from "./testing.ts";

async function lastChange(root: string, name: string, path: string): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["log", "-1", "--first-parent", "--format=%H", "main", "--", path],
    cwd: join(root, `${name}.git`),
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("git fetch: a file's commit is the commit that last changed it, on a first sync and across several commits", async () => {
  const server = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-filecommit-" });
  const broker = await createEmbeddedBroker();
  const q = syncQueue();
  const deps = testDeps(broker, { data_dir: dataDir, landing_zone: { repo: server.url("acme/lz") } });
  const svc = createGitFetchService(deps, { onSynced: q.push, intervalMs: 0 });
  const files = async () => {
    const out = new Map<string, GitFile>();
    for (const r of await readAll<GitFilesValue>(broker, GIT_FILES_TOPIC.name)) {
      if (r.value?.kind === "file") out.set(r.value.path, r.value);
    }
    return out;
  };
  try {
    const c1 = await server.createRepo("acme/lz", {
      "docs/a.md": "# A\n",
      "docs/deep/b.md": "# B\n",
      "pmo.yaml": "x: 1\n",
    }, { date: "2024-01-01T00:00:00Z" });
    const c2 = await server.commitAndPush("acme/lz", { "docs/deep/b.md": "# B2\n" }, "b", {
      date: "2024-02-01T00:00:00Z",
    });
    await server.commitAndPush("acme/lz", { "README.md": "untracked\n" }, "untracked only", {
      date: "2024-03-01T00:00:00Z",
    });
    await svc.start();
    assert.equal((await q.next()).diff, "full");
    let f = await files();
    assert.deepEqual(
      ["docs/a.md", "docs/deep/b.md", "pmo.yaml"].map((p) => [p, f.get(p)?.commit, f.get(p)?.commit_time]),
      [
        ["docs/a.md", c1, "2024-01-01T00:00:00.000Z"],
        ["docs/deep/b.md", c2, "2024-02-01T00:00:00.000Z"],
        ["pmo.yaml", c1, "2024-01-01T00:00:00.000Z"],
      ],
    );

    const c4 = await server.commitAndPush("acme/lz", { "docs/a.md": "# A2\n" }, "a");
    const c5 = await server.commitAndPush("acme/lz", { "pmo.yaml": "x: 2\n" }, "pmo");
    await svc.trigger();
    const r = await q.next();
    assert.deepEqual([r.commit, r.changed], [c5, 2]);
    f = await files();
    assert.equal(f.get("docs/a.md")!.commit, c4);
    assert.equal(f.get("pmo.yaml")!.commit, c5);
    for (const p of ["docs/a.md", "docs/deep/b.md", "pmo.yaml"]) {
      assert.equal(f.get(p)!.commit, await lastChange(server.root, "acme/lz", p), p);
    }
  } finally {
    await svc.stop();
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("GET /api/v1/sync/git lists each file with the commit that last changed it", async () => {
  const s = await startGitStack();
  let ws: LiveClient | undefined;
  try {
    ws = await LiveClient.open(s.gw.wsUrl, { topic: GIT_SYNCED_TOPIC.name });
    await ws.waitFor((x) => (x.data as GitSynced)?.commit === s.first, 10_000);
    const c2 = await s.git.commitAndPush(STACK_REPO, { "docs/networking.md": "# Net v2\n" }, "net");
    const c3 = await s.git.commitAndPush(STACK_REPO, { "pmo.yaml": "required_labels: [owner]\n" }, "pmo");
    assert.equal((await s.deliverPush(c3, { paths: ["pmo.yaml"] })).status, 202);
    await ws.waitFor((x) => (x.data as GitSynced)?.commit === c3, 10_000);
    const git = await (await fetch(`${s.gw.url}/api/v1/sync/git`)).json();
    assert.equal(git.commit.sha, c3);
    const byPath = Object.fromEntries(
      git.files.map((x: { path: string; commit: string }) => [x.path, x.commit]),
    );
    assert.equal(byPath["docs/networking.md"], c2);
    assert.equal(byPath["pmo.yaml"], c3);
    assert.equal(byPath["docs/index.md"], s.first);
  } finally {
    await ws?.close();
    await s.stop();
  }
});

Deno.test("git fetch: a file changed and changed back names the commit that changed it back, in a sync, and after a restart, as a first sync would", async () => {
  const server = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-filecommit-" });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { data_dir: dataDir, landing_zone: { repo: server.url("acme/lz") } });
  const paths = ["docs/a.md", "docs/b.md", "pmo.yaml"];
  const commits = async () => {
    const out = new Map<string, string>();
    for (const r of await readAll<GitFilesValue>(broker, GIT_FILES_TOPIC.name)) {
      if (r.value?.kind === "file") out.set(r.value.path, r.value.commit);
    }
    return paths.map((p) => [p, out.get(p)]);
  };
  const expected = async () =>
    await Promise.all(paths.map(async (p) => [p, await lastChange(server.root, "acme/lz", p)]));
  let svc = null;
  try {
    await server.createRepo("acme/lz", { "docs/a.md": "# A\n", "docs/b.md": "# B\n", "pmo.yaml": "x: 1\n" });
    let q = syncQueue();
    svc = createGitFetchService(deps, { onSynced: q.push, intervalMs: 0 });
    await svc.start();
    assert.equal((await q.next()).diff, "full");
    // one sync over "changed, then changed back" (the blob at the new head is the one the topic holds)
    await server.commitAndPush("acme/lz", { "docs/a.md": "# A2\n" }, "a");
    await server.commitAndPush("acme/lz", { "docs/a.md": "# A\n" }, "a back");
    await server.commitAndPush("acme/lz", { "pmo.yaml": "x: 2\n" }, "pmo");
    await svc.trigger();
    assert.equal((await q.next()).diff, "tree");
    assert.deepEqual(await commits(), await expected(), "incremental sync");
    await svc.stop();
    svc = null;

    // the same while lzsync is down: the first sync after the start compares the whole tree
    await server.commitAndPush("acme/lz", { "docs/b.md": "# B2\n" }, "b");
    await server.commitAndPush("acme/lz", { "docs/b.md": "# B\n" }, "b back");
    q = syncQueue();
    svc = createGitFetchService(deps, { onSynced: q.push, intervalMs: 0 });
    await svc.start();
    assert.equal((await q.next()).diff, "tree");
    assert.deepEqual(await commits(), await expected(), "first sync after a restart");
  } finally {
    await svc?.stop();
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
