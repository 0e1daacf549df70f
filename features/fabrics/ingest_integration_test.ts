import assert from "node:assert/strict";
import { join } from "node:path";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { openFabricRepo } from "../../connectors/git/git_repo.ts";
import { FabricGit, runIngestion } from "./ingest.ts";
import { crdRepoFiles, FABRIC_YAML, remoteCommit, remoteFile, remoteTree } from "./_test_util.ts";

const AUTHOR = { name: "lzsync", email: "lzsync@example.invalid" };
const SPEC = {
  id: "dc1",
  branch: "main",
  path: "fabrics/dc1",
  crd_dirs: ["fabrics/crds/hedgehog"],
  rule_packs: ["hedgehog"],
};
const BAD = `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: a-very-long-vpc-name
spec:
  subnets:
    default: {subnet: 10.0.9.0/24, vlan: 1009}
`;
const HAND = `kind: VPC
apiVersion: vpc.githedgehog.com/v1beta1
metadata: {name: vpc-9, uid: x, creationTimestamp: "2024-01-01T00:00:00Z"}
spec: {subnets: {default: {vlan: 1099, subnet: 10.0.99.0/24}}}
status: {vni: 3}
`;

async function setup(name: string, token?: string) {
  const server = await startGitServer(token ? { auth: { token } } : {});
  await server.createRepo(name, {
    ...crdRepoFiles(),
    "README.md": "# lz\n",
    "fabrics/dc1/raw/fabric.yaml": FABRIC_YAML,
    "fabrics/dc1/raw/bad.yaml": BAD,
    "fabrics/dc1/managed/vpc9.yaml": HAND,
  });
  const gitdir = await Deno.makeTempDir({ prefix: "lzsync-fgd-" });
  const repo = await openFabricRepo({
    repo: server.url(name),
    branch: "main",
    gitdir: join(gitdir, "r.git"),
    token,
  });
  const fg = new FabricGit(SPEC, repo, AUTHOR);
  return {
    server,
    fg,
    async stop() {
      repo.close();
      await server.stop();
      await Deno.remove(gitdir, { recursive: true });
    },
  };
}

