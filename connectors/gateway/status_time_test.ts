import assert from "node:assert/strict";
import { startTestGateway } from "./testing.ts";
import { gitSyncPlugin } from "../../features/git_sync/plugin.ts";
import { infraGatewayPlugin } from "../../features/infrastructure/plugin.ts";
import { SYNC_STATUS_TOPIC, type SyncStatus } from "../../schemas/sync_status.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";

const stats = { last: null, p95: null, max: null, count: 0 };
const status = (layer: "git" | "api", lastSyncAgoS: number, computedAgoS: number): SyncStatus => ({
  layer,
  status: "ok",
  enabled: true,
  last_sync: new Date(Date.now() - lastSyncAgoS * 1000).toISOString(),
  last_attempt: null,
  last_error: null,
  items_synced: 1,
  items_total: 1,
  errors: 0,
  consecutive_failures: 0,
  next_sync: null,
  freshness_seconds: lastSyncAgoS - computedAgoS,
  latency_seconds: { source_to_materialized: stats, receipt_to_materialized: stats },
  success_rate: 1,
  attempts: 1,
  window: "1h",
  computed_at: new Date(Date.now() - computedAgoS * 1000).toISOString(),
});

Deno.test("sync-status and infrastructure-state answer freshness_seconds at answer time, not at computed_at", async () => {
  const t = await startTestGateway({ plugins: [gitSyncPlugin(), infraGatewayPlugin()] });
  try {
    // Recorded 50 s ago, when the last sync was 10 s old: freshness is 60 s now.
    await t.produce(SYNC_STATUS_TOPIC.name, "git", status("git", 60, 50));
    await t.produce(SYNC_STATUS_TOPIC.name, "api", status("api", 300, 240));
    let git: SyncStatus | undefined;
    await waitFor(async () => {
      const body = await (await fetch(`${t.url}/api/v1/sync/sync-status`)).json();
      git = body.layers.find((l: SyncStatus) => l.layer === "git");
      return !!git && body.layers.length === 2;
    }, "both layers in sync-status");
    assert.ok(Math.abs(git!.freshness_seconds! - 60) <= 2, `freshness ${git!.freshness_seconds}, want ~60`);
    const infra = await (await fetch(`${t.url}/api/v1/sync/infrastructure-state?summary=1`)).json();
    const api = infra.sync.api.freshness_seconds;
    assert.ok(Math.abs(api - 300) <= 2, `api freshness ${api}, want ~300`);
  } finally {
    await t.stop();
  }
});
