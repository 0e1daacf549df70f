/**
 * No import cycles among the repository's own modules (issue 13, item 2).
 *
 * The module graph is Deno's own: `deno info --json` on a throw-away entry module that imports every `.ts`
 * file under the source folders (tests included), resolved through the repository's `deno.json`. Only
 * `file:` modules inside the repository are nodes; `npm:`, `node:` and remote modules are left out.
 *
 * Every kind of import is an edge: static, dynamic (`await import(...)`) and type-only (`import type`,
 * `export type`). A type-only cycle costs nothing at run time, but it ties two ideas together just as much
 * (neither module can move or be read without the other), so it counts; the chain marks such an edge
 * `-type->` and a dynamic one `-dynamic->` so the reader sees which import to move.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const FOLDERS = ["pipeline", "features", "processors", "connectors", "schemas", "bench", "deploy"];
const SKIP_DIRS = new Set(["node_modules", "testdata", "out", ".lzsync"]);

/** How one module imports another. */
export type EdgeKind = "static" | "dynamic" | "type";

/** The repository's module graph: for each module (path relative to the root), what it imports and how. */
export type ModuleGraph = Map<string, Map<string, EdgeKind>>;

function sourceFiles(dir: URL, out: string[]): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const e of entries) {
    if (e.isDirectory && !SKIP_DIRS.has(e.name)) sourceFiles(new URL(`${e.name}/`, dir), out);
    else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) {
      out.push(new URL(e.name, dir).href);
    }
  }
}

interface InfoDependency {
  specifier: string;
  code?: { specifier?: string };
  type?: { specifier?: string };
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  kind?: string;
  error?: string;
  dependencies?: InfoDependency[];
}

