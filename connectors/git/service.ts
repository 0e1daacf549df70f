/**
 * The git-fetch {@link Service}: keeps the Landing Zone's tracked files on `lz.git.files.v1` in step with
 * git. It syncs on every `lz.git.push.v1` record (webhooks and manual triggers arrive there), at start and on
 * a schedule (`layers.git.interval`, 6 h by default: GitHub never retries a failed delivery). The schedule
 * and start-up also go through the push topic, so every sync is serialized by the one consumer group and
 * visible on the same stream. Pushes queued together are coalesced into one fetch. A new consumer group
 * starts at the earliest push (never misses one produced while it joins); a backlog is one batch, one fetch.
 *
 * On start it reads `lz.git.files.v1` to its end to recover the last synced commit and the files the topic
 * holds, so a restart resumes with a tree diff instead of a full resync.
 */
import { join } from "node:path";
import type { Consumer, Producer, TopicSpec } from "../../pipeline/broker/types.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import { parseDuration } from "../../pipeline/config.ts";
import { decode, encode } from "../../pipeline/serde.ts";
import { describeError, ValidationError } from "../../pipeline/errors.ts";
import { bytesToBase64 } from "../../pipeline/base64.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { GIT_FILES_TOPIC, type GitFilesValue } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { SYNC_PROGRESS_TOPIC } from "../../schemas/sync_progress.ts";
import { SYNC_EVENTS_TOPIC } from "../../schemas/sync_events.ts";
import { GIT_SYNCED_TOPIC } from "../../schemas/git_synced.ts";
import { createMatcher, trackedGlobs } from "./glob.ts";
import { openRepo, type RepoSource } from "./repo.ts";
import { GitSyncer, type SyncResult } from "./syncer.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { landingZoneRepo } from "./sample.ts";
import { gitMetrics } from "./metrics.ts";

/** Consumer group of the fetcher (persisted contract). */
export const GIT_FETCH_GROUP = "lzsync-git-fetch";

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

/** Options of {@link createGitFetchService}; defaults come from the config. */
export interface GitFetchOptions {
  /** An already opened repo (tests); default: `landing_zone.repo` or the sample Landing Zone. */
  source?: RepoSource;
  /** Schedule interval in ms (default `layers.git.interval`); 0 disables the schedule. */
  intervalMs?: number;
  /** Produce a `start` push on start (default true). */
  syncOnStart?: boolean;
  groupId?: string;
  onSynced?(result: SyncResult): void;
}

