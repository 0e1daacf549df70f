import assert from "node:assert/strict";
import { architectureDocument, architectureRuntime, featureMaps, GENERATED_MARKER } from "./architecture.ts";
import { TOPICS } from "../schemas/mod.ts";
import { resolveConfig } from "./config.ts";
import { runCli } from "./cli.ts";
import { allTopologies } from "./app.ts";
import { describeArchitecture } from "./architecture.ts";
import type { Broker } from "./broker/types.ts";

Deno.test("ARCHITECTURE.md is the generated map of this build (regenerate: deno run -A pipeline/architecture.ts)", async () => {
  const doc = await Deno.readTextFile(new URL("../ARCHITECTURE.md", import.meta.url));
  assert.ok(doc.includes(GENERATED_MARKER), "the marker line is there");
  assert.equal(doc, await architectureDocument(doc), "ARCHITECTURE.md is out of date");
});

Deno.test("every declared topic has a writer and a reader in the map; every name a feature declares is a declared topic", async () => {
  const maps = await featureMaps(architectureRuntime());
  const written = new Set<string>(), read = new Set<string>();
  for (const f of maps) {
    for (const t of f.topologies) {
      t.inputs.forEach((i) => read.add(i));
      t.outputs.forEach((o) => written.add(o));
      (t.tables ?? []).forEach((tb) => read.add(tb.topic));
    }
    for (const s of f.services) {
      s.reads.forEach((i) => read.add(i));
      s.writes.forEach((o) => written.add(o));
    }
    for (const p of f.plugins) {
      [...p.views, ...p.live].forEach((i) => read.add(i));
      p.writes.forEach((o) => written.add(o));
    }
  }
  written.add("lz.dlq.v1"); // every processor host
  for (const name of TOPICS.keys()) {
    assert.ok(written.has(name), `nothing declares that it writes ${name}`);
    assert.ok(read.has(name), `nothing declares that it reads ${name}`);
  }
  for (const name of [...written, ...read]) assert.ok(TOPICS.has(name), `${name} is not a declared topic`);
});

Deno.test("lzsync describe architecture prints the map under the user's config", async () => {
  const out: string[] = [];
  const runtime = resolveConfig({});
  const code = await runCli(["describe", "architecture"], {
    loadRuntime: () => Promise.resolve(runtime),
    createBroker: () => Promise.reject(new Error("describe needs no broker")) as Promise<Broker>,
    start: () => Promise.resolve(),
    topologies: allTopologies(),
    architecture: (r) => describeArchitecture(r),
    stdout: (s) => out.push(s),
    stderr: () => {},
  });
  assert.equal(code, 0);
  const text = out.join("\n");
  assert.match(text, /### fabrics\n\n- topology `lzsync-fgd`/);
  assert.match(text, /\| `lz\.git\.push\.v1` \| git-sync \| 1 \| no \| no \|/);
  assert.ok(!text.includes("pubsub-subscriber"), "Pub/Sub is off in the default config");
});
