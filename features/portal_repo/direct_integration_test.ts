import assert from "node:assert/strict";
import { join } from "node:path";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { openFabricRepo } from "../../connectors/git/git_repo.ts";
import { compileMapping } from "./mapping.ts";
import { desiredState } from "./plan.ts";
import { writeDirect } from "./direct.ts";
import { gitOut, lzFile, lzMarker, treePaths } from "./_test_util.ts";

const META = "config/lz-config/sync-metadata.json";
const LZ = "acme/landing-zone";
const C1 = "1".repeat(40);
const C2 = "2".repeat(40);
const author = { name: "lzsync", email: "lzsync@example.com" };
const mapping = compileMapping([
  { from: "docs/**", to: "docs/lz-reference/" },
  { from: "pmo.yaml", to: "config/lz-pmo.yaml" },
], META);
const noBlob = () => Promise.reject(new Error("inline only"));

async function setup() {
  const server = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-portal-" });
  await server.createRepo("acme/portal", {
    "README.md": "# Portal\n",
    "docs/guide.md": "# Portal guide (not managed)\n",
    "docs/lz-reference/stale.md": "left over from an old sync\n",
  });
  const gitdir = join(server.root, "acme/portal.git");
  const repo = await openFabricRepo({
    repo: server.url("acme/portal"),
    branch: "main",
    gitdir: join(dataDir, "portal.git"),
  });
  const close = async () => {
    repo.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  };
  return { server, repo, gitdir, close };
}

const files1 = [
  lzFile(LZ, "docs/index.md", "# LZ\n", C1),
  lzFile(LZ, "docs/net/vpc.md", "# VPC\n", C1),
  lzFile(LZ, "pmo.yaml", "owner: platform\n", C1),
  lzFile(LZ, "terraform/main.tf", "# not mapped\n", C1),
];

Deno.test("portal direct mode: the tree equals the mapping, metadata names the source, stale files go", async () => {
  const t = await setup();
  try {
    const d = desiredState(files1, lzMarker(LZ, C1, "first"), mapping, META, noBlob);
    const r = await writeDirect(t.repo, mapping, d, author, silentLogger);
    assert.equal(r.outcome, "committed");
    assert.equal(await t.server.head("acme/portal"), r.commit);
    assert.deepEqual(await treePaths(t.gitdir), [
      "README.md",
      META,
      "config/lz-pmo.yaml",
      "docs/guide.md",
      "docs/lz-reference/index.md",
      "docs/lz-reference/net/vpc.md",
    ]);
    assert.deepEqual(r.removed, ["docs/lz-reference/stale.md"]);
    assert.equal(await gitOut(t.gitdir, "show", "main:config/lz-pmo.yaml"), "owner: platform");
    const meta = JSON.parse(await gitOut(t.gitdir, "show", `main:${META}`));
    assert.equal(meta.source.repo, LZ);
    assert.equal(meta.source.commit, C1);
    assert.equal(meta.source.commit_time, "2026-11-02T10:00:01.000Z");
    assert.equal(typeof meta.lzsync_version, "string");
    assert.deepEqual(meta.files.map((f: { path: string }) => f.path), [
      "docs/lz-reference/index.md",
      "docs/lz-reference/net/vpc.md",
      "config/lz-pmo.yaml",
    ]);
    const message = await gitOut(t.gitdir, "log", "-1", "--format=%B", "main");
    assert.match(message, new RegExp(`Landing-Zone-Commit: ${C1}`));
    assert.equal(await gitOut(t.gitdir, "log", "-1", "--format=%an", "main"), "lzsync");
  } finally {
    await t.close();
  }
});

Deno.test("portal direct mode: a re-run of the same sync commits nothing; a deletion is mirrored", async () => {
  const t = await setup();
  try {
    const d1 = desiredState(files1, lzMarker(LZ, C1), mapping, META, noBlob);
    const first = await writeDirect(t.repo, mapping, d1, author, silentLogger);
    const again = await writeDirect(t.repo, mapping, d1, author, silentLogger);
    assert.deepEqual([again.outcome, again.commit], ["unchanged", first.commit]);
    assert.equal(await t.server.head("acme/portal"), first.commit);
    const files2 = files1.filter((f) => f.path !== "docs/net/vpc.md");
    const d2 = desiredState(files2, lzMarker(LZ, C2), mapping, META, noBlob);
    const second = await writeDirect(t.repo, mapping, d2, author, silentLogger);
    assert.equal(second.outcome, "committed");
    assert.deepEqual(second.removed, ["docs/lz-reference/net/vpc.md"]);
    assert.ok(!(await treePaths(t.gitdir)).includes("docs/lz-reference/net/vpc.md"));
    assert.equal(await gitOut(t.gitdir, "rev-parse", "main^"), first.commit);
  } finally {
    await t.close();
  }
});

Deno.test("portal direct mode: a concurrent commit on the branch survives; the sync lands on top", async () => {
  const t = await setup();
  try {
    let raced = "";
    const push = t.repo.push.bind(t.repo);
    const racing = {
      ...t.repo,
      async push(commit: string, expected: string | null) {
        if (!raced) {
          raced = await t.server.commitAndPush(
            "acme/portal",
            { "docs/guide.md": "# edited by a person\n" },
            "edit",
          );
        }
        return await push(commit, expected);
      },
    };
    const d = desiredState(files1, lzMarker(LZ, C1), mapping, META, noBlob);
    const r = await writeDirect(racing, mapping, d, author, silentLogger);
    assert.deepEqual([r.outcome, r.attempts], ["committed", 2]);
    assert.equal(await gitOut(t.gitdir, "rev-parse", "main^"), raced);
    assert.equal(await gitOut(t.gitdir, "show", "main:docs/guide.md"), "# edited by a person");
    assert.ok((await treePaths(t.gitdir)).includes("docs/lz-reference/index.md"));
  } finally {
    await t.close();
  }
});
