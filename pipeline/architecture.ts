/**
 * The map of a build, generated from its declarations: every feature (sync layer) with its topologies, services
 * and gateway plugins, every declared topic with who writes and reads it, and every store with its changelog.
 * `lzsync describe architecture` prints it; the generated half of `ARCHITECTURE.md` is this output for the
 * default config, and a test keeps the two equal, so the document cannot drift from the code.
 *
 * Features are built (never started) over an in-memory embedded broker, so the services and plugins listed are
 * the ones `start` would run with `runtime`'s config.
 */
import { Registry } from "prom-client";
import type { Runtime } from "./config.ts";
import { createEmbeddedBroker } from "./broker/embedded/mod.ts";
import { silentLogger } from "./log.ts";
import { systemClock } from "./service.ts";
import { changelogTopic, type Topology } from "./processor/types.ts";
import { FEATURES } from "./features.ts";
import { TOPICS } from "../schemas/mod.ts";
import { RUNTIME_TOPICS, topicPartitions } from "./topics.ts";
import { resolveConfig } from "./config.ts";
import { DLQ_TOPIC } from "../schemas/dlq.ts";

/**
 * The config ARCHITECTURE.md is generated under: the defaults with every optional part switched on (Pub/Sub,
 * BigQuery, the Slack and commit-status notifiers), so the map shows all of them.
 */
export function architectureRuntime(): Runtime {
  return resolveConfig(
    {
      landing_zone: { github: { owner: "acme", repo: "landing-zone", commit_status: true } },
      layers: { pubsub: { enabled: true }, bigquery: { enabled: true, project: "acme-analytics" } },
      alerts: { slack_webhook_env: "SLACK_WEBHOOK_URL" },
    },
    { GITHUB_TOKEN: "unused", SLACK_WEBHOOK_URL: "https://hooks.example/unused" },
  );
}

/** One feature as the map shows it. */
export interface FeatureMap {
  name: string;
  /** The topics the feature owns (`Feature.topics`). */
  topics: string[];
  topologies: Topology[];
  services: { name: string; reads: string[]; writes: string[] }[];
  plugins: { name: string; views: string[]; live: string[]; writes: string[] }[];
}

/** Builds every feature of this build under `runtime` (nothing is started) and lists what each declares. */
export async function featureMaps(runtime: Runtime): Promise<FeatureMap[]> {
  const broker = await createEmbeddedBroker();
  try {
    const deps = { runtime, broker, log: silentLogger, metrics: new Registry(), clock: systemClock };
    const out: FeatureMap[] = [];
    for (const f of FEATURES) {
      const built = await f.build(deps);
      out.push({
        name: f.name,
        topics: f.topics.map((t) => t.name),
        // The static list: it names the notifier topologies even when they are not configured.
        topologies: f.topologies(),
        services: [...(built.resources ?? []), ...built.services].map((s) => ({
          name: s.name,
          reads: [...(s.topics?.reads ?? [])],
          writes: [...(s.topics?.writes ?? [])],
        })),
        plugins: built.plugins.map((p) => ({
          name: p.name,
          views: p.compactedTopics ?? [],
          live: p.eventTopics ?? [],
          writes: p.writes ?? [],
        })),
      });
    }
    return out;
  } finally {
    await broker.close();
  }
}

const code = (s: string) => `\`${s}\``;
const list = (xs: readonly string[]) => (xs.length ? xs.map(code).join(", ") : "—");

