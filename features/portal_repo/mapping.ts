/**
 * The `portal_repo.paths` mapping: which synced Landing Zone file lands where in the Portal's repository.
 *
 * - `{from: "docs/**", to: "docs/lz-reference/"}`: a directory target (ends in `/`): the glob's fixed prefix
 *   (`docs/`) is replaced by the target, so `docs/a/b.md` → `docs/lz-reference/a/b.md`. Every file under the
 *   target directory is managed by lzsync: a file there that no Landing Zone file maps to is deleted.
 * - `{from: "pmo.yaml", to: "config/lz-pmo.yaml"}`: a file target: the one matching file lands there.
 *
 * The first rule that matches a path wins. A path no rule matches is not copied.
 */
import { globToRegExp } from "../../connectors/git/glob.ts";
import { LzError } from "../../pipeline/errors.ts";

/** One configured rule. */
export interface PathRule {
  from: string;
  to: string;
}

/** A compiled mapping. */
export interface PortalMapping {
  /** The Portal path of a Landing Zone path, or null when no rule copies it. */
  target(source: string): string | null;
  /** True when `path` in the Portal repo belongs to lzsync (mirrored: deleted when nothing maps to it). */
  managed(path: string): boolean;
  /** Directories lzsync manages (with a trailing `/`) and single files, for listing the Portal's tree. */
  readonly dirs: readonly string[];
  readonly files: readonly string[];
}

/** The part of a glob before its first wildcard segment, e.g. `docs/` for `docs/**`. */
function fixedPrefix(glob: string): string {
  const segs = glob.replace(/^\/+/, "").split("/");
  const out: string[] = [];
  for (const s of segs.slice(0, -1)) {
    if (/[*?{]/.test(s)) break;
    out.push(s);
  }
  return out.length ? `${out.join("/")}/` : "";
}

const clean = (p: string) => p.replace(/^\/+/, "");

/** Compiles the rules; a target that escapes the repo (`..`) or is empty is a config error. */
export function compileMapping(rules: readonly PathRule[], metadataPath: string): PortalMapping {
  const compiled = rules.map((r, i) => {
    const to = clean(r.to);
    if (!to || to.split("/").some((s) => s === ".." || s === ".")) {
      throw new LzError(
        "CONFIG",
        `portal_repo.paths[${i}].to "${r.to}" must be a path inside the repo, e.g. docs/lz-reference/`,
      );
    }
    const isDir = to.endsWith("/");
    const wildcard = /[*?{]/.test(r.from);
    if (!isDir && wildcard) {
      throw new LzError(
        "CONFIG",
        `portal_repo.paths[${i}]: "${r.from}" matches many files, so "to" must be a directory ending in /`,
      );
    }
    return { re: globToRegExp(r.from), prefix: wildcard ? fixedPrefix(r.from) : "", to, isDir };
  });
  const dirs = compiled.filter((c) => c.isDir).map((c) => c.to);
  const files = [...compiled.filter((c) => !c.isDir).map((c) => c.to), clean(metadataPath)];
  return {
    dirs,
    files,
    target(source) {
      for (const c of compiled) {
        if (!c.re.test(source)) continue;
        if (!c.isDir) return c.to;
        const rel = c.prefix && source.startsWith(c.prefix)
          ? source.slice(c.prefix.length)
          : source.split("/").pop()!;
        return c.to + rel;
      }
      return null;
    },
    managed: (path) => files.includes(path) || dirs.some((d) => path.startsWith(d)),
  };
}