/** Builds the graph of the repository's own modules with `deno info --json`. */
export async function moduleGraph(): Promise<ModuleGraph> {
  const files: string[] = [];
  for (const f of FOLDERS) sourceFiles(new URL(`${f}/`, ROOT), files);
  assert.ok(files.length > 100, `found only ${files.length} source files under ${FOLDERS.join(", ")}`);
  const dir = await Deno.makeTempDir({ prefix: "lzsync-import-graph-" });
  try {
    const entry = `${dir}/entry.ts`;
    await Deno.writeTextFile(entry, files.map((f) => `import ${JSON.stringify(f)};\n`).join(""));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, entry],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `deno info failed (exit ${out.code}): ${stderr}`);
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    const own = (spec: string | undefined) =>
      spec !== undefined && spec.startsWith(ROOT.href) ? spec.slice(ROOT.href.length) : null;
    const graph: ModuleGraph = new Map();
    const errors: string[] = [];
    for (const m of info.modules) {
      const from = own(m.specifier);
      if (from === null) continue;
      if (m.error) errors.push(`${from}: ${m.error}`);
      const deps = new Map<string, EdgeKind>();
      for (const d of m.dependencies ?? []) {
        const code = own(d.code?.specifier), type = own(d.type?.specifier);
        const to = code ?? type;
        if (to === null) continue;
        const kind: EdgeKind = code !== null ? (d.isDynamic ? "dynamic" : "static") : "type";
        const prev = deps.get(to);
        // One module may import another several ways; the strongest one names the edge.
        if (prev === undefined || prev === "type" || (prev === "dynamic" && kind === "static")) {
          deps.set(to, kind);
        }
      }
      graph.set(from, deps);
    }
    assert.deepEqual(errors, [], "every module resolves");
    for (const f of files) assert.ok(graph.has(f.slice(ROOT.href.length)), `${f} is in deno info's graph`);
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Strongly connected components with more than one module, or one module importing itself (Tarjan). */
export function cyclicComponents(graph: ModuleGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || graph.get(v)?.has(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/**
 * Cycles that together use every import edge inside `component`: for each edge u→v, the shortest way from v
 * back to u. Each is a chain of modules starting and ending at the same one, rotated to start at its
 * smallest name, without duplicates.
 */
export function cyclesOf(graph: ModuleGraph, component: string[]): string[][] {
  const members = new Set(component);
  const shortestPath = (from: string, to: string): string[] => {
    const prev = new Map<string, string>([[from, from]]);
    const queue = [from];
    for (let i = 0; i < queue.length; i++) {
      const v = queue[i];
      if (v === to) break;
      for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
        if (members.has(w) && !prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [to];
    while (path[0] !== from) path.unshift(prev.get(path[0])!);
    return path;
  };
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const u of component) {
    for (const v of [...(graph.get(u)?.keys() ?? [])].sort()) {
      if (!members.has(v)) continue;
      const ring = [u, ...shortestPath(v, u).slice(0, -1)];
      const start = ring.indexOf([...ring].sort()[0]);
      const rotated = [...ring.slice(start), ...ring.slice(0, start)];
      const key = rotated.join(" ");
      if (seen.has(key)) continue;
      seen.add(key);
      cycles.push([...rotated, rotated[0]]);
    }
  }
  return cycles.sort((a, b) => a.length - b.length || a.join(" ").localeCompare(b.join(" ")));
}

/** `a.ts → b.ts -type-> a.ts`: a chain of files with each edge's kind. */
export function formatChain(graph: ModuleGraph, chain: string[]): string {
  let s = chain[0];
  for (let i = 1; i < chain.length; i++) {
    const kind = graph.get(chain[i - 1])?.get(chain[i]);
    s += kind === "type" ? " -type-> " : kind === "dynamic" ? " -dynamic-> " : " → ";
    s += chain[i];
  }
  return s;
}

Deno.test("cyclicComponents and cyclesOf find every cycle, type-only edges included, and only cycles", () => {
  const g: ModuleGraph = new Map([
    ["a.ts", new Map<string, EdgeKind>([["b.ts", "static"]])],
    ["b.ts", new Map<string, EdgeKind>([["c.ts", "static"], ["d.ts", "static"]])],
    ["c.ts", new Map<string, EdgeKind>([["a.ts", "type"]])],
    ["d.ts", new Map<string, EdgeKind>([["b.ts", "dynamic"]])],
    ["e.ts", new Map<string, EdgeKind>([["a.ts", "static"], ["e.ts", "static"]])],
    ["f.ts", new Map<string, EdgeKind>([["a.ts", "static"]])],
  ]);
  const comps = cyclicComponents(g);
  assert.deepEqual(comps, [["a.ts", "b.ts", "c.ts", "d.ts"], ["e.ts"]]);
  assert.deepEqual(cyclesOf(g, comps[0]).map((c) => formatChain(g, c)), [
    "b.ts → d.ts -dynamic-> b.ts",
    "a.ts → b.ts → c.ts -type-> a.ts",
  ]);
  assert.deepEqual(cyclesOf(g, comps[1]), [["e.ts", "e.ts"]]);
});

/**
 * A folder of one idea: `features/<layer>`, `connectors/<system>` or `processors/<name>` (sub-folders belong
 * to it). Their tests are left out of the folder graph: an integration test of one connector may drive
 * another's plugin. The folders of `pipeline/` are not checked: `pipeline/` is both the composition root
 * (`features.ts`, `app.ts`, `main.ts` import the features) and the runtime every layer imports.
 */
function ideaFolder(path: string): string | null {
  const parts = path.split("/");
  return ["features", "connectors", "processors"].includes(parts[0]) && parts.length > 2
    ? `${parts[0]}/${parts[1]}`
    : null;
}

/** The graph of {@link ideaFolder}s from the modules that are not tests, and the file imports behind each edge. */
function folderGraph(graph: ModuleGraph): { folders: ModuleGraph; imports: Map<string, string[]> } {
  const folders: ModuleGraph = new Map();
  const imports = new Map<string, string[]>();
  for (const [from, deps] of graph) {
    const a = ideaFolder(from);
    if (a === null || from.endsWith("_test.ts")) continue;
    if (!folders.has(a)) folders.set(a, new Map());
    for (const [to, kind] of deps) {
      const b = ideaFolder(to);
      if (b === null || b === a) continue;
      if (!folders.get(a)!.has(b) || kind !== "type") folders.get(a)!.set(b, kind);
      const key = `${a} -> ${b}`;
      if (!imports.has(key)) imports.set(key, []);
      imports.get(key)!.push(`${from} -> ${to}`);
    }
  }
  return { folders, imports };
}

/** The graph is built once for the tests of this file. */
let graphOnce: Promise<ModuleGraph> | undefined;
const repoGraph = () => graphOnce ??= moduleGraph();

Deno.test("the repository's own modules import each other without cycles (deno info --json over every .ts file)", async () => {
  const graph = await repoGraph();
  const report: string[] = [];
  for (const comp of cyclicComponents(graph)) {
    report.push(`${comp.length} modules import each other in a cycle: ${comp.join(", ")}`);
    for (const c of cyclesOf(graph, comp)) report.push(`  ${formatChain(graph, c)}`);
  }
  assert.ok(
    report.length === 0,
    `import cycles among the repository's modules (move the shared type or helper to the module that owns ` +
      `the idea):\n${report.join("\n")}`,
  );
});

Deno.test("the folders of features/, connectors/ and processors/ do not import each other in a cycle (tests left out)", async () => {
  const { folders, imports } = folderGraph(await repoGraph());
  const report: string[] = [];
  for (const comp of cyclicComponents(folders)) {
    for (const c of cyclesOf(folders, comp)) {
      report.push(`  ${c.join(" → ")}`);
      for (let i = 1; i < c.length; i++) report.push(`      ${imports.get(`${c[i - 1]} -> ${c[i]}`)![0]}`);
    }
  }
  assert.ok(
    report.length === 0,
    `folders that import each other (one import shown per step):\n${report.join("\n")}`,
  );
});

/**
 * The folders' roles (issue 13, item 2): `processors/` is the pure logic of topologies, so it imports neither
 * adapters nor features; `connectors/` adapts outside systems, so it imports no feature.
 */
const LAYERING: { from: string; mayNotImport: string[] }[] = [
  { from: "processors/", mayNotImport: ["connectors/", "features/"] },
  { from: "connectors/", mayNotImport: ["features/"] },
];

Deno.test("processors/ import no connector or feature, connectors/ import no feature (tests left out)", async () => {
  const graph = await repoGraph();
  const report: string[] = [];
  for (const [from, deps] of graph) {
    if (from.endsWith("_test.ts")) continue;
    for (const rule of LAYERING) {
      if (!from.startsWith(rule.from)) continue;
      for (const to of deps.keys()) {
        if (rule.mayNotImport.some((f) => to.startsWith(f))) report.push(`  ${from} -> ${to}`);
      }
    }
  }
  assert.ok(report.length === 0, `imports against the folders' roles:\n${report.join("\n")}`);
});
