/**
 * The whole git sync layer on real components, for integration tests, the browser test and the bench: a
 * git smart-HTTP server with a Landing Zone repo, the gateway (git-sync + GitHub webhook plugins) on a
 * given broker (default: embedded), the git fetcher, and the `git-sync` and `sync-status` processors in
 * processor hosts.
 *
 * ```ts
 * const s = await startGitStack();
 * const sha = await s.git.commitAndPush("acme/lz", { "docs/x.md": "x" }, "x");
 * await s.deliverPush(sha);     // signed webhook → 202
 * ... watch s.gw.wsUrl ...
 * await s.stop();
 * ```
 */
import type { Broker } from "../../pipeline/broker/types.ts";
import { createProcessorHost, type ProcessorHost } from "../../pipeline/processor/host.ts";
import { type GitServer, startGitServer } from "../../pipeline/testing/git_server.ts";
import { startTestGateway, type TestGateway } from "../../connectors/gateway/testing.ts";
import type { GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import { gitSyncTopology } from "../../processors/git_sync/mod.ts";
import { syncStatusOptions, syncStatusTopology } from "../../processors/sync_status/mod.ts";
import { githubWebhookPlugin, WEBHOOK_PATH } from "../../connectors/github/webhook.ts";
import { deliverWebhook, pushPayload } from "../../connectors/github/deliver.ts";
import { gitSyncPlugin } from "./plugin.ts";
import { createGitFetchService, type GitFetchService } from "./service.ts";
import type { SyncResult } from "./syncer.ts";

/** The webhook secret of the stack. */
export const STACK_SECRET = "stack-webhook-secret";
/** The repo of the stack on its git server. */
export const STACK_REPO = "acme/landing-zone";

/** Files of the stack's initial commit. */
export const STACK_FILES: Record<string, string> = {
  "docs/index.md": "# Landing Zone\n",
  "docs/networking.md": "# Networking\n",
  "pmo.yaml": "required_labels: [owner, cost-center]\nallowed_regions: [europe-west1]\n",
  "ENFORCEMENT_GATES.md": "# Gates\n",
  "RUNBOOKS.md": "# Runbooks\n",
  "terraform/main.tf": 'resource "google_project" "p" {}\n',
  "fabrics/dc1/raw/.gitkeep": "",
  "README.md": "not tracked\n",
};

/** A running stack. */
export interface GitStack {
  git: GitServer;
  gw: TestGateway;
  fetcher: GitFetchService;
  hosts: ProcessorHost[];
  /** The initial commit. */
  first: string;
  /** Delivers a signed GitHub push webhook for `after` (before = the previous delivered head). */
  deliverPush(
    after: string,
    o?: { deliveryId?: string; paths?: string[] },
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Syncs finished by the fetcher so far. */
  syncs: SyncResult[];
  stop(): Promise<void>;
}

/**
 * Starts the stack; `broker` is not closed by `stop()` when given; `token` becomes the admin `LZSYNC_TOKEN`;
 * `plugins` are served next to the git ones; `env` adds variables (e.g. for `gateway.tokens`).
 */
export async function startGitStack(
  o: {
    broker?: Broker;
    config?: Record<string, unknown>;
    token?: string;
    plugins?: GatewayPlugin[];
    env?: Record<string, string>;
  } = {},
): Promise<GitStack> {
  const git = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-stack-" });
  const stops: (() => Promise<unknown>)[] = [
    () => git.stop(),
    () => Deno.remove(dataDir, { recursive: true }),
  ];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const first = await git.createRepo(STACK_REPO, STACK_FILES);
    const gw = await startTestGateway({
      broker: o.broker,
      plugins: [gitSyncPlugin(), githubWebhookPlugin(), ...(o.plugins ?? [])],
      env: { GITHUB_WEBHOOK_SECRET: STACK_SECRET, ...(o.token ? { LZSYNC_TOKEN: o.token } : {}), ...o.env },
      config: {
        data_dir: dataDir,
        landing_zone: { repo: git.url(STACK_REPO) },
        fabrics: [{ id: "dc1", path: "fabrics/dc1" }],
        ...(o.config ?? {}),
      },
    });
    stops.push(() => gw.stop());
    const hostDeps = { broker: gw.broker, log: gw.deps.log, clock: gw.deps.clock };
    const hosts = [
      createProcessorHost(hostDeps, gitSyncTopology(), { tickMs: 50 }),
      createProcessorHost(
        hostDeps,
        syncStatusTopology(syncStatusOptions(gw.deps.runtime.config, { tickMs: 1000 })),
        {
          tickMs: 50,
        },
      ),
    ];
    for (const h of hosts) {
      await h.start();
      stops.push(() => h.stop());
    }
    const syncs: SyncResult[] = [];
    const fetcher = createGitFetchService(gw.deps, { intervalMs: 0, onSynced: (r) => syncs.push(r) });
    await fetcher.start();
    stops.push(() => fetcher.stop());
    let head = first;
    return {
      git,
      gw,
      fetcher,
      hosts,
      first,
      syncs,
      async deliverPush(after, d = {}) {
        const before = head;
        head = after;
        return await deliverWebhook(
          `${gw.url}${WEBHOOK_PATH}`,
          pushPayload({
            fullName: STACK_REPO,
            cloneUrl: git.url(STACK_REPO),
            before,
            after,
            commits: [{ id: after, message: "change", modified: d.paths ?? [] }],
          }),
          { secret: STACK_SECRET, deliveryId: d.deliveryId },
        );
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
