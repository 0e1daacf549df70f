/** Fabric writes through the API are audited with the name of the token that made them. */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { decode } from "../../pipeline/serde.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { AUDIT_TOPIC, type AuditRecord } from "../../schemas/audit.ts";
import { startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices } from "../fabrics/service.ts";

const VPC = `apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: vpc-9
spec:
  subnets:
    default: {subnet: 10.0.9.0/24, vlan: 1009}
`;

Deno.test("fabric writes are audited: token name, outcome, commit; a refused write is audited as failed", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fabric-audit-" });
  const broker = await createEmbeddedBroker();
  const config = {
    data_dir: dataDir,
    gateway: { tokens: [{ name: "portal-editor", token_env: "EDITOR_TOKEN", scopes: ["read", "write"] }] },
  };
  const env = { EDITOR_TOKEN: "editor-secret" };
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config, env });
  const put = async (name: string, body: string) => {
    const res = await fetch(`${gw.url}/api/v1/fabrics/dc1/objects/vpcs/${name}`, {
      method: "PUT",
      headers: { authorization: "Bearer editor-secret", "content-type": "application/yaml" },
      body,
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    await fgd.manager.workers.get("dc1")!.trigger("test").done;
    const ok = await put("vpc-9", VPC);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const refused = await put("vpc-9", "[1, 2]");
    assert.equal(refused.status, 400);
    const records: AuditRecord[] = [];
    await readTopicToEnd(
      broker,
      AUDIT_TOPIC.name,
      (r) => void records.push(decode<AuditRecord>(AUDIT_TOPIC.name, r.value)!),
    );
    const writes = records.filter((r) => r.kind === "fabric_write");
    assert.equal(writes.length, 2);
    assert.deepEqual(
      writes.map((r) => [r.trigger, r.token_name, r.subject, r.outcome]),
      [["api", "portal-editor", "dc1", "ok"], ["api", "portal-editor", "dc1", "failed"]],
    );
    assert.equal(writes[0].commit, ok.body.commit);
    assert.match(writes[0].message, /put vpcs\/vpc-9 → HTTP 200/);
    assert.match(writes[1].error ?? "", /one Kubernetes object/);
    assert.ok(!JSON.stringify(records).includes("editor-secret"));
  } finally {
    await gw.stop();
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
