/**
 * git-fetch for a running pipeline: the `lzsync-git-fetch` topology (`topology.ts`) built for the configured
 * Landing Zone, and the service that asks it for syncs. Every sync goes through `lz.git.push.v1` — webhooks
 * and manual triggers arrive there, and the service adds a `start` push at start and a `schedule` push every
 * `layers.git.interval` (6 h by default: GitHub never retries a failed delivery) — so syncs are serialized
 * by the one consumer group and visible on the same stream.
 *
 * {@link createGitFetch} gives the topology (run by the app's processor host) and the request service;
 * {@link createGitFetchService} runs both in one service with a host of its own (tests, tools).
 */
import { join } from "node:path";
import type { Producer, TopicSpec } from "../../pipeline/broker/types.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { createProcessorHost, type ProcessorHost } from "../../pipeline/processor/host.ts";
import { parseDuration } from "../../pipeline/config.ts";
import { decode, encode } from "../../pipeline/serde.ts";
import { describeError, LzError } from "../../pipeline/errors.ts";
import { crashPoint } from "../../pipeline/crash_point.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import type { Logger } from "../../pipeline/log.ts";
import type { Broker } from "../../pipeline/broker/types.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { GIT_FILES_TOPIC, type GitFilesValue } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { SYNC_PROGRESS_TOPIC, type SyncProgress } from "../../schemas/sync_progress.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { GIT_SYNCED_TOPIC } from "../../schemas/git_synced.ts";
import { createMatcher, trackedGlobs } from "../../connectors/git/glob.ts";
import { deriveRepoId, openRepo, type RepoSource } from "../../connectors/git/repo.ts";
import type { FetchedFile, FetchedHead, SyncResult } from "./syncer.ts";
import { landingZoneRepo, sampleRepoPath } from "../../connectors/git/sample.ts";
import { gitMetrics } from "./metrics.ts";
import {
  GIT_FETCH_APP,
  type GitFetchRun,
  type GitFetchSink,
  gitFetchTopology,
  type LegacyState,
} from "./topology.ts";

/** Consumer group of the fetcher (persisted contract): the topology's app. */
export const GIT_FETCH_GROUP = GIT_FETCH_APP;

/** Topics the git layer owns; created at start if missing. */
export const GIT_TOPICS: TopicSpec[] = [
  GIT_PUSH_TOPIC,
  GIT_FILES_TOPIC,
  GIT_SYNCED_TOPIC,
  SYNC_PROGRESS_TOPIC,
  SYNC_EVENTS_TOPIC,
  DLQ_TOPIC,
]
  .map((t) => ({ name: t.name, partitions: t.partitions, compacted: t.compacted }));

/** Options of {@link createGitFetch}; defaults come from the config. */
export interface GitFetchOptions {
  /** An already opened repo (tests; the caller closes it); default: `landing_zone.repo` or the sample. */
  source?: RepoSource;
  /** Schedule interval in ms (default `layers.git.interval`); 0 disables the schedule. */
  intervalMs?: number;
  /** Produce a `start` push on start (default true). */
  syncOnStart?: boolean;
  /** The topology's app id (default {@link GIT_FETCH_GROUP}). */
  groupId?: string;
  /** Called once a sync's records are on the topics (before its stores' changelog). */
  onSynced?(result: SyncResult): void;
  /** Interval of the punctuation that syncs pushes that waited (default 50 ms). */
  tickMs?: number;
}

/** The service that asks git-fetch for syncs (start, schedule, manual). */
export interface GitFetchRequests extends Service {
  /** Asks for a sync now (goes through `lz.git.push.v1`); resolves with its sync id once on the topic. */
  trigger(source?: "trigger" | "schedule" | "start", syncId?: string): Promise<string>;
}

/** The running fetcher of {@link createGitFetchService}. */
export interface GitFetchService extends GitFetchRequests {
  /** The repo id and the tracked paths in the running task's `files` store. */
  readonly syncer: { readonly repo: string; readonly paths: string[] };
  readonly host: ProcessorHost;
}

/** A push record that asks for a sync without a webhook (schedule, start, manual trigger). */
export function requestPush(
  repo: string,
  branch: string,
  source: "schedule" | "start" | "trigger",
  syncId: string,
  now: number,
): GitPush {
  return {
    repo,
    ref: `refs/heads/${branch}`,
    before: null,
    after: null,
    forced: false,
    created: false,
    deleted: false,
    commit_count: 0,
    head_commit: null,
    paths: { added: [], modified: [], removed: [], truncated: true, from: "none" },
    delivery_id: null,
    received_at: new Date(now).toISOString(),
    source,
    sync_id: syncId,
  };
}

