import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import {
  GIT_FILES_TOPIC,
  type GitCommitMarker,
  type GitFile,
  type GitFilesValue,
} from "../../schemas/git_files.ts";
import { SYNC_EVENTS_TOPIC, type SyncEvent } from "../../schemas/sync_events.ts";
import { SYNC_PROGRESS_TOPIC, type SyncProgress } from "../../schemas/sync_progress.ts";
import { createGitFetchService, requestPush } from "./service.ts";
import { GIT_PUSH_TOPIC } from "../../schemas/git_push.ts";
import { encode } from "../../pipeline/serde.ts";
import { readAll, syncQueue } from "./_test_util.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { COMMIT_HEADER } from "./syncer.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";

const LZ = {
  "docs/a.md": "# A\n",
  "docs/deep/b.md": "# B\n",
  "pmo.yaml": "required_labels: [owner]\n",
  "terraform/main.tf": 'resource "x" "y" {}\n',
  "terraform/notes.txt": "untracked\n",
  "README.md": "untracked\n",
  "fabrics/dc1/raw/vpc.yaml": "kind: VPC\n",
  "fabrics/dc2/raw/vpc.yaml": "kind: VPC\n",
};

async function setup(extra: Record<string, unknown> = {}, serverAuth?: { token: string }) {
  const server = await startGitServer({ auth: serverAuth });
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-gitsvc-" });
  const broker = await createEmbeddedBroker();
  const first = await server.createRepo("acme/lz", LZ, { date: "2024-03-01T10:00:00Z" });
  const deps = testDeps(broker, {
    data_dir: dataDir,
    landing_zone: { repo: server.url("acme/lz") },
    fabrics: [{ id: "dc1", path: "fabrics/dc1" }],
    ...extra,
  }, serverAuth ? { GITHUB_TOKEN: serverAuth.token } : {});
  const q = syncQueue();
  const svc = createGitFetchService(deps, { onSynced: q.push, intervalMs: 0 });
  const close = async () => {
    await svc.stop();
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  };
  return { server, broker, deps, svc, q, first, dataDir, close };
}

type Rec = Awaited<ReturnType<typeof readAll<GitFilesValue>>>[number];
const fileRecords = (recs: Rec[]) => recs.filter((r) => r.value === null || r.value.kind === "file");
const markers = (recs: Rec[]) =>
  recs.filter((r) => r.value?.kind === "commit").map((r) => r.value as GitCommitMarker);

Deno.test("git fetch: first sync emits every tracked file over smart-HTTP, then a commit marker", async () => {
  const t = await setup();
  try {
    await t.svc.start();
    const r = await t.q.next();
    assert.equal(r.outcome, "synced");
    assert.equal(r.diff, "full");
    const recs = await readAll<GitFilesValue>(t.broker, GIT_FILES_TOPIC.name);
    const files = fileRecords(recs).map((x) => x.value as GitFile);
    assert.deepEqual(files.map((f) => f.path), [
      "docs/a.md",
      "docs/deep/b.md",
      "fabrics/dc1/raw/vpc.yaml",
      "pmo.yaml",
      "terraform/main.tf",
    ]);
    assert.ok(files.every((f) => f.commit === t.first && f.change === "added" && f.encoding === "utf-8"));
    assert.equal(files[0].content, "# A\n");
    assert.equal(files[0].commit_time, "2024-03-01T10:00:00.000Z");
    assert.equal(recs[0].key, "acme/lz:docs/a.md");
    const m = markers(recs);
    assert.equal(m.length, 1);
    assert.equal(recs[recs.length - 1].value?.kind, "commit", "the marker comes after the files");
    assert.deepEqual(
      [m[0].commit, m[0].previous, m[0].diff, m[0].changed, m[0].tracked, m[0].source],
      [t.first, null, "full", 5, 5, "start"],
    );
    const progress = await readAll<SyncProgress>(t.broker, SYNC_PROGRESS_TOPIC.name);
    assert.deepEqual(progress.map((p) => p.value!.phase), ["fetching", "diffing", "emitting", "completed"]);
    assert.ok(t.server.requests >= 2, "the fetch went over HTTP");
  } finally {
    await t.close();
  }
});

