/**
 * Governance rules from the Landing Zone's `pmo.yaml` (required labels with value patterns or allowed values,
 * allowed regions, exceptions), and the parser that turns the synced file into a {@link Governance} value.
 *
 * Accepted `pmo.yaml` shape (the sample Landing Zone's):
 * ```yaml
 * required_labels:            # strings, or {key, pattern?, allowed?}
 *   - key: cost-center
 *     pattern: "^cc-[0-9]{4}$"
 *   - environment
 * allowed_regions: [europe-west1, us-*]
 * exceptions:                 # evaluations skipped by decision
 *   - {rule: pmo-allowed-regions, resource: "//storage.googleapis.com/legacy-*", reason: "migrating"}
 * ```
 */
import { parse as parseYaml } from "yaml";
import type { AssetRecord } from "../../schemas/assets.ts";
import type { Governance } from "../../schemas/compliance.ts";
import { ValidationError } from "../../pipeline/errors.ts";
import { type Data, dataOf, fail, notEvaluated, pass, type Rule } from "./rule.ts";

type Issue = { path: string; message: string };

/** Parses `pmo.yaml` text; throws a {@link ValidationError} naming each bad field. */
export function parsePmo(
  text: string,
): Pick<Governance, "required_labels" | "allowed_regions" | "exceptions"> {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ValidationError(`pmo.yaml is not valid YAML: ${(err as Error).message}`, [
      { path: "/", message: "fix the YAML syntax" },
    ]);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ValidationError("pmo.yaml must be a mapping", [{ path: "/", message: "expected a mapping" }]);
  }
  const d = doc as Data;
  const issues: Issue[] = [];
  const labels: Governance["required_labels"] = [];
  const rawLabels = d.required_labels ?? [];
  if (!Array.isArray(rawLabels)) issues.push({ path: "/required_labels", message: "expected a list" });
  else {
    rawLabels.forEach((l: unknown, i: number) => {
      const path = `/required_labels/${i}`;
      if (typeof l === "string" && l) return labels.push({ key: l, pattern: null, allowed: null });
      const o = l as Data;
      if (!o || typeof o !== "object" || typeof o.key !== "string" || !o.key) {
        return issues.push({ path, message: "expected a label key or {key, pattern?, allowed?}" });
      }
      if (o.pattern !== undefined) {
        try {
          new RegExp(String(o.pattern));
        } catch {
          return issues.push({
            path: `${path}/pattern`,
            message: `not a valid regular expression: ${o.pattern}`,
          });
        }
      }
      if (o.allowed !== undefined && !Array.isArray(o.allowed)) {
        return issues.push({ path: `${path}/allowed`, message: "expected a list of values" });
      }
      labels.push({
        key: o.key,
        pattern: o.pattern === undefined ? null : String(o.pattern),
        allowed: o.allowed === undefined ? null : o.allowed.map(String),
      });
    });
  }
  const regions = d.allowed_regions ?? [];
  if (!Array.isArray(regions) || !regions.every((r) => typeof r === "string")) {
    issues.push({ path: "/allowed_regions", message: "expected a list of region names" });
  }
  const exceptions: Governance["exceptions"] = [];
  (Array.isArray(d.exceptions) ? d.exceptions : []).forEach((e: Data, i: number) => {
    if (!e || typeof e.resource !== "string") {
      return issues.push({ path: `/exceptions/${i}`, message: "expected {rule, resource, reason?}" });
    }
    exceptions.push({
      rule: String(e.rule ?? "*"),
      resource: e.resource,
      reason: e.reason ? String(e.reason) : null,
    });
  });
  if (issues.length) {
    throw new ValidationError(`pmo.yaml is invalid at ${issues[0].path}: ${issues[0].message}`, issues);
  }
  return { required_labels: labels, allowed_regions: Array.isArray(regions) ? regions : [], exceptions };
}

/** The labels of an asset, wherever its type keeps them; undefined when the type has no labels. */
export function labelsOf(a: AssetRecord): Record<string, string> | undefined {
  const d = dataOf(a);
  switch (a.asset_type) {
    case "cloudresourcemanager.googleapis.com/Project":
    case "compute.googleapis.com/Instance":
    case "storage.googleapis.com/Bucket":
      return d.labels ?? {};
    case "container.googleapis.com/Cluster":
      return d.resourceLabels ?? {};
    case "sqladmin.googleapis.com/Instance":
      return d.settings?.userLabels ?? {};
    default:
      return undefined;
  }
}