/** The repo id the fetcher keys records with: GitHub `owner/name`, else derived from the repo URL or path. */
export function landingZoneRepoId(cfg: AppDeps["runtime"]["config"]): string {
  return cfg.landing_zone.github
    ? `${cfg.landing_zone.github.owner}/${cfg.landing_zone.github.repo}`
    : deriveRepoId(cfg.landing_zone.repo ?? sampleRepoPath(cfg.data_dir));
}

/**
 * The topology's sink: live progress on its own producer (opened on first use), finished syncs reported
 * once the checkpoint's outputs are acknowledged — metrics, `onSynced`, and the crash point
 * `git-sync:after-produce` (a sync's records are on the topic; its stores and the push offset are not).
 */
class FetchSink implements GitFetchSink {
  readonly name = "git-fetch progress";
  #broker: Broker;
  #log: Logger;
  #report: (r: SyncResult, seconds: number) => void;
  #producer: Promise<Producer> | null = null;
  #chain: Promise<void> = Promise.resolve();
  #finished: [SyncResult, number][] = [];

  constructor(broker: Broker, log: Logger, report: (r: SyncResult, seconds: number) => void) {
    this.#broker = broker;
    this.#log = log;
    this.#report = report;
  }

  get waiting(): boolean {
    return this.#finished.length > 0;
  }

  progress(records: SyncProgress[]): void {
    const recs = records.map((v) => ({ key: v.sync_id, value: encode(SYNC_PROGRESS_TOPIC.name, v) }));
    this.#chain = this.#chain.then(async () => {
      try {
        this.#producer ??= this.#broker.producer();
        await (await this.#producer).send(SYNC_PROGRESS_TOPIC.name, recs);
      } catch (err) {
        this.#producer = null;
        this.#log.warn("cannot produce sync progress", { error: describeError(err) });
      }
    });
  }

  finished(result: SyncResult, seconds: number): void {
    this.#finished.push([result, seconds]);
  }

  flush(): Promise<void> {
    return this.#chain;
  }

  produced(): void {
    for (const [r, seconds] of this.#finished.splice(0)) {
      if (r.outcome === "synced" && r.changed + r.removed > 0) crashPoint("git-sync:after-produce");
      this.#report(r, seconds);
    }
  }

  /** Waits for queued progress and closes the producer; syncs whose records were never produced are dropped. */
  async close(): Promise<void> {
    this.#finished = [];
    await this.#chain;
    const p = this.#producer;
    this.#producer = null;
    if (p) await (await p).close().catch(() => {});
  }
}

/**
 * What the hand-written service left, for a task that starts with empty stores: the files and last marker
 * of `repo` on `lz.git.files.v1`, when `app` has committed push offsets past the earliest one (the service
 * ran; a fresh install and `replay --to earliest` have none), else null.
 */
async function legacyState(
  broker: Broker,
  app: string,
  repo: string,
  log: Logger,
): Promise<LegacyState | null> {
  const admin = broker.admin();
  const [committed, offsets] = await Promise.all([
    admin.fetchCommitted(app, [GIT_PUSH_TOPIC.name]),
    admin.topicOffsets(GIT_PUSH_TOPIC.name),
  ]);
  const low = (p: number) => offsets.find((o) => o.partition === p)?.low ?? 0;
  if (!committed.some((c) => c.topic === GIT_PUSH_TOPIC.name && c.offset > low(c.partition))) return null;
  const files = new Map<string, FetchedFile>();
  let head: FetchedHead | null = null;
  const prefix = `${repo}:`;
  await readTopicToEnd(broker, GIT_FILES_TOPIC.name, (r) => {
    let v: GitFilesValue | null;
    try {
      v = decode<GitFilesValue>(GIT_FILES_TOPIC.name, r.value);
    } catch (err) {
      log.warn("skipping an undecodable lz.git.files.v1 record", {
        offset: r.offset,
        error: describeError(err),
      });
      return;
    }
    if (v === null) {
      if (r.key?.startsWith(prefix)) files.delete(r.key.slice(prefix.length));
    } else if (v.repo === repo) {
      if (v.kind === "commit") head = { branch: v.branch, commit: v.commit };
      else files.set(v.path, { blob_sha: v.blob_sha, commit: v.commit });
    }
  });
  return files.size === 0 && head === null ? null : { files, head };
}

