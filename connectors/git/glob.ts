/**
 * Tracked-path globs (`layers.git.paths` plus the GitOps directory of every fabric registered at start, the
 * sample fabric of a first run included). Supports `**` (any number of
 * directories), `*` and `?` within one path segment, and `{a,b}` alternatives; matching is on repo-relative
 * paths with forward slashes, case-sensitive, like git.
 */
import type { Config } from "../../pipeline/config.ts";
import { defaultFabrics } from "../../pipeline/config_fabrics.ts";

function segmentToRegExp(seg: string): string {
  let out = "";
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i];
    if (ch === "*") out += "[^/]*";
    else if (ch === "?") out += "[^/]";
    else if (ch === "{") {
      const end = seg.indexOf("}", i);
      if (end < 0) out += "\\{";
      else {
        out += `(?:${seg.slice(i + 1, end).split(",").map(segmentToRegExp).join("|")})`;
        i = end;
      }
    } else out += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return out;
}

/** Compiles one glob to an anchored RegExp over a whole path. */
export function globToRegExp(glob: string): RegExp {
  const segs = glob.replace(/^\/+/, "").split("/").filter((s) => s !== "");
  let re = "";
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === "**") re += last ? ".*" : "(?:[^/]+/)*";
    else re += segmentToRegExp(seg) + (last ? "" : "/");
  });
  return new RegExp(`^${re}$`);
}

/** Could a file under directory `dir` match `glob`? Used to prune tree walks. */
function mayContain(glob: string, dir: string): boolean {
  const g = glob.replace(/^\/+/, "").split("/").filter((s) => s !== "");
  const d = dir.split("/");
  for (let i = 0; i < d.length; i++) {
    if (i >= g.length - 1) return g[i] === "**" || (i < g.length && g[g.length - 1] === "**");
    if (g[i] === "**") return true;
    if (!new RegExp(`^${segmentToRegExp(g[i])}$`).test(d[i])) return false;
  }
  return true;
}

/** A compiled set of tracked-path globs. */
export interface PathMatcher {
  readonly globs: readonly string[];
  /** True when the file path is tracked. */
  matches(path: string): boolean;
  /** False when no tracked file can live under this directory (so a tree walk can skip it). */
  mayContain(dir: string): boolean;
}

/** Compiles globs into a {@link PathMatcher}. */
export function createMatcher(globs: readonly string[]): PathMatcher {
  const res = globs.map(globToRegExp);
  return {
    globs,
    matches: (path) => res.some((r) => r.test(path)),
    mayContain: (dir) => dir === "." || dir === "" || globs.some((g) => mayContain(g, dir)),
  };
}

/**
 * The tracked globs of the Landing Zone: `layers.git.paths` plus `<fabric.path>/**` for every fabric whose
 * GitOps directory lives in the Landing Zone repo (no `repo` of its own, or the same one). The fabrics are
 * those the FGD service registers at start (`defaultFabrics`: `config.fabrics`, else on a first run with the
 * sample Landing Zone the sample fabric `dc1`); fabrics added later through the API are not tracked here.
 */
export function trackedGlobs(config: Config): string[] {
  const globs = [...config.layers.git.paths];
  // The registration time does not matter here: only each fabric's repo and path are read.
  for (const f of defaultFabrics(config, new Date(0).toISOString())) {
    if (f.repo && f.repo !== config.landing_zone.repo) continue;
    globs.push(`${f.path.replace(/^\/+|\/+$/g, "")}/**`);
  }
  return [...new Set(globs)];
}
