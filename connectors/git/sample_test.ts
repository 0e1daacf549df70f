import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { GIT_FILES_TOPIC, type GitCommitMarker, type GitFilesValue } from "../../schemas/git_files.ts";
import { commitLocal, ensureSampleLandingZone, sampleRepoPath } from "./sample.ts";
import { createGitFetchService } from "../../features/git_sync/service.ts";
import { readAll, syncQueue } from "../../features/git_sync/_test_util.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import git from "isomorphic-git";
import fs from "./fs.ts";

Deno.test("ensureSampleLandingZone creates the first commit once, dated at the first run", async () => {
  const a = await Deno.makeTempDir({ prefix: "lzsync-sample-" });
  const b = await Deno.makeTempDir({ prefix: "lzsync-sample-" });
  try {
    const t0 = Date.UTC(2026, 4, 1, 12);
    const [pa, pb] = [await ensureSampleLandingZone(a, t0), await ensureSampleLandingZone(b, t0)];
    assert.equal(pa, sampleRepoPath(a));
    const head = async (p: string) => (await Deno.readTextFile(`${p}/.git/refs/heads/main`)).trim();
    assert.equal(await head(pa), await head(pb), "same files, author and time give the same sha");
    const first = await head(pa);
    assert.equal(await ensureSampleLandingZone(a, t0 + 86_400_000), pa);
    assert.equal(await head(pa), first, "a second call changes nothing");
    const [c] = await git.log({ fs, dir: pa, depth: 1 });
    assert.equal(c.commit.committer.timestamp * 1000, t0, "dated at the first run, not 2024-01-01");
    const fresh = await Deno.makeTempDir({ prefix: "lzsync-sample-" });
    const [now] = await git.log({ fs, dir: await ensureSampleLandingZone(fresh), depth: 1 });
    assert.ok(Math.abs(now.commit.committer.timestamp * 1000 - Date.now()) < 60_000, "default: now");
    await Deno.remove(fresh, { recursive: true });
    assert.ok((await Deno.stat(`${pa}/fabrics/dc1/raw`)).isDirectory);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("git fetch reads a local repo in place: the sample on first run, then a local commit", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-sample-" });
  const broker = await createEmbeddedBroker();
  const q = syncQueue();
  // No fabric configured, as on a real first run: the sample fabric dc1 (registered by the FGD service) is
  // tracked too.
  const svc = createGitFetchService(testDeps(broker, { data_dir: dataDir }), {
    onSynced: q.push,
    intervalMs: 0,
  });
  try {
    await svc.start();
    const r = await q.next();
    assert.equal(r.outcome, "synced");
    assert.equal(svc.syncer.repo, "sample-lz");
    const paths = svc.syncer.paths;
    for (
      const p of [
        "pmo.yaml",
        "ENFORCEMENT_GATES.md",
        "RUNBOOKS.md",
        "docs/architecture.md",
        "terraform/network.tf",
      ]
    ) {
      assert.ok(paths.includes(p), `${p} is tracked`);
    }
    assert.ok(paths.includes("fabrics/dc1/raw/.gitkeep"), "the fabric GitOps directory is tracked");
    assert.ok(!paths.includes("README.md"), "the root README is not tracked");

    const sha = await commitLocal(sampleRepoPath(dataDir), { "docs/new.md": "# New\n" }, "add a doc");
    await svc.trigger();
    const r2 = await q.next();
    assert.deepEqual([r2.commit, r2.changed, r2.diff], [sha, 1, "tree"]);
    const recs = await readAll<GitFilesValue>(broker, GIT_FILES_TOPIC.name);
    const last = recs[recs.length - 1].value as GitCommitMarker;
    assert.equal(last.message, "add a doc\n");
    assert.match(last.author, /lzsync sample/);
  } finally {
    await svc.stop();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("commitLocal() commits through git's own lock: it waits for a held index.lock, then refuses and writes nothing", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-sample-" });
  try {
    const dir = await ensureSampleLandingZone(dataDir);
    const head = async () => (await Deno.readTextFile(`${dir}/.git/refs/heads/main`)).trim();
    const before = await head();
    const index = await Deno.readFile(`${dir}/.git/index`);
    await Deno.writeTextFile(`${dir}/.git/index.lock`, "");
    await assert.rejects(
      () => commitLocal(dir, { "docs/locked.md": "# no\n" }, "must wait", undefined, 300),
      /index\.lock/,
    );
    assert.throws(() => Deno.statSync(`${dir}/docs/locked.md`), "nothing written");
    assert.equal(await head(), before);
    assert.deepEqual(await Deno.readFile(`${dir}/.git/index`), index, "the index is untouched");
    // a lock released while it waits (as a fabric ingestion's, held about half a second) is waited for
    setTimeout(() => Deno.removeSync(`${dir}/.git/index.lock`), 400);
    const sha = await commitLocal(dir, { "docs/locked.md": "# yes\n", "docs/architecture.md": null }, "now");
    assert.equal(await head(), sha);
    const st = await new Deno.Command("git", { args: ["status", "--porcelain"], cwd: dir, stdout: "piped" })
      .output();
    assert.equal(new TextDecoder().decode(st.stdout), "", "worktree and index follow the commit");
    const fsck = await new Deno.Command("git", { args: ["fsck", "--strict"], cwd: dir, stderr: "null" })
      .output();
    assert.ok(fsck.success);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
