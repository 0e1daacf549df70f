/**
 * Invalid files already under `managed/` when a fabric is registered: lzsync keeps them in place (it never
 * moves or rewrites desired state it cannot read) and leaves them out of the desired state — and says so
 * everywhere a user looks: the fabric status (count, `invalid_managed`, a standing warning shown as
 * `last_error`), `/unmanaged`, `/findings` and the cross-fabric findings list of the status page. On a real
 * gateway, git smart-HTTP server and embedded broker.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { LiveClient, startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices } from "./service.ts";
import { crdRepoFiles, FABRIC_YAML, remoteFile, remoteTree } from "./_test_util.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

const ADMIN = "admin-token";
const vpc = (name: string, extra: string) =>
  `apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: ${name}\nspec:\n${extra}`;
const INVALID: Record<string, string> = {
  "managed/vpcs/bad-gw.yaml": vpc(
    "bad-gw",
    "  subnets:\n    default: {subnet: 10.0.7.0/24, gateway: 10.0.8.1, vlan: 1007}\n",
  ),
  "managed/vpcs/typo.yaml": vpc("typo", "  subnetz:\n    default: {subnet: 10.0.8.0/24, vlan: 1008}\n"),
  "managed/widgets/w.yaml": "apiVersion: vpc.githedgehog.com/v1beta1\nkind: Widget\nmetadata:\n  name: w\n",
};

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("invalid files under managed/ at registration: kept in place, out of the desired state, shown in status, /unmanaged and findings", async () => {
  const git = await startGitServer({ auth: { token: "git-token" } });
  const files: Record<string, string> = {
    ...crdRepoFiles(),
    "README.md": "# lz\n",
    "fabrics/dc1/managed/fabric.yaml": FABRIC_YAML,
  };
  for (const [p, text] of Object.entries(INVALID)) files[`fabrics/dc1/${p}`] = text;
  await git.createRepo("lz", files);
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-invalid-" });
  const env = { LZSYNC_TOKEN: ADMIN, GIT_TOKEN: "git-token" };
  const config = {
    data_dir: dataDir,
    landing_zone: { repo: git.url("lz") },
    gateway: { port: 0 },
    credentials: { git: { token_env: "GIT_TOKEN" } },
  };
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config, env });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    const reg = await api("POST", "/api/v1/fabrics", {
      id: "dc1",
      repo: git.url("lz"),
      path: "fabrics/dc1",
      credential: "git",
      crd_dirs: ["fabrics/crds/hedgehog"],
    });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const ws = await LiveClient.open(gw.wsUrl, {
      topic: "lz.fgd.progress.v1",
      key: reg.body.sync_id,
      access_token: ADMIN,
    });
    const status = await poll("registration run", async () => {
      const s = await api("GET", "/api/v1/fabrics/dc1");
      return s.body.last_run?.sync_id === reg.body.sync_id ? s.body : undefined;
    });
    assert.equal(status.last_run.outcome, "committed");
    const frames = await ws.waitFor((f) => f.type === "completed", 20_000);
    await ws.close();
    assert.match(
      String((frames.at(-1)!.data as { message: string }).message),
      /^committed [0-9a-f]{40}; 3 file\(s\) under managed\/ do not validate and are left out of the desired state/,
    );
    assert.equal(status.counts.managed, 16, "the valid objects");
    assert.equal(status.counts.invalid_managed, 3);
    assert.deepEqual(
      status.invalid_managed.map((i: { path: string }) => i.path),
      Object.keys(INVALID).sort(),
    );
    assert.match(
      status.warnings[0],
      /^3 file\(s\) under managed\/ do not validate and are left out of the desired state/,
    );
    assert.match(status.warnings[0], /managed\/vpcs\/bad-gw\.yaml \(hedgehog\.vpc\.gateway: /);
    assert.equal(status.last_error, status.warnings[0], "the status page's Last error column shows it");

    // Kept in place, byte for byte; the valid multi-document file was split as usual.
    const tree = await remoteTree(git.root, "lz", "main", "fabrics/dc1/managed");
    for (const [p, text] of Object.entries(INVALID)) {
      assert.ok(tree.includes(`fabrics/dc1/${p}`), p);
      assert.equal(await remoteFile(git.root, "lz", `fabrics/dc1/${p}`), text);
    }
    assert.ok(!tree.includes("fabrics/dc1/managed/fabric.yaml"));
    assert.equal((await api("GET", "/api/v1/fabrics/dc1/objects")).body.count, 16);

    // /unmanaged is not "0 and no error" for a fabric that lost objects to invalid managed files.
    const unmanaged = (await api("GET", "/api/v1/fabrics/dc1/unmanaged")).body;
    assert.equal(unmanaged.count, 0);
    assert.equal(unmanaged.invalid_managed.length, 3);

    // The findings list: one row per finding, with what happens to the file.
    const findings = (await api("GET", "/api/v1/fabrics/dc1/findings")).body;
    const rows = findings.findings.map((r: Record<string, string>) => [r.file, r.place, r.rule]);
    assert.deepEqual(rows.filter((r: string[]) => r[1] === "managed-invalid"), [
      ["managed/vpcs/bad-gw.yaml", "managed-invalid", "hedgehog.vpc.gateway"],
      ["managed/vpcs/typo.yaml", "managed-invalid", "schema.unknown-field"],
      ["managed/vpcs/typo.yaml", "managed-invalid", "hedgehog.vpc.subnets"], // every layer reports
      ["managed/widgets/w.yaml", "managed-invalid", "schema.unknown-kind"],
    ]);
    assert.match(findings.findings[0].state, /kept in place, left out of the desired state/);
    const all = (await api("GET", "/api/v1/fabric-findings")).body;
    assert.equal(all.count, findings.count);
    assert.equal(all.findings[0].fabric, "dc1");

    // Fixing one file in place brings its object in and the warning follows.
    const fixed = INVALID["managed/vpcs/typo.yaml"].replace("subnetz", "subnets");
    await git.commitAndPush("lz", { "fabrics/dc1/managed/vpcs/typo.yaml": fixed }, "fix typo");
    const sync = await api("POST", "/api/v1/fabrics/dc1/sync");
    const after = await poll("sync after the fix", async () => {
      const s = await api("GET", "/api/v1/fabrics/dc1");
      return s.body.last_run?.sync_id === sync.body.sync_id ? s.body : undefined;
    });
    assert.equal(after.counts.managed, 17);
    assert.equal(after.counts.invalid_managed, 2);
    assert.match(after.warnings[0], /^2 file\(s\) under managed\//);
  } finally {
    await gw.stop();
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await git.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
