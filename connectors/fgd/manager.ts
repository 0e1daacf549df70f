/**
 * The FGD service: the registry of fabrics and their workers.
 *
 * Fabrics come from `lzsync.yaml` (`fabrics:`), from `POST /api/v1/fabrics` (persisted on the compacted
 * `lz.fgd.fabrics.v1`, so they survive restarts) and, on a first run with the sample Landing Zone and no
 * fabric configured, the sample fabric `dc1`. Registration creates or repairs the directory layout and
 * ingests what is already there (the registration run).
 *
 * When runs happen (the design): on registration and start; on every record of `lz.git.push.v1` (webhook,
 * manual trigger, the fetcher's schedule) and every commit marker of `lz.git.files.v1` for the fabric's
 * repo — treated as hints, the run fetches git itself and ends at once when the fabric directory's tree is
 * unchanged; on `POST /api/v1/fabrics/:id/sync`; and on a safety-net schedule (`layers.git.interval`).
 * Unregistering removes lzsync's state for the fabric (topics, mirror), never anything in the repo.
 */
import { join } from "node:path";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import type { Producer, Reader } from "../../pipeline/broker/types.ts";
import { parseDuration } from "../../pipeline/config.ts";
import { describeError, LzError, ValidationError } from "../../pipeline/errors.ts";
import { retry } from "../../pipeline/retry.ts";
import { decode, encode } from "../../pipeline/serde.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import { FabricConfig } from "../../schemas/config.ts";
import {
  type FabricObject,
  type FabricRegistration,
  type FabricStatus,
  FGD_FABRICS_TOPIC,
  FGD_OBJECTS_TOPIC,
  FGD_STATUS_TOPIC,
  FGD_TOPICS,
} from "../../schemas/fgd.ts";
import { GIT_FILES_TOPIC, type GitFilesValue } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { repoPathProblem } from "../../pipeline/repo_path.ts";
import { deriveRepoId, normalizeRepoUrl } from "../git/repo.ts";
import { landingZoneRepo } from "../git/sample.ts";
import { requestPush } from "../../features/git_sync/service.ts";
import { defaultFabrics } from "../../pipeline/config_fabrics.ts";
import { type Author, openFabricRepo, scrubGitdirCredentials } from "./git_repo.ts";
import { hasUrlCredentials, stripUrlCredentials } from "../../pipeline/redact.ts";
import { KubeSource } from "./kube_source.ts";
import { checkApiCredentials, tokenEnvFor } from "./credentials.ts";
import { fgdMetrics } from "./metrics.ts";
import { FabricAlerts } from "./alerts.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { FabricWorker, type Progress } from "./worker.ts";

const checkInput = TypeCompiler.Compile(FabricConfig);

/** Retries a broker call that fails retriably (e.g. a fresh Kafka topic without a leader yet), up to ~15 s. */
function retrying<T>(fn: () => Promise<T>): Promise<T> {
  return retry(fn, { retries: 30, initialMs: 50, maxMs: 1000 });
}

/**
 * `reg` without credentials inside its repo / Kubernetes URLs, naming the fields it cleaned in
 * `credential_removed`; `reg` itself when it has none.
 */
export function withoutUrlCredentials(reg: FabricRegistration): FabricRegistration {
  const removed: string[] = [];
  const out: FabricRegistration = { ...reg };
  if (reg.repo && hasUrlCredentials(reg.repo)) {
    out.repo = stripUrlCredentials(reg.repo);
    removed.push("repo");
  }
  if (reg.kubernetes && hasUrlCredentials(reg.kubernetes.api_url)) {
    out.kubernetes = { ...reg.kubernetes, api_url: stripUrlCredentials(reg.kubernetes.api_url) };
    removed.push("kubernetes.api_url");
  }
  if (!removed.length) return reg;
  out.credential_removed = [...new Set([...(reg.credential_removed ?? []), ...removed])];
  return out;
}

/** Options of {@link FabricManager}. */
export interface FabricManagerOptions {
  /** The Landing Zone repo (URL or path) for fabrics without `repo`; default `landing_zone.repo` or the sample. */
  lzRepo?: string;
  /** Safety-net run interval in ms (default `layers.git.interval`); 0 disables it. */
  scheduleMs?: number;
  /** Kubernetes poll interval in ms (default 60 s); 0 disables polling (pollActual still works). */
  kubeIntervalMs?: number;
  /** Listen to git hints on `lz.git.push.v1` / `lz.git.files.v1` (default true). */
  gitHints?: boolean;
  author?: Author;
}

