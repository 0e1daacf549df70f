/**
 * The FGD validator — one module for ingestion and for Portal drafts. Every layer that can say something
 * meaningful about a document runs, so a document's findings of all layers are reported at once:
 *
 * 1. structure (`validate_structure.ts`): apiVersion, kind, metadata.name/namespace. A document without a
 *    usable apiVersion, kind, metadata mapping or name stops here (there is no kind to look up and no
 *    identity); an invalid name, namespace or label map is reported and the next layers still run;
 * 2. defaulting (a rule pack's `defaults`, e.g. `default_hedgehog.ts`): what the cluster's mutating webhooks
 *    fill in; the next layers check the defaulted object, as the API server does;
 * 3. schema (`validate_schema.ts`): the `openAPIV3Schema` from the fabric's CRD files, unknown fields included.
 *    An unknown kind, an unserved version or a CRD that does not compile stops here (the rules are written
 *    for a known kind's shape); field errors do not;
 * 4. semantic rule packs (e.g. `rules_hedgehog.ts`): the cluster's validating-webhook rules, with optional
 *    cross-object checks against the fabric's other objects. They also run on a document with schema errors
 *    (the packs read fields through type-checking accessors, `rules_util.ts`); a rule finding at or under a
 *    field the schema already reported is dropped, since it would only restate that the field is malformed.
 *    A rule that throws on such a partially valid document is skipped: its schema errors already reject it.
 */
import { LzError } from "../../pipeline/errors.ts";
import type { CrdIndex, CrdKind } from "./crd.ts";
import type { Finding, Severity } from "./finding.ts";
import { isPlainObject, type KubeObject } from "./object.ts";
import type { RuleContext, RuleInfo, RulePack } from "./rule_pack.ts";
import { hedgehogPack } from "./rules_hedgehog.ts";
import { builtinKind, SchemaLayer } from "./validate_schema.ts";
import { checkStructure } from "./validate_structure.ts";

/** Rule packs by the name used in `fabrics[].rule_packs`. */
export const RULE_PACKS: ReadonlyMap<string, RulePack> = new Map([[hedgehogPack.name, hedgehogPack]]);

/** What {@link Validator.validate} returns for one document. */
export interface DocumentResult {
  findings: Finding[];
  /**
   * The object when structure passed (possibly with schema/semantic errors), in the form written to
   * `managed/`: as given, with the shorthands the cluster rewrites spelled out (see `default_hedgehog.ts`).
   */
  object?: KubeObject;
  /** The object after the packs' defaulting: what the schema and the rules checked (the cluster's view). */
  defaulted?: KubeObject;
  /** The CRD of the object's kind, when one is known. */
  crd?: CrdKind;
}

/** What {@link Validator.validate} found before the rule packs, for one document at one index. */
export interface ValidationPrelude {
  index: number;
  /** Structure findings, then schema findings. */
  findings: Finding[];
  /** True when the structure passed. */
  valid: boolean;
  object?: KubeObject;
  /** Absent when not even a partial object could be checked. */
  defaulted?: KubeObject;
  crd?: CrdKind;
  /** Defaulting warnings, reported with the rule findings. */
  warnings: Finding[];
  /** True when the rule packs are not run (no known shape to check against). */
  stop: boolean;
  /** Paths of schema errors: rule findings at or below them are dropped. */
  malformed: string[];
}

/**
 * Results of the context-free layers by document object, for one planning run (see
 * {@link Validator.validate}); a WeakMap, so it holds nothing once the run's documents are gone.
 */
export type ValidationMemo = WeakMap<object, ValidationPrelude>;

/** Validates decoded documents against structure, CRD schemas and rule packs. */
export class Validator {
  readonly schema: SchemaLayer;
  readonly packs: readonly RulePack[];
  readonly crds: CrdIndex;

  /** Throws LzError(CONFIG) for an unknown rule pack name. */
  constructor(crds: CrdIndex, packNames: readonly string[] = ["hedgehog"]) {
    this.crds = crds;
    this.schema = new SchemaLayer(crds);
    this.packs = packNames.map((n) => {
      const p = RULE_PACKS.get(n);
      if (!p) {
        throw new LzError(
          "CONFIG",
          `unknown rule pack "${n}"; available: ${[...RULE_PACKS.keys()].join(", ")}`,
        );
      }
      return p;
    });
  }

  /** Every semantic rule of the configured packs. */
  rules(): RuleInfo[] {
    return this.packs.flatMap((p) => [...p.rules]);
  }

