/**
 * Git sync (sync layers 1 and 2) as a feature: the fetcher that keeps `lz.git.files.v1` in step with the
 * Landing Zone (the `lzsync-git-fetch` topology, `topology.ts` over `syncer.ts`, and the service that requests
 * its start-up and scheduled syncs, `service.ts`), its gateway plugin, and {@link gitSyncFeature}, which
 * bundles everything the layer runs (fetcher, `git-sync` and `sync-status` processors, the commit-status and
 * alert notifiers — topologies too, with the DLQ —, GitHub webhook, gateway routes) for `pipeline/features.ts`.
 * Reading and writing git repositories (isomorphic-git, the git CLI, the sample Landing Zone) is the adapter
 * in `connectors/git/`.
 */
import type { AppDeps, Service } from "../../pipeline/service.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import type { Feature, FeatureParts } from "../../pipeline/feature.ts";
import { ALERTS_NOTIFIED_TOPIC, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { GIT_FILES_TOPIC } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC } from "../../schemas/git_push.ts";
import { GIT_SYNCED_TOPIC } from "../../schemas/git_synced.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { SYNC_PROGRESS_TOPIC } from "../../schemas/sync_progress.ts";
import { SYNC_STATUS_TOPIC } from "../../schemas/sync_status.ts";
import type { GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import { gitSyncTopology } from "../../processors/git_sync/mod.ts";
import { syncStatusOptions, syncStatusTopology } from "../../processors/sync_status/mod.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { githubWebhookPlugin } from "../../connectors/github/webhook.ts";
import { commitStatusTopology, createCommitStatusNotifier } from "../../connectors/github/status_notifier.ts";
import { alertNotifierTopology, createAlertNotifier } from "../../connectors/slack/notifier.ts";
import { createGitFetch } from "./service.ts";
import { gitFetchTopology } from "./topology.ts";
import { gitSyncPlugin } from "./plugin.ts";

export {
  createGitFetch,
  createGitFetchService,
  GIT_FETCH_GROUP,
  GIT_TOPICS,
  type GitFetchRequests,
  type GitFetchService,
  requestPush,
} from "./service.ts";
export { GIT_FETCH_APP, gitFetchTopology } from "./topology.ts";
export { gitSyncPlugin } from "./plugin.ts";
export { GitSyncer, type SyncResult } from "./syncer.ts";

/**
 * The topologies of the layer (no deps needed: for describe/replay/digest), the two notifiers included: they
 * are declared here even when not configured, so `replay` and `lag` know their groups.
 */
export function gitSyncTopologies(config = resolveConfig({}).config): Topology[] {
  return [
    gitFetchTopology() as Topology,
    gitSyncTopology() as Topology,
    syncStatusTopology(syncStatusOptions(config)) as Topology,
    commitStatusTopology() as Topology,
    alertNotifierTopology() as Topology,
  ];
}

/**
 * Builds the layer from the app's deps: the fetcher topology and its request service (when
 * `layers.git.enabled`), the commit-status and alert notifier topologies (when configured), both processors,
 * and the gateway plugins (webhook route when `layers.webhook.enabled`).
 */
export function buildGitSync(deps: AppDeps): FeatureParts {
  const cfg = deps.runtime.config;
  const services: Service[] = [];
  const topologies: Topology[] = [];
  if (cfg.layers.git.enabled) {
    const fetch = createGitFetch(deps);
    topologies.push(fetch.topology as Topology);
    services.push(fetch.requests);
  }
  topologies.push(
    gitSyncTopology() as Topology,
    syncStatusTopology(syncStatusOptions(cfg)) as Topology,
  );
  const status = createCommitStatusNotifier(deps);
  if (status) topologies.push(status as Topology);
  const alerts = createAlertNotifier(deps);
  if (alerts) topologies.push(alerts as Topology);
  const plugins: GatewayPlugin[] = [gitSyncPlugin()];
  if (cfg.layers.webhook.enabled) plugins.push(githubWebhookPlugin());
  return { name: "git-sync", topologies, services, plugins };
}

/**
 * Git sync as a pipeline feature. It owns the Landing Zone's topics and the sync status ones: every layer
 * reports on `lz.sync.events.v1`, and this feature's `lzsync-sync-status` turns them into status and alerts.
 */
export const gitSyncFeature: Feature = {
  name: "git-sync",
  topics: [
    GIT_PUSH_TOPIC,
    GIT_FILES_TOPIC,
    GIT_SYNCED_TOPIC,
    SYNC_PROGRESS_TOPIC,
    SYNC_EVENTS_TOPIC,
    SYNC_STATUS_TOPIC,
    ALERTS_TOPIC,
    ALERTS_NOTIFIED_TOPIC,
  ],
  topologies: () => gitSyncTopologies(),
  build: (deps) => buildGitSync(deps),
};