Deno.test("git fetch: a push diffs trees (modify, delete, untrack), a force-push, a vanished branch, then a branch deletion", async () => {
  const t = await setup();
  try {
    await t.svc.start();
    await t.q.next();
    const second = await t.server.commitAndPush("acme/lz", {
      "docs/a.md": "# A v2\n",
      "docs/deep/b.md": null,
      "README.md": "still untracked, changed\n",
      "terraform/net.tf": "# net\n",
    }, "second");
    const n0 = (await readAll(t.broker, GIT_FILES_TOPIC.name)).length;
    await t.svc.trigger();
    const r2 = await t.q.next();
    assert.deepEqual([r2.outcome, r2.commit, r2.diff, r2.changed, r2.removed], [
      "synced",
      second,
      "tree",
      2,
      1,
    ]);
    let recs = (await readAll<GitFilesValue>(t.broker, GIT_FILES_TOPIC.name)).slice(n0);
    assert.deepEqual(recs.map((x) => [x.key, x.value?.kind ?? null]), [
      ["acme/lz:docs/a.md", "file"],
      ["acme/lz:docs/deep/b.md", null],
      ["acme/lz:terraform/net.tf", "file"],
      ["acme/lz", "commit"],
    ]);
    assert.equal(recs[1].headers[COMMIT_HEADER], second, "a tombstone says which commit removed the file");
    assert.equal((recs[0].value as GitFile).change, "modified");
    assert.equal((recs[0].value as GitFile).content, "# A v2\n");
    assert.equal(markers(recs)[0].previous, t.first);
    assert.equal(markers(recs)[0].forced, false);

    // force-push: rebuild on the first commit, dropping "second"
    const rewritten = await t.server.commitAndPush(
      "acme/lz",
      { "pmo.yaml": "required_labels: [owner, cc]\n" },
      "rw",
      {
        parent: t.first,
      },
    );
    const n1 = (await readAll(t.broker, GIT_FILES_TOPIC.name)).length;
    await t.svc.trigger();
    const r3 = await t.q.next();
    assert.equal(r3.commit, rewritten);
    recs = (await readAll<GitFilesValue>(t.broker, GIT_FILES_TOPIC.name)).slice(n1);
    assert.deepEqual(recs.map((x) => [x.key, x.value === null ? null : x.value.kind]), [
      ["acme/lz:docs/a.md", "file"], // back to "# A\n"
      ["acme/lz:docs/deep/b.md", "file"], // restored
      ["acme/lz:pmo.yaml", "file"],
      ["acme/lz:terraform/net.tf", null], // never existed in the rewritten history
      ["acme/lz", "commit"],
    ]);
    assert.equal((recs[0].value as GitFile).content, "# A\n");
    const m3 = markers(recs)[0];
    assert.deepEqual([m3.forced, m3.previous, m3.diff, m3.tracked], [true, second, "tree", 5]);

    // the branch vanishes from the server, but no push event says it was deleted: a failed sync, no tombstone
    await t.server.commitAndPush("acme/lz", { "x.txt": "keep a branch" }, "other", { branch: "keep" });
    await t.server.deleteBranch("acme/lz", "main");
    const n2 = (await readAll(t.broker, GIT_FILES_TOPIC.name)).length;
    await t.svc.trigger();
    const missing = await t.q.next();
    assert.equal(missing.outcome, "failed");
    assert.match(missing.error!, /branch main is not in .*nothing is deleted/);
    assert.equal((await readAll(t.broker, GIT_FILES_TOPIC.name)).length, n2, "nothing produced");

    // branch deletion by a push (webhook, deleted: true): a tombstone for every tracked file, marker commit null
    const producer = await t.broker.producer();
    const push = {
      ...requestPush(t.svc.syncer.repo, "main", "trigger", "del-1", Date.now()),
      source: "webhook" as const,
      deleted: true,
      delivery_id: "d-del-1",
    };
    await producer.send(GIT_PUSH_TOPIC.name, [{ key: push.repo, value: encode(GIT_PUSH_TOPIC.name, push) }]);
    await producer.close();
    const r4 = await t.q.next();
    assert.deepEqual([r4.outcome, r4.commit, r4.removed], ["synced", null, 5]);
    recs = (await readAll<GitFilesValue>(t.broker, GIT_FILES_TOPIC.name)).slice(n2);
    assert.equal(recs.filter((x) => x.value === null).length, 5);
    assert.deepEqual(markers(recs).map((m) => [m.commit, m.diff, m.tracked]), [[null, "deleted", 0]]);
    assert.deepEqual(t.svc.syncer.paths, []);
  } finally {
    await t.close();
  }
});

