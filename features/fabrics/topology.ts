/**
 * The fabric service as a topology (app `lzsync-fgd`), run by a processor host (the fabric service's own,
 * `manager.ts`) like every other consumer of lzsync, so `replay`, `digest`, `lag`, changelog restore and the
 * DLQ cover it.
 *
 * **Inputs** (one partition each, so one task holds every fabric):
 * - `lz.fgd.commands.v1`, keyed by fabric id: what the API asks (`manager.ts` produces it) — registrations
 *   (validated before they are produced), unregistrations, manual syncs, Kubernetes polls, Portal edits —
 *   and the `draft` records this topology writes back after each edit (below);
 * - `lz.git.push.v1` and the commit markers of `lz.git.files.v1`: hints for the fabrics in that repository
 *   (as Flux and Argo CD treat a webhook): the run fetches git itself and ends at once when the fabric
 *   directory's tree is unchanged.
 *
 * **State** (changelogged stores, restored at start, rebuilt by `replay`):
 * - `fabrics` — by fabric id, the fabrics registered through the API (config and sample fabrics come from
 *   `lzsync.yaml`, not from a store);
 * - `drafts` — by `<fabric>/<plural>/<namespace>/<name>`, each Portal edit's draft as the edit left it;
 * - `pending` — by fabric id, runs asked for (commands, hints, start-up, schedule) and not settled yet (see
 *   below); empty at rest, so a crash between a hint's commit and its run loses no hint.
 *
 * **Derived, not state**: the desired state is git (`managed/` at the head: every task's first run reads the
 * whole directory, later runs only what changed), the actual state is the cluster (polled), so neither is a
 * store — a changelogged copy would be a second source of truth for two that exist, and a replay re-reads
 * them. Also derived: a draft's conflict with a git change (each run re-checks every draft against the
 * desired state, as `processors/fgd/drafts.ts` says; when it was first detected is kept from the object's
 * record on `lz.fgd.objects.v1`), the last run, head and last commit (the status record's, read back at task
 * start), open FabricFailure alerts (`lz.alerts.v1`) and what the compacted outputs hold (the diff base of
 * `publisher.ts`). These come from the topology's tables — `lz.fgd.objects.v1`, `lz.fgd.status.v1`,
 * `lz.alerts.v1`, and `lz.fgd.fabrics.v1` for the upgrade seed: its own past outputs, read once at task
 * start, as `lzsync-portal-repo` and `lzsync-policy` read theirs.
 *
 * **Git I/O in the processor**: runs (fetch → plan → one commit → push, `ingest.ts`) and edits
 * (`worker_edit.ts`) write git from the processor's step, not from a sink flushed at the checkpoint as
 * `lzsync-portal-repo` does: a push rejected as non-fast-forward is planned again against the new head within
 * the same run, and an edit's answer (200 committed, 409 conflict) is the push's outcome. The write is
 * idempotent by construction — no commit when the planned tree equals the head's, ref updates by
 * compare-and-swap, a local repository pushed under its `index.lock` (`local_push.ts`, `git_repo.ts`) — so
 * the checkpoint only makes the outcome durable; a crash in between redoes a run that commits nothing. (So
 * there is no git-writes topic between the plan and a writer: the plan is only valid on the head it was
 * made against.)
 * lzsync's own commits to the Landing Zone repository are forwarded to `lz.git.push.v1` (the git layer
 * syncs them at once).
 *
 * **Edits and replay**: an edit changes git, so it is performed once, while its caller waits (the
 * {@link FgdSink} knows whom), and the draft it leaves is forwarded to `lz.fgd.commands.v1` as a `draft`
 * record; a replay (or a restart that finds the edit again, its caller gone) skips the edit and takes the
 * `draft` records instead. Registrations, syncs and hints are replayed as they are (a run is a hint). So
 * `replay --to earliest` rebuilds `fabrics` and `drafts` from the commands topic, and the first runs
 * re-derive the rest from git: with git where it was, the digest is the same.
 *
 * **Answers**: a command's answer (the HTTP status of an edit, a refused registration) and a run's summary
 * reach the waiting caller through the sink once the checkpoint's outputs are acknowledged, so the caller
 * sees the records. The status while a run is active (`state: running`) goes through the sink at once.
 *
 * **Runs in the background**: a run (seconds for a large fabric) does not hold up the task. A punctuation (or
 * a caller's sync at once) starts the pending run of each fabric that has none in flight, without waiting for
 * it; the run's forwards are kept aside, and the next punctuation after it ended takes them into the task
 * together with the run's sync ids off `pending` — so its records and its `pending` change reach the broker
 * in one checkpoint, and a crash before it leaves the run pending (it runs again: idempotent). Fabrics run concurrently, one run each; an edit, poll, draft or unregistration of a fabric
 * waits for that fabric's run only, and registrations, hints and other fabrics' commands go on meanwhile.
 * A stop waits for the runs in flight and leaves them pending.
 *
 * **Upgrade** from the hand-written service (its state was its own outputs): a task that starts with empty
 * stores while its group has no committed offset at all (the service used no group; `replay` leaves
 * offsets at the earliest) seeds `fabrics` from `lz.fgd.fabrics.v1` and `drafts` from `lz.fgd.objects.v1`
 * once, and forwards them as `register` and `draft` commands so a later replay finds them too.
 */