/** Builds the git-fetch topology and its request service from the config (nothing is opened yet). */
export function createGitFetch(
  deps: AppDeps,
  options: GitFetchOptions = {},
): { topology: Topology<GitPush>; requests: GitFetchRequests; paths(): string[]; repo: string } {
  const { runtime, broker, clock } = deps;
  const cfg = runtime.config;
  const log = deps.log.child("git.fetch");
  const metrics = gitMetrics(deps.metrics);
  const intervalMs = options.intervalMs ?? parseDuration(cfg.layers.git.interval);
  const repo = options.source?.id ?? landingZoneRepoId(cfg);
  let source: RepoSource | undefined = options.source;
  let opening: Promise<RepoSource> | null = null;
  let paths: () => string[] = () => [];

  const open = async (): Promise<RepoSource> => {
    if (source) return source;
    opening ??= (async () => {
      const s = await openRepo({
        repo: await landingZoneRepo(cfg),
        mirrorDir: join(cfg.data_dir, "git"),
        token: runtime.secret(cfg.landing_zone.token_env),
        id: repo,
      });
      log.info("git fetch opened the Landing Zone", { repo, location: s.location, kind: s.kind });
      return s;
    })();
    try {
      source = await opening;
    } finally {
      opening = null;
    }
    return source;
  };

  const sink = new FetchSink(broker, log, (r, seconds) => {
    metrics.syncs.inc({ outcome: r.outcome });
    metrics.files.inc({ op: "changed" }, r.changed);
    metrics.files.inc({ op: "removed" }, r.removed);
    metrics.duration.observe(seconds);
    options.onSynced?.(r);
  });

  const run: GitFetchRun = {
    repo,
    repoUrl: cfg.landing_zone.repo ?? sampleRepoPath(cfg.data_dir),
    branch: cfg.landing_zone.branch,
    matcher: createMatcher(trackedGlobs(cfg)),
    inlineMaxBytes: cfg.layers.git.inline_max_bytes,
    open,
    async close() {
      await sink.close();
      if (!options.source) {
        source?.close();
        source = undefined;
      }
    },
    sink,
    legacy: (app) => legacyState(broker, app, repo, log),
    tickMs: options.tickMs ?? 50,
    onIgnored: () => metrics.ignored.inc(),
    attach: (p) => (paths = p),
  };
  const topology = gitFetchTopology(run, options.groupId ?? GIT_FETCH_APP);

  let producer: Producer | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = false;
  const trigger = async (
    kind: "trigger" | "schedule" | "start" = "trigger",
    syncId: string = crypto.randomUUID(),
  ) => {
    if (!producer) throw new LzError("NOT_RUNNING", "git-fetch is not started");
    const push = requestPush(repo, cfg.landing_zone.branch, kind, syncId, clock.now());
    await producer.send(GIT_PUSH_TOPIC.name, [{ key: push.repo, value: encode(GIT_PUSH_TOPIC.name, push) }]);
    return syncId;
  };
  const schedule = () => {
    if (!intervalMs) return;
    timer = setTimeout(async () => {
      try {
        await trigger("schedule");
      } catch (err) {
        log.warn("cannot request the scheduled sync", { error: describeError(err) });
      }
      if (started) schedule();
    }, intervalMs);
  };
  const requests: GitFetchRequests = {
    name: "git-fetch",
    topics: { reads: [], writes: [GIT_PUSH_TOPIC.name] },
    trigger: (kind = "trigger", syncId) => trigger(kind, syncId),
    async start() {
      if (started) return;
      producer = await broker.producer();
      started = true;
      if (options.syncOnStart ?? true) await trigger("start");
      schedule();
    },
    async stop() {
      started = false;
      clearTimeout(timer);
      await producer?.close();
      producer = undefined;
    },
  };
  return { topology, requests, paths: () => paths(), repo };
}

/** The topology and its request service in one service, with a processor host of its own. */
export function createGitFetchService(deps: AppDeps, options: GitFetchOptions = {}): GitFetchService {
  const f = createGitFetch(deps, options);
  const host = createProcessorHost(
    { broker: deps.broker, log: deps.log, metrics: deps.metrics, clock: deps.clock },
    f.topology as Topology,
    { tickMs: 50, retries: deps.runtime.config.processors.retries },
  );
  return {
    name: "git-fetch",
    topics: f.requests.topics,
    host,
    syncer: {
      repo: f.repo,
      get paths() {
        return f.paths();
      },
    },
    trigger: f.requests.trigger,
    async start() {
      await deps.broker.admin().createTopics(GIT_TOPICS);
      await host.start();
      await f.requests.start();
    },
    async stop() {
      await f.requests.stop();
      await host.stop();
    },
  };
}
