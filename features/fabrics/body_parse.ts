/**
 * Bounded parsing of a write body (object PUT, fabric registration): JSON or YAML into a plain value, with
 * caps on nodes, aliases and nesting depth checked before the value is built.
 *
 * YAML goes through the `yaml` package in four steps: its lexer (fast, linear) feeds a pre-scan that stops
 * at the first cap crossed — scalars and aliases (each one node), flow nesting, and compact `- - -`
 * nesting on one line — so a hostile body costs only the prefix read until then (the CST parser is some 15×
 * slower per token on such bodies); the parser then builds the CST from those tokens; the CST is walked
 * once, without recursion, counting nodes, aliases and depth exactly — before the composer (recursive)
 * and `toJS` run; then the document is composed with
 * `uniqueKeys: false` and duplicate keys are found with one Set per mapping. The package's own unique-key
 * check compares every key with every earlier one (64,000 keys: 50 s; without it 0.7 s), so it is off.
 * Aliases are also capped on expansion (`maxAliasCount`, the "billion laughs" guard). A JSON body is parsed
 * with `JSON.parse` and its value walked against the same caps.
 *
 * Pure and synchronous: the gateway runs it in worker threads (`body_pool.ts`), never on its event loop.
 */
import { Composer, CST, isMap, isScalar, isSeq, Lexer, Parser } from "yaml";

/** The caps (`gateway.max_yaml_nodes`, `max_yaml_depth`, `max_yaml_aliases`). */
export interface BodyLimits {
  maxNodes: number;
  maxDepth: number;
  maxAliases: number;
}

/** The outcome: the value, or a refusal with the HTTP status and JSON `{error, reason}`. */
export type BodyOutcome =
  | { ok: true; value: unknown; nodes: number; depth: number }
  | { ok: false; status: 400 | 413; error: string; reason: string };

const tooComplex = (reason: string): BodyOutcome => ({
  ok: false,
  status: 413,
  error: "too_complex",
  reason,
});

const badBody = (reason: string): BodyOutcome => ({
  ok: false,
  status: 400,
  error: "bad_body",
  reason: `the body is not valid JSON or YAML: ${reason}`,
});

function capped(what: "nodes" | "depth" | "aliases", n: number, l: BodyLimits): BodyOutcome | null {
  if (what === "nodes" && n > l.maxNodes) {
    return tooComplex(
      `the body has more than ${l.maxNodes} YAML/JSON nodes (gateway.max_yaml_nodes); split it or raise the cap`,
    );
  }
  if (what === "depth" && n > l.maxDepth) {
    return tooComplex(`the body nests deeper than ${l.maxDepth} levels (gateway.max_yaml_depth)`);
  }
  if (what === "aliases" && n > l.maxAliases) {
    return tooComplex(`the body uses more than ${l.maxAliases} YAML aliases (gateway.max_yaml_aliases)`);
  }
  return null;
}

/** Parses `text` as JSON when `contentType` names JSON, else as one YAML document, within `limits`. */
export function parseBody(text: string, contentType: string, limits: BodyLimits): BodyOutcome {
  return contentType.includes("json") ? parseJson(text, limits) : parseYamlBounded(text, limits);
}

function parseJson(text: string, limits: BodyLimits): BodyOutcome {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return badBody((err as Error).message);
  }
  // Iterative walk: JSON.parse itself copes with deep arrays, but later code recurses.
  let nodes = 0, depth = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    nodes++;
    if (v && typeof v === "object" && d > depth) depth = d; // collections only, as for YAML
    const over = capped("nodes", nodes, limits) ?? capped("depth", depth, limits);
    if (over) return over;
    if (v && typeof v === "object") {
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
    }
  }
  return { ok: true, value, nodes, depth };
}

type CstNode = CST.Token | undefined;

function parseYamlBounded(text: string, limits: BodyLimits): BodyOutcome {
  const lexed: string[] = [];
  {
    let nodes = 0, aliases = 0, flow = 0, lineDepth = 0;
    for (const lexeme of new Lexer().lex(text)) {
      lexed.push(lexeme);
      switch (CST.tokenType(lexeme)) {
        case "alias":
          aliases++;
          nodes++;
          break;
        case "scalar":
        case "single-quoted-scalar":
        case "double-quoted-scalar":
        case "block-scalar-header":
          nodes++;
          break;
        case "flow-map-start":
        case "flow-seq-start":
          nodes++;
          flow++;
          break;
        case "flow-map-end":
        case "flow-seq-end":
          flow--;
          break;
        case "seq-item-ind":
        case "explicit-key-ind":
          lineDepth++;
          break;
        case "newline":
          lineDepth = 0;
          break;
        default:
          break;
      }
      const over = capped("nodes", nodes, limits) ?? capped("depth", flow + lineDepth, limits) ??
        capped("aliases", aliases, limits);
      if (over) return over;
    }
  }
  const tokens: CST.Token[] = [];
  let docs = 0;
  const parser = new Parser();
  const parsed = function* () {
    for (const lexeme of lexed) yield* parser.next(lexeme);
    yield* parser.end();
  };
  for (const t of parsed()) {
    tokens.push(t);
    if (t.type === "document" && ++docs > 1) {
      return badBody("it holds more than one YAML document; send one object");
    }
  }
  // Count and measure the CST exactly, without recursion.
  let nodes = 0, depth = 0, aliases = 0;
  const stack: [CstNode, number][] = [];
  for (const t of tokens) if (t.type === "document") stack.push([t.value, 1]);
  while (stack.length) {
    const [t, d] = stack.pop()!;
    if (!t) continue;
    switch (t.type) {
      case "alias":
        aliases++;
        nodes++;
        break;
      case "scalar":
      case "single-quoted-scalar":
      case "double-quoted-scalar":
      case "block-scalar":
        nodes++;
        break;
      case "block-map":
      case "block-seq":
      case "flow-collection":
        nodes++;
        if (d > depth) depth = d;
        for (const it of t.items) {
          if ("key" in it && it.key) stack.push([it.key, d + 1]);
          stack.push([it.value, d + 1]);
        }
        break;
      default:
        break;
    }
    const over = capped("nodes", nodes, limits) ?? capped("depth", depth, limits) ??
      capped("aliases", aliases, limits);
    if (over) return over;
  }

  const composer = new Composer({ uniqueKeys: false, prettyErrors: true });
  const doc = [...composer.compose(tokens, true, text.length)][0];
  if (!doc) return { ok: true, value: null, nodes, depth };
  if (doc.errors.length) return badBody(doc.errors[0].message);

  // Duplicate keys, one Set per mapping (the package's own check is quadratic).
  const walk: unknown[] = [doc.contents];
  while (walk.length) {
    const n = walk.pop();
    if (isMap(n)) {
      const seen = new Set<unknown>();
      for (const pair of n.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(k)) {
          return badBody(`duplicate key ${JSON.stringify(String(k))} in one mapping`);
        }
        seen.add(k);
        walk.push(pair.value);
        if (!isScalar(pair.key)) walk.push(pair.key);
      }
    } else if (isSeq(n)) { for (const it of n.items) walk.push(it); }
  }

  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: limits.maxAliases }), nodes, depth };
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      return tooComplex(
        `the body's aliases expand too far (more than ${limits.maxAliases} alias resolutions, gateway.max_yaml_aliases)`,
      );
    }
    return badBody((err as Error).message);
  }
}
