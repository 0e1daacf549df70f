/**
 * The git sync layer in the gateway: REST routes over the views of the git and sync topics, and the topics
 * streamed to live clients.
 *
 * - `GET /api/v1/sync/sync-status` — every layer's status (`lz.sync.status.v1`) and the open alerts;
 * - `GET /api/v1/sync/alerts` — open alerts (`?all=1`: resolved too);
 * - `GET /api/v1/sync/git` — the commit this gateway serves (the repo's marker on `lz.git.files.v1`), the
 *   commit the `git-sync` processor materialized (`lz.git.synced.v1`), and the tracked files;
 * - `GET /api/v1/docs/<path>` — one synced file with its commit (`?raw=1`: the bytes), `<path>` relative to
 *   `docs/` (then to the repository root: `/api/v1/docs/pmo.yaml`); a file above the
 *   inline cap is read from the fetcher's git objects when this process can see them;
 * - `POST /api/v1/sync/trigger` (scope `trigger`) — asks for a sync now: `202 {sync_id, status_url,
 *   websocket_url, coalesced}`; progress arrives on `lz.sync.progress.v1` keyed by the sync id. Triggers
 *   coalesce: one run in flight plus one queued — a trigger while this gateway's last requested sync is still
 *   queued gets that sync's id (`coalesced: true`) and asks git for nothing more;
 * - `GET /api/v1/sync/syncs/<sync_id>` — the latest progress of one sync.
 */
