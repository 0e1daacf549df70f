/**
 * Step 4's results kept across runs of one fabric (see `plan_across.ts`): what the across-fabric rules found
 * on a managed object, with everything of the fabric the check read — each object it looked up by name, each
 * kind it listed, and what the indexes it used (`RuleContext.memo`) read when they were built. A later run
 * takes the result again only when the object is the same (the same cached object: its normalized form is
 * kept with its parse, `PlanCache.rendered`) and every such read answers the same: a looked-up name is the
 * same object or still absent, a listed kind holds the same objects in the same order. A referenced object
 * that changes, appears or goes away makes the check run again; so does any change in a kind it listed.
 *
 * Rules read the rest of the fabric only through their {@link RuleContext} (the rule-pack contract) and never
 * mutate an object, which is what makes the reads a complete account of what a result depends on.
 *
 * A raw object that step 4 skips (pass 2 checked it against the same objects, `plan_raw.ts`) is kept too,
 * with what pass 2 read, answered by the final desired state: so the run after a big drop does not check
 * every object it brought in again.
 *
 * @module
 */
import { directoryContext } from "./rule_context.ts";
import type { Finding } from "./finding.ts";
import type { KubeObject } from "./object.ts";
import type { RuleContext } from "./rule_pack.ts";

/** What a check read of the fabric, by name: lookups (`group/kind/name`) and listed kinds (`group/kind`). */
export interface ReadKeys {
  lookups: Map<string, [string, string, string]>;
  lists: Map<string, [string, string]>;
}

/** One object's step-4 result and the answers to what its check read. */
interface AcrossResult {
  document: number;
  /** The across-fabric findings, as step 4 records them on the entry. */
  findings: Finding[];
  /** Each lookup and the object it answered (undefined: absent). */
  lookups: { at: [string, string, string]; object: KubeObject | undefined }[];
  /** Each listed kind and the version of its list it read (see {@link AcrossCache.lists}). */
  lists: { at: [string, string]; version: number }[];
}

/** Results kept by a run for objects step 4 skipped, answered at the start of the next run. */
interface Pending {
  /** The run's final desired state. */
  objects: KubeObject[];
  seeds: { object: KubeObject; document: number; findings: Finding[]; reads: ReadKeys }[];
}

/** Step-4 results by object, and the versions of the lists they read. Part of the fabric's `PlanCache`. */
export interface AcrossCache {
  results: WeakMap<KubeObject, AcrossResult>;
  /**
   * Per listed kind, the objects it held when a check last listed it and a version number that changes
   * whenever a later list differs (so a result that read version v is valid while the list is v).
   */
  lists: Map<string, { objects: readonly KubeObject[]; version: number }>;
  pending?: Pending;
}

/** An empty {@link AcrossCache}. */
export function newAcrossCache(): AcrossCache {
  return { results: new WeakMap(), lists: new Map() };
}

const noReads = (): ReadKeys => ({ lookups: new Map(), lists: new Map() });

/**
 * A context over `base` that records what each check run through {@link record} reads; what an index reads
 * when it is built is charged to every check that uses it.
 */
export class ReadRecorder {
  readonly ctx: RuleContext;
  #reads: ReadKeys = noReads();
  readonly #memoReads = new Map<string, ReadKeys>();

  constructor(base: RuleContext) {
    this.ctx = {
      lookup: (group, kind, name) => {
        this.#reads.lookups.set(`${group}/${kind}/${name}`, [group, kind, name]);
        return base.lookup!(group, kind, name);
      },
      list: (group, kind) => {
        this.#reads.lists.set(`${group}/${kind}`, [group, kind]);
        return base.list!(group, kind);
      },
      memo: <T>(key: string, build: () => T): T => {
        let reads = this.#memoReads.get(key);
        let value: T;
        if (reads) value = base.memo!(key, build);
        else {
          const outer = this.#reads;
          this.#memoReads.set(key, reads = this.#reads = noReads());
          try {
            value = base.memo!(key, build);
          } finally {
            this.#reads = outer;
          }
        }
        for (const [k, v] of reads.lookups) this.#reads.lookups.set(k, v);
        for (const [k, v] of reads.lists) this.#reads.lists.set(k, v);
        return value;
      },
    };
  }