/** The FGD service (see the module doc). */
export class FabricManager implements Service {
  readonly name = "fgd";
  /** Restores its fabrics from its own outputs at start and reads Landing Zone pushes (issue 13: a topology to be). */
  readonly topics = {
    reads: [
      GIT_PUSH_TOPIC.name,
      GIT_FILES_TOPIC.name,
      FGD_FABRICS_TOPIC.name,
      FGD_STATUS_TOPIC.name,
      FGD_OBJECTS_TOPIC.name,
      ALERTS_TOPIC.name,
    ],
    writes: [...FGD_TOPICS.map((t) => t.name), GIT_PUSH_TOPIC.name, ALERTS_TOPIC.name],
  };
  readonly workers = new Map<string, FabricWorker>();
  /** Where progress events go (the gateway plugin sets it to `ctx.publish`). */
  progressSink?: (p: Progress) => void;
  readonly #deps: AppDeps;
  readonly #o: FabricManagerOptions;
  #producer?: Producer;
  #reader?: Reader;
  #timers: ReturnType<typeof setInterval>[] = [];
  #lzRepo = "";
  #started = false;
  readonly #metrics;
  readonly #alerts: FabricAlerts;

  constructor(deps: AppDeps, options: FabricManagerOptions = {}) {
    this.#deps = deps;
    this.#o = options;
    this.#metrics = fgdMetrics(deps.metrics);
    this.#alerts = new FabricAlerts(
      deps.runtime.config.alerts.consecutive_failures,
      () => this.#producerOnce(),
      () => this.#now(),
    );
  }

  get #log() {
    return this.#deps.log.child("fgd");
  }

  #now(): string {
    return new Date(this.#deps.clock.now()).toISOString();
  }

  async #producerOnce(): Promise<Producer> {
    this.#producer ??= await this.#deps.broker.producer();
    return this.#producer;
  }

  async start(): Promise<void> {
    const { broker, runtime } = this.#deps;
    await broker.admin().createTopics(
      [...FGD_TOPICS, GIT_PUSH_TOPIC, GIT_FILES_TOPIC, ALERTS_TOPIC].map((t) => ({
        name: t.name,
        partitions: t.partitions,
        compacted: t.compacted,
      })),
    );
    this.#lzRepo = this.#o.lzRepo ?? await landingZoneRepo(runtime.config);
    const api = new Map<string, FabricRegistration>();
    await retrying(() => {
      api.clear();
      return readTopicToEnd(broker, FGD_FABRICS_TOPIC.name, (r) => {
        if (!r.key) return;
        const v = decode<FabricRegistration>(FGD_FABRICS_TOPIC.name, r.value);
        if (v) api.set(r.key, v);
        else api.delete(r.key);
      });
    });
    for (const [id, reg] of api) {
      const clean = withoutUrlCredentials(reg);
      if (clean === reg) continue;
      // Stored before URLs with credentials were refused: the corrected record replaces it on the compacted
      // topic, and the fabric warns (status.warnings) that it needs a credential reference.
      const p = await this.#producerOnce();
      await retrying(() =>
        p.send(FGD_FABRICS_TOPIC.name, [{ key: id, value: encode(FGD_FABRICS_TOPIC.name, clean) }])
      );
      api.set(id, clean);
      this.#log.warn("fgd removed credentials stored inside a fabric's URL; name a credential instead", {
        fabric: id,
        fields: clean.credential_removed,
      });
    }
    const statuses = new Map<string, FabricStatus>();
    await retrying(() =>
      readTopicToEnd(broker, FGD_STATUS_TOPIC.name, (r) => {
        const v = decode<FabricStatus>(FGD_STATUS_TOPIC.name, r.value);
        if (r.key && v) statuses.set(r.key, v);
        else if (r.key) statuses.delete(r.key);
      })
    );
    const objects = new Map<string, FabricObject>();
    await retrying(() =>
      readTopicToEnd(broker, FGD_OBJECTS_TOPIC.name, (r) => {
        if (!r.key) return;
        const v = decode<FabricObject>(FGD_OBJECTS_TOPIC.name, r.value);
        if (v) objects.set(r.key, v);
        else objects.delete(r.key);
      })
    );
    await retrying(() =>
      readTopicToEnd(broker, ALERTS_TOPIC.name, (r) => {
        const a = decode<Alert>(ALERTS_TOPIC.name, r.value);
        if (a) this.#alerts.restore(a);
      })
    );
    const regs = defaultFabrics(runtime.config, this.#now());
    for (const reg of api.values()) if (!regs.some((r) => r.id === reg.id)) regs.push(reg);
    for (const reg of regs) {
      const w = await this.#open(reg);
      w.restore(null, statuses.get(reg.id));
      for (const o of objects.values()) if (o.fabric === reg.id) w.restore(o);
      w.trigger("start");
    }
    this.#started = true;
    if (this.#o.gitHints !== false) await this.#listen();
    const every = this.#o.scheduleMs ?? parseDuration(runtime.config.layers.git.interval);
    if (every > 0) {
      this.#timers.push(setInterval(() => {
        for (const w of this.workers.values()) w.trigger("schedule");
      }, every));
    }
    const kubeEvery = this.#o.kubeIntervalMs ?? 60_000;
    if (kubeEvery > 0) {
      this.#timers.push(setInterval(() => {
        for (const w of this.workers.values()) w.pollActual().catch(() => {});
      }, kubeEvery));
    }
    this.#log.info("fgd started", { fabrics: [...this.workers.keys()] });
  }

  async #open(reg: FabricRegistration): Promise<FabricWorker> {
    const { runtime } = this.#deps;
    const repoUrl = reg.repo ?? this.#lzRepo;
    const warn = (m: string, f: Record<string, unknown>) => this.#log.warn(m, f);
    const tokenEnv = tokenEnvFor(runtime.config, reg, "repo", repoUrl, warn);
    const kubeEnv = reg.kubernetes
      ? tokenEnvFor(runtime.config, reg, "kubernetes", reg.kubernetes.api_url, warn)
      : undefined;
    const gitdir = join(runtime.config.data_dir, "fgd", `${reg.id}.git`);
    const scrubbed = await scrubGitdirCredentials(gitdir);
    if (scrubbed.length) {
      this.#log.warn("fgd removed credentials stored inside a URL in the fabric's own clone", {
        fabric: reg.id,
        files: scrubbed,
      });
    }
    const repo = await openFabricRepo({
      repo: repoUrl,
      branch: reg.branch,
      gitdir,
      token: tokenEnv ? runtime.secret(tokenEnv) : undefined,
    });
    const kube = reg.kubernetes
      ? new KubeSource({
        apiUrl: reg.kubernetes.api_url,
        token: kubeEnv ? runtime.secret(kubeEnv) : undefined,
      })
      : undefined;
    const w = new FabricWorker({
      reg,
      repo,
      author: this.#o.author ?? { name: "lzsync", email: "lzsync@localhost" },
      producer: () => this.#producerOnce(),
      metrics: this.#metrics,
      log: this.#log.child(reg.id, { fabric: reg.id }),
      now: () => this.#deps.clock.now(),
      kube,
      onProgress: (p) => this.progressSink?.(p),
      onRunEnd: (failed, error) => this.#alerts.run(reg.id, failed, error),
      // A fabric in the Landing Zone repository: lzsync's own commit is synced by the git layer at once.
      onCommitted: reg.repo ? undefined : (commit) => this.#askGitSync(reg.id, commit),
    });
    this.workers.set(reg.id, w);
    return w;
  }

  /** A push hint for the Landing Zone repository (as a manual trigger): the git layer syncs `commit` now. */
  async #askGitSync(fabric: string, commit: string): Promise<void> {
    const cfg = this.#deps.runtime.config;
    const repo = cfg.landing_zone.github
      ? `${cfg.landing_zone.github.owner}/${cfg.landing_zone.github.repo}`
      : deriveRepoId(this.#lzRepo);
    const push = requestPush(
      repo,
      cfg.landing_zone.branch,
      "trigger",
      `fgd-${fabric}-${commit.slice(0, 12)}`,
      this.#deps.clock.now(),
    );
    push.pusher = "lzsync-fgd";
    const p = await this.#producerOnce();
    await p.send(GIT_PUSH_TOPIC.name, [{ key: push.repo, value: encode(GIT_PUSH_TOPIC.name, push) }]);
  }

  /** Fabrics whose repo a git hint is about. */
  #matching(repo: string, cloneUrl?: string): FabricWorker[] {
    return [...this.workers.values()].filter((w) => {
      const url = w.reg.repo ?? this.#lzRepo;
      if (!w.reg.repo) return true;
      if (cloneUrl && normalizeRepoUrl(cloneUrl) === normalizeRepoUrl(url)) return true;
      return deriveRepoId(url) === repo;
    });
  }

  async #listen(): Promise<void> {
    const reader = this.#deps.broker.reader({
      topics: [GIT_PUSH_TOPIC.name, GIT_FILES_TOPIC.name],
      from: "latest",
    });
    this.#reader = reader;
    await reader.run((batch) => {
      for (const r of batch.records) {
        try {
          if (batch.topic === GIT_PUSH_TOPIC.name) {
            const p = decode<GitPush>(GIT_PUSH_TOPIC.name, r.value);
            if (p) { for (const w of this.#matching(p.repo, p.clone_url)) w.trigger(`push ${p.source}`); }
          } else {
            const f = decode<GitFilesValue>(GIT_FILES_TOPIC.name, r.value);
            if (f?.kind === "commit") { for (const w of this.#matching(f.repo)) w.trigger("git sync"); }
          }
        } catch (err) {
          this.#log.warn("fgd ignored an undecodable git hint", {
            topic: batch.topic,
            offset: r.offset,
            error: describeError(err),
          });
        }
      }
      return Promise.resolve();
    });
  }

  /**
   * Registers a fabric from the API: validates, persists, ingests. Throws ValidationError,
   * LzError(INVALID_PATH) for a `path` that is not a clean directory inside the repo, LzError(CONFLICT),
   * LzError(INVALID_CREDENTIAL) for a credential the caller may not name (see `credentials.ts`).
   */
  async register(input: unknown): Promise<{ fabric: FabricRegistration; syncId: string }> {
    if (!this.#started) {
      throw new LzError("NOT_READY", "the FGD service is still starting", { retriable: true });
    }
    checkApiCredentials(this.#deps.runtime.config, input, this.#lzRepo);
    const raw = Value.Default(FabricConfig, structuredClone(input ?? {}));
    if (!checkInput.Check(raw)) {
      const issues = [...checkInput.Errors(raw)].slice(0, 10).map((e) => ({
        path: e.path || "/",
        message: e.message,
      }));
      throw new ValidationError(
        `the fabric is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
        issues,
      );
    }
    const pathProblem = repoPathProblem(raw.path);
    if (pathProblem) {
      throw new LzError("INVALID_PATH", `/path: ${pathProblem}`, { detail: { path: "/path" } });
    }
    if (this.workers.has(raw.id)) throw new LzError("CONFLICT", `fabric ${raw.id} is already registered`);
    const reg: FabricRegistration = { ...raw, source: "api", registered_at: this.#now() };
    const p = await this.#producerOnce();
    await p.send(FGD_FABRICS_TOPIC.name, [{ key: reg.id, value: encode(FGD_FABRICS_TOPIC.name, reg) }]);
    const w = await this.#open(reg);
    const { syncId } = w.trigger("registration");
    return { fabric: reg, syncId };
  }

  /** Removes lzsync's state of a fabric (never the repo). API fabrics only; config ones live in lzsync.yaml. */
  async unregister(id: string): Promise<void> {
    const w = this.workers.get(id);
    if (!w) throw new LzError("NOT_FOUND", `fabric ${id} is not registered`);
    if (w.reg.source !== "api") {
      throw new LzError(
        "CONFLICT",
        `fabric ${id} comes from ${
          w.reg.source === "config" ? "lzsync.yaml" : "the sample"
        }; remove it there`,
      );
    }
    this.workers.delete(id);
    await w.close();
    await this.#alerts.run(id, false, null); // resolves an open FabricFailure alert
    await w.publisher.clear();
    const p = await this.#producerOnce();
    await p.send(FGD_FABRICS_TOPIC.name, [{ key: id, value: null }]);
    await Deno.remove(join(this.#deps.runtime.config.data_dir, "fgd", `${id}.git`), { recursive: true })
      .catch(() => {});
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#reader?.stop();
    this.#reader = undefined;
    for (const w of this.workers.values()) await w.close();
    this.workers.clear();
    await this.#producer?.close();
    this.#producer = undefined;
    this.#started = false;
  }
}
