/**
 * A Landing Zone that cannot be read is an error of the git layer, never a deletion: a local repo moved away
 * or a branch that vanished fails the sync (reported on `lz.sync.events.v1`, which raises the
 * consecutive-failure alert) and produces no tombstone. Only a real push event that deletes the branch
 * (`deleted: true`) empties the Portal's copy. Real git CLI repositories, embedded broker.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { encode } from "../../pipeline/serde.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { GIT_FILES_TOPIC, type GitCommitMarker, type GitFilesValue } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import { readAll, syncQueue } from "./_test_util.ts";
import { createGitFetchService, requestPush } from "./service.ts";
import { STACK_FILES, startGitStack } from "./testing.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";

async function git(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: {
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@x.invalid",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@x.invalid",
    },
  }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

async function localRepo(
  dir: string,
  files: Record<string, string> = { "docs/a.md": "# A\n", "docs/b.md": "# B\n", "pmo.yaml": "x: 1\n" },
): Promise<void> {
  await git(["init", "-q", "--initial-branch=main", dir], "/");
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  await git(["add", "-A"], dir);
  await git(["commit", "-qm", "initial"], dir);
}

/** A push record as the GitHub webhook produces it. */
function webhookPush(repo: string, o: { deleted: boolean; id: string }): GitPush {
  return {
    ...requestPush(repo, "main", "trigger", o.id, Date.now()),
    source: "webhook",
    deleted: o.deleted,
    delivery_id: `delivery-${o.id}`,
    paths: { added: [], modified: [], removed: [], truncated: !o.deleted, from: "payload" },
  };
}

Deno.test("git fetch: a local repo moved away or a vanished branch fails the sync and deletes nothing; a push with deleted:true does", async () => {
  const root = await Deno.makeTempDir({ prefix: "lzsync-vanish-" });
  const repoDir = join(root, "lz");
  await localRepo(repoDir);
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { data_dir: join(root, "data"), landing_zone: { repo: repoDir } });
  const q = syncQueue();
  const svc = createGitFetchService(deps, { onSynced: q.push, intervalMs: 0 });
  const producer = await broker.producer();
  const send = (p: GitPush) =>
    producer.send(GIT_PUSH_TOPIC.name, [{ key: p.repo, value: encode(GIT_PUSH_TOPIC.name, p) }]);
  const tombstones = async () =>
    (await readAll<GitFilesValue>(broker, GIT_FILES_TOPIC.name)).filter((r) => r.value === null).length;
  const events = async () =>
    (await readAll<SyncEvent>(broker, SYNC_EVENTS_TOPIC.name)).map((e) => [e.value!.layer, e.value!.ok]);
  try {
    await svc.start();
    const first = await q.next();
    assert.deepEqual([first.outcome, first.changed], ["synced", 3]);
    const repo = svc.syncer.repo;

    // 1. The repository is moved away; a webhook arrives.
    await Deno.rename(repoDir, `${repoDir}.moved`);
    await send(webhookPush(repo, { deleted: false, id: "w1" }));
    const moved = await q.next();
    assert.equal(moved.outcome, "failed");
    assert.match(moved.error!, /cannot be opened|not a git repository/);
    assert.match(moved.error!, /landing_zone\.repo/);
    assert.equal(await tombstones(), 0, "nothing deleted");
    assert.deepEqual(svc.syncer.paths, ["docs/a.md", "docs/b.md", "pmo.yaml"]);
    assert.deepEqual(await events(), [["git", false], ["webhook", false]]);

    // It comes back: the next sync finds nothing changed.
    await Deno.rename(`${repoDir}.moved`, repoDir);
    await svc.trigger();
    const back = await q.next();
    assert.deepEqual([back.outcome, back.changed, back.removed], ["synced", 0, 0]);

    // 2. The branch vanishes from the repo (no push event says so): an error, nothing deleted.
    await git(["checkout", "-q", "-b", "other"], repoDir);
    await git(["branch", "-q", "-D", "main"], repoDir);
    await svc.trigger();
    const gone = await q.next();
    assert.equal(gone.outcome, "failed");
    assert.match(gone.error!, /branch main/);
    assert.equal(await tombstones(), 0, "nothing deleted");
    assert.equal(svc.syncer.paths.length, 3);

    // 3. A real push event deleting the branch: now the tracked files are removed.
    await send(webhookPush(repo, { deleted: true, id: "w2" }));
    const deleted = await q.next();
    assert.deepEqual([deleted.outcome, deleted.commit, deleted.diff, deleted.removed], [
      "synced",
      null,
      "deleted",
      3,
    ]);
    assert.equal(await tombstones(), 3);
    const markers = (await readAll<GitFilesValue>(broker, GIT_FILES_TOPIC.name))
      .filter((r) => r.value?.kind === "commit").map((r) => r.value as GitCommitMarker);
    assert.deepEqual(markers.map((m) => m.diff), ["full", "tree", "deleted"]);
  } finally {
    await svc.stop();
    await producer.close();
    await broker.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("git sync end to end: a local Landing Zone moved away keeps the Portal's files, the layer fails and alerts", async () => {
  const root = await Deno.makeTempDir({ prefix: "lzsync-vanish-e2e-" });
  const repoDir = join(root, "lz");
  await localRepo(repoDir, STACK_FILES);
  const s = await startGitStack({
    config: { landing_zone: { repo: repoDir }, alerts: { consecutive_failures: 2 } },
  });
  const get = async (path: string) => await (await fetch(`${s.gw.url}${path}`)).json();
  try {
    let before: { path: string }[] = [];
    await waitFor(async () => (before = (await get("/api/v1/sync/git")).files).length > 0, "first sync");
    await Deno.rename(repoDir, `${repoDir}.moved`);
    await s.fetcher.trigger();
    await s.fetcher.trigger();
    let alerts: { id: string; state: string; message: string }[] = [];
    await waitFor(
      async () =>
        (alerts = (await get("/api/v1/sync/alerts")).alerts).some((a: { id: string }) =>
          a.id === "ConsecutiveFailures:git"
        ),
      "the ConsecutiveFailures alert of the git layer",
      15_000,
      () => alerts,
    );
    const git = await get("/api/v1/sync/git");
    assert.deepEqual(
      git.files.map((f: { path: string }) => f.path),
      before.map((f) => f.path),
      "nothing deleted",
    );
    assert.ok(git.commit?.sha, "the Portal still serves the last synced commit");
    const layers = (await get("/api/v1/sync/sync-status")).layers;
    const layer = layers.find((l: { layer: string }) => l.layer === "git");
    assert.notEqual(layer.status, "ok", JSON.stringify(layer));
    assert.match(JSON.stringify(layer), /cannot be opened/);
  } finally {
    await s.stop();
    await Deno.remove(root, { recursive: true });
  }
});