/** The running fetcher. */
export interface GitFetchService extends Service {
  /** The repo's syncer (last marker, tracked paths); valid after start. */
  readonly syncer: GitSyncer;
  /** Asks for a sync now (goes through `lz.git.push.v1`); resolves with its sync id once on the topic. */
  trigger(source?: "trigger" | "schedule", syncId?: string): Promise<string>;
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

/** Creates the git-fetch service. */
export function createGitFetchService(deps: AppDeps, options: GitFetchOptions = {}): GitFetchService {
  const { runtime, broker, clock } = deps;
  const cfg = runtime.config;
  const log = deps.log.child("git.fetch");
  const metrics = gitMetrics(deps.metrics);
  const intervalMs = options.intervalMs ?? parseDuration(cfg.layers.git.interval);
  let source: RepoSource | undefined = options.source;
  let syncer: GitSyncer | undefined;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = false;

  const trigger = async (
    kind: "trigger" | "schedule" | "start" = "trigger",
    syncId: string = crypto.randomUUID(),
  ) => {
    const push = requestPush(syncer!.repo, cfg.landing_zone.branch, kind, syncId, clock.now());
    await producer!.send(GIT_PUSH_TOPIC.name, [{ key: push.repo, value: encode(GIT_PUSH_TOPIC.name, push) }]);
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

  return {
    name: "git-fetch",
    topics: {
      reads: [GIT_PUSH_TOPIC.name, GIT_FILES_TOPIC.name],
      writes: [GIT_FILES_TOPIC.name, GIT_PUSH_TOPIC.name, SYNC_PROGRESS_TOPIC.name, DLQ_TOPIC.name],
    },
    get syncer() {
      if (!syncer) throw new Error("git-fetch service is not started");
      return syncer;
    },
    trigger: (kind = "trigger", syncId) => trigger(kind, syncId),
    async start() {
      if (started) return;
      await broker.admin().createTopics(GIT_TOPICS);
      if (!source) {
        const repo = await landingZoneRepo(cfg);
        source = await openRepo({
          repo,
          mirrorDir: join(cfg.data_dir, "git"),
          token: runtime.secret(cfg.landing_zone.token_env),
          id: cfg.landing_zone.github
            ? `${cfg.landing_zone.github.owner}/${cfg.landing_zone.github.repo}`
            : undefined,
        });
      }
      producer = await broker.producer();
      syncer = new GitSyncer({
        source,
        repoUrl: cfg.landing_zone.repo ?? source.location,
        branch: cfg.landing_zone.branch,
        matcher: createMatcher(trackedGlobs(cfg)),
        inlineMaxBytes: cfg.layers.git.inline_max_bytes,
        producer,
        clock,
        log,
        onSynced: (r) => {
          metrics.syncs.inc({ outcome: r.outcome });
          metrics.files.inc({ op: "changed" }, r.changed);
          metrics.files.inc({ op: "removed" }, r.removed);
          options.onSynced?.(r);
        },
      });
      const s = syncer;
      const restored = await readTopicToEnd(broker, GIT_FILES_TOPIC.name, (r) => {
        try {
          s.restore(r.key, decode<GitFilesValue>(GIT_FILES_TOPIC.name, r.value));
        } catch (err) {
          log.warn("skipping an undecodable lz.git.files.v1 record", {
            offset: r.offset,
            error: describeError(err),
          });
        }
      });
      log.info("git fetch starting", {
        repo: s.repo,
        location: source.location,
        kind: source.kind,
        restored_records: restored,
        last_commit: s.marker?.commit ?? null,
      });
      consumer = broker.consumer({
        groupId: options.groupId ?? GIT_FETCH_GROUP,
        topics: [GIT_PUSH_TOPIC.name],
        fromBeginning: true,
      });
      const c = consumer;
      await c.run({
        eachBatch: async (batch) => {
          const groups = new Map<boolean, GitPush[]>();
          const dlq = [];
          for (const r of batch.records) {
            let push: GitPush | null = null;
            try {
              push = decode<GitPush>(GIT_PUSH_TOPIC.name, r.value);
            } catch (err) {
              const error = describeError(err);
              log.warn("an undecodable lz.git.push.v1 record goes to the DLQ", { offset: r.offset, error });
              dlq.push({
                key: `${batch.topic}/${batch.partition}/${r.offset}`,
                value: encode(DLQ_TOPIC.name, {
                  error,
                  error_code: err instanceof ValidationError ? "VALIDATION" : "DECODE",
                  stage: "git-fetch",
                  attempts: 1,
                  source: { topic: batch.topic, partition: batch.partition, offset: r.offset },
                  original: {
                    key: r.key,
                    value_base64: r.value ? bytesToBase64(r.value) : null,
                    headers: { ...r.headers },
                  },
                  failed_at: new Date(clock.now()).toISOString(),
                }),
              });
            }
            if (!push) continue;
            const accepted = s.accepts(push);
            if (!accepted) {
              metrics.ignored.inc();
              log.info("push is not for the tracked repo/branch; ignored", {
                repo: push.repo,
                ref: push.ref,
                sync_id: push.sync_id,
              });
            }
            groups.set(accepted, [...(groups.get(accepted) ?? []), push]);
          }
          const mine = groups.get(true) ?? [];
          if (mine.length) {
            const t0 = performance.now();
            await s.sync(mine);
            metrics.duration.observe((performance.now() - t0) / 1000);
          }
          // before the commit: a crash in between sends it again, never loses it
          if (dlq.length) await producer!.send(DLQ_TOPIC.name, dlq);
          const last = batch.records[batch.records.length - 1];
          await c.commit([{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
        },
      });
      started = true;
      if (options.syncOnStart ?? true) await trigger("start");
      schedule();
    },
    async stop() {
      started = false;
      clearTimeout(timer);
      await consumer?.stop();
      await producer?.close();
      source?.close();
      consumer = producer = undefined;
    },
  };
}
