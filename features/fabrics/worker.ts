/**
 * One registered fabric at run time: its git repository, what the last run read from it (desired state,
 * unmanaged files, validator) and what the cluster holds (actual state). The `lzsync-fgd` processor
 * (`topology.ts`) owns the workers and calls their operations — ingestion runs ({@link FabricWorker.run}),
 * Portal edits, Kubernetes polls — one at a time per fabric, from its `process` and punctuations; after
 * each operation the fabric's records are forwarded as diffs (`publisher.ts`) and progress is reported
 * through `onProgress`. The methods callers use ({@link FabricWorker.trigger}, `edit`, `pollActual`) ask
 * through `lz.fgd.commands.v1` (see `manager.ts`).
 */
import { invalidManagedWarning } from "./findings.ts";
import { describeError } from "../../pipeline/errors.ts";
import type { Logger } from "../../pipeline/log.ts";
import { checkDraft } from "../../processors/fgd/drafts.ts";
import type { InvalidManaged, UnmanagedEntry } from "../../processors/fgd/plan_types.ts";
import type { Validator } from "../../processors/fgd/validate.ts";
import type { FabricRegistration, FabricStatus, RunSummary } from "../../schemas/fgd.ts";
import type { Author, FabricRepo } from "../../connectors/git/git_repo.ts";
import { FabricGit, type IngestTimings, runIngestion } from "./ingest.ts";
import type { KubeSource } from "../../connectors/kubernetes/kube_source.ts";
import type { FgdMetrics } from "./metrics.ts";
import { type FabricOutput, FabricPublisher } from "./publisher.ts";
import {
  type ActualEntry,
  counts,
  type DesiredEntry,
  type DraftEntry,
  objectRecords,
  resultRecords,
  slotKey,
  unmanagedRecords,
} from "./records.ts";
import { type EditRequest, type EditResponse, performEdit } from "./worker_edit.ts";
import { pollActual } from "./worker_kube.ts";
import type { FabricState } from "./worker_state.ts";

/** A progress event of a sync (forwarded to live clients). */
export interface Progress {
  fabric: string;
  sync_id: string;
  phase: string;
  message: string;
  done: boolean;
  at: string;
}

/** How callers reach the processor that owns a worker (through `lz.fgd.commands.v1`, see `manager.ts`). */
export interface WorkerRequests {
  trigger(fabric: string, reason: string, syncId?: string): { syncId: string; done: Promise<RunSummary> };
  edit(fabric: string, req: EditRequest): Promise<EditResponse>;
  poll(fabric: string): Promise<void>;
}

/** What a worker is built from. */
export interface WorkerOptions {
  reg: FabricRegistration;
  repo: FabricRepo;
  author: Author;
  /** Where the fabric's records go (the processor's forward). */
  out: FabricOutput;
  /** The fabric's status while a run is active, sent at once (the processor's sink). */
  live?(status: FabricStatus): void;
  requests: WorkerRequests;
  metrics: FgdMetrics;
  log: Logger;
  now: () => number;
  kube?: KubeSource;
  onProgress?(p: Progress): void;
  /** Called after every ingestion run (alerts); a failure here is logged, never fails the run. */
  onRunEnd?(failed: boolean, error: string | null): void;
  /**
   * Called after lzsync pushed a commit of its own to the fabric's repository (ingestion, Portal edit), so the
   * git layer syncs it now rather than folding it into the next user push; a failure is logged only.
   */
  onCommitted?(commit: string): void;
}

