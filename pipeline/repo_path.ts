/**
 * Validation of a directory path inside a git repository (a fabric's `path`, from `lzsync.yaml` or
 * `POST /api/v1/fabrics`). lzsync writes trees under that path, so anything git itself refuses in a tree
 * (`..`, `.`, `.git`, empty segments) or that points outside the repository must be refused before a single
 * object is written: git accepts such a tree in a push, and every later `git clone` of the repo then fails.
 */

/**
 * Why `path` is not a clean repo-relative directory, or null when it is. One trailing `/` is tolerated
 * (`fabrics/dc1/`); a leading `/`, `\`, control characters, empty, `.`, `..` or `.git` segments are not.
 */
export function repoPathProblem(path: string): string | null {
  const shown = JSON.stringify(path);
  const fix = 'use a relative directory inside the repository, e.g. "fabrics/dc1"';
  if (path.trim() !== path) return `${shown} has leading or trailing spaces; ${fix}`;
  const p = path.endsWith("/") && path.length > 1 ? path.slice(0, -1) : path;
  if (p === "" || p === ".") return `${shown} is the repository root; ${fix}`;
  if (p.startsWith("/")) return `${shown} is absolute; ${fix}`;
  if (p.includes("\\")) return `${shown} contains a backslash; git paths use "/"; ${fix}`;
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) return `${shown} contains a control character; ${fix}`;
  for (const seg of p.split("/")) {
    if (seg === "") return `${shown} has an empty segment ("//"); ${fix}`;
    if (seg === "." || seg === "..") return `${shown} has a "${seg}" segment; ${fix}`;
    if (seg.toLowerCase() === ".git") return `${shown} has a ".git" segment, which git refuses; ${fix}`;
  }
  return null;
}