  /** Runs `fn` with the recording context; returns its result and what it read. */
  record<T>(fn: (ctx: RuleContext) => T): { result: T; reads: ReadKeys } {
    this.#reads = noReads();
    const result = fn(this.ctx);
    return { result, reads: this.#reads };
  }
}

/**
 * The step-4 checks of one run over `ctx` (the final desired state) with `cache`: {@link cached} answers a
 * result still valid, {@link check} runs a check through a recording context and keeps it, {@link seed}
 * keeps a result found elsewhere (pass 2) with what that check read.
 */
export class AcrossRun {
  readonly #ctx: RuleContext;
  readonly #cache: AcrossCache;
  readonly #recorder: ReadRecorder;
  /** This run's version of each kind listed so far. */
  readonly #versions = new Map<string, number>();

  constructor(ctx: RuleContext, cache: AcrossCache) {
    this.#ctx = ctx;
    this.#cache = cache;
    this.#recorder = new ReadRecorder(ctx);
  }

  /** The findings kept for `object` at `document` when everything its check read answers the same now. */
  cached(object: KubeObject, document: number): Finding[] | undefined {
    const r = this.#cache.results.get(object);
    if (!r || r.document !== document) return undefined;
    for (const { at, object: o } of r.lookups) if (this.#ctx.lookup!(...at) !== o) return undefined;
    for (const { at, version } of r.lists) {
      if (versionOf(this.#ctx, this.#cache, this.#versions, ...at) !== version) return undefined;
    }
    return r.findings;
  }

  /** Runs `check` with a recording context and keeps `keep(result)` for `object` at `document`. */
  check<T>(
    object: KubeObject,
    document: number,
    check: (ctx: RuleContext) => T,
    keep: (r: T) => Finding[],
  ): T {
    const { result, reads } = this.#recorder.record(check);
    this.#cache.results.set(
      object,
      resolve(this.#ctx, this.#cache, this.#versions, document, keep(result), reads),
    );
    return result;
  }
}

/**
 * Keeps `seed.findings` for `seed.object`, found by a check that read `seed.reads` of a context holding the
 * same objects as this run's final desired state `objects()` (in written rather than normalized form).
 * Answered against that state by {@link answerPending} at the start of the next run's step 4.
 */
export function seedAcross(
  cache: AcrossCache,
  objects: () => KubeObject[],
  seed: Pending["seeds"][number],
): void {
  (cache.pending ??= { objects: objects(), seeds: [] }).seeds.push(seed);
}

/** Answers the seeds of the previous run against its final desired state (before this run reads anything). */
export function answerPending(cache: AcrossCache): void {
  const pending = cache.pending;
  if (!pending) return;
  delete cache.pending;
  const old = directoryContext(pending.objects);
  const versions = new Map<string, number>();
  for (const s of pending.seeds) {
    cache.results.set(s.object, resolve(old, cache, versions, s.document, s.findings, s.reads));
  }
}

/** The version of a kind's list in `ctx` (a new one when it differs from the list last seen). */
function versionOf(
  ctx: RuleContext,
  cache: AcrossCache,
  versions: Map<string, number>,
  group: string,
  kind: string,
): number {
  const k = `${group}/${kind}`;
  let v = versions.get(k);
  if (v !== undefined) return v;
  const now = ctx.list!(group, kind);
  const last = cache.lists.get(k);
  if (last && last.objects.length === now.length && last.objects.every((o, i) => o === now[i])) {
    v = last.version;
  } else cache.lists.set(k, { objects: now, version: v = (last?.version ?? 0) + 1 });
  versions.set(k, v);
  return v;
}

function resolve(
  ctx: RuleContext,
  cache: AcrossCache,
  versions: Map<string, number>,
  document: number,
  findings: Finding[],
  reads: ReadKeys,
): AcrossResult {
  return {
    document,
    findings,
    lookups: [...reads.lookups.values()].map((at) => ({ at, object: ctx.lookup!(...at) })),
    lists: [...reads.lists.values()].map((at) => ({ at, version: versionOf(ctx, cache, versions, ...at) })),
  };
}
