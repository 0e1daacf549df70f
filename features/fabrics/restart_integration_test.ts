/**
 * The FGD service across a restart, on the embedded broker and on real Kafka: fabrics registered through
 * the API and open drafts come back from the compacted topics; a fabric's records vanish on unregistration.
 */
import assert from "node:assert/strict";
import type { Broker } from "../../pipeline/broker/types.ts";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { createKafkaBroker } from "../../pipeline/broker/kafka/mod.ts";
import { decode } from "../../pipeline/serde.ts";
import { needs, requireKafka } from "../../pipeline/testing/env.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import {
  type FabricObject,
  type FabricStatus,
  FGD_OBJECTS_TOPIC,
  FGD_STATUS_TOPIC,
} from "../../schemas/fgd.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { FabricManager } from "./manager.ts";
import { crdRepoFiles, FABRIC_YAML } from "./_test_util.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

async function table<V>(broker: Broker, topic: string): Promise<Map<string, V>> {
  const out = new Map<string, V>();
  await readTopicToEnd(broker, topic, (r) => {
    const v = decode<V>(topic, r.value);
    if (v === null) out.delete(r.key!);
    else out.set(r.key!, v);
  });
  return out;
}

async function scenario(broker: Broker) {
  const git = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-restart-" });
  const id = `r-${crypto.randomUUID().slice(0, 8)}`;
  const deps = testDeps(broker, { data_dir: dataDir, landing_zone: { repo: git.url("lz") } });
  const opts = { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false };
  let m = new FabricManager(deps, opts);
  try {
    await git.createRepo("lz", { ...crdRepoFiles(), [`fabrics/${id}/raw/f.yaml`]: FABRIC_YAML });
    await m.start();
    const { syncId } = await m.register({ id, path: `fabrics/${id}`, crd_dirs: ["fabrics/crds/hedgehog"] });
    const run = await m.workers.get(id)!.trigger("wait").done;
    assert.ok(run.sync_id === syncId || run.outcome === "unchanged");
    const status = (await table<FabricStatus>(broker, FGD_STATUS_TOPIC.name)).get(id)!;
    assert.equal(status.counts.managed, 16);
    assert.equal(status.last_commit, await git.head("lz"));

    const vpc = {
      apiVersion: "vpc.githedgehog.com/v1beta1",
      kind: "VPC",
      metadata: { name: "vpc-2" },
      spec: { subnets: { default: { subnet: "10.0.2.0/24", vlan: 1222 } } },
    };
    const saved = await m.workers.get(id)!.edit({
      op: "put",
      kind: "vpc",
      name: "vpc-2",
      body: vpc,
      draftOnly: true,
      author: "bob",
    });
    assert.equal(saved.status, 202, JSON.stringify(saved.body));
    await m.stop();

    // Restart: the API fabric and the open draft come back; the registration run changes nothing.
    m = new FabricManager(deps, opts);
    await m.start();
    const w = m.workers.get(id);
    assert.ok(w, "fabric restored from lz.fgd.fabrics.v1");
    const again = await w.trigger("after restart").done;
    assert.equal(again.outcome, "unchanged");
    const draft = [...w.drafts.values()][0];
    assert.equal(draft?.author, "bob");
    assert.equal((draft?.object as any)?.spec.subnets.default.vlan, 1222);
    const committed = await w.edit({ op: "put", kind: "vpcs", name: "vpc-2", body: vpc, author: "bob" });
    assert.equal(committed.status, 200, JSON.stringify(committed.body));
    assert.equal(w.drafts.size, 0);

    await m.unregister(id);
    const objects = await table<FabricObject>(broker, FGD_OBJECTS_TOPIC.name);
    assert.equal([...objects.values()].filter((o) => o.fabric === id).length, 0, "records tombstoned");
    assert.equal((await table<FabricStatus>(broker, FGD_STATUS_TOPIC.name)).has(id), false);
  } finally {
    await m.stop();
    await git.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("FGD restart on the embedded broker: API fabrics and drafts are restored", async () => {
  const broker = await createEmbeddedBroker();
  try {
    await scenario(broker);
  } finally {
    await broker.close();
  }
});

Deno.test({
  name: "FGD restart on Kafka: API fabrics and drafts are restored",
  ignore: needs("kafka"),
  fn: async () => {
    const broker = await createKafkaBroker({ brokers: requireKafka().split(","), clientId: "fgd-test" });
    try {
      await scenario(broker);
    } finally {
      await broker.close();
    }
  },
});