  /**
   * Validates one decoded document (`index` is its position in its file). Namespaced kinds without a
   * namespace are checked as if in `default`, as the API server would place them from a default context.
   *
   * With a `memo`, the layers that do not depend on `ctx` (structure, defaulting, schema) run once per
   * document object and index: validating the same unchanged object again (e.g. a second pass with the
   * fabric as context) only runs the rule packs. The caller promises not to mutate a memoized document.
   */
  validate(doc: unknown, index: number, ctx: RuleContext = {}, memo?: ValidationMemo): DocumentResult {
    let p: ValidationPrelude | undefined;
    const key = typeof doc === "object" && doc !== null ? doc : undefined;
    if (memo && key) {
      p = memo.get(key);
      if (p?.index !== index) p = undefined;
    }
    if (!p) {
      p = this.#prelude(doc, index);
      if (memo && key) memo.set(key, p);
    }
    const findings: Finding[] = [...p.findings];
    const { valid, object, defaulted, crd } = p;
    if (!defaulted) return { findings };
    const result = (): DocumentResult =>
      valid ? { findings, object, defaulted, crd } : { findings, defaulted, crd };
    if (p.stop) return result();
    const malformed = p.malformed;
    const semantic: Finding[] = [...p.warnings];
    const report = (rule: string, path: string, message: string, severity: Severity = "error") =>
      semantic.push({ rule, layer: "semantic", severity, doc: index, path, message });
    for (const pack of this.packs) {
      if (!pack.appliesTo(defaulted)) continue;
      if (malformed.length === 0 && valid) pack.check(defaulted, report, ctx);
      else {
        try {
          pack.check(defaulted, report, ctx);
        } catch {
          // A rule misread a field the structure or schema layer already rejected; those findings stand.
        }
      }
    }
    for (const f of semantic) if (!malformed.some((m) => within(f.path, m))) findings.push(f);
    return result();
  }

  /** Structure, defaulting and schema of one document: everything before the rule packs. */
  #prelude(doc: unknown, index: number): ValidationPrelude {
    if (
      isPlainObject(doc) && typeof doc.apiVersion === "string" &&
      doc.apiVersion.startsWith("kustomize.config.k8s.io/")
    ) {
      // A Kustomize file has no metadata: say what it is rather than what a Kubernetes object lacks.
      const k = builtinKind("kustomize.config.k8s.io", String(doc.kind ?? "Kustomization"), doc.apiVersion)!;
      const findings: Finding[] = [{ ...k, layer: "structure", severity: "error", doc: index }];
      return { index, findings, valid: false, warnings: [], stop: true, malformed: [] };
    }
    const structure = checkStructure(doc, index);
    const valid = structure.object !== undefined;
    const checked = structure.object ?? partialObject(doc);
    if (!checked) {
      return { index, findings: structure.findings, valid, warnings: [], stop: true, malformed: [] };
    }
    let object = checked;
    let defaulted = object;
    const warnings: Finding[] = [];
    for (const pack of this.packs) {
      if (!pack.defaults || !pack.appliesTo(defaulted)) continue;
      const d = pack.defaults(defaulted);
      defaulted = d.object;
      if (d.written !== object && object === checked) object = d.written;
      for (const { path, message } of d.dropped) {
        warnings.push({
          rule: `${pack.name}.defaults.dropped`,
          layer: "semantic",
          severity: "warning",
          doc: index,
          path,
          message,
        });
      }
    }
    const crd = this.schema.crdOf(defaulted.apiVersion, defaulted.kind);
    const schema = this.schema.check(defaulted, index);
    return {
      index,
      findings: [...structure.findings, ...schema],
      valid,
      object,
      defaulted,
      crd,
      warnings,
      stop: schema.some((f) => STOPPING_SCHEMA_RULES.has(f.rule)),
      malformed: schema.filter((f) => f.severity === "error").map((f) => f.path),
    };
  }
}

/** Schema findings after which the rules are not run: there is no known shape to check against. */
const STOPPING_SCHEMA_RULES = new Set([
  "schema.unknown-kind",
  "schema.builtin-kind",
  "schema.crd-in-fabric",
  "schema.not-a-resource",
  "schema.gitops-object",
  "schema.version",
  "schema.crd-invalid",
]);

/** True when `path` is `prefix` or a field below it (`a.b` is within `a`, `a[0]` is within `a`). */
function within(path: string, prefix: string): boolean {
  if (prefix === "") return true;
  return path === prefix ||
    (path.startsWith(prefix) && (path[prefix.length] === "." || path[prefix.length] === "["));
}

/**
 * A structurally invalid document the later layers can still check: apiVersion and kind usable, metadata a
 * mapping with a string name (the problems are in the name's spelling, the namespace or the label maps).
 */
function partialObject(doc: unknown): KubeObject | undefined {
  if (!isPlainObject(doc) || !isPlainObject(doc.metadata)) return undefined;
  if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") return undefined;
  if (typeof doc.metadata.name !== "string" || doc.metadata.name === "") return undefined;
  const structure = checkStructure(
    { apiVersion: doc.apiVersion, kind: doc.kind, metadata: { name: "x" } },
    0,
  );
  return structure.object ? doc as KubeObject : undefined;
}
