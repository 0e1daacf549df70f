import assert from "node:assert/strict";
import { needs, requireKafka } from "../../pipeline/testing/env.ts";
import { createKafkaBroker } from "../../pipeline/broker/kafka/mod.ts";
import { LiveClient } from "../../connectors/gateway/testing.ts";
import { GIT_FILES_TOPIC, type GitCommitMarker } from "../../schemas/git_files.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { STACK_REPO, startGitStack } from "./testing.ts";

Deno.test({
  name:
    "git sync end to end on Kafka: signed webhook → fetch → files → Portal copy → WebSocket, duplicate once",
  ignore: needs("kafka"),
  fn: async () => {
    const broker = await createKafkaBroker({
      brokers: requireKafka().split(","),
      clientId: "lzsync-git-e2e",
    });
    const s = await startGitStack({ broker });
    let ws: LiveClient | undefined;
    try {
      ws = await LiveClient.open(s.gw.wsUrl, { topic: [GIT_FILES_TOPIC.name, GIT_SYNCED_TOPIC.name] });
      await ws.waitFor(
        (f) => f.topic === GIT_SYNCED_TOPIC.name && (f.data as GitSynced)?.commit === s.first,
        30_000,
      );
      const sha = await s.git.commitAndPush(STACK_REPO, { "terraform/net.tf": "# net\n" }, "net");
      const r = await s.deliverPush(sha, { deliveryId: "kafka-d1" });
      assert.equal(r.status, 202);
      const dup = await s.deliverPush(sha, { deliveryId: "kafka-d1" });
      assert.deepEqual([dup.status, dup.body.status], [200, "duplicate"]);
      const [m] = await ws.waitFor(
        (f) =>
          f.topic === GIT_FILES_TOPIC.name && (f.data as GitCommitMarker)?.kind === "commit" &&
          (f.data as GitCommitMarker).commit === sha,
        30_000,
      );
      assert.equal((m.data as GitCommitMarker).changed, 1);
      const [synced] = await ws.waitFor(
        (f) => f.topic === GIT_SYNCED_TOPIC.name && (f.data as GitSynced)?.commit === sha,
        30_000,
      );
      assert.deepEqual([(synced.data as GitSynced).source, (synced.data as GitSynced).consistent], [
        "webhook",
        true,
      ]);
      const file = ws.frames.find((f) => f.key === `${STACK_REPO}:terraform/net.tf` && !f.snapshot);
      assert.ok(file, "the changed file streamed live");
    } finally {
      await ws?.close();
      await s.stop();
      await broker.close();
    }
  },
});
