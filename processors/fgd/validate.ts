/**
 * The FGD validator — one module for ingestion and for Portal drafts. Layers, each reached only when the
 * previous one passed:
 *
 * 1. structure (`validate_structure.ts`): apiVersion, kind, metadata.name/namespace;
 * 2. defaulting (a rule pack's `defaults`, e.g. `default_hedgehog.ts`): what the cluster's mutating webhooks
 *    fill in; the next layers check the defaulted object, as the API server does;
 * 3. schema (`validate_schema.ts`): the `openAPIV3Schema` from the fabric's CRD files, unknown fields included;
 * 4. semantic rule packs (e.g. `rules_hedgehog.ts`): the cluster's validating-webhook rules, with optional
 *    cross-object checks against the fabric's other objects.
 */
import { LzError } from "../../pipeline/errors.ts";
import type { CrdIndex, CrdKind } from "./crd.ts";
import type { Finding, Severity } from "./finding.ts";
import type { KubeObject } from "./object.ts";
import type { RuleContext, RuleInfo, RulePack } from "./rule_pack.ts";
import { hedgehogPack } from "./rules_hedgehog.ts";
import { SchemaLayer } from "./validate_schema.ts";
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
   */
  validate(doc: unknown, index: number, ctx: RuleContext = {}): DocumentResult {
    const structure = checkStructure(doc, index);
    if (!structure.object) return { findings: structure.findings };
    let object = structure.object;
    let defaulted = object;
    const warnings: Finding[] = [];
    for (const pack of this.packs) {
      if (!pack.defaults || !pack.appliesTo(defaulted)) continue;
      const d = pack.defaults(defaulted);
      defaulted = d.object;
      if (d.written !== object && object === structure.object) object = d.written;
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
    const findings = this.schema.check(defaulted, index);
    if (findings.some((f) => f.severity === "error")) return { findings, object, defaulted, crd };
    findings.push(...warnings);
    const report = (rule: string, path: string, message: string, severity: Severity = "error") =>
      findings.push({ rule, layer: "semantic", severity, doc: index, path, message });
    for (const pack of this.packs) {
      if (pack.appliesTo(defaulted)) pack.check(defaulted, report, ctx);
    }
    return { findings, object, defaulted, crd };
  }
}
