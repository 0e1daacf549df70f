/**
 * Compliance counters: passed / evaluated and open violations, overall, per project and per rule, kept
 * incrementally from result transitions, with the set of scopes changed since the last emission.
 */
import type { ComplianceScore } from "../../schemas/compliance.ts";

interface Tally {
  passed: number;
  evaluated: number;
  open: number;
}

/** One stored result as the counters see it. */
export interface Counted {
  /** Counts in passed/evaluated (false for Landing Zone-reported violations, which have no denominator). */
  scored: boolean;
  passed: boolean;
  project: string | null;
  rule: string;
}

/** The counters. */
export class Scores {
  readonly #t = new Map<string, Tally>();
  readonly #dirty = new Set<string>();
  /** Scope names by rule id and by project (built once: no string concatenation per result). */
  readonly #ruleScope = new Map<string, string>();
  readonly #projectScope = new Map<string, string>();

  #bump(scope: string, scored: boolean, passed: boolean, sign: 1 | -1): void {
    let t = this.#t.get(scope);
    if (!t) this.#t.set(scope, t = { passed: 0, evaluated: 0, open: 0 });
    if (scored) {
      t.evaluated += sign;
      if (passed) t.passed += sign;
    }
    if (!passed) t.open += sign;
    this.#dirty.add(scope);
  }

  /**
   * Adds (`sign` 1) or removes (-1) one result: overall, its rule and its project (if any), in that order.
   * The allocation-free form of {@link change}.
   */
  apply(rule: string, project: string | null, scored: boolean, passed: boolean, sign: 1 | -1): void {
    this.#bump("overall", scored, passed, sign);
    let rs = this.#ruleScope.get(rule);
    if (rs === undefined) this.#ruleScope.set(rule, rs = `rule:${rule}`);
    this.#bump(rs, scored, passed, sign);
    if (project) {
      let ps = this.#projectScope.get(project);
      if (ps === undefined) this.#projectScope.set(project, ps = `project:${project}`);
      this.#bump(ps, scored, passed, sign);
    }
  }

  /** Accounts a result change: `before` removed, `after` added (either may be absent). */
  change(before: Counted | undefined, after: Counted | undefined): void {
    if (before) this.apply(before.rule, before.project, before.scored, before.passed, -1);
    if (after) this.apply(after.rule, after.project, after.scored, after.passed, 1);
  }

  /** Current tally of a scope. */
  get(scope: string): Tally {
    return this.#t.get(scope) ?? { passed: 0, evaluated: 0, open: 0 };
  }

  /** True when some scope changed since the last {@link drain}. */
  get dirty(): boolean {
    return this.#dirty.size > 0;
  }

  /** Marks `scope` changed (one with nothing left is drained as a null). */
  touch(scope: string): void {
    this.#dirty.add(scope);
  }

  /** Marks every known scope (plus overall) changed. */
  touchAll(): void {
    this.#dirty.add("overall");
    for (const k of this.#t.keys()) this.#dirty.add(k);
  }

  /** Changed scopes as records (null value: the scope has nothing left and should be removed). */
  drain(now: string): [string, ComplianceScore | null][] {
    const out: [string, ComplianceScore | null][] = [];
    for (const scope of this.#dirty) {
      const t = this.get(scope);
      if (scope !== "overall" && t.evaluated === 0 && t.open === 0) {
        this.#t.delete(scope);
        out.push([scope, null]);
        continue;
      }
      const i = scope.indexOf(":");
      const kind = (i < 0 ? "overall" : scope.slice(0, i)) as ComplianceScore["kind"];
      out.push([scope, {
        scope,
        kind,
        name: i < 0 ? "overall" : scope.slice(i + 1),
        passed: t.passed,
        evaluated: t.evaluated,
        score: t.evaluated ? Math.round((10000 * t.passed) / t.evaluated) / 100 : null,
        open_violations: t.open,
        updated_at: now,
      }]);
    }
    this.#dirty.clear();
    return out;
  }
}
