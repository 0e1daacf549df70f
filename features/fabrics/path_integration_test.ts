/**
 * A fabric `path` that is not a clean directory inside the repository is refused before anything is written:
 * 400 with the reason from `POST /api/v1/fabrics`, and the repository (a real `git http-backend`) untouched.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices } from "./service.ts";
import { crdRepoFiles, FABRIC_YAML } from "./_test_util.ts";

async function fsck(bare: string): Promise<string> {
  const out = await new Deno.Command("git", { args: ["fsck", "--strict"], cwd: bare, stderr: "piped" })
    .output();
  return out.success ? "" : new TextDecoder().decode(out.stderr);
}

Deno.test("POST /api/v1/fabrics refuses an unclean path with 400 and the reason; the repo is untouched", async () => {
  const git = await startGitServer();
  const initial = await git.createRepo("lz", {
    ...crdRepoFiles(),
    "fabrics/dc1/raw/fabric.yaml": FABRIC_YAML,
  });
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-path-" });
  const broker = await createEmbeddedBroker();
  const config = { data_dir: dataDir, landing_zone: { repo: git.url("lz") }, gateway: { port: 0 } };
  const env = { LZSYNC_TOKEN: "adm" };
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config, env });
  try {
    const cases: [string, RegExp][] = [
      ["../escaped", /"\.\." segment/],
      ["fabrics/../../escaped", /"\.\." segment/],
      ["/fabrics/dc1", /absolute/],
      ["fabrics/.git", /"\.git" segment/],
      ["fabrics//dc1", /empty segment/],
    ];
    for (const [path, reason] of cases) {
      const res = await fetch(`${gw.url}/api/v1/fabrics`, {
        method: "POST",
        headers: { authorization: "Bearer adm", "content-type": "application/json" },
        body: JSON.stringify({ id: "esc", path, crd_dirs: ["fabrics/crds/hedgehog"] }),
      });
      const body = await res.json();
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(body)}`);
      assert.equal(body.error, "invalid_path");
      assert.match(body.reason, reason, path);
      assert.match(body.reason, /^\/path: /);
      assert.equal(fgd.manager.workers.has("esc"), false, `${path} must not register a fabric`);
    }
    const listed = await (await fetch(`${gw.url}/api/v1/fabrics`, {
      headers: { authorization: "Bearer adm" },
    })).json();
    assert.deepEqual(listed.fabrics.map((f: { id: string }) => f.id), []);
    assert.equal(await git.head("lz"), initial, "nothing may be pushed");
    assert.equal(await fsck(join(git.root, "lz.git")), "");
  } finally {
    await gw.stop();
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await git.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
