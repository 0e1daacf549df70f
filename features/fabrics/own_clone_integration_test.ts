/**
 * lzsync's own clone of a fabric's remote repository is a cache: when a kill left it torn (a ref or a pack
 * index written half-way), the next run still fetches, plans and pushes correctly. Real `git http-backend`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { openFabricRepo } from "../../connectors/git/git_repo.ts";
import { FabricGit, runIngestion } from "./ingest.ts";
import { crdRepoFiles, FABRIC_YAML, remoteTree } from "./_test_util.ts";

const SPEC = {
  id: "dc1",
  branch: "main",
  path: "fabrics/dc1",
  crd_dirs: ["fabrics/crds/hedgehog"],
  rule_packs: ["hedgehog"],
};
const AUTHOR = { name: "lzsync", email: "lzsync@example.invalid" };

async function* files(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* files(p);
    else yield p;
  }
}

for (const damage of ["ref", "pack index"] as const) {
  Deno.test(`FGD: a torn own clone (${damage} cut short by a kill) does not stop the next run`, async () => {
    const server = await startGitServer();
    const tmp = await Deno.makeTempDir({ prefix: "lzsync-fgd-own-" });
    const gitdir = join(tmp, "dc1.git");
    try {
      await server.createRepo("lz", { ...crdRepoFiles(), "fabrics/dc1/raw/fabric.yaml": FABRIC_YAML });
      let repo = await openFabricRepo({ repo: server.url("lz"), branch: "main", gitdir });
      assert.equal((await runIngestion(new FabricGit(SPEC, repo, AUTHOR))).outcome, "committed");
      repo.close();
      const torn: string[] = [];
      for await (const f of files(gitdir)) {
        if (damage === "ref" ? /refs\/(heads|remotes)\//.test(f) : f.endsWith(".idx")) torn.push(f);
      }
      assert.ok(torn.length > 0);
      for (const f of torn) {
        const bytes = await Deno.readFile(f);
        await Deno.writeFile(f, bytes.subarray(0, Math.floor(bytes.length / 2)));
      }
      await server.commitAndPush("lz", {
        "fabrics/dc1/raw/late.yaml": FABRIC_YAML.replaceAll("vpc-", "vpx-"),
      }, "late");
      repo = await openFabricRepo({ repo: server.url("lz"), branch: "main", gitdir });
      const r = await runIngestion(new FabricGit(SPEC, repo, AUTHOR));
      repo.close();
      assert.notEqual(r.outcome, "failed", r.error ?? "");
      const tree = await remoteTree(server.root, "lz", "main", "fabrics/dc1/raw");
      assert.deepEqual(tree, ["fabrics/dc1/raw/.gitkeep"], "the late raw file was ingested");
    } finally {
      await server.stop();
      await Deno.remove(tmp, { recursive: true });
    }
  });
}
