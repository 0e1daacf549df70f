/**
 * The schema layer: each object is checked against the `openAPIV3Schema` of its kind and version, taken
 * from the CRD files the fabric points at (kubeconform's model). Validators are compiled with Ajv once per
 * kind and version and cached; Ajv errors become findings that say what is valid.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { type CrdIndex, type CrdKind, kindKey } from "./crd.ts";
import { crdToJsonSchema, LIST_MAP_KEYS_KEYWORD } from "./crd_schema.ts";
import { childPath, type Finding, indexPath } from "./finding.ts";
import { isPlainObject, type KubeObject, splitApiVersion } from "./object.ts";

const INT32 = [-2147483648, 2147483647];

function newAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    verbose: true,
    logger: false,
    validateSchema: false,
  });
  ajv.addFormat("int32", {
    type: "number",
    validate: (n: number) => Number.isInteger(n) && n >= INT32[0] && n <= INT32[1],
  });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d\d-\d\dT/.test(s));
  ajv.addFormat("date", (s: string) => /^\d{4}-\d\d-\d\d$/.test(s));
  ajv.addFormat("byte", (s: string) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0);
  ajv.addFormat(
    "uuid",
    (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s),
  );
  ajv.addKeyword({
    keyword: LIST_MAP_KEYS_KEYWORD,
    type: "array",
    errors: true,
    validate: function check(keys: string[], data: unknown[]): boolean {
      const seen = new Set<string>();
      for (const item of data) {
        const id = JSON.stringify(keys.map((k) => (isPlainObject(item) ? item[k] : undefined)));
        if (seen.has(id)) {
          (check as unknown as { errors: Partial<ErrorObject>[] }).errors = [{
            keyword: LIST_MAP_KEYS_KEYWORD,
            message: `items must be unique by ${keys.join(", ")}; ${id} appears twice`,
            params: { keys },
          }];
          return false;
        }
        seen.add(id);
      }
      return true;
    },
  });
  return ajv;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Converts an Ajv JSON pointer into a kubectl-style path, using the data to tell indices from keys. */
export function pointerToPath(pointer: string, root: unknown): string {
  if (!pointer) return "";
  let path = "";
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      path = indexPath(path, Number(seg));
      node = node[Number(seg)];
    } else {
      path = childPath(path, seg);
      node = isPlainObject(node) ? node[seg] : undefined;
    }
  }
  return path;
}

