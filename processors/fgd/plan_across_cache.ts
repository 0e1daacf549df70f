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
 * @module
 */
import type { Finding } from "./finding.ts";
import type { KubeObject } from "./object.ts";
import type { RuleContext } from "./rule_pack.ts";

/** What one check read of the fabric. */
interface Reads {
  /** `group/kind/name` → [group, kind, name] and the object the lookup answered (undefined: absent). */
  lookups: Map<string, { at: [string, string, string]; object: KubeObject | undefined }>;
  /** `group/kind` → the version of that kind's list it read (see {@link AcrossCache.lists}). */
  lists: Map<string, number>;
}

/** One object's step-4 result and its reads. */
interface AcrossResult extends Reads {
  document: number;
  /** The across-fabric findings, as step 4 records them on the entry. */
  findings: Finding[];
}

/** Step-4 results by object, and the versions of the lists they read. Part of the fabric's `PlanCache`. */
export interface AcrossCache {
  results: WeakMap<KubeObject, AcrossResult>;
  /**
   * Per listed kind, the objects it held when a check last listed it and a version number that changes
   * whenever a later run's list differs (so a result that read version v is valid while the list is v).
   */
  lists: Map<string, { objects: readonly KubeObject[]; version: number }>;
}

/** An empty {@link AcrossCache}. */
export function newAcrossCache(): AcrossCache {
  return { results: new WeakMap(), lists: new Map() };
}

const noReads = (): Reads => ({ lookups: new Map(), lists: new Map() });

function addReads(into: Reads, from: Reads): void {
  for (const [k, v] of from.lookups) into.lookups.set(k, v);
  for (const [k, v] of from.lists) into.lists.set(k, v);
}

/**
 * The step-4 checks of one run over `ctx` (the final desired state) with `cache`: {@link cached} answers a
 * result still valid, {@link check} runs a check through a context that records what it reads and keeps it.
 */
export class AcrossRun {
  readonly #ctx: RuleContext;
  readonly #cache: AcrossCache;
  /** This run's version of each kind listed so far. */
  readonly #versions = new Map<string, number>();
  /** What each index (memo key) read when it was built in this run. */
  readonly #memoReads = new Map<string, Reads>();
  #reads: Reads = noReads();
  readonly #tracking: RuleContext;

  constructor(ctx: RuleContext, cache: AcrossCache) {
    this.#ctx = ctx;
    this.#cache = cache;
    this.#tracking = {
      lookup: (group, kind, name) => {
        const object = ctx.lookup!(group, kind, name);
        this.#reads.lookups.set(`${group}/${kind}/${name}`, { at: [group, kind, name], object });
        return object;
      },
      list: (group, kind) => {
        this.#reads.lists.set(`${group}/${kind}`, this.#version(group, kind));
        return ctx.list!(group, kind);
      },
      memo: <T>(key: string, build: () => T): T => {
        let reads = this.#memoReads.get(key);
        let value: T;
        if (reads) value = ctx.memo!(key, build);
        else {
          // the first use builds the index: what the build reads is what the index depends on
          const outer = this.#reads;
          this.#memoReads.set(key, reads = this.#reads = noReads());
          try {
            value = ctx.memo!(key, build);
          } finally {
            this.#reads = outer;
          }
        }
        addReads(this.#reads, reads);
        return value;
      },
    };
  }

  /** The version of a kind's list in this run (a new one when it differs from the list last seen). */
  #version(group: string, kind: string): number {
    const k = `${group}/${kind}`;
    let v = this.#versions.get(k);
    if (v !== undefined) return v;
    const now = this.#ctx.list!(group, kind);
    const last = this.#cache.lists.get(k);
    if (last && last.objects.length === now.length && last.objects.every((o, i) => o === now[i])) {
      v = last.version;
    } else this.#cache.lists.set(k, { objects: now, version: v = (last?.version ?? 0) + 1 });
    this.#versions.set(k, v);
    return v;
  }

  /** The findings kept for `object` at `document` when everything its check read answers the same now. */
  cached(object: KubeObject, document: number): Finding[] | undefined {
    const r = this.#cache.results.get(object);
    if (!r || r.document !== document) return undefined;
    for (const { at, object: o } of r.lookups.values()) if (this.#ctx.lookup!(...at) !== o) return undefined;
    for (const [k, v] of r.lists) {
      const i = k.lastIndexOf("/");
      if (this.#version(k.slice(0, i), k.slice(i + 1)) !== v) return undefined;
    }
    return r.findings;
  }

  /**
   * Runs `check` with a context recording what it reads, and keeps `keep(result)` for `object` at `document`.
   * Returns the check's result.
   */
  check<T>(
    object: KubeObject,
    document: number,
    check: (ctx: RuleContext) => T,
    keep: (r: T) => Finding[],
  ): T {
    this.#reads = noReads();
    const result = check(this.#tracking);
    this.#cache.results.set(object, { document, findings: keep(result), ...this.#reads });
    return result;
  }
}
