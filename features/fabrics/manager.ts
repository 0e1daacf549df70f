/**
 * The FGD service: the `lzsync-fgd` topology (`topology.ts`) run by a processor host of its own, and the
 * requests of the fabrics API, which go through `lz.fgd.commands.v1`.
 *
 * Fabrics come from `lzsync.yaml` (`fabrics:`), from `POST /api/v1/fabrics` (the topology's `fabrics`
 * store, mirrored on the compacted `lz.fgd.fabrics.v1`) and, on a first run with the sample Landing Zone
 * and no fabric configured, the sample fabric `dc1`. Registration creates or repairs the directory layout
 * and ingests what is already there (the registration run).
 *
 * When runs happen (the design): on registration and start; on every record of `lz.git.push.v1` (webhook,
 * manual trigger, the fetcher's schedule) and every commit marker of `lz.git.files.v1` for the fabric's
 * repo — treated as hints, the run fetches git itself and ends at once when the fabric directory's tree is
 * unchanged; on `POST /api/v1/fabrics/:id/sync`; and on a safety-net schedule (`layers.git.interval`).
 * Unregistering removes lzsync's state for the fabric (topics, mirror), never anything in the repo.
 *
 * A request is checked here first (what needs no state: the schema, the path, the credentials it names),
 * so a bad one is answered at once and never reaches the topic; then its command is produced and the
 * caller waits for the topology's answer ({@link FgdReplies}). The answers reach callers in this process
 * only: the plugin's write routes must be served by the process that runs the service.
 */
import { join } from "node:path";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import type { Broker, Producer } from "../../pipeline/broker/types.ts";
import { parseDuration } from "../../pipeline/config.ts";
import { describeError, LzError, ValidationError } from "../../pipeline/errors.ts";
import type { Logger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import type { AppDeps, Service } from "../../pipeline/service.ts";
import { createProcessorHost, type ProcessorHost } from "../../pipeline/processor/host.ts";
import { FabricConfig } from "../../schemas/config.ts";
import {
  type FabricRegistration,
  type FabricStatus,
  FGD_COMMANDS_TOPIC,
  FGD_STATUS_TOPIC,
  FGD_TOPICS,
  type FgdCommand,
  type RunSummary,
} from "../../schemas/fgd.ts";
import { GIT_FILES_TOPIC } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC } from "../../schemas/git_push.ts";
import { ALERTS_TOPIC } from "../../schemas/alerts.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { repoPathProblem } from "../../pipeline/repo_path.ts";
import { deriveRepoId } from "../../connectors/git/repo.ts";
import { landingZoneRepo, sampleRepoPath } from "../../connectors/git/sample.ts";
import { requestPush } from "../git_sync/service.ts";
import { defaultFabrics } from "../../pipeline/config_fabrics.ts";
import { type Author, openFabricRepo, scrubGitdirCredentials } from "../../connectors/git/git_repo.ts";
import { KubeSource } from "../../connectors/kubernetes/kube_source.ts";
import { checkApiCredentials, tokenEnvFor } from "./credentials.ts";
import { fgdMetrics } from "./metrics.ts";
import { FabricWorker, type Progress, type WorkerRequests } from "./worker.ts";
import type { EditRequest, EditResponse } from "./worker_edit.ts";
import {
  FGD_APP,
  type FgdAnswer,
  type FgdRun,
  type FgdSink,
  fgdTopology,
  type WorkerHooks,
} from "./topology.ts";

export { withoutUrlCredentials } from "./registration.ts";

const checkInput = TypeCompiler.Compile(FabricConfig);

/** A promise with its resolvers. */
function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void, reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/**
 * The topology's sink: callers waiting for their command's answer or their run, told once the checkpoint's
 * outputs are acknowledged; the live status of running fabrics, produced at once on a producer of its own.
 */
