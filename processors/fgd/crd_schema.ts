/**
 * Turns a CRD's `openAPIV3Schema` (OpenAPI 3.0 subset plus Kubernetes extensions) into a JSON Schema Ajv
 * compiles, with the API server's semantics:
 *
 * - objects reject fields their schema does not declare (the API server prunes them silently; here an
 *   unknown field is a finding), unless `x-kubernetes-preserve-unknown-fields: true`;
 * - `x-kubernetes-int-or-string: true` accepts an integer or a string;
 * - `x-kubernetes-embedded-resource: true` allows `apiVersion`, `kind` and `metadata`;
 * - `x-kubernetes-list-type: set` requires unique items, `map` unique `x-kubernetes-list-map-keys`;
 * - OpenAPI 3.0 `nullable` and boolean `exclusiveMinimum`/`exclusiveMaximum` map to their JSON Schema forms;
 * - `x-kubernetes-validations` (CEL) are not evaluated.
 *
 * At the root, `metadata` (checked by the structure layer) and `status` (dropped by normalization) are
 * accepted as any object.
 */
import { isPlainObject } from "./object.ts";

type Schema = Record<string, unknown>;

/** Custom Ajv keyword carrying `x-kubernetes-list-map-keys` of a `map` list. */
export const LIST_MAP_KEYS_KEYWORD = "lzListMapKeys";

const COPIED = [
  "type",
  "enum",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "multipleOf",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "format",
  "required",
] as const;

function convert(s: unknown): Schema {
  if (!isPlainObject(s)) return {};
  const out: Schema = {};
  for (const k of COPIED) if (s[k] !== undefined) out[k] = s[k];
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  if (s.exclusiveMinimum === true && typeof s.minimum === "number") {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  if (s.exclusiveMaximum === true && typeof s.maximum === "number") {
    out.exclusiveMaximum = s.maximum;
    delete out.maximum;
  }
  for (const k of ["allOf", "anyOf", "oneOf"] as const) {
    if (Array.isArray(s[k])) out[k] = (s[k] as unknown[]).map(convertBranch);
  }
  if (isPlainObject(s.not)) out.not = convertBranch(s.not);

  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  const embedded = s["x-kubernetes-embedded-resource"] === true;
  if (s["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (isPlainObject(s.items)) out.items = convert(s.items);
  if (s["x-kubernetes-list-type"] === "set") out.uniqueItems = true;
  if (s["x-kubernetes-list-type"] === "map" && Array.isArray(s["x-kubernetes-list-map-keys"])) {
    out[LIST_MAP_KEYS_KEYWORD] = s["x-kubernetes-list-map-keys"];
  }

  const isObject = s.type === "object" || (s.type === undefined && (isPlainObject(s.properties) || embedded));
  if (isObject) {
    const props: Record<string, Schema> = {};
    if (isPlainObject(s.properties)) {
      for (const [k, v] of Object.entries(s.properties)) props[k] = convert(v);
    }
    if (embedded) {
      props.apiVersion ??= { type: "string" };
      props.kind ??= { type: "string" };
      props.metadata ??= { type: "object" };
    }
    if (Object.keys(props).length) out.properties = props;
    if (isPlainObject(s.additionalProperties)) out.additionalProperties = convert(s.additionalProperties);
    else if (s.additionalProperties === true || preserve) { /* anything goes */ }
    else out.additionalProperties = false;
  }
  if (s.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

/** Branches of allOf/anyOf/oneOf/not only add constraints; they never close an object to other fields. */
function convertBranch(s: unknown): Schema {
  const out = convert(s);
  const open = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(open);
    else if (isPlainObject(x)) {
      if (x.additionalProperties === false) delete x.additionalProperties;
      for (const v of Object.values(x)) open(v);
    }
  };
  open(out);
  return out;
}

/** The Ajv schema of a CRD version's `openAPIV3Schema`. */
export function crdToJsonSchema(openAPIV3Schema: Record<string, unknown>): Schema {
  const root = convert(openAPIV3Schema);
  const props = { ...(root.properties as Record<string, Schema> ?? {}) };
  props.apiVersion = { type: "string" };
  props.kind = { type: "string" };
  props.metadata = { type: "object" };
  props.status = {};
  root.type = "object";
  root.properties = props;
  if (openAPIV3Schema["x-kubernetes-preserve-unknown-fields"] !== true) root.additionalProperties = false;
  return root;
}