import type {
  InputRecord,
  Processor,
  ProcessorContext,
  Sink,
  Topology,
} from "../../pipeline/processor/types.ts";
import { describeError, LzError } from "../../pipeline/errors.ts";
import { type Alert, ALERTS_TOPIC } from "../../schemas/alerts.ts";
import {
  type FabricObject,
  type FabricRegistration,
  type FabricStatus,
  FGD_COMMANDS_TOPIC,
  FGD_FABRICS_TOPIC,
  FGD_OBJECTS_TOPIC,
  FGD_RESULTS_TOPIC,
  FGD_STATUS_TOPIC,
  FGD_UNMANAGED_TOPIC,
  type FgdCommand,
  type RunSummary,
} from "../../schemas/fgd.ts";
import { GIT_FILES_TOPIC, type GitFilesValue } from "../../schemas/git_files.ts";
import { GIT_PUSH_TOPIC, type GitPush } from "../../schemas/git_push.ts";
import { deriveRepoId, normalizeRepoUrl } from "../../connectors/git/repo.ts";
import { FabricAlerts } from "./alerts.ts";
import { withoutUrlCredentials } from "./registration.ts";
import type { DraftEntry } from "./records.ts";
import type { FabricOutput } from "./publisher.ts";
import type { FabricWorker } from "./worker.ts";
import type { EditResponse } from "./worker_edit.ts";

/** Application id (consumer group, changelog prefix). Persisted contract. */
export const FGD_APP = "lzsync-fgd";
/** Store of the fabrics registered through the API, by fabric id. Persisted contract. */
export const FABRICS_STORE = "fabrics";
/** Store of Portal drafts by `<fabric>/<slot>`. Persisted contract. */
export const DRAFTS_STORE = "drafts";
/** Store of runs asked for and not run yet, by fabric id. Persisted contract. */
export const PENDING_STORE = "pending";

/** A run asked for and not settled (value of the `pending` store). Persisted contract. */
export interface PendingRun {
  /** The sync ids that asked; the first names the run (a caller's own id when one asked). */
  sync_ids: string[];
  /** What asked (`start`, `registration`, `api`, `push webhook`, `git sync`, `schedule`, ...): the namer. */
  reason: string;
}

/** The answer to a command: a value, or the error to throw at the caller. */
export type FgdAnswer =
  | { ok: true; value?: EditResponse }
  | { ok: false; code: string; message: string };

/**
 * The topology's sink: answers to waiting callers and the live status of running fabrics. The host flushes
 * it at each checkpoint (before the outputs) and tells it when the outputs are acknowledged.
 */