export class FgdReplies implements FgdSink {
  readonly name = "fgd answers";
  readonly #broker: Broker;
  readonly #log: Logger;
  readonly #waiting = new Map<string, ReturnType<typeof deferred<FgdAnswer>>>();
  readonly #runs = new Map<string, ReturnType<typeof deferred<RunSummary>>>();
  #answers: [string, FgdAnswer][] = [];
  #ran: [readonly string[], RunSummary | Error][] = [];
  #producer: Promise<Producer> | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(broker: Broker, log: Logger) {
    this.#broker = broker;
    this.#log = log;
  }

  /** Waits for the answer to `requestId` (call before producing the command). */
  expect(requestId: string): Promise<FgdAnswer> {
    const d = deferred<FgdAnswer>();
    this.#waiting.set(requestId, d);
    return d.promise;
  }

  /** Forgets a caller whose command could not be produced. */
  forget(requestId: string): void {
    this.#waiting.delete(requestId);
  }

  /** Waits for the run named by `syncId` (joined runs resolve every sync id that asked). */
  expectRun(syncId: string): Promise<RunSummary> {
    const d = this.#runs.get(syncId) ?? deferred<RunSummary>();
    this.#runs.set(syncId, d);
    return d.promise;
  }

  /** Forgets the waiters of a run that will not happen. */
  dropRun(syncId: string): void {
    this.#runs.delete(syncId);
  }

  waiting(requestId: string): boolean {
    return this.#waiting.has(requestId);
  }

  reply(requestId: string, answer: FgdAnswer): void {
    if (this.#waiting.has(requestId)) this.#answers.push([requestId, answer]);
  }

  ran(syncIds: readonly string[], result: RunSummary | Error): void {
    if (syncIds.some((id) => this.#runs.has(id))) this.#ran.push([syncIds, result]);
  }

  live(status: FabricStatus): void {
    const rec = { key: status.id, value: encode(FGD_STATUS_TOPIC.name, status) };
    this.#chain = this.#chain.then(async () => {
      try {
        this.#producer ??= this.#broker.producer();
        await (await this.#producer).send(FGD_STATUS_TOPIC.name, [rec]);
      } catch (err) {
        this.#producer = null;
        this.#log.warn("fgd status not published", { fabric: status.id, error: describeError(err) });
      }
    });
  }

  flush(): Promise<void> {
    return this.#chain;
  }

  produced(): void {
    for (const [id, answer] of this.#answers.splice(0)) {
      this.#waiting.get(id)?.resolve(answer);
      this.#waiting.delete(id);
    }
    for (const [ids, result] of this.#ran.splice(0)) {
      for (const id of ids) {
        const d = this.#runs.get(id);
        if (!d) continue;
        this.#runs.delete(id);
        if (result instanceof Error) d.reject(result);
        else d.resolve(result);
      }
    }
  }

  /** Fails every waiting caller (the service stops) and closes the producer. */
  async close(): Promise<void> {
    const stopped = new LzError("NOT_RUNNING", "the FGD service stopped", { retriable: true });
    for (const d of this.#waiting.values()) {
      d.resolve({ ok: false, code: "NOT_RUNNING", message: stopped.message });
    }
    for (const d of this.#runs.values()) d.reject(stopped);
    this.#waiting.clear();
    this.#runs.clear();
    this.#answers = [];
    this.#ran = [];
    await this.#chain;
    const p = this.#producer;
    this.#producer = null;
    if (p) await (await p).close().catch(() => {});
  }
}

/** Options of {@link FabricManager}. */
export interface FabricManagerOptions {
  /** The Landing Zone repo (URL or path) for fabrics without `repo`; default `landing_zone.repo` or the sample. */
  lzRepo?: string;
  /** Safety-net run interval in ms (default `layers.git.interval`); 0 disables it. */
  scheduleMs?: number;
  /** Kubernetes poll interval in ms (default 60 s); 0 disables polling (pollActual still works). */
  kubeIntervalMs?: number;
  /** React to git hints on `lz.git.push.v1` / `lz.git.files.v1` (default true). */
  gitHints?: boolean;
  author?: Author;
  /** The topology's app id (default {@link FGD_APP}; tests). */
  app?: string;
  /** How long `start()` waits for the topology's task to be ready (default 120 s). */
  readyTimeoutMs?: number;
}

/** Topics the service creates at start (the topology's inputs and outputs). */
const FGD_SERVICE_TOPICS = [...FGD_TOPICS, GIT_PUSH_TOPIC, GIT_FILES_TOPIC, ALERTS_TOPIC, DLQ_TOPIC];

/** The FGD service (see the module doc). */
export class FabricManager implements Service {
  readonly name = "fgd";
  /** What the service itself produces: the API's commands (the topology declares the rest). */
  readonly topics = { reads: [], writes: [FGD_COMMANDS_TOPIC.name] };
  /** Progress events go here (the gateway plugin sets it to `ctx.publish`). */
  progressSink?: (p: Progress) => void;
  readonly #deps: AppDeps;
  readonly #o: FabricManagerOptions;
  readonly #metrics;
  readonly #replies: FgdReplies;
  readonly #topology;
  #workers: ReadonlyMap<string, FabricWorker> = new Map();
  #ready: ReturnType<typeof deferred<void>> | null = null;
  #host?: ProcessorHost;
  #producer?: Producer;
  #lzRepo = "";
  #started = false;
  /** Per fabric, the run asked for through {@link WorkerRequests.trigger} and not started yet. */
  readonly #queued = new Map<string, { syncId: string; done: Promise<RunSummary> }>();

  constructor(deps: AppDeps, options: FabricManagerOptions = {}) {
    this.#deps = deps;
    this.#o = options;
    this.#metrics = fgdMetrics(deps.metrics);
    this.#replies = new FgdReplies(deps.broker, this.#log);
    this.#topology = fgdTopology(this.#run(), options.app ?? FGD_APP);
  }

  /** The fabrics of the running task, by id. */
  get workers(): ReadonlyMap<string, FabricWorker> {
    return this.#workers;
  }

  /** The topology this service runs (for tests and `describe`). */
  get topology() {
    return this.#topology;
  }

  get #log() {
    return this.#deps.log.child("fgd");
  }

  #now(): string {
    return new Date(this.#deps.clock.now()).toISOString();
  }

  #run(): FgdRun {
    const deps = this.#deps;
    const cfg = deps.runtime.config;
    const lz = () => this.#lz();
    return {
      get lzRepo() {
        return lz();
      },
      configFabrics: () => defaultFabrics(cfg, this.#now()),
      open: (reg, hooks) => this.#open(reg, hooks),
      remove: (id) =>
        Deno.remove(join(cfg.data_dir, "fgd", `${id}.git`), { recursive: true }).catch(() => {}),
      gitSyncPush: (fabric, commit) => this.#gitSyncPush(fabric, commit),
      sink: this.#replies,
      legacy: async (app) => {
        const admin = deps.broker.admin();
        const inputs = [FGD_COMMANDS_TOPIC.name, GIT_PUSH_TOPIC.name, GIT_FILES_TOPIC.name];
        return (await admin.fetchCommitted(app, inputs)).length === 0;
      },
      gitHints: this.#o.gitHints !== false,
      scheduleMs: this.#o.scheduleMs ?? parseDuration(cfg.layers.git.interval),
      kubeIntervalMs: this.#o.kubeIntervalMs ?? 60_000,
      // a finished run is settled (its records produced, its callers answered) at the next punctuation
      tickMs: 20,
      alertThreshold: cfg.alerts.consecutive_failures,
      syncId: (fabric) => `fgd-${fabric}-${crypto.randomUUID().slice(0, 8)}`,
      attach: (workers) => {
        this.#workers = workers;
        this.#ready?.resolve();
      },
      started: (fabric, syncIds) => {
        const q = this.#queued.get(fabric);
        if (q && syncIds.includes(q.syncId)) this.#queued.delete(fabric);
        this.#metrics.queueDepth.set({ fabric }, 0);
      },
      detach: () => {
        this.#workers = new Map();
      },
    };
  }

  /** The Landing Zone repo: as resolved at start, or before it (a host of the topology's own, in tests). */
  #lz(): string {
    const cfg = this.#deps.runtime.config;
    return this.#lzRepo || (this.#o.lzRepo ?? cfg.landing_zone.repo ?? sampleRepoPath(cfg.data_dir));
  }

  #requests(): WorkerRequests {
    return {
      trigger: (fabric, reason, syncId) => this.#trigger(fabric, reason, syncId),
      edit: (fabric, req) => this.#edit(fabric, req),
      poll: async (fabric) => {
        const a = await this.#ask({ type: "poll", request_id: crypto.randomUUID(), at: this.#now(), fabric });
        if (!a.ok) throw new LzError(a.code, a.message);
      },
    };
  }

  async start(): Promise<void> {
    const { broker, runtime } = this.#deps;
    await broker.admin().createTopics(
      FGD_SERVICE_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions, compacted: t.compacted })),
    );
    this.#lzRepo = this.#o.lzRepo ?? await landingZoneRepo(runtime.config);
    this.#producer = await broker.producer();
    this.#ready = deferred<void>();
    this.#host = createProcessorHost(
      { broker, log: this.#deps.log, metrics: this.#deps.metrics, clock: this.#deps.clock },
      this.#topology,
      { tickMs: 20, retries: runtime.config.processors.retries },
    );
    await this.#host.start();
    const timeout = this.#o.readyTimeoutMs ?? 120_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#ready.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new LzError(
                  "NOT_READY",
                  `the fabric topology ${this.#topology.app} was not assigned its partition within ${timeout} ms; is another lzsync process running it? (${broker.address})`,
                ),
              ),
            timeout,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    this.#started = true;
  }

  async #open(reg: FabricRegistration, hooks: WorkerHooks): Promise<FabricWorker> {
    const { runtime } = this.#deps;
    const repoUrl = reg.repo ?? this.#lz();
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
    return new FabricWorker({
      reg,
      repo,
      author: this.#o.author ?? { name: "lzsync", email: "lzsync@localhost" },
      out: hooks.out,
      live: (status) => this.#replies.live(status),
      requests: this.#requests(),
      metrics: this.#metrics,
      log: this.#log.child(reg.id, { fabric: reg.id }),
      now: () => this.#deps.clock.now(),
      kube,
      onProgress: (p) => this.progressSink?.(p),
      onRunEnd: hooks.onRunEnd,
      onCommitted: hooks.onCommitted,
    });
  }

  /** A push hint for the Landing Zone repository (as a manual trigger): the git layer syncs `commit` now. */
  #gitSyncPush(fabric: string, commit: string) {
    const cfg = this.#deps.runtime.config;
    const repo = cfg.landing_zone.github
      ? `${cfg.landing_zone.github.owner}/${cfg.landing_zone.github.repo}`
      : deriveRepoId(this.#lz());
    const push = requestPush(
      repo,
      cfg.landing_zone.branch,
      "trigger",
      `fgd-${fabric}-${commit.slice(0, 12)}`,
      this.#deps.clock.now(),
    );
    push.pusher = "lzsync-fgd";
    return push;
  }

  /** Produces a command and waits for the topology's answer. */
  async #ask(cmd: FgdCommand & { request_id: string }): Promise<FgdAnswer> {
    if (!this.#started || !this.#producer) {
      throw new LzError("NOT_READY", "the FGD service is still starting", { retriable: true });
    }
    const answer = this.#replies.expect(cmd.request_id);
    const key = cmd.type === "register" ? cmd.registration.id : cmd.fabric;
    try {
      await this.#producer.send(FGD_COMMANDS_TOPIC.name, [{
        key,
        value: encode(FGD_COMMANDS_TOPIC.name, cmd),
      }]);
    } catch (err) {
      this.#replies.forget(cmd.request_id);
      throw err;
    }
    return await answer;
  }

  /** Asks for a run of `fabric`; joins the one asked for and not started yet. */
  #trigger(fabric: string, reason: string, syncId?: string): { syncId: string; done: Promise<RunSummary> } {
    const queued = this.#queued.get(fabric);
    if (queued) return queued;
    const id = syncId ?? `fgd-${fabric}-${crypto.randomUUID().slice(0, 8)}`;
    const done = this.#replies.expectRun(id);
    done.catch(() => {}); // failures are reported in the status; callers may still await
    const entry = { syncId: id, done };
    this.#queued.set(fabric, entry);
    this.#metrics.queueDepth.set({ fabric }, 1);
    this.#ask({ type: "sync", request_id: crypto.randomUUID(), at: this.#now(), fabric, sync_id: id, reason })
      .then((a) => {
        if (!a.ok && this.#queued.get(fabric) === entry) this.#queued.delete(fabric);
      }, (err) => {
        if (this.#queued.get(fabric) === entry) this.#queued.delete(fabric);
        this.#replies.ran([id], err instanceof Error ? err : new Error(String(err)));
        this.#replies.produced();
      });
    return entry;
  }

  async #edit(fabric: string, req: EditRequest): Promise<EditResponse> {
    const a = await this.#ask({
      type: "edit",
      request_id: crypto.randomUUID(),
      at: this.#now(),
      fabric,
      edit: req,
    });
    if (!a.ok) throw new LzError(a.code, a.message);
    return a.value!;
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
    const syncId = `fgd-${reg.id}-${crypto.randomUUID().slice(0, 8)}`;
    // a trigger before the registration run starts joins it (one run, one sync id)
    const done = this.#replies.expectRun(syncId);
    done.catch(() => {});
    const entry = { syncId, done };
    this.#queued.set(reg.id, entry);
    const refused = (err: unknown) => {
      if (this.#queued.get(reg.id) === entry) this.#queued.delete(reg.id);
      this.#replies.dropRun(syncId);
      return err;
    };
    let a: FgdAnswer;
    try {
      a = await this.#ask({
        type: "register",
        request_id: crypto.randomUUID(),
        at: this.#now(),
        sync_id: syncId,
        registration: reg,
      });
    } catch (err) {
      throw refused(err);
    }
    if (!a.ok) throw refused(new LzError(a.code, a.message));
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
    const a = await this.#ask({
      type: "unregister",
      request_id: crypto.randomUUID(),
      at: this.#now(),
      fabric: id,
    });
    if (!a.ok) throw new LzError(a.code, a.message);
  }

  async stop(): Promise<void> {
    this.#started = false;
    await this.#host?.stop();
    this.#host = undefined;
    await this.#replies.close();
    this.#queued.clear();
    await this.#producer?.close();
    this.#producer = undefined;
    this.#workers = new Map();
  }
}