Deno.test("git fetch: a restart resumes from its stores (no resync) and reconciles when the mirror is gone", async () => {
  const t = await setup();
  try {
    await t.svc.start();
    await t.q.next();
    await t.svc.stop();
    const n0 = (await readAll(t.broker, GIT_FILES_TOPIC.name)).length;

    const q2 = syncQueue();
    const again = createGitFetchService(t.deps, { onSynced: q2.push, intervalMs: 0 });
    await again.start();
    const r = await q2.next();
    assert.deepEqual([r.outcome, r.changed, r.removed, r.diff], ["synced", 0, 0, "tree"]);
    let recs = (await readAll<GitFilesValue>(t.broker, GIT_FILES_TOPIC.name)).slice(n0);
    assert.deepEqual(recs.map((x) => x.key), ["acme/lz"], "only a fresh marker: nothing changed");
    await again.stop();

    // sync a second commit, lose the mirror, force-push it away, restart: the last synced commit is gone
    // from git, so the fetcher reconciles the new tree against the blob shas its stores hold
    const q2b = syncQueue();
    const fourth = createGitFetchService(t.deps, { onSynced: q2b.push, intervalMs: 0, syncOnStart: false });
    await fourth.start();
    await t.server.commitAndPush("acme/lz", { "docs/a.md": "# A2\n" }, "c2");
    await fourth.trigger();
    assert.equal((await q2b.next()).changed, 1);
    await fourth.stop();
    await Deno.remove(`${t.dataDir}/git`, { recursive: true });
    const next = await t.server.commitAndPush(
      "acme/lz",
      { "docs/a.md": null, "docs/new.md": "new\n" },
      "c3",
      {
        parent: t.first,
      },
    );
    const n1 = (await readAll(t.broker, GIT_FILES_TOPIC.name)).length;
    const q3 = syncQueue();
    const third = createGitFetchService(t.deps, { onSynced: q3.push, intervalMs: 0 });
    await third.start();
    const r3 = await q3.next();
    assert.deepEqual([r3.commit, r3.diff, r3.changed, r3.removed], [next, "reconcile", 1, 1]);
    recs = (await readAll<GitFilesValue>(t.broker, GIT_FILES_TOPIC.name)).slice(n1);
    assert.deepEqual(recs.map((x) => [x.key, x.value === null ? null : x.value.kind]), [
      ["acme/lz:docs/new.md", "file"],
      ["acme/lz:docs/a.md", null],
      ["acme/lz", "commit"],
    ]);
    assert.equal((recs[2].value as GitCommitMarker).forced, true);
    await third.stop();
  } finally {
    await t.close();
  }
});