export interface FgdSink extends Sink {
  /** True while a caller in this process waits for the command `requestId`. */
  waiting(requestId: string): boolean;
  /** Answers a command once the checkpoint's outputs are acknowledged. */
  reply(requestId: string, answer: FgdAnswer): void;
  /** A run ended (summary) or threw (error); its callers learn it once its records are acknowledged. */
  ran(syncIds: readonly string[], result: RunSummary | Error): void;
  /** Sends a fabric's status now (state `running`, while its run is active). */
  live(status: FabricStatus): void;
}

/** What a worker needs from the processor that owns it. */
export interface WorkerHooks {
  out: FabricOutput;
  onRunEnd(failed: boolean, error: string | null): void;
  onCommitted(commit: string): void;
}

/** What a running topology needs (absent for the static declaration). */
export interface FgdRun {
  /** The Landing Zone repo (URL or path) for fabrics without `repo`. */
  lzRepo: string;
  /** The fabrics of `lzsync.yaml` (or the sample), at task start. */
  configFabrics(): FabricRegistration[];
  /** Opens a fabric's repository and builds its worker. */
  open(reg: FabricRegistration, hooks: WorkerHooks): Promise<FabricWorker>;
  /** Removes lzsync's own clone of an unregistered fabric. */
  remove(id: string): Promise<void>;
  /** The push that asks the git layer to sync a commit lzsync made in the Landing Zone repository. */
  gitSyncPush(fabric: string, commit: string): GitPush;
  sink: FgdSink;
  /** True when the group never committed an offset (the upgrade seed, see the module doc). */
  legacy?(app: string): Promise<boolean>;
  /** React to `lz.git.push.v1` and commit markers (default true). */
  gitHints: boolean;
  /** Safety-net run interval (clock ms); 0: none. */
  scheduleMs: number;
  /** Kubernetes poll interval (clock ms); 0: none. */
  kubeIntervalMs: number;
  /** Interval of the punctuation that starts pending runs (clock ms). */
  tickMs: number;
  alertThreshold: number;
  /** A new sync id for a run nobody named (`fgd-<fabric>-<8 hex>`). */
  syncId(fabric: string): string;
  /** The workers of the running task (the service's `workers`); called at init and on every change. */
  attach(workers: ReadonlyMap<string, FabricWorker>): void;
  /** A pending run of `fabric` started: triggers that come now ask for the next one. */
  started?(fabric: string, syncIds: readonly string[]): void;
  /** The task closed. */
  detach?(): void;
}

type Command<T extends FgdCommand["type"]> = Extract<FgdCommand, { type: T }>;

/** A forward a running fabric made: topic, key, value, and the value's JSON when the worker had it. */
type Forward = [topic: string, key: string, value: unknown | null, json?: string];

/** A run that ended and waits to be settled into the task. */
interface Finished {
  served: string[];
  result: RunSummary | Error;
  forwards: Forward[];
}

/** JSON equality of two store values (drafts are plain JSON). */
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The draft of an object record on `lz.fgd.objects.v1`, as the worker keeps it. */
function draftOf(record: FabricObject): DraftEntry | null {
  if (!record.draft) return null;
  const {
    fabric: _f,
    desired: _d,
    draft,
    conflict,
    actual: _a,
    drift: _x,
    drift_fields: _y,
    updated_at: _u,
    ...meta
  } = record;
  return {
    ...draft,
    object: draft.object as never,
    conflict: conflict ? { ...conflict, theirs: conflict.theirs as never } : null,
    meta,
  };
}

/** True when the object record's draft is the stored draft `d` (what a later run may have conflicted). */
function sameEdit(d: DraftEntry, r: FabricObject["draft"]): boolean {
  return !!r && r.op === d.op && r.hash === d.hash && r.base_hash === d.base_hash &&
    r.created_at === d.created_at && r.author === d.author;
}