/** A location from the resource data when `resource.location` is absent (older exports, Landing Zone events). */
export function locationInData(a: AssetRecord): string | null {
  const d = dataOf(a);
  for (const v of [d.location, d.region, d.zone]) {
    if (typeof v === "string" && v) return v.split("/").pop()!.toLowerCase();
  }
  return null;
}

/** The region of a location (`europe-west1-b` → `europe-west1`), lowercased; null for global/none. */
export function regionOf(location: string | null): string | null {
  if (!location || location === "global") return null;
  const l = location.toLowerCase();
  return /^[a-z]+-[a-z]+[0-9]+-[a-z]$/.test(l) ? l.slice(0, -2) : l;
}

const LABELED_TYPES = [
  "cloudresourcemanager.googleapis.com/Project",
  "compute.googleapis.com/Instance",
  "storage.googleapis.com/Bucket",
  "container.googleapis.com/Cluster",
  "sqladmin.googleapis.com/Instance",
];
const LOCATED_TYPES = [
  "compute.googleapis.com/Instance",
  "compute.googleapis.com/Subnetwork",
  "storage.googleapis.com/Bucket",
  "container.googleapis.com/Cluster",
  "sqladmin.googleapis.com/Instance",
];

/** Rule ids of the governance rules (persisted contract). */
export const RULE_REQUIRED_LABELS = "pmo-required-labels";
export const RULE_ALLOWED_REGIONS = "pmo-allowed-regions";

/** The governance rules for a {@link Governance}; none when pmo.yaml is absent or sets nothing. */
export function governanceRules(g: Governance | undefined): Rule[] {
  if (!g || !g.present) return [];
  const rules: Rule[] = [];
  if (g.required_labels.length) {
    const specs = g.required_labels.map((l) => ({
      ...l,
      re: l.pattern === null ? null : new RegExp(l.pattern),
    }));
    rules.push({
      id: RULE_REQUIRED_LABELS,
      title: "Required labels missing or invalid",
      severity: "medium",
      benchmarks: ["PMO governance (pmo.yaml required_labels)"],
      assetTypes: LABELED_TYPES,
      evaluate(a) {
        const labels = labelsOf(a);
        if (!labels) return null;
        const problems: string[] = [];
        for (const s of specs) {
          const v = labels[s.key];
          if (v === undefined) problems.push(`${s.key} missing`);
          else if (s.re && !s.re.test(v)) problems.push(`${s.key}=${v} does not match ${s.pattern}`);
          else if (s.allowed && !s.allowed.includes(v)) {
            problems.push(`${s.key}=${v} not one of ${s.allowed.join("|")}`);
          }
        }
        return problems.length
          ? fail(`labels: ${problems.join("; ")}`)
          : pass(`all ${specs.length} required labels present and valid`);
      },
    });
  }
  if (g.allowed_regions.length) {
    const allowed = g.allowed_regions.map((r) => r.toLowerCase());
    const ok = (region: string) =>
      allowed.some((r) => (r.endsWith("*") ? region.startsWith(r.slice(0, -1)) : r === region));
    rules.push({
      id: RULE_ALLOWED_REGIONS,
      title: "Resource outside the allowed regions",
      severity: "high",
      benchmarks: ["PMO governance (pmo.yaml allowed_regions)"],
      assetTypes: LOCATED_TYPES,
      needs: [],
      evaluate(a) {
        const location = a.location ?? locationInData(a);
        if (location === "global") return null;
        const region = regionOf(location);
        if (!region) {
          return notEvaluated("no resource.location (nor region/zone in the data): region unknown");
        }
        return ok(region)
          ? pass(`${region} is an allowed region`)
          : fail(`located in ${region}; allowed: ${g.allowed_regions.join(", ")}`);
      },
    });
  }
  return rules;
}

/** True when a pmo.yaml exception covers (rule, asset). */
export function excepted(g: Governance | undefined, ruleId: string, assetName: string): boolean {
  if (!g?.exceptions.length) return false;
  return g.exceptions.some((e) =>
    (e.rule === "*" || e.rule === ruleId) &&
    (e.resource.endsWith("*") ? assetName.startsWith(e.resource.slice(0, -1)) : e.resource === assetName)
  );
}
