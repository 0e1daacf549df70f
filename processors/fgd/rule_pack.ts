/**
 * The contract of a semantic rule pack: the rules a cluster's admission webhooks enforce that no CRD schema
 * can express. A pack lists its rules (id, kinds, what is valid) so that docs, the API and the tests can
 * enumerate them, and checks one object at a time; cross-object rules use {@link RuleContext.lookup}.
 */
import type { Severity } from "./finding.ts";
import type { KubeObject } from "./object.ts";

/** A rule a pack enforces. */
export interface RuleInfo {
  /** Stable id, `<pack>.<kind-or-topic>.<rule>`. */
  id: string;
  /** Kinds the rule applies to ("*" for every kind of the pack's groups). */
  kinds: string[];
  /** What is valid, in one sentence. */
  description: string;
}

/** Reports a finding on the object being checked. */
export type Report = (rule: string, path: string, message: string, severity?: Severity) => void;

/** What a pack may consult beyond the object itself. */
export interface RuleContext {
  /**
   * Another object of the same fabric (the desired state this object will join), by group, kind and name
   * in the object's namespace; undefined when the fabric has no such object. Absent when the caller has no
   * fabric context (cross-object rules are then skipped).
   */
  lookup?(group: string, kind: string, name: string): KubeObject | undefined;
  /**
   * Every object of a kind in the same fabric (the set `lookup` answers from, the object being checked
   * included, as written: not defaulted). Absent without fabric context.
   */
  list?(group: string, kind: string): readonly KubeObject[];
  /**
   * `build()` computed once per context and key: the indexes (maps) that directory-wide rules query per
   * object, so that checking n objects against each other stays O(n). Absent without fabric context.
   */
  memo?<T>(key: string, build: () => T): T;
}

/** What defaulting did to one object. */
export interface Defaulted {
  /** The object as the cluster stores it after its mutating webhook: what the schema and the rules check. */
  object: KubeObject;
  /** The object for `managed/`: as written, with shorthand values the cluster rewrites spelled out. */
  written: KubeObject;
  /** Fields defaulting filled in or rewrote (kubectl-style paths), in the order they were touched. */
  changed: string[];
  /** Fields with a value that the cluster drops, with why (reported as warnings). */
  dropped: { path: string; message: string }[];
}

/** A set of semantic rules for some API groups. */
export interface RulePack {
  name: string;
  rules: readonly RuleInfo[];
  /** True when the pack has something to say about this object (by API group). */
  appliesTo(obj: KubeObject): boolean;
  /**
   * The cluster's mutating step for an object the pack applies to: run before the schema and the rules,
   * which see {@link Defaulted.object}. Never mutates its argument.
   */
  defaults?(obj: KubeObject): Defaulted;
  check(obj: KubeObject, report: Report, ctx: RuleContext): void;
}