function createFgdProcessor(run: FgdRun): Processor<unknown> {
  const workers = new Map<string, FabricWorker>();
  /** True once `init` opened every fabric (the service waits for that, see {@link FgdRun.attach}). */
  let ready = false;
  let alerts: FabricAlerts;
  let configIds = new Set<string>();
  /** Fabrics this task unregistered (their table records are stale for a registration again). */
  const unregistered = new Set<string>();
  /** Per running fabric, the forwards its run made so far (replayed into the task when it is settled). */
  const buffers = new Map<string, Forward[]>();
  /** Runs in flight by fabric: resolve once the run ended (its outcome waits in `finished`). */
  const inflight = new Map<string, Promise<void>>();
  /** Runs that ended and wait for the next tick (or the fabric's next operation) to be settled. */
  const finished = new Map<string, Finished>();

  const fabrics = (ctx: ProcessorContext) => ctx.store<FabricRegistration>(FABRICS_STORE);
  const drafts = (ctx: ProcessorContext) => ctx.store<DraftEntry>(DRAFTS_STORE);
  const pending = (ctx: ProcessorContext) => ctx.store<PendingRun>(PENDING_STORE);
  const iso = (ctx: ProcessorContext) => new Date(ctx.now()).toISOString();

  const put = (ctx: ProcessorContext, [topic, key, value, json]: Forward) => {
    if (json !== undefined && value !== null) ctx.forwardJson(topic, key, value, json);
    else ctx.forward(topic, key, value);
  };

  /** A forward of fabric `fabric`'s: kept in its run's buffer while the run is in flight. */
  const emit = (
    ctx: ProcessorContext,
    fabric: string,
    topic: string,
    key: string,
    value: unknown | null,
    json?: string,
  ) => {
    const b = buffers.get(fabric);
    if (b) b.push([topic, key, value, json]);
    else put(ctx, [topic, key, value, json]);
  };

  const hooks = (ctx: ProcessorContext, reg: FabricRegistration): WorkerHooks => ({
    out: (topic, key, value, json) => emit(ctx, reg.id, topic, key, value, json),
    onRunEnd: (failed, error) => alerts.run(reg.id, failed, error),
    // A fabric in the Landing Zone repository: lzsync's own commit is synced by the git layer at once.
    onCommitted: (commit) => {
      if (reg.repo) return;
      const push = run.gitSyncPush(reg.id, commit);
      emit(ctx, reg.id, GIT_PUSH_TOPIC.name, push.repo, push);
    },
  });

  /** Opens the worker of `reg` with what the tables and the drafts store hold of it. */
  const open = async (ctx: ProcessorContext, reg: FabricRegistration): Promise<FabricWorker> => {
    const w = await run.open(reg, hooks(ctx, reg));
    // The tables are as they were at task start: stale for a fabric this task unregistered since.
    const fresh = !unregistered.has(reg.id);
    const objects = fresh ? ctx.table<FabricObject>(FGD_OBJECTS_TOPIC.name) : new Map<string, FabricObject>();
    if (fresh) w.restoreStatus(ctx.table<FabricStatus>(FGD_STATUS_TOPIC.name).get(reg.id));
    const prefix = `${reg.id}/`;
    for (const [key, record] of objects) {
      if (record.fabric === reg.id && key.startsWith(prefix)) w.publisher.seed("objects", key, record);
    }
    for (const [key, d] of drafts(ctx).entries()) {
      if (!key.startsWith(prefix)) continue;
      const record = objects.get(key);
      // a run conflicted it after the edit: keep the conflict as first detected
      const conflicted = !d.conflict && record?.conflict && sameEdit(d, record.draft)
        ? {
          ...d,
          state: "conflicted" as const,
          updated_at: record.draft!.updated_at,
          conflict: draftOf(record)!.conflict,
        }
        : d;
      w.drafts.set(key.slice(prefix.length), conflicted);
    }
    workers.set(reg.id, w);
    if (ready) run.attach(workers);
    return w;
  };

  /** Asks for a run of `fabric`; joins the one already asked for. */
  const ask = (ctx: ProcessorContext, fabric: string, reason: string, syncId?: string): void => {
    const w = workers.get(fabric);
    if (!w) return;
    const p = pending(ctx);
    const prior = p.get(fabric);
    if (prior) {
      // a caller's own sync id (an API sync, a registration) names the joint run: it watches that id
      if (syncId && !prior.sync_ids.includes(syncId)) {
        p.put(fabric, { reason, sync_ids: [syncId, ...prior.sync_ids] });
      }
      return;
    }
    const id = syncId ?? run.syncId(fabric);
    p.put(fabric, { sync_ids: [id], reason });
    w.progress(id, "queued", `ingestion of ${fabric} queued (${reason})`);
  };

  /** Fabrics whose repo a git hint is about. */
  const matching = (repo: string, cloneUrl?: string): string[] =>
    [...workers.values()].filter((w) => {
      const url = w.reg.repo ?? run.lzRepo;
      if (!w.reg.repo) return true;
      if (cloneUrl && normalizeRepoUrl(cloneUrl) === normalizeRepoUrl(url)) return true;
      return deriveRepoId(url) === repo;
    }).map((w) => w.id);

  /** Stores the drafts an edit changed and forwards them as `draft` commands (see the module doc). */
  const keepDrafts = (
    ctx: ProcessorContext,
    w: FabricWorker,
    before: ReadonlyMap<string, DraftEntry>,
  ): void => {
    const store = drafts(ctx);
    for (const slot of new Set([...before.keys(), ...w.drafts.keys()])) {
      const d = w.drafts.get(slot) ?? null;
      if (d === (before.get(slot) ?? null)) continue;
      const key = `${w.id}/${slot}`;
      if (d) store.put(key, d);
      else store.delete(key);
      const cmd: Command<"draft"> = { type: "draft", at: iso(ctx), fabric: w.id, slot, draft: d };
      ctx.forward(FGD_COMMANDS_TOPIC.name, w.id, cmd);
    }
  };

  const register = async (ctx: ProcessorContext, c: Command<"register">) => {
    const reg = withoutUrlCredentials(c.registration); // an upgrade seed's record may predate the refusal
    const stored = fabrics(ctx).get(reg.id);
    if (stored && same(stored, reg)) return; // a seed's own record, or the same registration again
    if (stored || configIds.has(reg.id) || workers.has(reg.id)) {
      run.sink.reply(c.request_id, {
        ok: false,
        code: "CONFLICT",
        message: `fabric ${reg.id} is already registered`,
      });
      return;
    }
    try {
      await open(ctx, reg);
    } catch (err) {
      run.sink.reply(c.request_id, { ok: false, code: "OPEN", message: describeError(err) });
      return;
    }
    fabrics(ctx).put(reg.id, reg);
    ctx.forward(FGD_FABRICS_TOPIC.name, reg.id, reg);
    ask(ctx, reg.id, "registration", c.sync_id);
    run.sink.reply(c.request_id, { ok: true }); // answered at this checkpoint; the run follows at the next tick
  };

  const unregister = async (ctx: ProcessorContext, c: Command<"unregister">) => {
    const id = c.fabric;
    await quiet(ctx, id);
    const w = workers.get(id);
    if (!w) {
      run.sink.reply(c.request_id, {
        ok: false,
        code: "NOT_FOUND",
        message: `fabric ${id} is not registered`,
      });
      return;
    }
    if (w.reg.source !== "api") {
      const where = w.reg.source === "config" ? "lzsync.yaml" : "the sample";
      run.sink.reply(c.request_id, {
        ok: false,
        code: "CONFLICT",
        message: `fabric ${id} comes from ${where}; remove it there`,
      });
      return;
    }
    workers.delete(id);
    unregistered.add(id);
    run.attach(workers);
    w.close();
    alerts.run(id, false, null); // resolves an open FabricFailure alert
    w.publisher.clear();
    ctx.forward(FGD_FABRICS_TOPIC.name, id, null);
    fabrics(ctx).delete(id);
    const waiting = pending(ctx).get(id);
    if (waiting) run.sink.ran(waiting.sync_ids, new Error("fabric unregistered"));
    pending(ctx).delete(id);
    const store = drafts(ctx);
    const gone = [...store.entries()].filter(([k]) => k.startsWith(`${id}/`)).map(([k]) => k);
    for (const k of gone) store.delete(k);
    run.sink.reply(c.request_id, { ok: true });
    await run.remove(id);
  };

  const edit = async (ctx: ProcessorContext, c: Command<"edit">) => {
    if (!run.sink.waiting(c.request_id)) {
      ctx.log.info(
        "fgd edit not performed: nobody waits for it (a replay or a restart); its draft records stand",
        {
          fabric: c.fabric,
          request_id: c.request_id,
        },
      );
      return;
    }
    await quiet(ctx, c.fabric);
    const w = workers.get(c.fabric);
    if (!w) {
      run.sink.reply(c.request_id, {
        ok: true,
        value: {
          status: 404,
          body: { error: "not_found", reason: `fabric ${c.fabric} is not registered here` },
        },
      });
      return;
    }
    const before = new Map(w.drafts);
    try {
      const value = await w.performEdit(c.edit);
      keepDrafts(ctx, w, before);
      run.sink.reply(c.request_id, { ok: true, value });
    } catch (err) {
      keepDrafts(ctx, w, before);
      run.sink.reply(c.request_id, { ok: false, code: "EDIT", message: describeError(err) });
    }
  };

  /** A `draft` record: the draft an edit left (replays and seeds; a live edit stored it already). */
  const draft = async (ctx: ProcessorContext, c: Command<"draft">) => {
    await quiet(ctx, c.fabric);
    const key = `${c.fabric}/${c.slot}`;
    const store = drafts(ctx);
    if (same(store.get(key) ?? null, c.draft)) return;
    const w = workers.get(c.fabric);
    if (!w) return;
    const d = c.draft as DraftEntry | null;
    if (d) {
      store.put(key, d);
      w.drafts.set(c.slot, d);
    } else {
      store.delete(key);
      w.drafts.delete(c.slot);
    }
    w.publish();
  };

  const command = async (ctx: ProcessorContext, c: FgdCommand) => {
    switch (c.type) {
      case "register":
        return await register(ctx, c);
      case "unregister":
        return await unregister(ctx, c);
      case "sync": {
        if (!workers.has(c.fabric)) {
          run.sink.reply(c.request_id, {
            ok: false,
            code: "NOT_FOUND",
            message: `fabric ${c.fabric} is not registered here`,
          });
          run.sink.ran([c.sync_id], new LzError("NOT_FOUND", `fabric ${c.fabric} is not registered here`));
          return;
        }
        ask(ctx, c.fabric, c.reason, c.sync_id);
        run.sink.reply(c.request_id, { ok: true });
        // asked for by a caller (who has its sync id already): start at once; hints wait for the punctuation
        return tick(ctx, c.fabric);
      }
      case "poll": {
        await quiet(ctx, c.fabric);
        const w = workers.get(c.fabric);
        try {
          await w?.pollNow();
          run.sink.reply(c.request_id, { ok: true });
        } catch (err) {
          run.sink.reply(c.request_id, { ok: false, code: "POLL", message: describeError(err) });
        }
        return;
      }
      case "edit":
        return await edit(ctx, c);
      case "draft":
        return await draft(ctx, c);
    }
  };

  const hint = (ctx: ProcessorContext, rec: InputRecord) => {
    if (!run.gitHints || rec.value === null) return;
    if (rec.topic === GIT_PUSH_TOPIC.name) {
      const p = rec.value as GitPush;
      for (const id of matching(p.repo, p.clone_url)) ask(ctx, id, `push ${p.source}`);
    } else {
      const f = rec.value as GitFilesValue;
      if (f.kind === "commit") { for (const id of matching(f.repo)) ask(ctx, id, "git sync"); }
    }
  };

  /**
   * Takes the outcome of `fabric`'s finished run into the task: its forwards, the sync ids it served (off
   * `pending`; ids that asked while it ran stay for the next run), its callers' answer.
   */
  const settle = (ctx: ProcessorContext, fabric: string) => {
    const f = finished.get(fabric);
    if (!f) return;
    finished.delete(fabric);
    for (const fw of f.forwards) put(ctx, fw);
    const p = pending(ctx);
    const entry = p.get(fabric);
    if (entry) {
      const rest = entry.sync_ids.filter((id) => !f.served.includes(id));
      if (rest.length) p.put(fabric, { ...entry, sync_ids: rest });
      else p.delete(fabric);
    }
    run.sink.ran(f.served, f.result);
  };

  /** Waits for `fabric`'s run in flight and settles it: what an operation on the fabric does first. */
  const quiet = async (ctx: ProcessorContext, fabric: string) => {
    await inflight.get(fabric);
    settle(ctx, fabric);
  };

  /** Starts the run `r` of `fabric` in the background (see the module doc). */
  const start = (fabric: string, r: PendingRun) => {
    const w = workers.get(fabric)!;
    const served = [...r.sync_ids];
    const forwards: Forward[] = [];
    buffers.set(fabric, forwards);
    run.started?.(fabric, served);
    const p = w.run(served[0], r.reason).then(
      (summary): RunSummary | Error => summary,
      (err): RunSummary | Error => err instanceof Error ? err : new Error(String(err)),
    ).then((result) => {
      buffers.delete(fabric);
      inflight.delete(fabric);
      finished.set(fabric, { served, result, forwards });
    });
    inflight.set(fabric, p);
  };

  /**
   * Settles the runs that ended and starts the pending runs (of `only`, else all) that are not in flight,
   * concurrently across fabrics, without waiting for them.
   */
  const tick = (ctx: ProcessorContext, only?: string) => {
    for (const fabric of [...finished.keys()]) settle(ctx, fabric);
    const p = pending(ctx);
    for (const [fabric, r] of [...p.entries()]) {
      if (only !== undefined && fabric !== only) continue;
      if (inflight.has(fabric) || finished.has(fabric)) continue;
      if (!workers.has(fabric)) {
        p.delete(fabric);
        run.sink.ran(r.sync_ids, new Error(`fabric ${fabric} unregistered`));
        continue;
      }
      start(fabric, r);
    }
  };

  /** The upgrade seed (see the module doc): registrations and drafts from the old service's outputs. */
  const seed = (ctx: ProcessorContext) => {
    const regs = ctx.table<FabricRegistration>(FGD_FABRICS_TOPIC.name);
    const objects = ctx.table<FabricObject>(FGD_OBJECTS_TOPIC.name);
    const at = iso(ctx);
    for (const [id, reg] of regs) {
      fabrics(ctx).put(id, reg); // cleaned of URL credentials by init, which rewrites the topic's record
      const cmd: Command<"register"> = {
        type: "register",
        request_id: "upgrade",
        at,
        sync_id: run.syncId(id),
        registration: withoutUrlCredentials(reg),
      };
      ctx.forward(FGD_COMMANDS_TOPIC.name, id, cmd);
    }
    let n = 0;
    for (const [key, record] of objects) {
      const d = draftOf(record);
      if (!d) continue;
      drafts(ctx).put(key, d);
      const slot = key.slice(record.fabric.length + 1);
      const cmd: Command<"draft"> = { type: "draft", at, fabric: record.fabric, slot, draft: d };
      ctx.forward(FGD_COMMANDS_TOPIC.name, record.fabric, cmd);
      n++;
    }
    ctx.log.info(
      "stores seeded from lz.fgd.fabrics.v1 and lz.fgd.objects.v1 (first start after the upgrade)",
      {
        fabrics: regs.size,
        drafts: n,
      },
    );
  };

  return {
    async init(ctx) {
      alerts = new FabricAlerts(
        run.alertThreshold,
        (a, fabric) => emit(ctx, fabric, ALERTS_TOPIC.name, a.id, a),
        () => iso(ctx),
      );
      for (const a of ctx.table<Alert>(ALERTS_TOPIC.name).values()) alerts.restore(a);
      if (fabrics(ctx).size === 0 && drafts(ctx).size === 0 && await run.legacy?.(ctx.app)) seed(ctx);
      for (const [id, reg] of [...fabrics(ctx).entries()]) {
        const clean = withoutUrlCredentials(reg);
        if (clean === reg) continue;
        // Stored before URLs with credentials were refused: the corrected record replaces it, and the
        // fabric warns (status.warnings) that it needs a credential reference.
        fabrics(ctx).put(id, clean);
        ctx.forward(FGD_FABRICS_TOPIC.name, id, clean);
        ctx.log.warn("fgd removed credentials stored inside a fabric's URL; name a credential instead", {
          fabric: id,
          fields: clean.credential_removed,
        });
      }
      const regs = run.configFabrics();
      configIds = new Set(regs.map((r) => r.id));
      for (const reg of fabrics(ctx).entries()) if (!configIds.has(reg[0])) regs.push(reg[1]);
      for (const reg of regs) {
        try {
          await open(ctx, reg);
        } catch (err) {
          ctx.log.error("fgd cannot open a fabric; it is left out until the next start", {
            fabric: reg.id,
            error: describeError(err),
          });
          continue;
        }
        ask(ctx, reg.id, "start");
      }
      ready = true;
      run.attach(workers);
      ctx.schedule(run.tickMs, () => tick(ctx));
      if (run.scheduleMs > 0) {
        ctx.schedule(run.scheduleMs, () => {
          for (const id of workers.keys()) ask(ctx, id, "schedule");
        });
      }
      if (run.kubeIntervalMs > 0) {
        ctx.schedule(run.kubeIntervalMs, async () => {
          for (const w of workers.values()) {
            if (!inflight.has(w.id) && !finished.has(w.id)) await w.pollNow().catch(() => {});
          }
        });
      }
      ctx.log.info("fgd started", { fabrics: [...workers.keys()] });
    },
    async process(rec: InputRecord<unknown>, ctx: ProcessorContext) {
      if (rec.topic === FGD_COMMANDS_TOPIC.name) {
        if (rec.value !== null) await command(ctx, rec.value as FgdCommand);
        return;
      }
      hint(ctx, rec);
    },
    async close() {
      // a run in flight ends first; its outcome is not settled, so `pending` still asks for it next time
      await Promise.all(inflight.values());
      finished.clear();
      for (const w of workers.values()) w.close();
      workers.clear();
      ready = false;
      run.detach?.();
    },
  };
}

