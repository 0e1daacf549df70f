/**
 * The structure layer: is this document a Kubernetes object at all? `apiVersion`, `kind`,
 * `metadata.name` (a lowercase RFC 1123 subdomain that cannot escape a directory), `metadata.namespace`
 * (an RFC 1123 label) and string maps for labels and annotations. Runs before the schema layer, which is
 * only reached when these hold.
 */
import { childPath, type Finding } from "./finding.ts";
import { isPlainObject, type KubeObject } from "./object.ts";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const API_VERSION =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** True for a lowercase RFC 1123 subdomain of at most 253 characters (a valid object name). */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** True for a lowercase RFC 1123 label of at most 63 characters (a valid namespace). */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/**
 * Checks the envelope of a decoded document. Returns the findings and, when there are none, the document
 * typed as a {@link KubeObject}.
 */
export function checkStructure(doc: unknown, index: number): { findings: Finding[]; object?: KubeObject } {
  const findings: Finding[] = [];
  const add = (rule: string, path: string, message: string) =>
    findings.push({ rule, layer: "structure", severity: "error", doc: index, path, message });

  if (!isPlainObject(doc)) {
    const what = Array.isArray(doc) ? "a list" : doc === null ? "empty" : `a ${typeof doc}`;
    add(
      "structure.not-an-object",
      "",
      `document is ${what}, not a Kubernetes object; an object is a mapping with apiVersion, kind and metadata.name`,
    );
    return { findings };
  }
  const { apiVersion, kind, metadata } = doc;
  if (typeof apiVersion !== "string" || !API_VERSION.test(apiVersion)) {
    add(
      "structure.api-version",
      "apiVersion",
      apiVersion === undefined
        ? `apiVersion is missing; a custom resource needs "<group>/<version>", e.g. "vpc.githedgehog.com/v1beta1"`
        : `apiVersion ${
          JSON.stringify(apiVersion)
        } is not "<group>/<version>" (e.g. "wiring.githedgehog.com/v1beta1")`,
    );
  }
  if (typeof kind !== "string" || !KIND.test(kind)) {
    add(
      "structure.kind",
      "kind",
      kind === undefined
        ? "kind is missing; give the CamelCase kind of the object, e.g. VPC or Connection"
        : `kind ${
          JSON.stringify(kind)
        } is not a CamelCase kind name (letters and digits, starting upper-case)`,
    );
  }
  if (!isPlainObject(metadata)) {
    add("structure.metadata", "metadata", "metadata is missing or not a mapping; it must hold at least name");
    return { findings };
  }
  const { name, namespace, generateName } = metadata;
  if (typeof name !== "string" || name === "") {
    add(
      "structure.name",
      "metadata.name",
      generateName !== undefined
        ? "metadata.generateName is not supported in a GitOps directory; give a fixed metadata.name"
        : "metadata.name is missing; give a lowercase RFC 1123 name (a-z, 0-9, '-', '.'; at most 253 characters)",
    );
  } else if (
    name.includes("/") || name.includes("\\") || name.split(".").includes("") || name.includes("..")
  ) {
    add(
      "structure.name-path",
      "metadata.name",
      `name ${JSON.stringify(name)} would escape its directory in managed/; ` +
        "use a lowercase RFC 1123 name without '/', '\\' or empty dot-separated parts",
    );
  } else if (!isDns1123Subdomain(name)) {
    add(
      "structure.name",
      "metadata.name",
      `name ${JSON.stringify(name)} is not a lowercase RFC 1123 name: use a-z, 0-9, '-' and '.', ` +
        "start and end alphanumeric, at most 253 characters",
    );
  }
  if (namespace !== undefined && (typeof namespace !== "string" || !isDns1123Label(namespace))) {
    add(
      "structure.namespace",
      "metadata.namespace",
      `namespace ${
        JSON.stringify(namespace)
      } is not a lowercase RFC 1123 label (a-z, 0-9, '-', at most 63 characters)`,
    );
  }
  for (const field of ["labels", "annotations"] as const) {
    const m = metadata[field];
    if (m === undefined || m === null) continue;
    if (!isPlainObject(m)) {
      add(
        "structure.metadata-map",
        `metadata.${field}`,
        `metadata.${field} must be a mapping of string to string`,
      );
      continue;
    }
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== "string") {
        add(
          "structure.metadata-map",
          childPath(`metadata.${field}`, k),
          `${field} values must be strings; quote ${JSON.stringify(v)} as "${String(v)}"`,
        );
      }
    }
  }
  if (findings.length) return { findings };
  return { findings, object: doc as KubeObject };
}
