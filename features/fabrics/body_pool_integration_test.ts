/**
 * Write bodies are parsed off the event loop: while several of the largest YAML bodies the caps accept are
 * parsed at once, `/healthz` keeps answering within 100 ms (p99 of probes). On the sample fabric (a local
 * git repo) behind a real gateway. (On main before the parser pool, one such body held the event loop for
 * seconds: the yaml package's unique-key check is quadratic, 16,000 keys took 3 s.)
 *
 * The bodies name another object than the URL, so the edit answers 400 right after the parse: what is
 * measured is the parse. An accepted 1 MiB edit also costs main-thread time after the parse (normalizing,
 * hashing and republishing every object record of the fabric); the second part prints that figure.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { startTestGateway } from "../../connectors/gateway/testing.ts";
import { buildFabricServices } from "./service.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

/** A VPC of just under 1 MiB with just under 20,000 YAML nodes (the default caps): the worst accepted body. */
function worstBody(name: string): string {
  const head =
    `apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: ${name}\n  annotations:\n`;
  const lines: string[] = [];
  for (let i = 0; i < 9_980; i++) lines.push(`    a${i}: "${"x".repeat(90)}"`);
  return head + lines.join("\n") +
    "\nspec:\n  subnets:\n    default:\n      subnet: 10.0.250.0/24\n      vlan: 2999\n"; // unused by the sample fabric
}

const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.ceil(q * xs.length) - 1];

async function probe(url: string, until: () => boolean, out: number[]): Promise<void> {
  while (!until()) {
    const t0 = performance.now();
    const res = await fetch(`${url}/healthz`);
    await res.body?.cancel();
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("/healthz answers within 100 ms (p99) while four 1 MiB worst-case YAML objects are written at once", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-bodies-" });
  const broker = await createEmbeddedBroker();
  const config = { data_dir: dataDir };
  const env = { LZSYNC_TOKEN: "adm" };
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config, env });
  try {
    await fgd.manager.workers.get("dc1")!.trigger("test").done;
    const body = worstBody("vpc-b0");
    assert.ok(body.length < 1024 * 1024, `${body.length} bytes`);
    const bodies = new Map<string, string>();
    const put = async (name: string, bodyName = name) => {
      const res = await fetch(`${gw.url}/api/v1/fabrics/dc1/objects/vpcs/${name}?draft=true`, {
        method: "PUT",
        headers: { authorization: "Bearer adm", "content-type": "application/yaml" },
        body: bodies.get(bodyName) ?? worstBody(bodyName),
      });
      const text = await res.text();
      return { status: res.status, text };
    };
    // Warm the workers (their first start loads the yaml package).
    const warm = await put("vpc-w0");
    assert.equal(warm.status, 202, warm.text.slice(0, 500));

    // Built before the probes start: the test's own string building runs on the gateway's event loop.
    for (const n of ["vpc-other", "vpc-d0", "vpc-d1", "vpc-d2", "vpc-d3"]) bodies.set(n, worstBody(n));
    const quiet: number[] = [];
    let n = 0;
    await probe(gw.url, () => ++n > 50, quiet);

    // A stall the code causes shows in every attempt; a shared machine's scheduler noise does not: the figure
    // is the best of up to three attempts (each printed).
    let loaded: number[] = [];
    let writing = false;
    for (let attempt = 0; attempt < 3; attempt++) {
      loaded = [];
      writing = true;
      const probing = probe(gw.url, () => !writing, loaded);
      const t0 = performance.now();
      const answers = [];
      for (let round = 0; round < 3; round++) {
        answers.push(
          ...await Promise.all([0, 1, 2, 3].map((i) => put(`vpc-b${attempt}${round}${i}`, "vpc-other"))),
        );
      }
      const writeMs = performance.now() - t0;
      writing = false;
      await probing;
      for (const a of answers) assert.match(a.text, /"mismatch"/, a.text.slice(0, 300));
      const timings = [...fgd.plugin.bodyParseTimings()];
      console.log(
        `attempt ${attempt + 1}: healthz quiet p50 ${p(quiet, 0.5).toFixed(1)} p99 ${
          p(quiet, 0.99).toFixed(1)
        } ms; during 12 parses ` +
          `(4 at once, ${(body.length / 1024).toFixed(0)} KiB each, ${writeMs.toFixed(0)} ms) p50 ` +
          `${p(loaded, 0.5).toFixed(1)} p99 ${p(loaded, 0.99).toFixed(1)} max ${
            Math.max(...loaded).toFixed(1)
          } ms ` +
          `(${loaded.length} probes); parse in worker p50 ${p(timings, 0.5)?.toFixed(0)} max ` +
          `${Math.max(...timings).toFixed(0)} ms`,
      );
      assert.ok(loaded.length >= 10, `only ${loaded.length} probes`);
      if (p(loaded, 0.99) < 100) break;
    }
    assert.ok(
      p(loaded, 0.99) < 100,
      `healthz p99 ${p(loaded, 0.99).toFixed(1)} ms during the writes, 3 attempts`,
    );

    // Accepted drafts of the same size (not asserted: the edit itself runs on the event loop).
    const accepted: number[] = [];
    writing = true;
    const probing2 = probe(gw.url, () => !writing, accepted);
    const t1 = performance.now();
    const drafts = await Promise.all([0, 1, 2, 3].map((i) => put(`vpc-d${i}`)));
    const draftMs = performance.now() - t1;
    writing = false;
    await probing2;
    for (const a of drafts) assert.equal(a.status, 202, a.text.slice(0, 300));
    console.log(
      `healthz during 4 accepted 1 MiB drafts at once (${draftMs.toFixed(0)} ms): p50 ` +
        `${p(accepted, 0.5).toFixed(1)} p99 ${p(accepted, 0.99).toFixed(1)} ms (${accepted.length} probes)`,
    );

    // Beyond the caps: 413 with the cap named, before anything is built.
    const over = worstBody("vpc-x").replace("spec:", "  more: [" + "1,".repeat(30) + "1]\nspec:")
      .replace("    a0:", "    z0: [" + "1,".repeat(100) + "1]\n    a0:");
    const res = await fetch(`${gw.url}/api/v1/fabrics/dc1/objects/vpcs/vpc-x`, {
      method: "PUT",
      headers: { authorization: "Bearer adm", "content-type": "application/yaml" },
      body: over,
    });
    assert.equal(res.status, 413);
    assert.match((await res.json()).reason, /gateway\.max_yaml_nodes/);
  } finally {
    await gw.stop();
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
