/**
 * The layout of a Fabric GitOps Directory (paths are relative to the fabric directory):
 *
 * ```
 * README.md                         what the directory is (created when missing)
 * raw/                              user drops: *.yaml / *.yml, multi-document
 * unmanaged/<file>                  invalid documents, byte-preserved
 * unmanaged/<file>.reason.txt       one line per finding
 * managed/<kind-plural>/<name>.yaml one normalized object per file (namespace default or cluster-scoped)
 * managed/<kind-plural>/<ns>/<name>.yaml   objects of another namespace
 * ```
 * Empty directories are kept with `.gitkeep` files.
 */
export const RAW = "raw/";
export const UNMANAGED = "unmanaged/";
export const MANAGED = "managed/";
export const KEEP = ".gitkeep";
export const REASON_SUFFIX = ".reason.txt";
export const README = "README.md";

/** Files that make up the skeleton; created when missing. */
export const SKELETON = [`${RAW}${KEEP}`, `${UNMANAGED}${KEEP}`, `${MANAGED}${KEEP}`];

/** The text of the fabric README created on registration. */
export function readmeText(fabricId: string): string {
  return [
    `# Fabric ${fabricId} — GitOps directory managed by lzsync`,
    "",
    "- `raw/`: drop Kubernetes custom resource YAML here (one or many documents per file).",
    "- `managed/<kind-plural>/<name>.yaml`: one validated, normalized object per file, written by lzsync.",
    "  Edit objects here or in the Portal; lzsync keeps the form canonical.",
    "- `unmanaged/`: documents lzsync could not accept, each file with a `.reason.txt` naming every finding.",
    "  Fix a file and move it back to `raw/` to ingest it again.",
    "",
  ].join("\n");
}

/** True for a path lzsync treats as YAML input. */
export function isYamlPath(path: string): boolean {
  return /\.(ya?ml)$/i.test(path);
}

/** The canonical managed path of an object; throws if the name or namespace would escape the directory. */
export function managedPath(plural: string, name: string, namespace?: string): string {
  const parts = [plural, ...(namespace && namespace !== "default" ? [namespace] : []), `${name}.yaml`];
  for (const p of parts) {
    if (!p || p === "." || p === ".." || p.includes("/") || p.includes("\\") || p.startsWith(".")) {
      throw new RangeError(`"${p}" cannot be a path segment under ${MANAGED}`);
    }
  }
  return MANAGED + parts.join("/");
}

/** `unmanaged/<rest>` for a file under `raw/` or `managed/`, avoiding `taken` paths with a numeric suffix. */
export function unmanagedPath(from: string, taken: (path: string) => boolean): string {
  const rest = from.startsWith(RAW) ? from.slice(RAW.length) : from.startsWith(MANAGED) ? from : from;
  const base = UNMANAGED + rest;
  if (!taken(base)) return base;
  const dot = base.lastIndexOf(".");
  const slash = base.lastIndexOf("/");
  const [stem, ext] = dot > slash ? [base.slice(0, dot), base.slice(dot)] : [base, ""];
  for (let n = 2;; n++) {
    const candidate = `${stem}.${n}${ext}`;
    if (!taken(candidate)) return candidate;
  }
}

/** True for a Kustomize file (`kustomization.yaml`), which lzsync leaves alone under `managed/`. */
export function isKustomization(path: string): boolean {
  return /(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(path);
}

/**
 * Why a file is not a custom resource by its name (Kustomize and Helm files), or undefined. Such a file in
 * `raw/` goes to `unmanaged/` with this explanation instead of YAML or schema errors about it.
 */
export function notAResource(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const apply = "keep it outside the fabric directory; to apply the fabric with Flux or Argo CD, point the " +
    "Kustomization or Application at the fabric's managed/ directory (Flux generates a kustomization when " +
    "there is none; a kustomization.yaml you put in managed/ is left alone)";
  if (isKustomization(path)) {
    return `${name} is a Kustomize file, not a custom resource: lzsync ingests the fabric's custom resources ` +
      `from raw/; ${apply}`;
  }
  if (
    /^(values([-.][\w.-]+)?\.ya?ml|Chart\.ya?ml|Chart\.lock|requirements\.ya?ml|helmfile\.ya?ml)$/.test(name)
  ) {
    return `${name} is a Helm file, not a custom resource: render the chart (helm template) and drop the ` +
      `rendered custom resources into raw/; ${apply}`;
  }
  return undefined;
}
