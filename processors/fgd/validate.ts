/**
 * The FGD validator — one module for ingestion and for Portal drafts. Three layers, each reached only when
 * the previous one passed:
 *
 * 1. structure (`validate_structure.ts`): apiVersion, kind, metadata.name/namespace;
 * 2. schema (`validate_schema.ts`): the `openAPIV3Schema` from the fabric's CRD files, unknown fields included;
 * 3. semantic rule packs (e.g. `rules_hedgehog.ts`): the cluster's admission-webhook rules, with optional
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
  /** The object when structure passed (possibly with schema/semantic errors). */
  object?: KubeObject;
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
    const object = structure.object;
    const crd = this.schema.crdOf(object.apiVersion, object.kind);
    const findings = this.schema.check(object, index);
    if (findings.some((f) => f.severity === "error")) return { findings, object, crd };
    const report = (rule: string, path: string, message: string, severity: Severity = "error") =>
      findings.push({ rule, layer: "semantic", severity, doc: index, path, message });
    for (const pack of this.packs) {
      if (pack.appliesTo(object)) pack.check(object, report, ctx);
    }
    return { findings, object, crd };
  }
}