function toFinding(e: ErrorObject, obj: unknown, doc: number, kind: string): Finding {
  const at = pointerToPath(e.instancePath, obj);
  const base = { layer: "schema" as const, severity: "error" as const, doc };
  const p = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const field = String(p.additionalProperty);
      const known = isPlainObject(parent.properties) ? Object.keys(parent.properties).sort() : [];
      return {
        ...base,
        rule: "schema.unknown-field",
        path: childPath(at, field),
        message: known.length
          ? `unknown field "${field}" in the ${kind} schema; valid fields here: ${known.join(", ")}`
          : `unknown field "${field}": the ${kind} schema allows no fields here`,
      };
    }
    case "required":
      return {
        ...base,
        rule: "schema.required",
        path: childPath(at, String(p.missingProperty)),
        message: `"${p.missingProperty}" is required here by the ${kind} schema`,
      };
    case "type":
      return {
        ...base,
        rule: "schema.type",
        path: at,
        message: `expected ${Array.isArray(p.type) ? p.type.join(" or ") : p.type}, got ${
          e.data === null
            ? "an empty value (null): give a value or remove the key"
            : `${typeName(e.data)} ${preview(e.data)}`
        }`,
      };
    case "anyOf":
      return {
        ...base,
        rule: "schema.type",
        path: at,
        message: `expected an integer or a string (int-or-string), got ${
          e.data === null ? "an empty value (null)" : `${typeName(e.data)} ${preview(e.data)}`
        }`,
      };
    case "enum":
      return {
        ...base,
        rule: "schema.enum",
        path: at,
        message: `${preview(e.data)} is not allowed; use one of ${
          (p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")
        }`,
      };
    case "pattern":
      return {
        ...base,
        rule: "schema.pattern",
        path: at,
        message: `${preview(e.data)} must match ${p.pattern}`,
      };
    case "format":
      return {
        ...base,
        rule: "schema.format",
        path: at,
        message: `${preview(e.data)} is not a valid ${p.format} value`,
      };
    case "minItems":
    case "maxItems":
    case "minLength":
    case "maxLength":
    case "minProperties":
    case "maxProperties":
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const limit = p.limit;
      const what: Record<string, string> = {
        minItems: `at least ${limit} item(s)`,
        maxItems: `at most ${limit} item(s)`,
        minLength: `at least ${limit} character(s)`,
        maxLength: `at most ${limit} character(s)`,
        minProperties: `at least ${limit} entries`,
        maxProperties: `at most ${limit} entries`,
        minimum: `a value >= ${limit}`,
        maximum: `a value <= ${limit}`,
        exclusiveMinimum: `a value > ${limit}`,
        exclusiveMaximum: `a value < ${limit}`,
      };
      return {
        ...base,
        rule: `schema.${e.keyword.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        path: at,
        message: `must have ${what[e.keyword]}; got ${preview(e.data)}`,
      };
    }
    case "uniqueItems":
      return {
        ...base,
        rule: "schema.unique-items",
        path: at,
        message: `items must be unique (a set); ${e.message}`,
      };
    default:
      return { ...base, rule: `schema.${e.keyword}`, path: at, message: e.message ?? `fails ${e.keyword}` };
  }
}

/** Drops the per-branch errors under a failed anyOf (int-or-string) so only one finding remains. */
function collapse(errors: ErrorObject[]): ErrorObject[] {
  const anyOf = errors.filter((e) => e.keyword === "anyOf").map((e) => e.schemaPath + "/");
  if (!anyOf.length) return errors;
  return errors.filter((e) => !anyOf.some((prefix) => e.schemaPath.startsWith(prefix)));
}

/** API groups the Kubernetes API server serves itself: their kinds are never custom resources. */
const BUILTIN_GROUPS = new Set([
  "",
  "apps",
  "batch",
  "autoscaling",
  "policy",
  "rbac.authorization.k8s.io",
  "networking.k8s.io",
  "storage.k8s.io",
  "scheduling.k8s.io",
  "coordination.k8s.io",
  "discovery.k8s.io",
  "node.k8s.io",
  "certificates.k8s.io",
  "events.k8s.io",
  "flowcontrol.apiserver.k8s.io",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
  "apiregistration.k8s.io",
  "resource.k8s.io",
  "authentication.k8s.io",
  "authorization.k8s.io",
]);

/** The finding for a built-in Kubernetes kind (a ConfigMap, a CRD, a webhook configuration), if it is one. */
export function builtinKind(
  group: string,
  kind: string,
  apiVersion: string,
): { rule: string; path: string; message: string } | undefined {
  if (group === "kustomize.config.k8s.io") {
    return {
      rule: "schema.not-a-resource",
      path: "kind",
      message: `${kind} (${apiVersion}) is a Kustomize file, not a Kubernetes object: keep it outside the ` +
        "fabric directory, or in managed/ as kustomization.yaml (left alone there)",
    };
  }
  const tool = group.endsWith(".toolkit.fluxcd.io")
    ? "Flux"
    : group === "argoproj.io"
    ? "Argo CD"
    : undefined;
  if (tool) {
    return {
      rule: "schema.gitops-object",
      path: "kind",
      message:
        `${kind} (${apiVersion}) is ${
          tool === "Flux" ? "a" : "an"
        } ${tool} object (it tells ${tool} what to apply), not a custom ` +
        `resource of the fabric: keep it with your ${tool} configuration outside the fabric directory, ` +
        "pointing its path at the fabric's managed/ directory",
    };
  }
  if (!BUILTIN_GROUPS.has(group)) return undefined;
  if (group === "apiextensions.k8s.io" && kind === "CustomResourceDefinition") {
    return {
      rule: "schema.crd-in-fabric",
      path: "kind",
      message:
        "a CustomResourceDefinition is not a custom resource of the fabric: put CRD files in a directory " +
        "the fabric's crd_dirs lists (e.g. fabrics/crds/hedgehog), outside the fabric directory",
    };
  }
  return {
    rule: "schema.builtin-kind",
    path: "kind",
    message:
      `${kind} (${apiVersion}) is a built-in Kubernetes kind, not a custom resource: a Fabric GitOps ` +
      "directory holds the fabric's custom resources only; keep it elsewhere in the repository (no CRD " +
      "directory would make it valid here)",
  };
}

/** CRD-driven schema validation with compiled validators cached per kind and version. */
export class SchemaLayer {
  readonly #index: CrdIndex;
  readonly #ajv = newAjv();
  readonly #compiled = new Map<string, ValidateFunction | Error>();

  constructor(index: CrdIndex) {
    this.#index = index;
  }

  /** The CRD of an object's group and kind, if the fabric has one. */
  crdOf(apiVersion: string, kind: string): CrdKind | undefined {
    return this.#index.kinds.get(kindKey(splitApiVersion(apiVersion).group, kind));
  }

  /** Compiles every served version now (start-up warm-up); returns problems with CRD schemas. */
  compileAll(): string[] {
    const problems: string[] = [];
    for (const crd of this.#index.kinds.values()) {
      for (const v of crd.versions) {
        const fn = this.#validator(crd, v.name);
        if (fn instanceof Error) problems.push(`${crd.source}: ${crd.kind} ${v.name}: ${fn.message}`);
      }
    }
    return problems;
  }

  #validator(crd: CrdKind, version: string): ValidateFunction | Error | undefined {
    const key = `${crd.group}/${version}/${crd.kind}`;
    let fn = this.#compiled.get(key);
    if (fn) return fn;
    const v = crd.versions.find((x) => x.name === version);
    if (!v?.schema) return undefined;
    try {
      fn = this.#ajv.compile(crdToJsonSchema(v.schema));
    } catch (err) {
      fn = new Error(`the CRD schema does not compile: ${(err as Error).message}`);
    }
    this.#compiled.set(key, fn);
    return fn;
  }

  /** Findings for one structurally valid object: unknown kind, unserved version, namespace scope, schema. */
  check(obj: KubeObject, doc: number): Finding[] {
    const { group, version } = splitApiVersion(obj.apiVersion);
    const crd = this.#index.kinds.get(kindKey(group, obj.kind));
    const base = { layer: "schema" as const, severity: "error" as const, doc };
    if (!crd) {
      const builtin = builtinKind(group, obj.kind, obj.apiVersion);
      if (builtin) return [{ ...base, ...builtin }];
      const known = [...this.#index.kinds.values()].filter((k) => k.group === group).map((k) => k.kind)
        .sort();
      return [{
        ...base,
        rule: "schema.unknown-kind",
        path: "kind",
        message: known.length
          ? `no CRD defines kind ${obj.kind} in group ${group}; kinds of ${group}: ${known.join(", ")}`
          : `no CRD defines ${obj.kind} (${obj.apiVersion}); add the directory holding its CRD to the fabric's crd_dirs`,
      }];
    }
    const v = crd.versions.find((x) => x.name === version);
    if (!v || !v.served) {
      const served = crd.versions.filter((x) => x.served).map((x) => `${crd.group}/${x.name}`);
      return [{
        ...base,
        rule: "schema.version",
        path: "apiVersion",
        message: `${obj.apiVersion} is not a served version of ${crd.kind}; use ${served.join(" or ")}`,
      }];
    }
    const out: Finding[] = [];
    if (crd.scope === "Cluster" && obj.metadata.namespace !== undefined) {
      out.push({
        ...base,
        rule: "schema.namespace-scope",
        path: "metadata.namespace",
        message: `${crd.kind} is cluster-scoped; remove metadata.namespace`,
      });
    }
    const fn = this.#validator(crd, version);
    if (fn instanceof Error) {
      out.push({ ...base, rule: "schema.crd-invalid", path: "", message: `${crd.source}: ${fn.message}` });
    } else if (fn && !fn(obj)) {
      for (const e of collapse(fn.errors ?? [])) out.push(toFinding(e, obj, doc, crd.kind));
    }
    return out;
  }
}
