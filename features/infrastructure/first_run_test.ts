/**
 * First run with nothing configured, end to end on the embedded broker: the sample export is loaded as a
 * snapshot, diffed into assets, evaluated into violations and scores, and served by the gateway's REST
 * routes, live WebSocket frames and status-page sections; a pmo.yaml arriving from git re-evaluates.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { createProcessorHost } from "../../pipeline/processor/host.ts";
import type { Service } from "../../pipeline/service.ts";
import { LiveClient, startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildInfraServices } from "./mod.ts";
import { syncStatusOptions, syncStatusTopology } from "../../processors/sync_status/mod.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

async function until<T>(f: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

Deno.test("first run: the sample export shows resources, violations and a score; pmo.yaml from git re-evaluates", async () => {
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker);
  const infra = buildInfraServices(deps);
  const running: Service[] = [];
  const gw = await startTestGateway({ plugins: [infra.plugin], broker });
  const ws = await LiveClient.open(gw.wsUrl, { topic: ["lz.assets.v1", "lz.violations.v1"] });
  try {
    const topologies = [...infra.topologies, syncStatusTopology(syncStatusOptions(deps.runtime.config))];
    for (const t of topologies) {
      const h = createProcessorHost({ broker, log: silentLogger, metrics: deps.metrics }, t, { tickMs: 50 });
      await h.start();
      running.push(h);
    }
    for (const s of infra.services) {
      await s.start();
      running.push(s);
    }
    const compliance = await until(async () => {
      const { body } = await getJson(`${gw.url}/api/v1/compliance`);
      return body.overall?.evaluated > 30 ? body : undefined;
    }, "compliance scores");
    assert.ok(
      compliance.overall.score > 0 && compliance.overall.score < 100,
      `score ${compliance.overall.score}`,
    );
    assert.ok(compliance.by_project.some((p: { name: string }) => p.name === "web-prod"));
    const ssh = compliance.by_rule.find((r: { name: string }) => r.name === "cis-gcp-3.6-ssh-open");
    assert.equal(ssh.title, "SSH open to the internet");
    assert.equal(ssh.passed, 5, "7 ingress firewalls, 2 open SSH to the world");
    assert.equal(ssh.evaluated, 7);

    const { body: state } = await getJson(`${gw.url}/api/v1/sync/infrastructure-state`);
    for (
      const k of [
        "projects",
        "vpcs",
        "vms",
        "gke_clusters",
        "databases",
        "compliance_status",
        "policy_violations",
        "last_sync",
      ]
    ) {
      assert.ok(k in state, `infrastructure-state has ${k}`);
    }
    assert.deepEqual(state.projects.map((p: { project_id: string }) => p.project_id).sort(), [
      "data-dev",
      "lz-shared-net",
      "web-prod",
    ]);
    const def = state.vpcs.find((v: { name: string; project: string }) =>
      v.name === "default" && v.project === "web-prod"
    );
    assert.equal(def.subnets.length, 3);
    assert.ok(def.firewall_rules.some((f: { name: string }) => f.name === "default-allow-ssh"));
    assert.equal(state.vms.length, 5);
    assert.equal(state.gke_clusters.length, 2);
    assert.equal(state.databases.length, 2);
    assert.ok(state.policy_violations.length > 10);
    assert.ok(state.last_sync);
    // The API layer reported its load into sync status.
    const api = await until(async () => {
      const { body } = await getJson(`${gw.url}/api/v1/sync/infrastructure-state?summary=1`);
      return body.sync.api?.status === "ok" ? body.sync.api : undefined;
    }, "api layer status");
    assert.ok(api.last_sync && api.freshness_seconds !== null && api.next_sync, JSON.stringify(api));

    const { body: crit } = await getJson(`${gw.url}/api/v1/violations?severity=critical`);
    assert.deepEqual(
      crit.violations.map((v: { rule_id: string }) => v.rule_id).sort(),
      ["cis-gcp-5.1-bucket-public", "cis-gcp-6.5-sql-open-to-world"],
    );
    const { body: webSsh } = await getJson(
      `${gw.url}/api/v1/violations?rule=cis-gcp-3.6-ssh-open&project=web-prod`,
    );
    assert.deepEqual(webSsh.violations.map((v: { asset_short_name: string }) => v.asset_short_name), [
      "default-allow-ssh",
    ]);
    const bad = await getJson(`${gw.url}/api/v1/violations?severity=urgent`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.reason, /severity=urgent/);
    assert.equal((await getJson(`${gw.url}/api/v1/violations?limit=0`)).status, 400);
    const typo = await getJson(`${gw.url}/api/v1/violations?severty=critical`);
    assert.equal(typo.status, 400);
    assert.match(typo.body.reason, /unknown query parameter severty; \/api\/v1\/violations takes severity, /);
    const beyond = await getJson(`${gw.url}/api/v1/violations?offset=5000`);
    assert.equal(beyond.status, 400);
    assert.match(beyond.body.reason, /offset 5000 is beyond the end: \d+ violation\(s\) match/);
    const infraTypo = await getJson(`${gw.url}/api/v1/sync/infrastructure-state?sumary=1`);
    assert.equal(infraTypo.status, 400);
    assert.match(infraTypo.body.reason, /unknown query parameter sumary; .* takes summary/);
    const sse = await fetch(`${gw.url}/api/v1/events?topics=lz.assets.v1`);
    assert.equal(sse.status, 400);
    assert.match((await sse.json()).reason, /unknown query parameter topics; .* takes topic, key, cursor/);

    // Live frames carry the record's type.
    await ws.waitFor((f) => f.type === "resource_created");
    await ws.waitFor((f) => f.type === "policy_violated");

    // pmo.yaml arrives from git: governance rules apply to every known asset.
    const pmo = await Deno.readTextFile(new URL("../../deploy/sample-lz/pmo.yaml", import.meta.url));
    await gw.produce("lz.git.files.v1", "sample-lz:pmo.yaml", {
      kind: "file",
      repo: "sample-lz",
      path: "pmo.yaml",
      commit: "c".repeat(40),
      commit_time: new Date().toISOString(),
      size: pmo.length,
      blob_sha: "d".repeat(40),
      mode: "100644",
      change: "added",
      content: pmo,
      encoding: "utf-8",
      content_ref: null,
      sync_id: "s1",
      synced_at: new Date().toISOString(),
    });
    const labels = await until(async () => {
      const { body } = await getJson(
        `${gw.url}/api/v1/violations?rule=pmo-required-labels,pmo-allowed-regions&project=data-dev`,
      );
      return body.total >= 3 ? body : undefined;
    }, "governance violations");
    assert.ok(labels.violations.some((v: { message: string }) => /cost-center missing/.test(v.message)));
    assert.ok(
      labels.violations.some((v: { rule_id: string; asset_short_name: string }) =>
        v.rule_id === "pmo-allowed-regions" && v.asset_short_name === "data-dev-raw-landing"
      ),
    );
    await ws.waitFor((f) =>
      f.type === "policy_violated" && (f.data as { rule_id: string }).rule_id === "pmo-required-labels"
    );

    // Status-page sections are declared and their sources answer.
    const sections = infra.plugin.statusSections ?? [];
    assert.deepEqual(sections.map((s) => s.id), ["infra-resources", "infra-compliance", "infra-violations"]);
    for (const s of sections) assert.equal((await getJson(`${gw.url}${s.source}`)).status, 200);
    const { body: summary } = await getJson(`${gw.url}/api/v1/sync/infrastructure-state?summary=1`);
    assert.ok(
      summary.resource_summary.some((r: { kind: string; count: number }) =>
        r.kind === "vms" && r.count === 5
      ),
    );
    assert.equal("vms" in summary, false);
  } finally {
    await ws.close();
    for (const s of running.reverse()) await s.stop();
    await gw.stop();
    await broker.close();
  }
});
