/**
 * Reads one YAML file of a fabric directory into documents, with a defined outcome for every way a file
 * can be bad: too large, not UTF-8, YAML syntax errors (per document), duplicate keys, alias bombs
 * (`maxAliasCount`), or no documents at all. Plain files take the fast path (`fast_yaml.ts`); anything
 * else goes through the `yaml` package. Each document keeps its exact source text so an invalid one
 * can be moved to `unmanaged/` unchanged.
 */
import { LineCounter, parseAllDocuments } from "yaml";
import type { Finding } from "./finding.ts";
import { fastParseDocuments } from "./fast_yaml.ts";

/** Bounds applied to every file. */
export interface ParseLimits {
  /** Larger files are not parsed (default 1 MiB). */
  maxFileBytes: number;
  /** Aliases resolved per document before it counts as an alias bomb (default 100). */
  maxAliasCount: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxFileBytes: 1 << 20, maxAliasCount: 100 };

/** One document of a file. `value` is set when it decoded without error. */
export interface ParsedDoc {
  index: number;
  value?: unknown;
  /** The document's source text, including its `---` marker when it had one. */
  text: string;
  findings: Finding[];
}

/** A parsed file: its non-empty documents and findings about the file as a whole. */
export interface ParsedFile {
  docs: ParsedDoc[];
  fileFindings: Finding[];
  /** True when the fast path read the file: its text is in the plain subset of `fast_yaml.ts`. */
  plain?: boolean;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function fileFinding(rule: string, message: string): Finding {
  return { rule, layer: "ingest", severity: "error", doc: -1, path: "", message };
}

/** Parses `bytes` (the content of `path`) into documents. Never throws for bad input. */
export function parseYamlFile(bytes: Uint8Array, limits: ParseLimits = DEFAULT_LIMITS): ParsedFile {
  if (bytes.length > limits.maxFileBytes) {
    return {
      docs: [],
      fileFindings: [fileFinding(
        "ingest.too-large",
        `file has ${bytes.length} bytes, more than the limit of ${limits.maxFileBytes}; split it into smaller files`,
      )],
    };
  }
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return {
      docs: [],
      fileFindings: [fileFinding("ingest.encoding", "file is not UTF-8 text; save it as UTF-8 YAML")],
    };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const template = templateLine(text);
  if (template) {
    return {
      docs: [],
      fileFindings: [fileFinding(
        "ingest.template",
        `looks like a template, not a manifest: line ${template.line} holds the template action ` +
          `${template.action}; render it first (e.g. helm template <release> <chart>, or your CI's templating ` +
          "step) and drop the rendered YAML into raw/",
      )],
    };
  }
  const fast = fastParseDocuments(text);
  if (fast) {
    const docs = fast.map((d) => ({ index: d.index, value: d.value, text: d.text, findings: [] }));
    return docs.length ? { docs, fileFindings: [], plain: true } : {
      docs,
      fileFindings: [fileFinding("ingest.empty", "file holds no YAML documents; add objects or delete it")],
    };
  }
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const all = Array.isArray(parsed) ? parsed : [];
  const docs: ParsedDoc[] = [];
  all.forEach((d, index) => {
    const [start, , end] = d.range;
    // The first document's text starts at the top of the file: comments above its `---` belong to it (as on
    // the fast path).
    const src = text.slice(index === 0 ? 0 : start, end);
    const findings: Finding[] = [];
    for (const e of d.errors) {
      const pos = e.linePos?.[0];
      findings.push({
        rule: e.code === "DUPLICATE_KEY" ? "yaml.duplicate-key" : "yaml.syntax",
        layer: "yaml",
        severity: "error",
        doc: index,
        path: "",
        // The yaml package ends its first line with " at line L, column C:"; the location is said once, first.
        message:
          `${pos ? `line ${pos.line}, column ${pos.col}: ` : ""}${
            e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")
          }` +
          (e.code === "DUPLICATE_KEY" ? "; each key may appear once per mapping" : "; fix the YAML syntax"),
      });
    }
    if (findings.length) {
      docs.push({ index, text: src, findings });
      return;
    }
    if (d.contents === null) return; // empty document (e.g. a trailing ---)
    try {
      const value = d.toJS({ maxAliasCount: limits.maxAliasCount });
      if (value === null || value === undefined) return;
      docs.push({ index, value, text: src, findings });
    } catch (err) {
      const alias = err instanceof ReferenceError && /alias/i.test(err.message);
      findings.push({
        rule: alias ? "yaml.alias-limit" : "yaml.syntax",
        layer: "yaml",
        severity: "error",
        doc: index,
        path: "",
        message: alias
          ? `aliases expand to more than ${limits.maxAliasCount} nodes (an alias bomb); write the values out`
          : `${(err as Error).message}; fix the YAML`,
      });
      docs.push({ index, text: src, findings });
    }
  });
  if (docs.length === 0) {
    return {
      docs,
      fileFindings: [fileFinding("ingest.empty", "file holds no YAML documents; add objects or delete it")],
    };
  }
  return { docs, fileFindings: [] };
}

const ACTION = /\{\{-?\s*[^{}]*?-?\}\}/;

/**
 * The first line (1-based) holding a Go/Helm template action (`{{ .Values.x }}`, `{{- if ... }}`) outside a
 * comment, or undefined. Custom resources of a fabric never hold one; a chart's `templates/` file always does.
 */
export function templateLine(text: string): { line: number; action: string } | undefined {
  if (!text.includes("{{")) return undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!l.includes("{{") || l.trimStart().startsWith("#")) continue;
    const m = ACTION.exec(l);
    if (m) return { line: i + 1, action: m[0].length > 60 ? `${m[0].slice(0, 57)}...` : m[0] };
  }
  return undefined;
}

/** Joins document source texts back into one multi-document YAML file. */
export function joinDocuments(texts: readonly string[]): string {
  return texts.map((t, i) => {
    let s = t.endsWith("\n") ? t : `${t}\n`;
    if (i > 0 && !/^---(\s|$)/.test(s)) s = `---\n${s}`;
    return s;
  }).join("");
}