/** The state of one fabric and the operations on it. */
export class FabricWorker implements FabricState {
  readonly id: string;
  readonly reg: FabricRegistration;
  readonly fg: FabricGit;
  readonly publisher: FabricPublisher;
  desired = new Map<string, DesiredEntry>();
  drafts = new Map<string, DraftEntry>();
  actual: Map<string, ActualEntry> | null = null;
  unmanaged: UnmanagedEntry[] = [];
  invalidManaged: InvalidManaged[] = [];
  validator?: Validator;
  head: string | null = null;
  lastCommit: string | null = null;
  lastRun: RunSummary | null = null;
  /**
   * Wall time in ms of each phase of the last run: the ingestion's ({@link IngestTimings}) and `publish`
   * (the fabric's records and the run's results). Kept in memory for the bench and diagnostics only.
   */
  lastTimings: (IngestTimings & { publish: number }) | null = null;
  lastError: string | null = null;
  kubeState: FabricStatus["kubernetes"] = null;
  #lastTree: string | null | undefined = undefined;
  #lastCounts: FabricStatus["counts"] = {
    managed: 0,
    unmanaged: 0,
    invalid_managed: 0,
    drafts: 0,
    conflicts: 0,
    drift: 0,
  };
  #running = false;
  #closed = false;

  constructor(readonly o: WorkerOptions) {
    this.id = o.reg.id;
    this.reg = o.reg;
    const path = o.reg.path.replace(/^\/+|\/+$/g, "");
    this.fg = new FabricGit(
      { id: o.reg.id, branch: o.reg.branch, path, crd_dirs: o.reg.crd_dirs, rule_packs: o.reg.rule_packs },
      o.repo,
      o.author,
    );
    this.publisher = new FabricPublisher(o.reg.id, o.out);
    if (o.kube) this.kubeState = { api_url: o.reg.kubernetes!.api_url, last_poll: null, error: null };
  }

  get log(): Logger {
    return this.o.log;
  }

  nowIso(): string {
    return new Date(this.o.now()).toISOString();
  }

  progress(syncId: string, phase: string, message: string, done = false): void {
    try {
      this.o.onProgress?.({ fabric: this.id, sync_id: syncId, phase, message, done, at: this.nowIso() });
    } catch (err) {
      this.log.warn("fgd progress event dropped", { sync_id: syncId, error: describeError(err) });
    }
  }

  /** Asks for an ingestion run; joins a run that is asked for but not started (one run, one sync id). */
  trigger(reason: string, syncId?: string): { syncId: string; done: Promise<RunSummary> } {
    return this.o.requests.trigger(this.id, reason, syncId);
  }

  /**
   * One ingestion run, now (the processor calls it from a punctuation). Resolves with the run's summary
   * (a failed run is an outcome); rejects only when the fabric was unregistered or publishing failed.
   */
  run(syncId: string, reason: string): Promise<RunSummary> {
    return this.#run(syncId, reason);
  }

  async #run(syncId: string, reason: string): Promise<RunSummary> {
    const started = this.o.now();
    this.#running = true;
    this.o.metrics.activeRuns.inc();
    try {
      if (this.#closed) throw new Error("fabric unregistered");
      this.#liveStatus(); // state: running
      const r = await runIngestion(this.fg, {
        lastTree: this.#lastTree,
        onPhase: (phase, detail) => this.progress(syncId, phase, detail),
      });
      const finished = this.o.now();
      const plan = r.plan;
      const run: RunSummary = {
        sync_id: syncId,
        trigger: reason,
        outcome: r.outcome,
        started_at: new Date(started).toISOString(),
        finished_at: new Date(finished).toISOString(),
        duration_ms: finished - started,
        attempts: r.attempts,
        base: r.base,
        commit: r.commit,
        files: plan?.files.length ?? 0,
        created: plan?.objects.filter((x) => x.outcome === "created").length ?? 0,
        updated: plan?.objects.filter((x) => x.outcome === "updated").length ?? 0,
        rejected: plan?.objects.filter((x) => x.outcome === "rejected").length ?? 0,
        error: r.error ?? null,
      };
      this.lastRun = run;
      this.o.metrics.runDuration.observe({ fabric: this.id, outcome: r.outcome }, run.duration_ms / 1000);
      for (const f of plan?.files ?? []) {
        this.o.metrics.filesProcessed.inc({ fabric: this.id, outcome: f.outcome });
      }
      if (r.outcome === "failed") {
        this.lastError = r.error ?? "failed";
        this.o.metrics.failures.inc({ fabric: this.id, reason: "ingestion" });
        this.log.warn("fgd ingestion failed", { fabric: this.id, sync_id: syncId, error: r.error });
      } else {
        this.lastError = null;
        this.#lastTree = r.tree;
        if (r.validator) this.validator = r.validator;
        this.head = r.commit ?? r.base;
        if (r.commit) this.lastCommit = r.commit;
        if (plan) this.#absorb(plan, r.commit ?? r.base);
        if (r.outcome === "committed" && r.commit) this.committed(r.commit);
      }
      this.#running = false;
      const published = performance.now();
      this.publish();
      this.publisher.results(resultRecords(this.id, syncId, run, plan, this.fg.spec.path));
      this.lastTimings = { ...r.timings, publish: performance.now() - published };
      this.#runEnded(r.outcome === "failed", this.lastError);
      const phase = r.outcome === "failed" ? "failed" : r.outcome === "committed" ? "completed" : "skipped";
      // The last frame a registration watches also says when managed/ holds files left out of the state.
      const invalid = this.invalidManaged.length && r.outcome !== "failed"
        ? `; ${this.invalidManaged.length} file(s) under managed/ do not validate and are left out of the desired state (see the fabric's findings)`
        : "";
      this.progress(
        syncId,
        phase,
        (r.outcome === "committed" ? `committed ${r.commit}` : r.error ?? "nothing to ingest") + invalid,
        true,
      );
      return run;
    } catch (err) {
      this.lastError = describeError(err);
      this.#running = false;
      if (!this.#closed) {
        this.#publishQuietly();
        this.#runEnded(true, this.lastError);
      }
      this.progress(syncId, "failed", this.lastError, true);
      throw err;
    } finally {
      this.#running = false;
      this.o.metrics.activeRuns.dec();
    }
  }

  /** Takes the desired state and unmanaged files of a plan; re-checks every draft against it. */
  #absorb(plan: NonNullable<Awaited<ReturnType<typeof runIngestion>>["plan"]>, commit: string | null): void {
    const prior = this.desired;
    this.desired = new Map();
    for (const e of plan.desired.values()) {
      const key = slotKey(e.plural, e.namespace, e.name);
      const before = prior.get(key);
      this.desired.set(key, { ...e, commit: before && before.hash === e.hash ? before.commit : commit });
    }
    this.unmanaged = plan.unmanaged;
    this.invalidManaged = plan.invalidManaged;
    const now = this.nowIso();
    for (const [key, d] of this.drafts) {
      const next = checkDraft(d, this.desired.get(key), commit, now);
      if (next !== d) {
        this.drafts.set(key, { ...next, meta: d.meta });
        this.log.info("fgd draft conflicted by a git change", { fabric: this.id, object: key });
      }
    }
  }

  #runEnded(failed: boolean, error: string | null): void {
    try {
      this.o.onRunEnd?.(failed, error);
    } catch (err) {
      this.log.warn("fgd run outcome not reported", { fabric: this.id, error: describeError(err) });
    }
  }

  /** {@link publish}, logging instead of throwing (a status update must not fail the run it describes). */
  #publishQuietly(): void {
    try {
      this.publish();
    } catch (err) {
      this.log.warn("fgd status not published", { fabric: this.id, error: describeError(err) });
    }
  }

  /** Sends the status (state `running`) at once, through {@link WorkerOptions.live}; never throws. */
  #liveStatus(): void {
    try {
      this.o.live?.(this.status(this.#lastCounts));
    } catch (err) {
      this.log.warn("fgd status not published", { fabric: this.id, error: describeError(err) });
    }
  }

  /** Tells {@link WorkerOptions.onCommitted} about a commit lzsync pushed; never throws. */
  committed(commit: string): void {
    try {
      this.o.onCommitted?.(commit);
    } catch (err) {
      this.log.warn("could not ask the git layer to sync an fgd commit", {
        commit,
        error: describeError(err),
      });
    }
  }

  /** Forwards the objects, unmanaged files and the status that changed. */
  publish(): void {
    const now = this.nowIso();
    const objects = objectRecords(this.id, this.desired, this.drafts, this.actual, now);
    this.publisher.objects(objects);
    this.publisher.unmanaged(unmanagedRecords(this.id, this.unmanaged, now));
    const c = counts(objects, this.unmanaged.length, this.invalidManaged);
    this.#lastCounts = c;
    for (const [state, n] of Object.entries(c)) this.o.metrics.objects.set({ fabric: this.id, state }, n);
    this.publisher.status(this.status(c, now));
  }

  /** Standing problems of the registration (shown in the status; see `credential_removed`). */
  #warnings(): string[] {
    const invalid = invalidManagedWarning(this.id, this.invalidManaged);
    return [
      ...(this.reg.credential_removed ?? []).map((field) =>
        `${field} held credentials inside the URL (stored by an older lzsync); they were removed and are not used: name a token from the config's credentials instead (re-register with ${
          field === "repo" ? "credential" : "kubernetes.credential"
        }: <name>)`
      ),
      ...(invalid ? [invalid] : []),
    ];
  }

  status(c: FabricStatus["counts"], now = this.nowIso()): FabricStatus {
    return {
      id: this.id,
      repo: this.fg.repo.location,
      branch: this.reg.branch,
      path: this.fg.spec.path,
      source: this.reg.source,
      state: this.#running ? "running" : this.lastError ? "error" : "idle",
      counts: c,
      head: this.head,
      last_commit: this.lastCommit,
      last_run: this.lastRun,
      last_error: this.lastError ?? this.#warnings()[0] ?? null,
      ...(this.#warnings().length ? { warnings: this.#warnings() } : {}),
      invalid_managed: this.invalidManaged.map((i) => ({ path: i.path, findings: i.findings })),
      crd_problems: this.fg.validators.problems,
      kubernetes: this.kubeState,
      updated_at: now,
    };
  }

  /** Takes the last status the topic holds (at task start): head, last commit, last run. */
  restoreStatus(status: FabricStatus | undefined): void {
    if (!status) return;
    this.lastCommit = status.last_commit;
    this.lastRun = status.last_run;
    this.head = status.head;
  }

  /** Portal edits (PUT/DELETE of an object, draft discard), performed by the processor in turn. */
  edit(req: EditRequest): Promise<EditResponse> {
    return this.o.requests.edit(this.id, req);
  }

  /** Performs an edit now (the processor, for an `edit` command). */
  performEdit(req: EditRequest): Promise<EditResponse> {
    return performEdit(this, req);
  }

  /** Reads the cluster's objects now (no-op without a Kubernetes source), through the processor. */
  pollActual(): Promise<void> {
    if (!this.o.kube) return Promise.resolve();
    return this.o.requests.poll(this.id);
  }

  /** Polls the cluster now and publishes (the processor). */
  async pollNow(): Promise<void> {
    const kube = this.o.kube;
    if (!kube) return;
    await pollActual(this, kube);
    this.publish();
  }

  /** True once the fabric is closed (unregistered or its task closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops accepting work (the processor awaits any operation before it closes a worker). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.o.repo.close();
  }
}
