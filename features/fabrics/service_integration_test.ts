/**
 * The FGD end to end: the service and its gateway plugin on an embedded broker, a real git smart-HTTP
 * server (`git http-backend`), a real gateway (Hono) and a local server speaking the Kubernetes list API.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { deliverWebhook, pushPayload } from "../../connectors/github/deliver.ts";
import { githubWebhookPlugin, WEBHOOK_PATH } from "../../connectors/github/webhook.ts";
import { LiveClient, startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices, FGD_PROGRESS } from "./service.ts";
import { crdRepoFiles, FABRIC_YAML, remoteCommit, remoteFile, remoteTree } from "./_test_util.ts";
import { startKubeTestServer } from "../../connectors/kubernetes/_kube_test_server.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

const ADMIN = "admin-token";
const READER = "reader-token";
const BAD_VPC = `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-7
spec:
  subnets:
    default: {subnet: 10.0.7.0/24, gateway: 10.0.8.1, vlan: 1007}
`;
const VPC3 = `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-3
spec:
  subnets:
    default: {subnet: 10.0.3.0/24, vlan: 1003}
`;

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

async function setup() {
  const git = await startGitServer({ auth: { token: "git-token" } });
  await git.createRepo("lz", {
    ...crdRepoFiles(),
    "README.md": "# lz\n",
    "fabrics/dc1/raw/fabric.yaml": FABRIC_YAML,
    "fabrics/dc1/raw/bad.yaml": BAD_VPC,
    "fabrics/dc1/managed/vpc9.yaml": VPC3.replace(/vpc-3/g, "vpc-9").replace("10.0.3.", "10.0.99.").replace(
      "1003",
      "1099",
    ),
  });
  const k8s = startKubeTestServer("kube-token");
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-svc-" });
  const env = {
    LZSYNC_TOKEN: ADMIN,
    READ_TOKEN: READER,
    GIT_TOKEN: "git-token",
    KUBE_TOKEN: "kube-token",
    GITHUB_WEBHOOK_SECRET: "hook-secret",
  };
  const config = {
    data_dir: dataDir,
    landing_zone: { repo: git.url("lz") },
    gateway: { port: 0, tokens: [{ name: "reader", token_env: "READ_TOKEN", scopes: ["read"] }] },
    credentials: { git: { token_env: "GIT_TOKEN" }, kube: { token_env: "KUBE_TOKEN" } },
  };
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0 });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({
    plugins: [fgd.plugin, githubWebhookPlugin({ github: null })],
    broker,
    config,
    env,
  });
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    git,
    k8s,
    gw,
    deps,
    fgd,
    api,
    async stop() {
      await gw.stop();
      for (const s of fgd.services) await s.stop();
      await broker.close();
      await k8s.stop();
      await git.stop();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

const FABRIC = {
  id: "dc1",
  repo: "", // set per test
  path: "fabrics/dc1",
  credential: "git",
  crd_dirs: ["fabrics/crds/hedgehog"],
  kubernetes: { api_url: "", credential: "kube" },
};

Deno.test("FGD service: registration ingests what raw/ and managed/ hold, a pushed change is ingested, drafts conflict, drift shows", async () => {
  const t = await setup();
  try {
    // Auth: registering needs admin.
    const denied = await t.api("POST", "/api/v1/fabrics", {}, { authorization: `Bearer ${READER}` });
    assert.equal(denied.status, 403);
    const bad = await t.api("POST", "/api/v1/fabrics", { id: "Bad_ID", path: "x" });
    assert.equal(bad.status, 422);

    // 1. Register: the existing raw/ and managed/ files are ingested in one commit.
    const fabric = {
      ...FABRIC,
      repo: t.git.url("lz"),
      kubernetes: { ...FABRIC.kubernetes, api_url: t.k8s.url },
    };
    const reg = await t.api("POST", "/api/v1/fabrics", fabric);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.match(reg.body.websocket_url, /topic=lz\.fgd\.progress\.v1&key=fgd-dc1-/);
    const first = await poll("registration run", async () => {
      const s = await t.api("GET", "/api/v1/fabrics/dc1");
      return s.body.last_run?.sync_id === reg.body.sync_id ? s.body : undefined;
    });
    assert.equal(first.last_run.outcome, "committed", first.last_error);
    assert.equal(first.last_commit, await t.git.head("lz"));
    assert.deepEqual(first.counts, {
      managed: 17,
      unmanaged: 1,
      invalid_managed: 0,
      drafts: 0,
      conflicts: 0,
      drift: 0,
    });
    const tree = await remoteTree(t.git.root, "lz", "main", "fabrics/dc1");
    assert.deepEqual(tree.filter((p) => !p.includes("/managed/")), [
      "fabrics/dc1/README.md",
      "fabrics/dc1/raw/.gitkeep",
      "fabrics/dc1/unmanaged/.gitkeep",
      "fabrics/dc1/unmanaged/bad.yaml",
      "fabrics/dc1/unmanaged/bad.yaml.reason.txt",
    ]);
    const unmanaged = await t.api("GET", "/api/v1/fabrics/dc1/unmanaged");
    assert.equal(unmanaged.body.files[0].path, "unmanaged/bad.yaml");
    assert.equal(unmanaged.body.files[0].findings[0].rule, "hedgehog.vpc.gateway");
    const objs = await poll("objects view", async () => {
      const r = await t.api("GET", "/api/v1/fabrics/dc1/objects");
      return r.body.count === 17 ? r.body : undefined;
    });
    assert.ok(objs.objects.every((o: { desired: unknown }) => o.desired));

    // 2. A push with valid and invalid files, announced by a push hint (as the webhook does).
    // The pre-.v1 name still subscribes (compatibility); frames carry the new name.
    assert.equal(FGD_PROGRESS, "lz.fgd.progress.v1");
    const ws = await LiveClient.open(t.gw.wsUrl, { topic: "lz.fgd.progress", access_token: READER });
    const pushed = await t.git.commitAndPush("lz", {
      "fabrics/dc1/raw/more.yaml": `${VPC3}---\n${BAD_VPC.replace("vpc-7", "vpc-8")}`,
      "docs/unrelated.md": "x\n",
    }, "user drop");
    const hook = await deliverWebhook(
      `${t.gw.url}${WEBHOOK_PATH}`,
      pushPayload({
        fullName: "acme/lz",
        cloneUrl: t.git.url("lz"),
        before: first.last_commit,
        after: pushed,
        commits: [{ id: pushed, added: ["fabrics/dc1/raw/more.yaml", "docs/unrelated.md"] }],
      }),
      { secret: "hook-secret" },
    );
    assert.equal(hook.status, 202, JSON.stringify(hook.body));
    const done = await ws.waitFor((f) => f.type === "completed", 20_000);
    assert.ok(done.every((f) => f.topic === FGD_PROGRESS));
    await ws.close();
    const syncId = done[0].key!;
    const ingestion = await poll("ingestion commit", async () => {
      const head = await t.git.head("lz");
      return head !== pushed ? head : undefined;
    });
    const c = await remoteCommit(t.git.root, "lz");
    assert.deepEqual(c.parents, [pushed]);
    assert.match(c.message, /^fgd\(dc1\): ingest 1 created, 1 rejected, 1 file\(s\) to unmanaged\//);
    const after = await remoteTree(t.git.root, "lz", "main", "fabrics/dc1");
    assert.deepEqual(after.filter((p) => !tree.includes(p)), [
      "fabrics/dc1/managed/vpcs/vpc-3.yaml",
      "fabrics/dc1/unmanaged/more.yaml",
      "fabrics/dc1/unmanaged/more.yaml.reason.txt",
    ], "exactly the new files");
    assert.deepEqual(tree.filter((p) => !after.includes(p)), [], "nothing else removed");
    const status = await poll("status after push", async () => {
      const s = await t.api("GET", "/api/v1/fabrics/dc1");
      return s.body.last_run?.sync_id === syncId ? s.body : undefined;
    });
    assert.equal(status.last_commit, ingestion);

    const metrics = await t.deps.metrics.metrics();
    assert.match(metrics, /lzsync_fgd_files_processed_total\{fabric="dc1",outcome="partially-ingested"\} 1/);
    assert.match(metrics, /lzsync_fgd_run_duration_seconds_count\{fabric="dc1",outcome="committed"\} 2/);

    // 3. Idempotency: a manual sync changes nothing.
    const sync = await t.api("POST", "/api/v1/fabrics/dc1/sync");
    assert.equal(sync.status, 202);
    const idle = await poll("manual sync", async () => {
      const s = await t.api("GET", "/api/v1/fabrics/dc1");
      return s.body.last_run?.sync_id === sync.body.sync_id ? s.body : undefined;
    });
    assert.equal(idle.last_run.outcome, "unchanged");
    assert.equal(await t.git.head("lz"), ingestion, "no second commit");

    // 4. Validation of Portal edits: the same validator, 422 with findings.
    const vpc2 = (await t.api("GET", "/api/v1/fabrics/dc1/objects/vpcs/vpc-2")).body;
    const invalid = structuredClone(vpc2.desired.object);
    invalid.spec.subnets.default.vlan = 9999;
    const rejected = await t.api("PUT", "/api/v1/fabrics/dc1/objects/vpcs/vpc-2", invalid);
    assert.equal(rejected.status, 422);
    assert.equal(rejected.body.findings[0].rule, "hedgehog.vpc.vlan");

    // 5. A draft conflicting with an external change: both versions kept, nothing overwritten.
    const mine = structuredClone(vpc2.desired.object);
    mine.spec.subnets.default.vlan = 1202;
    const draft = await t.api("PUT", "/api/v1/fabrics/dc1/objects/vpcs/vpc-2?draft=true", mine, {
      "if-match": `"${vpc2.desired.hash}"`,
    });
    assert.equal(draft.status, 202, JSON.stringify(draft.body));
    const theirsText = "# bob: raised the VLAN for the new rack\n" +
      (await remoteFile(t.git.root, "lz", "fabrics/dc1/managed/vpcs/vpc-2.yaml")).replace(
        "vlan: 1002",
        "vlan: 1302 # rack 7",
      );
    const external = await t.git.commitAndPush(
      "lz",
      { "fabrics/dc1/managed/vpcs/vpc-2.yaml": theirsText },
      "someone edits vpc-2 in git",
    );
    const s2 = await t.api("POST", "/api/v1/fabrics/dc1/sync");
    await poll("sync after external edit", async () => {
      const s = await t.api("GET", "/api/v1/fabrics/dc1");
      return s.body.last_run?.sync_id === s2.body.sync_id ? s.body : undefined;
    });
    const conflicted = await poll("conflicted draft", async () => {
      const o = (await t.api("GET", "/api/v1/fabrics/dc1/objects/vpcs/vpc-2")).body;
      return o.draft?.state === "conflicted" ? o : undefined;
    });
    assert.equal(conflicted.draft.object.spec.subnets.default.vlan, 1202, "my version");
    assert.equal(conflicted.conflict.theirs.spec.subnets.default.vlan, 1302, "their version");
    assert.equal(conflicted.desired.object.spec.subnets.default.vlan, 1302);
    assert.equal((await t.api("GET", "/api/v1/fabrics/dc1")).body.counts.conflicts, 1);
    const before = await t.git.head("lz");
    assert.notEqual(before, external, "lzsync re-normalized their edit (new content hash annotation)");
    const stale = await t.api("PUT", "/api/v1/fabrics/dc1/objects/vpcs/vpc-2", mine, {
      "if-match": `"${vpc2.desired.hash}"`,
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.theirs.spec.subnets.default.vlan, 1302);
    assert.equal(await t.git.head("lz"), before, "nothing was committed over their change");
    const resolved = await t.api("PUT", "/api/v1/fabrics/dc1/objects/vpcs/vpc-2", mine, {
      "if-match": `"${conflicted.conflict.theirs_hash}"`,
      "x-lzsync-author": "alice",
    });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.equal(await t.git.head("lz"), resolved.body.commit);
    const edited = await remoteFile(t.git.root, "lz", "fabrics/dc1/managed/vpcs/vpc-2.yaml");
    assert.match(edited, /vlan: 1202 # rack 7\n/, "the Portal edit keeps the file's comments");
    assert.match(edited, /^# bob: raised the VLAN for the new rack\napiVersion: /);
    assert.match((await remoteCommit(t.git.root, "lz")).message, /portal update VPC\/vpc-2 by alice/);
    await poll("draft cleared", async () => {
      const o = (await t.api("GET", "/api/v1/fabrics/dc1/objects/vpcs/vpc-2")).body;
      return o.draft === null && o.conflict === null ? o : undefined;
    });

    // 6. Delete from the Portal.
    const del = await t.api("DELETE", "/api/v1/fabrics/dc1/objects/vpcs/vpc-9");
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.ok(!(await remoteTree(t.git.root, "lz")).includes("fabrics/dc1/managed/vpcs/vpc-9.yaml"));

    // 7. Drift against the cluster (read-only Kubernetes source).
    const desired = (await t.api("GET", "/api/v1/fabrics/dc1/objects/vpcs/vpc-1")).body.desired.object;
    const actual = structuredClone(desired);
    actual.spec.subnets.default.vlan = 1500;
    actual.status = { vni: 7 };
    t.k8s.objects.set("vpc.githedgehog.com/vpcs", [actual, {
      ...desired,
      metadata: { name: "rogue", namespace: "default" },
    }]);
    await t.fgd.manager.workers.get("dc1")!.pollActual();
    const drift = await poll("drift", async () => {
      const r = (await t.api("GET", "/api/v1/fabrics/dc1/objects?state=drift&kind=vpcs")).body;
      return r.objects.some((o: { name: string; drift: string }) => o.name === "rogue") ? r : undefined;
    });
    const byName = Object.fromEntries(drift.objects.map((o: { name: string }) => [o.name, o]));
    assert.equal(byName["vpc-1"].drift, "differs");
    assert.deepEqual(byName["vpc-1"].drift_fields, ["spec.subnets.default.vlan"]);
    assert.equal(byName["rogue"].drift, "extra");
    assert.equal(byName["vpc-2"].drift, "missing");

    // 8. Unregister: state gone, repository untouched.
    const head = await t.git.head("lz");
    const gone = await t.api("DELETE", "/api/v1/fabrics/dc1");
    assert.equal(gone.status, 200);
    await poll(
      "fabric removed",
      async () => (await t.api("GET", "/api/v1/fabrics/dc1")).status === 404 ? true : undefined,
    );
    assert.equal(await t.git.head("lz"), head);
    assert.equal((await t.api("GET", "/api/v1/fabrics")).body.fabrics.length, 0);
  } finally {
    await t.stop();
  }
});