Deno.test("runIngestion commits once to the remote with exactly the expected tree, then is idempotent", async () => {
  const t = await setup("lz", "s3cret");
  try {
    const r = await runIngestion(t.fg);
    assert.equal(r.outcome, "committed", r.error ?? "");
    assert.equal(await t.server.head("lz"), r.commit);
    for (const [phase, ms] of Object.entries(r.timings)) assert.ok(ms > 0, `phase ${phase} timed: ${ms} ms`);
    const tree = await remoteTree(t.server.root, "lz", "main", "fabrics/dc1");
    const managed = tree.filter((p) => p.includes("/managed/") && !p.endsWith(".gitkeep"));
    assert.equal(managed.length, 17, managed.join("\n"));
    assert.ok(
      managed.includes("fabrics/dc1/managed/vpcs/vpc-9.yaml"),
      "hand-written managed file normalized in place",
    );
    assert.deepEqual(tree.filter((p) => !p.includes("/managed/")), [
      "fabrics/dc1/README.md",
      "fabrics/dc1/raw/.gitkeep",
      "fabrics/dc1/unmanaged/.gitkeep",
      "fabrics/dc1/unmanaged/bad.yaml",
      "fabrics/dc1/unmanaged/bad.yaml.reason.txt",
    ]);
    assert.equal(await remoteFile(t.server.root, "lz", "fabrics/dc1/unmanaged/bad.yaml"), BAD);
    assert.match(
      await remoteFile(t.server.root, "lz", "fabrics/dc1/unmanaged/bad.yaml.reason.txt"),
      /at most 11/,
    );
    const c = await remoteCommit(t.server.root, "lz");
    assert.equal(c.parents.length, 1);
    assert.match(c.message, /^fgd\(dc1\): ingest 16 created, 1 rejected, 1 file\(s\) to unmanaged\//);
    assert.match(
      c.message,
      /fabrics\/dc1\/raw\/bad\.yaml -> fabrics\/dc1\/unmanaged\/bad\.yaml \(hedgehog\.name-length\)/,
    );
    assert.match(c.message, /fabrics\/dc1\/managed\/vpc9\.yaml -> fabrics\/dc1\/managed\/vpcs\/vpc-9\.yaml/);

    const again = await runIngestion(t.fg);
    assert.equal(again.outcome, "unchanged");
    assert.equal(again.timings.commit, 0, "an unchanged run writes no commit");
    assert.equal(await t.server.head("lz"), r.commit, "no second commit");
  } finally {
    await t.stop();
  }
});

Deno.test("runIngestion survives a push race: re-plans on the new head and keeps the other commit", async () => {
  const t = await setup("race");
  try {
    let raced = "";
    const r = await runIngestion(t.fg, {
      async onPhase(phase) {
        if (phase === "pushing" && !raced) {
          raced = "pending";
          raced = await t.server.commitAndPush("race", {
            "docs/other.md": "# someone else\n",
            "fabrics/dc1/raw/late.yaml": BAD.replace("a-very-long-vpc-name", "vpc-3"),
          }, "a concurrent commit");
        }
      },
    });
    assert.equal(r.outcome, "committed", r.error ?? "");
    assert.equal(r.attempts, 2);
    const c = await remoteCommit(t.server.root, "race");
    assert.deepEqual(c.parents, [raced], "the ingestion commit sits on top of the concurrent one");
    const tree = await remoteTree(t.server.root, "race");
    assert.ok(tree.includes("docs/other.md"));
    assert.ok(!tree.some((p) => p.startsWith("fabrics/dc1/raw/") && !p.endsWith(".gitkeep")));
    assert.match(c.message, /raw\/late\.yaml#0 -> fabrics\/dc1\/managed\/vpcs\/vpc-3\.yaml \(created\)/);
  } finally {
    await t.stop();
  }
});

Deno.test("runIngestion that cannot push leaves the remote untouched and says why", async () => {
  const t = await setup("stuck");
  try {
    const r = await runIngestion(t.fg, {
      maxAttempts: 2,
      async onPhase(phase) {
        if (phase === "pushing") {
          await t.server.commitAndPush("stuck", { [`docs/${crypto.randomUUID()}.md`]: "x" }, "keeps moving");
        }
      },
    });
    assert.equal(r.outcome, "failed");
    assert.match(r.error!, /kept moving: 2 pushes were rejected.*nothing was changed or deleted/);
    const tree = await remoteTree(t.server.root, "stuck", "main", "fabrics/dc1");
    assert.ok(
      tree.includes("fabrics/dc1/raw/fabric.yaml") && tree.includes("fabrics/dc1/raw/bad.yaml"),
      "raw files kept",
    );
  } finally {
    await t.stop();
  }
});

Deno.test("runIngestion reports a wrong token as a failure naming credential_env", async () => {
  const t = await setup("auth", "right");
  const repo = await openFabricRepo({
    repo: t.server.url("auth"),
    branch: "main",
    gitdir: join(await Deno.makeTempDir(), "x.git"),
    token: "wrong",
  });
  try {
    const r = await runIngestion(new FabricGit(SPEC, repo, AUTHOR));
    assert.equal(r.outcome, "failed");
    assert.match(r.error!, /HTTP 401.*credential_env/);
    assert.ok(!r.error!.includes("wrong"), "the token is never in messages");
  } finally {
    repo.close();
    await t.stop();
  }
});

Deno.test("runIngestion without any CRD moves nothing and says how to fix it; Hedgehog fabrics fall back to the shipped CRDs", async () => {
  const t = await setup("nocrd");
  try {
    const bare = new FabricGit({ ...SPEC, crd_dirs: ["nowhere"], rule_packs: [] }, t.fg.repo, AUTHOR);
    const r = await runIngestion(bare);
    assert.equal(r.outcome, "failed");
    assert.match(
      r.error!,
      /no CRD found for fabric dc1 \(crd_dirs nowhere: no such directory.*set fabrics\[\]\.crd_dirs/,
    );
    const shipped = new FabricGit({ ...SPEC, crd_dirs: [] }, t.fg.repo, AUTHOR);
    const ok = await runIngestion(shipped);
    assert.equal(ok.outcome, "committed", ok.error ?? "");
    assert.equal(ok.plan!.desired.size, 17);
  } finally {
    await t.stop();
  }
});