import fs from "../../connectors/git/fs.ts";
import { join } from "node:path";
import git from "isomorphic-git";
import type { GatewayContext, GatewayPlugin } from "../../connectors/gateway/plugin.ts";
import { jsonError } from "../../connectors/gateway/json_error.ts";
import { statusAt } from "../../connectors/gateway/status_time.ts";
import { unknownQuery } from "../../connectors/gateway/query.ts";
import { tokenName } from "../../connectors/gateway/auth.ts";
import { encode } from "../../pipeline/serde.ts";
import { base64ToBytes, bytesToBase64 } from "../../pipeline/base64.ts";
import { describeError } from "../../pipeline/errors.ts";
import {
  GIT_FILES_TOPIC,
  type GitCommitMarker,
  type GitFile,
  type GitFilesValue,
} from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC } from "../../schemas/git_push.ts";
import { GIT_SYNCED_TOPIC, type GitSynced } from "../../schemas/git_synced.ts";
import { LAYERS, SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { SYNC_PROGRESS_TOPIC, type SyncProgress } from "../../schemas/sync_progress.ts";
import { SYNC_STATUS_TOPIC, type SyncStatus } from "../../schemas/sync_status.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { trackedGlobs } from "../../connectors/git/glob.ts";
import { deriveRepoId, localGitdir } from "../../connectors/git/repo.ts";
import { sampleRepoPath } from "../../connectors/git/sample.ts";
import { requestPush } from "./service.ts";

const MIME: Record<string, string> = {
  md: "text/markdown; charset=utf-8",
  yaml: "application/yaml; charset=utf-8",
  yml: "application/yaml; charset=utf-8",
  tf: "text/plain; charset=utf-8",
  json: "application/json; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
};

const fileSummary = (f: GitFile) => ({
  path: f.path,
  size: f.size,
  commit: f.commit,
  commit_time: f.commit_time,
  blob_sha: f.blob_sha,
  inline: f.content !== null,
});

/** The git sync gateway plugin. */
export function gitSyncPlugin(): GatewayPlugin {
  return {
    name: "git-sync",
    writes: [GIT_PUSH_TOPIC.name, SYNC_PROGRESS_TOPIC.name],
    compactedTopics: [
      SYNC_STATUS_TOPIC.name,
      ALERTS_TOPIC.name,
      GIT_FILES_TOPIC.name,
      GIT_SYNCED_TOPIC.name,
      SYNC_PROGRESS_TOPIC.name,
    ],
    eventTopics: [GIT_PUSH_TOPIC.name, SYNC_EVENTS_TOPIC.name],
    routes(app, ctx: GatewayContext) {
      const cfg = ctx.deps.runtime.config;
      const read = ctx.requireScope("read");
      const files = () => ctx.view<GitFilesValue>(GIT_FILES_TOPIC.name);
      const markers = () => [...files().values()].filter((v): v is GitCommitMarker => v.kind === "commit");
      const openAlerts = () =>
        [...ctx.view<Alert>(ALERTS_TOPIC.name).values()].filter((a) => a.state === "open")
          .sort((a, b) => a.opened_at.localeCompare(b.opened_at));
      const configuredRepo = cfg.landing_zone.github
        ? `${cfg.landing_zone.github.owner}/${cfg.landing_zone.github.repo}`
        : deriveRepoId(cfg.landing_zone.repo ?? sampleRepoPath(cfg.data_dir));

      app.get("/api/v1/sync/sync-status", read, (c) => {
        const badQuery = unknownQuery(c, []);
        if (badQuery) return badQuery;
        const view = ctx.view<SyncStatus>(SYNC_STATUS_TOPIC.name);
        const now = ctx.deps.clock.now();
        const layers = LAYERS.map((l) => view.get(l)).filter((s): s is SyncStatus => !!s).map((s) =>
          statusAt(s, now)
        );
        return c.json({ layers, alerts: openAlerts() });
      });

      app.get("/api/v1/sync/alerts", read, (c) => {
        const badQuery = unknownQuery(c, ["all"]);
        if (badQuery) return badQuery;
        const all = c.req.query("all") === "1";
        const alerts = all ? [...ctx.view<Alert>(ALERTS_TOPIC.name).values()] : openAlerts();
        return c.json({ alerts });
      });

      app.get("/api/v1/sync/git", read, (c) => {
        const badQuery = unknownQuery(c, []);
        if (badQuery) return badQuery;
        const ms = markers();
        const marker = ms.find((m) => m.repo === configuredRepo) ?? ms[0] ?? null;
        const repo = marker?.repo ?? configuredRepo;
        const synced = ctx.view<GitSynced>(GIT_SYNCED_TOPIC.name).get(repo) ?? null;
        const list = [...files().values()]
          .filter((v): v is GitFile => v.kind === "file" && v.repo === repo)
          .map(fileSummary)
          .sort((a, b) => (a.path < b.path ? -1 : 1));
        return c.json({
          repo,
          branch: marker?.branch ?? cfg.landing_zone.branch,
          commit: marker && marker.commit
            ? {
              sha: marker.commit,
              message: marker.message,
              author: marker.author,
              timestamp: marker.commit_time,
              synced_at: marker.synced_at,
              previous: marker.previous,
              forced: marker.forced,
              changed: marker.changed,
              removed: marker.removed,
              source: marker.source,
              sync_id: marker.sync_id,
            }
            : null,
          materialized: synced,
          tracked_globs: trackedGlobs(cfg),
          files: list,
          repos: ms.map((m) => ({
            repo: m.repo,
            branch: m.branch,
            commit: m.commit,
            synced_at: m.synced_at,
          })),
        });
      });

      app.get("/api/v1/docs/*", read, async (c) => {
        const badQuery = unknownQuery(c, ["repo", "raw"]);
        if (badQuery) return badQuery;
        let path = "";
        try {
          path = decodeURIComponent(c.req.path.slice("/api/v1/docs/".length));
        } catch { /* malformed escape: answered below */ }
        if (!path || path.split("/").some((s) => s === ".." || s === "")) {
          return jsonError(
            c,
            400,
            "bad_request",
            "give a repo-relative file path, e.g. /api/v1/docs/pmo.yaml",
          );
        }
        const repoQ = c.req.query("repo");
        const view = files();
        // `/api/v1/docs/README.md` is docs/README.md; a path outside docs/ (pmo.yaml) and the older
        // doubled form (/api/v1/docs/docs/README.md) still resolve.
        const paths = path.startsWith("docs/") ? [path] : [`docs/${path}`, path];
        const hit = (repoQ ? [repoQ] : [configuredRepo, ...markers().map((m) => m.repo)])
          .flatMap((r) => paths.map((p) => view.get(`${r}:${p}`)))
          .find((v): v is GitFile => v?.kind === "file");
        if (!hit) return jsonError(c, 404, "not_found", `${path} is not a synced tracked file`);
        let content = hit.content;
        let encoding = hit.encoding;
        if (content === null && hit.content_ref) {
          const bytes = await readBlob(ctx, hit);
          if (bytes) {
            content = bytesToBase64(bytes);
            encoding = "base64";
          }
        }
        if (c.req.query("raw") === "1") {
          if (content === null) {
            return jsonError(c, 409, "unavailable", "content is not inline and not readable here", {
              content_ref: hit.content_ref,
            });
          }
          const ext = path.split(".").pop()?.toLowerCase() ?? "";
          const body = encoding === "base64" ? base64ToBytes(content) : content;
          return c.body(body, 200, {
            "content-type": MIME[ext] ?? "application/octet-stream",
            "x-lzsync-commit": hit.commit,
            etag: `"${hit.blob_sha}"`,
          });
        }
        return c.json({ ...hit, content, encoding });
      });

      // Coalescing: one run in flight plus one queued. While the last sync this gateway queued has not been
      // picked up by git-fetch (its progress is still `queued`, or not yet in the view), a trigger joins it.
      // The view trails the topic: a trigger in the moment between git-fetch starting that sync and its
      // `fetching` record reaching this gateway joins a fetch already under way (the webhook or the next
      // trigger brings a commit pushed in that moment).
      let queued: { syncId: string; stored: Promise<boolean> } | null = null;
      const links = (syncId: string, joined: boolean) => ({
        sync_id: syncId,
        status: "queued",
        coalesced: joined,
        status_url: `${ctx.url}/api/v1/sync/syncs/${syncId}`,
        websocket_url: `${ctx.wsUrl}?topic=${SYNC_PROGRESS_TOPIC.name}&key=${syncId}`,
      });
      const request = async (syncId: string, asker: string | null): Promise<boolean> => {
        const now = ctx.deps.clock.now();
        const push = requestPush(configuredRepo, cfg.landing_zone.branch, "trigger", syncId, now);
        if (asker) push.token_name = asker;
        const progress: SyncProgress = {
          sync_id: syncId,
          layer: "git",
          phase: "queued",
          done: false,
          repo: configuredRepo,
          message: "sync requested",
          at: new Date(now).toISOString(),
        };
        try {
          const producer = await ctx.producer();
          await producer.send(SYNC_PROGRESS_TOPIC.name, [{
            key: syncId,
            value: encode(SYNC_PROGRESS_TOPIC.name, progress),
          }]);
          await producer.send(GIT_PUSH_TOPIC.name, [{
            key: push.repo,
            value: encode(GIT_PUSH_TOPIC.name, push),
          }]);
          return true;
        } catch (err) {
          ctx.log.error("cannot request a sync", { error: describeError(err) });
          return false;
        }
      };

      app.post("/api/v1/sync/trigger", ctx.requireScope("trigger"), async (c) => {
        const last = queued;
        const phase = last && ctx.view<SyncProgress>(SYNC_PROGRESS_TOPIC.name).get(last.syncId)?.phase;
        const joined = !!last && (phase === undefined || phase === "queued");
        const mine = joined ? last! : { syncId: crypto.randomUUID(), stored: Promise.resolve(false) };
        if (!joined) {
          mine.stored = request(mine.syncId, tokenName(c));
          queued = mine;
        } else {ctx.log.debug("trigger joined the queued sync", {
            sync_id: mine.syncId,
            token_name: tokenName(c),
          });}
        if (!await mine.stored) {
          if (queued === mine) queued = null;
          return jsonError(c, 503, "unavailable", "the sync request could not be stored on the broker");
        }
        return c.json(links(mine.syncId, joined), 202);
      });

      app.get("/api/v1/sync/syncs/:id", read, (c) => {
        const badQuery = unknownQuery(c, []);
        if (badQuery) return badQuery;
        const p = ctx.view<SyncProgress>(SYNC_PROGRESS_TOPIC.name).get(c.req.param("id"));
        if (!p) return jsonError(c, 404, "not_found", "no sync with this id (yet)");
        return c.json(p);
      });
    },
  };
}

/** Reads a non-inline blob from the fetcher's objects (local repo or mirror) when this process has them. */
async function readBlob(ctx: GatewayContext, f: GitFile): Promise<Uint8Array | null> {
  const cfg = ctx.deps.runtime.config;
  const repo = cfg.landing_zone.repo ?? sampleRepoPath(cfg.data_dir);
  const candidates: string[] = [];
  if (!/^https?:\/\//i.test(repo)) candidates.push(await localGitdir(repo).catch(() => ""));
  candidates.push(join(cfg.data_dir, "git", `${f.repo.replace(/[^A-Za-z0-9._-]+/g, "_")}.git`));
  for (const gitdir of candidates.filter(Boolean)) {
    try {
      const { blob } = await git.readBlob({ fs, gitdir, oid: f.blob_sha });
      return blob;
    } catch { /* not here */ }
  }
  return null;
}