/** The generated part of ARCHITECTURE.md (Markdown). */
export async function describeArchitecture(runtime: Runtime): Promise<string> {
  const features = await featureMaps(runtime);
  const lines: string[] = [];
  lines.push("## Features", "");
  const writers = new Map<string, Set<string>>();
  const readers = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, topic: string, who: string) => {
    if (!m.has(topic)) m.set(topic, new Set());
    m.get(topic)!.add(who);
  };
  for (const f of features) {
    lines.push(`### ${f.name}`, "");
    for (const t of f.topologies) {
      lines.push(`- topology ${code(t.app)}${t.description ? ` — ${t.description}` : ""}`);
      const tables = (t.tables ?? []).map((tb) => tb.topic);
      lines.push(`  - reads ${list(t.inputs)}${tables.length ? `; tables ${list(tables)}` : ""}`);
      lines.push(`  - stores ${list(t.stores)}`);
      lines.push(
        `  - writes ${list(t.outputs)}${
          t.sinks?.length ? `; sinks ${t.sinks.map((s) => s.name).join(", ")}` : ""
        }`,
      );
      for (const i of t.inputs) add(readers, i, t.app);
      for (const i of tables) add(readers, i, t.app);
      for (const o of t.outputs) add(writers, o, t.app);
    }
    if (f.topologies.length) add(writers, DLQ_TOPIC.name, "every processor host");
    for (const s of f.services) {
      lines.push(`- service ${code(s.name)}: reads ${list(s.reads)}; writes ${list(s.writes)}`);
      for (const i of s.reads) add(readers, i, s.name);
      for (const o of s.writes) add(writers, o, s.name);
    }
    for (const p of f.plugins) {
      lines.push(
        `- gateway plugin ${code(p.name)}: views ${list(p.views)}; live ${list(p.live)}; writes ${
          list(p.writes)
        }`,
      );
      for (const i of [...p.views, ...p.live]) add(readers, i, `gateway/${p.name}`);
      for (const o of p.writes) add(writers, o, `gateway/${p.name}`);
    }
    lines.push("");
  }
  lines.push("## Topics", "");
  const owner = new Map<string, string>(RUNTIME_TOPICS.map((t) => [t.name, "runtime"]));
  for (const f of features) for (const t of f.topics) owner.set(t, f.name);
  lines.push(
    "| topic | owner | partitions | compacted | keyed | written by | read by |",
    "|---|---|---|---|---|---|---|",
  );
  for (const def of [...TOPICS.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const w = [...(writers.get(def.name) ?? [])].sort();
    const r = [...(readers.get(def.name) ?? [])].sort();
    lines.push(
      `| ${code(def.name)} | ${owner.get(def.name) ?? "—"} | ${topicPartitions(def, runtime.config)} | ${
        def.compacted ? "yes" : "no"
      } | ${def.keyed ? "yes" : "no"} | ${w.join(", ") || "—"} | ${r.join(", ") || "—"} |`,
    );
  }
  lines.push("");
  lines.push("## Stores", "");
  lines.push("| topology | store | changelog (compacted) |", "|---|---|---|");
  for (const f of features) {
    for (const t of f.topologies) {
      for (const s of t.stores) {
        lines.push(`| ${code(t.app)} | ${code(s)} | ${code(changelogTopic(t.app, s))} |`);
      }
    }
  }
  return lines.join("\n") + "\n";
}

/** The marker line after which ARCHITECTURE.md is generated. */
export const GENERATED_MARKER =
  "<!-- generated by `deno run -A pipeline/architecture.ts` (every optional part on): do not edit below -->";

/** The whole ARCHITECTURE.md: the hand-written head (up to and including the marker) and the generated map. */
export async function architectureDocument(head: string): Promise<string> {
  const i = head.indexOf(GENERATED_MARKER);
  const top = i < 0
    ? `${head.trimEnd()}\n\n${GENERATED_MARKER}\n`
    : head.slice(0, i + GENERATED_MARKER.length) + "\n";
  return `${top}\n${await describeArchitecture(architectureRuntime())}`;
}

if (import.meta.main) {
  // Rewrites ARCHITECTURE.md in place: `deno run -A pipeline/architecture.ts`.
  const path = new URL("../ARCHITECTURE.md", import.meta.url);
  await Deno.writeTextFile(path, await architectureDocument(await Deno.readTextFile(path)));
}