/**
 * The fabric topology. Without a run it only declares the app (for `describe`, `replay`, `digest`); a host
 * must never run it that way.
 */
export function fgdTopology(run?: FgdRun, app = FGD_APP): Topology {
  return {
    app,
    description:
      "ingests each fabric's GitOps directory on registration, git hints, manual syncs and a schedule; Portal edits of fabric objects",
    inputs: [FGD_COMMANDS_TOPIC.name, GIT_PUSH_TOPIC.name, GIT_FILES_TOPIC.name],
    stores: [FABRICS_STORE, DRAFTS_STORE, PENDING_STORE],
    outputs: [
      FGD_FABRICS_TOPIC.name,
      FGD_STATUS_TOPIC.name,
      FGD_OBJECTS_TOPIC.name,
      FGD_UNMANAGED_TOPIC.name,
      FGD_RESULTS_TOPIC.name,
      FGD_COMMANDS_TOPIC.name,
      GIT_PUSH_TOPIC.name,
      ALERTS_TOPIC.name,
    ],
    tables: [
      { topic: FGD_FABRICS_TOPIC.name },
      { topic: FGD_STATUS_TOPIC.name },
      { topic: FGD_OBJECTS_TOPIC.name },
      {
        topic: ALERTS_TOPIC.name,
        select: (v) => (v as Alert).type === "FabricFailure" ? v : undefined,
      },
    ],
    sinks: run ? [run.sink] : [],
    create(): Processor<unknown> {
      if (!run) {
        throw new LzError("CONFIG", "the fabric topology runs only with the service it was built for");
      }
      return createFgdProcessor(run);
    },
  };
}
