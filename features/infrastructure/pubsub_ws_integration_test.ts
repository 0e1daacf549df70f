/**
 * Real-time layer end to end on real components: a TemporalAsset published to Google's Pub/Sub emulator
 * reaches a WebSocket client of the gateway through Kafka, the assets and policy processors — as
 * `resource_created` and `policy_violated`, and its deletion as `resource_deleted` and `policy_resolved`.
 */
import assert from "node:assert/strict";
import { needs, requireKafka, requirePubsub } from "../../pipeline/testing/env.ts";
import { createKafkaBroker } from "../../pipeline/broker/kafka/mod.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { createProcessorHost, type ProcessorHost } from "../../pipeline/processor/host.ts";
import { assetsTopology } from "../../processors/assets/mod.ts";
import { policyTopology } from "../../processors/policy/mod.ts";
import { LiveClient, startTestGateway } from "../../connectors/gateway/testing.ts";
import { createPubsubSubscriber } from "../../connectors/pubsub/subscriber.ts";
import { emulatorTopic } from "../../connectors/pubsub/test_util.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { infraGatewayPlugin } from "./plugin.ts";
import { INFRA_TOPICS } from "./mod.ts";
import { SYNC_STATUS_TOPIC } from "../../schemas/sync_status.ts";

Deno.test({
  name: "pubsub → Kafka → processors → gateway WebSocket: created/violated, then deleted/resolved",
  ignore: needs("kafka", "pubsub"),
  fn: async () => {
    const run = crypto.randomUUID().slice(0, 8);
    const broker = await createKafkaBroker({ brokers: [requireKafka()], clientId: `e2e-${run}` });
    const t = await emulatorTopic(requirePubsub(), "e2e");
    const hosts: ProcessorHost[] = [];
    // Kafka answers NOT_LEADER for a moment after a topic is created: create ours first and wait for leaders.
    const admin = broker.admin();
    const topics = [...INFRA_TOPICS, SYNC_STATUS_TOPIC];
    await admin.createTopics(
      topics.map((t) => ({ name: t.name, partitions: t.partitions, compacted: t.compacted })),
    );
    for (const t of topics) {
      for (let i = 0;; i++) {
        try {
          await admin.topicOffsets(t.name);
          break;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    const gw = await startTestGateway({ plugins: [infraGatewayPlugin()], broker });
    const name = `//compute.googleapis.com/projects/web-prod/global/firewalls/e2e-${run}`;
    const violationKey = `cis-gcp-3.6-ssh-open|${name}`;
    const ws = await LiveClient.open(gw.wsUrl, {
      topic: ["lz.assets.v1", "lz.violations.v1"],
      key: [name, violationKey],
    });
    const sub = createPubsubSubscriber(testDeps(broker), {
      projectId: t.projectId,
      subscription: t.subscription,
      maxMessages: 100,
      emulatorHost: requirePubsub(),
    });
    try {
      for (
        const topo of [
          assetsTopology({ app: `lz-assets-e2e-${run}` }),
          policyTopology({ app: `lz-policy-e2e-${run}`, scoreIntervalMs: 200 }),
        ]
      ) {
        const h = createProcessorHost({ broker, log: silentLogger }, topo, { tickMs: 20 });
        await h.start();
        hosts.push(h);
      }
      await sub.start();
      const asset = {
        name,
        assetType: "compute.googleapis.com/Firewall",
        updateTime: new Date().toISOString(),
        ancestors: ["projects/111"],
        resource: {
          location: "global",
          data: {
            name: `e2e-${run}`,
            direction: "INGRESS",
            sourceRanges: ["0.0.0.0/0"],
            allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
          },
        },
      };
      const t0 = performance.now();
      await t.publish({ asset, priorAssetState: "DOES_NOT_EXIST", window: { startTime: asset.updateTime } });
      const [created] = await ws.waitFor((f) => f.type === "resource_created" && f.key === name, 20_000);
      const createdMs = performance.now() - t0;
      const [violated] = await ws.waitFor(
        (f) => f.type === "policy_violated" && f.key === violationKey,
        20_000,
      );
      assert.equal((created.data as { source: string }).source, "feed");
      assert.equal((violated.data as { severity: string }).severity, "high");
      const deletedAt = new Date(Date.now() + 1000).toISOString();
      await t.publish({
        asset: { name, assetType: asset.assetType },
        deleted: true,
        priorAssetState: "PRESENT",
        window: { startTime: deletedAt },
      });
      await ws.waitFor((f) => f.type === "resource_deleted" && f.key === name, 20_000);
      const [resolved] = await ws.waitFor(
        (f) => f.type === "policy_resolved" && f.key === violationKey,
        20_000,
      );
      assert.equal((resolved.data as { resolution: string }).resolution, "asset_deleted");
      console.error(`[e2e] publish → WebSocket resource_created in ${createdMs.toFixed(0)} ms`);
    } finally {
      await ws.close();
      await sub.stop();
      for (const h of hosts.reverse()) await h.stop();
      await gw.stop();
      await t.cleanup();
      await broker.close();
    }
  },
});
