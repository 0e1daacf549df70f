/**
 * First run: no fabric configured and the sample Landing Zone in use — the sample fabric `dc1` is
 * registered and its raw/ files (valid and invalid) are ingested into the local sample repo, whose
 * worktree stays consistent with the branch.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { decode } from "../../pipeline/serde.ts";
import { type FabricStatus, FGD_STATUS_TOPIC } from "../../schemas/fgd.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { commitLocal, sampleRepoPath } from "../../connectors/git/sample.ts";
import { buildFabricServices } from "./service.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

async function git(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("first run: the sample fabric dc1 is registered and ingested into the sample Landing Zone", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-sample-" });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { data_dir: dataDir });
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  try {
    for (const s of fgd.services) await s.start();
    const w = fgd.manager.workers.get("dc1");
    assert.ok(w, "sample fabric registered");
    const run = await w.trigger("test").done;
    assert.ok(["committed", "unchanged"].includes(run.outcome), run.error ?? "");
    const status = new Map<string, FabricStatus>();
    await readTopicToEnd(
      broker,
      FGD_STATUS_TOPIC.name,
      (r) => status.set(r.key!, decode(FGD_STATUS_TOPIC.name, r.value)!),
    );
    const s = status.get("dc1")!;
    assert.equal(s.source, "sample");
    assert.deepEqual(s.counts, {
      managed: 10,
      unmanaged: 3,
      invalid_managed: 0,
      drafts: 0,
      conflicts: 0,
      drift: 0,
    });
    assert.match(s.last_commit ?? "", /^[0-9a-f]{40}$/);

    const repo = sampleRepoPath(dataDir);
    assert.equal(await git(["rev-parse", "main"], repo), s.last_commit);
    assert.match(
      await git(["log", "-1", "--format=%s"], repo),
      /^fgd\(dc1\): ingest 10 created, 4 rejected, 3 file\(s\) to unmanaged\//,
    );
    assert.equal(
      await git(["status", "--porcelain"], repo),
      "",
      "worktree and index follow the ingestion commit",
    );
    const raw = [...Deno.readDirSync(`${repo}/fabrics/dc1/raw`)].map((e) => e.name);
    assert.deepEqual(raw, [".gitkeep"]);
    assert.ok(Deno.statSync(`${repo}/fabrics/dc1/managed/vpcs/vpc-web.yaml`).isFile);
    const reason = Deno.readTextFileSync(`${repo}/fabrics/dc1/unmanaged/team-b-request.yaml.reason.txt`);
    assert.match(reason, /has 20 characters; use at most 11/);

    // A later local commit (as the git layer's helpers make) keeps the ingestion.
    await commitLocal(repo, { "docs/after.md": "# after\n" }, "a later commit");
    assert.ok(
      (await git(["ls-tree", "-r", "--name-only", "main"], repo)).includes(
        "fabrics/dc1/managed/vpcs/vpc-web.yaml",
      ),
    );
  } finally {
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
