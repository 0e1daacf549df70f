/**
 * `deno task lzsync demo-push`: makes a commit in the local Landing Zone (the first-run sample, or a local
 * `landing_zone.repo`) and delivers a signed GitHub `push` webhook for it to the running gateway, so a newcomer
 * watches the commit arrive on the status page. The secret is the one the gateway uses (the environment, or
 * the generated first-run secret in the data dir). It joins two connectors (git for the commit, GitHub for the
 * webhook), so it lives here rather than in either.
 */
import fs from "node:fs";
import git from "isomorphic-git";
import { loadConfig, type Runtime } from "./config.ts";
import { LzError } from "./errors.ts";
import { commandHelp } from "./cli.ts";
import { commitLocal, ensureSampleLandingZone } from "../connectors/git/sample.ts";
import { deriveRepoId } from "../connectors/git/repo.ts";
import { deliverWebhook, pushPayload } from "../connectors/github/deliver.ts";
import { webhookSecrets } from "../connectors/github/secrets.ts";
import { WEBHOOK_PATH } from "../connectors/github/webhook.ts";

/** What {@link demoPush} did. */
export interface DemoPushResult {
  commit: string;
  previous: string;
  deliveryId: string;
  url: string;
  status: number;
  response: Record<string, unknown>;
}

/** Commits to the local Landing Zone and delivers the signed webhook (see the module doc). */
export async function demoPush(
  runtime: Runtime,
  o: { gatewayUrl?: string; message?: string; now?: Date } = {},
): Promise<DemoPushResult> {
  const cfg = runtime.config;
  const repo = cfg.landing_zone.repo;
  if (repo && /^https?:\/\//i.test(repo)) {
    throw new LzError(
      "DEMO",
      `demo-push commits to a local Landing Zone, but landing_zone.repo is a URL (${new URL(repo).host}); ` +
        "push a commit there and let GitHub deliver the webhook, or unset landing_zone.repo to use the sample",
    );
  }
  const dir = repo ?? await ensureSampleLandingZone(cfg.data_dir);
  const previous = await git.resolveRef({ fs, dir, ref: "HEAD" });
  const now = o.now ?? new Date();
  const path = "docs/changelog.md";
  let text = "# Landing Zone changelog\n\n";
  let existed = false;
  try {
    text = await Deno.readTextFile(`${dir}/${path}`);
    existed = true;
  } catch { /* first demo push */ }
  const message = o.message ?? `docs: demo push at ${now.toISOString()}`;
  const commit = await commitLocal(dir, { [path]: `${text}- ${now.toISOString()}: ${message}\n` }, message);
  const host = cfg.gateway.host === "0.0.0.0" || cfg.gateway.host === "::" ? "127.0.0.1" : cfg.gateway.host;
  const base = (o.gatewayUrl ?? cfg.gateway.public_url ?? `http://${host}:${cfg.gateway.port}`).replace(
    /\/+$/,
    "",
  );
  const url = `${base}${WEBHOOK_PATH}`;
  const id = cfg.landing_zone.github
    ? `${cfg.landing_zone.github.owner}/${cfg.landing_zone.github.repo}`
    : deriveRepoId(dir);
  const payload = pushPayload({
    fullName: id,
    cloneUrl: `file://${dir}`,
    ref: `refs/heads/${cfg.landing_zone.branch}`,
    before: previous,
    after: commit,
    commits: [{
      id: commit,
      message,
      timestamp: now.toISOString(),
      [existed ? "modified" : "added"]: [path],
    }],
    pusher: "demo",
  });
  const { secrets } = await webhookSecrets(runtime);
  const deliveryId = crypto.randomUUID();
  let res;
  try {
    res = await deliverWebhook(url, payload, { secret: secrets[0], deliveryId });
  } catch (err) {
    throw new LzError(
      "DEMO",
      `committed ${
        commit.slice(0, 7)
      } but cannot reach the gateway at ${url}; is \`deno task start\` running?`,
      {
        cause: err,
        retriable: true,
      },
    );
  }
  return { commit, previous, deliveryId, url, status: res.status, response: res.body };
}

/** Runs `demo-push [--url http://127.0.0.1:8080] [--message TEXT]`; returns the exit code. */
export async function demoPushCommand(args: string[]): Promise<number> {
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args.includes("--help") || args.includes("-h")) {
    console.log(commandHelp("demo-push"));
    return 0;
  }
  const runtime = await loadConfig();
  const r = await demoPush(runtime, { gatewayUrl: opt("--url"), message: opt("--message") });
  const ok = r.status >= 200 && r.status < 300;
  console.log(
    ok
      ? `committed ${
        r.commit.slice(0, 12)
      } and delivered webhook ${r.deliveryId} to ${r.url}: ${r.status}; watch it on the status page`
      : `committed ${r.commit.slice(0, 12)} but the gateway at ${r.url} answered ${r.status}: ${
        JSON.stringify(r.response)
      }`,
  );
  return ok ? 0 : 1;
}
