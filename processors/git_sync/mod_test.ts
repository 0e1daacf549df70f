import assert from "node:assert/strict";
import { createTestDriver } from "../../pipeline/processor/driver.ts";
import { GIT_FILES_TOPIC, type GitCommitMarker, type GitFile } from "../../schemas/git_files.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import { COMMITS_STORE, FILES_STORE, gitSyncTopology } from "./mod.ts";

const T0 = Date.UTC(2024, 4, 1, 12);
const sha = (c: string) => c.repeat(40);
const iso = (ms: number) => new Date(ms).toISOString();

const file = (path: string, commit: string, content = "x"): GitFile => ({
  kind: "file",
  repo: "acme/lz",
  path,
  commit,
  commit_time: iso(T0),
  size: content.length,
  blob_sha: sha("f"),
  mode: "100644",
  change: "added",
  content,
  encoding: "utf-8",
  content_ref: null,
  sync_id: "s",
  synced_at: iso(T0),
});

const marker = (o: Partial<GitCommitMarker>): GitCommitMarker => ({
  kind: "commit",
  repo: "acme/lz",
  branch: "main",
  commit: sha("1"),
  commit_time: iso(T0),
  message: "m",
  author: "a <a@x>",
  previous: null,
  forced: false,
  diff: "full",
  changed: 2,
  removed: 0,
  tracked: 2,
  sync_id: "s1",
  source: "start",
  received_at: null,
  started_at: iso(T0),
  synced_at: iso(T0),
  ...o,
});

Deno.test("git-sync materializes files and reports a synced commit once its marker arrives", async () => {
  const d = createTestDriver(gitSyncTopology(), { clock: T0 + 2000 });
  const topic = GIT_FILES_TOPIC.name;
  await d.pipe(topic, "acme/lz:docs/a.md", file("docs/a.md", sha("1"), "# A"));
  await d.pipe(topic, "acme/lz:pmo.yaml", file("pmo.yaml", sha("1")));
  assert.equal(d.forwarded().length, 0, "nothing is reported before the marker");
  await d.pipe(topic, "acme/lz", marker({}));
  assert.equal(d.store<GitFile>(FILES_STORE).get("acme/lz:docs/a.md")?.content, "# A");
  const [synced] = d.forwarded(GIT_SYNCED_TOPIC.name).map((r) => r.value as GitSynced);
  assert.deepEqual([synced.commit, synced.files, synced.consistent, synced.commit_latency_seconds], [
    sha("1"),
    2,
    true,
    null,
  ]);
  const [ev] = d.forwarded(SYNC_EVENTS_TOPIC.name).map((r) => r.value as SyncEvent);
  assert.deepEqual([ev.layer, ev.ok, ev.items, ev.id], ["git", true, 2, "s1:git"]);

  // a webhook push: a file changes, one is removed; commit made after the last sync → latency counted
  d.clear();
  d.clock.advance(60_000);
  const commitTime = d.clock.now() - 30_000;
  await d.pipe(topic, "acme/lz:docs/a.md", {
    ...file("docs/a.md", sha("2"), "# A2"),
    commit_time: iso(commitTime),
  });
  await d.pipe(topic, "acme/lz:pmo.yaml", null);
  d.clock.advance(1500);
  await d.pipe(
    topic,
    "acme/lz",
    marker({
      commit: sha("2"),
      commit_time: iso(commitTime),
      previous: sha("1"),
      diff: "tree",
      changed: 1,
      removed: 1,
      tracked: 1,
      sync_id: "wh-9",
      source: "webhook",
      triggered_by: "octocat",
      received_at: iso(d.clock.now() - 1000),
    }),
  );
  const s2 = d.forwarded(GIT_SYNCED_TOPIC.name)[0].value as GitSynced;
  assert.deepEqual([s2.files, s2.consistent, s2.commit_latency_seconds, s2.receipt_latency_seconds], [
    1,
    true,
    31.5,
    1,
  ]);
  const evs = d.forwarded(SYNC_EVENTS_TOPIC.name).map((r) => r.value as SyncEvent);
  assert.deepEqual(evs.map((e) => [e.layer, e.ok, e.items]), [["git", true, 2], ["webhook", true, 2]]);
  assert.equal(evs[1].received_at, iso(d.clock.now() - 1000));
  assert.deepEqual(evs.map((e) => [e.trigger, e.triggered_by]), [["webhook", "octocat"], [
    "webhook",
    "octocat",
  ]]);
  assert.equal(d.store<GitSynced>(COMMITS_STORE).get("acme/lz")?.commit, sha("2"));
  assert.equal(d.store(FILES_STORE).has("acme/lz:pmo.yaml"), false);
});

Deno.test("git-sync reports a failed git sync when its copy disagrees with the fetcher's count", async () => {
  const d = createTestDriver(gitSyncTopology(), { clock: T0 });
  await d.pipe(GIT_FILES_TOPIC.name, "acme/lz:docs/a.md", file("docs/a.md", sha("1")));
  await d.pipe(GIT_FILES_TOPIC.name, "acme/lz", marker({ tracked: 3 }));
  const synced = d.forwarded(GIT_SYNCED_TOPIC.name)[0].value as GitSynced;
  assert.equal(synced.consistent, false);
  const ev = d.forwarded(SYNC_EVENTS_TOPIC.name)[0].value as SyncEvent;
  assert.equal(ev.ok, false);
  assert.match(ev.error!, /holds 1 files .* tracks 3/);
});

Deno.test("git-sync: a deleted branch empties the copy of that repo only", async () => {
  const d = createTestDriver(gitSyncTopology(), { clock: T0 });
  await d.pipe(GIT_FILES_TOPIC.name, "acme/lz:a.md", file("a.md", sha("1")));
  await d.pipe(GIT_FILES_TOPIC.name, "other:b.md", { ...file("b.md", sha("1")), repo: "other" });
  await d.pipe(GIT_FILES_TOPIC.name, "acme/lz:a.md", null);
  await d.pipe(
    GIT_FILES_TOPIC.name,
    "acme/lz",
    marker({ commit: null, commit_time: null, diff: "deleted", changed: 0, removed: 1, tracked: 0 }),
  );
  const s = d.forwarded(GIT_SYNCED_TOPIC.name)[0].value as GitSynced;
  assert.deepEqual([s.commit, s.files, s.consistent], [null, 0, true]);
  assert.equal(d.store(FILES_STORE).size, 1);
});
