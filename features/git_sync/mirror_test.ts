/**
 * lzsync's own mirror of a remote Landing Zone is a cache: when a kill left it torn (a ref or a pack index
 * written half-way), the next sync drops it, fetches again and goes on, instead of failing forever.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { GIT_FILES_TOPIC, type GitFile, type GitFilesValue } from "../../schemas/git_files.ts";
import { readAll, syncQueue } from "./_test_util.ts";
import { createGitFetchService } from "./service.ts";

async function* files(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* files(p);
    else yield p;
  }
}

for (const damage of ["ref", "pack index"] as const) {
  Deno.test(`git fetch: a torn mirror (${damage} cut short by a kill) is fetched again, nothing is lost`, async () => {
    const server = await startGitServer();
    const dataDir = await Deno.makeTempDir({ prefix: "lzsync-mirror-" });
    const broker = await createEmbeddedBroker();
    const q = syncQueue();
    const deps = testDeps(broker, { data_dir: dataDir, landing_zone: { repo: server.url("acme/lz") } });
    const svc = createGitFetchService(deps, { onSynced: q.push, intervalMs: 0 });
    try {
      await server.createRepo("acme/lz", { "docs/a.md": "# A\n", "pmo.yaml": "x: 1\n" });
      await svc.start();
      assert.equal((await q.next()).outcome, "synced");
      const mirror = join(dataDir, "git");
      const torn: string[] = [];
      for await (const f of files(mirror)) {
        if (damage === "ref" ? /refs\/(heads|remotes)\//.test(f) : f.endsWith(".idx")) torn.push(f);
      }
      assert.ok(torn.length > 0, `the mirror has a ${damage}`);
      for (const f of torn) {
        const bytes = await Deno.readFile(f);
        await Deno.writeFile(f, bytes.subarray(0, Math.floor(bytes.length / 2)));
      }
      const next = await server.commitAndPush("acme/lz", { "docs/a.md": "# A2\n" }, "a2");
      await svc.trigger();
      const r = await q.next();
      assert.equal(r.outcome, "synced", r.error ?? "");
      assert.equal(r.commit, next);
      const recs = await readAll<GitFilesValue>(broker, GIT_FILES_TOPIC.name);
      const a = recs.map((x) => x.value).filter((v): v is GitFile =>
        v?.kind === "file" && v.path === "docs/a.md"
      );
      assert.equal(a[a.length - 1].content, "# A2\n");
      assert.equal(recs.filter((x) => x.value === null).length, 0, "nothing deleted");
    } finally {
      await svc.stop();
      await broker.close();
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}