Deno.test("git fetch: large files become a content reference, binary files base64", async () => {
  const t = await setup({ layers: { git: { inline_max_bytes: 1024 } } });
  try {
    await t.svc.start();
    await t.q.next();
    const big = "x".repeat(5000);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00]);
    await t.server.commitAndPush("acme/lz", { "docs/big.md": big, "docs/logo.png": png }, "big");
    await t.svc.trigger();
    await t.q.next();
    const recs = await readAll<GitFilesValue>(t.broker, GIT_FILES_TOPIC.name);
    const f = recs.map((r) => r.value).find((v) => v?.kind === "file" && v.path === "docs/big.md") as GitFile;
    assert.equal(f.size, 5000);
    assert.equal(f.content, null);
    assert.equal(f.content_ref?.blob_sha, f.blob_sha);
    assert.equal(f.content_ref?.kind, "git-blob");
    const bin = recs.map((r) => r.value).find((v) =>
      v?.kind === "file" && v.path === "docs/logo.png"
    ) as GitFile;
    assert.equal(bin.encoding, "base64");
    assert.deepEqual(Uint8Array.from(atob(bin.content!), (c) => c.charCodeAt(0)), png);
  } finally {
    await t.close();
  }
});

Deno.test("git fetch: a token-protected server; without the token the failure is reported, not thrown", async () => {
  const ok = await setup({}, { token: "tkn-123" });
  try {
    await ok.svc.start();
    assert.equal((await ok.q.next()).outcome, "synced");
  } finally {
    await ok.close();
  }
  const server = await startGitServer({ auth: { token: "tkn-123" } });
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-gitsvc-" });
  const broker = await createEmbeddedBroker();
  try {
    await server.createRepo("acme/lz", LZ);
    const q = syncQueue();
    const deps = testDeps(broker, { data_dir: dataDir, landing_zone: { repo: server.url("acme/lz") } });
    const svc = createGitFetchService(deps, { onSynced: q.push, intervalMs: 0 });
    await svc.start();
    const r = await q.next();
    assert.equal(r.outcome, "failed");
    assert.match(r.error!, /HTTP 401.*token/);
    const ev = await readAll<SyncEvent>(broker, SYNC_EVENTS_TOPIC.name);
    assert.deepEqual(ev.map((e) => [e.value!.layer, e.value!.ok]), [["git", false]]);
    assert.ok(!ev[0].value!.error!.includes("tkn-123"));
    await svc.stop();
  } finally {
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("git fetch: a schema-invalid lz.git.push.v1 record goes to the DLQ with its bytes, and syncing goes on", async () => {
  const t = await setup();
  try {
    await t.svc.start();
    assert.equal((await t.q.next()).outcome, "synced");
    const producer = await t.broker.producer();
    const bad = new TextEncoder().encode('{"repo":"acme/lz","ref":42}');
    await producer.send(GIT_PUSH_TOPIC.name, [{
      key: "acme/lz",
      value: bad,
      headers: { "x-from": "a script" },
    }]);
    await producer.close();
    await t.svc.trigger();
    assert.equal((await t.q.next()).outcome, "synced", "the next good push still syncs");
    const dlq = await readAll<DlqRecord>(t.broker, DLQ_TOPIC.name);
    assert.equal(dlq.length, 1, "one DLQ record");
    const d = dlq[0].value!;
    assert.equal(d.stage, "lzsync-git-fetch", "the topology's app, like every other group's DLQ records");
    assert.equal(d.error_code, "VALIDATION");
    assert.equal(d.source.topic, GIT_PUSH_TOPIC.name);
    assert.ok(d.source.offset >= 0);
    assert.equal(d.original.key, "acme/lz");
    assert.deepEqual(d.original.headers, { "x-from": "a script" });
    assert.deepEqual(Uint8Array.from(atob(d.original.value_base64!), (c) => c.charCodeAt(0)), bad);
    assert.match(d.error, /lz\.git\.push\.v1 is invalid at \//, "the reason names the field");
  } finally {
    await t.close();
  }
});
