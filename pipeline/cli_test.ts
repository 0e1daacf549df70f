import assert from "node:assert/strict";
import { createEmbeddedBroker, type EmbeddedBroker } from "./broker/embedded/mod.ts";
import type { Broker } from "./broker/types.ts";
import { resolveConfig } from "./config.ts";
import { silentLogger } from "./log.ts";
import { type CliDeps, runCli } from "./cli.ts";
import { createProcessorHost } from "./processor/host.ts";
import { counterTopology } from "../processors/counter/mod.ts";
import { caughtUp, produceEvents } from "./processor/_test_util.ts";
import { waitFor } from "./testing/wait.ts";

/** CLI deps over one shared in-memory broker (the CLI's close() leaves it open for the test). */
function deps(broker: EmbeddedBroker, extra: Partial<CliDeps> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const d: CliDeps = {
    loadRuntime: () => Promise.resolve(resolveConfig({}, {}, "defaults")),
    createBroker: () => Promise.resolve({ ...broker, close: () => Promise.resolve() } as Broker),
    start: () => Promise.resolve(),
    topologies: [counterTopology("cli-counter")],
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    ...extra,
  };
  return { d, out, err };
}

Deno.test("lzsync topics create/list/describe manage topics, with --json for machines", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const { d, out, err } = deps(broker);
    assert.equal(await runCli(["topics", "create", "lz.test.events.v1"], d), 0, err.join());
    assert.equal(await runCli(["topics", "create", "my-table", "--partitions", "3", "--compacted"], d), 0);
    assert.equal(await runCli(["topics", "list"], d), 0);
    assert.match(out.at(-1)!, /^TOPIC\s+PARTITIONS\s+CLEANUP\n/);
    assert.match(out.at(-1)!, /lz\.test\.events\.v1\s+4\s+delete/);
    assert.match(out.at(-1)!, /my-table\s+3\s+compact/);
    assert.equal(await runCli(["topics", "describe", "my-table", "--json"], d), 0);
    const desc = JSON.parse(out.at(-1)!);
    assert.equal(desc.partitions, 3);
    assert.equal(desc.compacted, true);
    assert.equal(desc.offsets.length, 3);
    assert.equal(await runCli(["topics", "create", "my-table"], d), 1);
    assert.match(err.at(-1)!, /already exists/);
  } finally {
    await broker.close();
  }
});

Deno.test("lzsync exits 2 with one line that says what to fix on usage errors", async () => {
  const broker = await createEmbeddedBroker();
  try {
    const { d, err } = deps(broker);
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command "frobnicate"/],
      [["topics", "create", "x", "--partitions", "zero"], /--partitions must be a whole number/],
      [["replay", "--group", "g"], /replay needs --to/],
      [["digest"], /digest needs --group/],
      [["lag", "--bogus"], /Unknown option '--bogus'/],
      [["replay", "--group", "g", "--to", "yesterday"], /not a replay target; use earliest/],
    ];
    for (const [argv, re] of cases) {
      assert.equal(await runCli(argv, d), 2, argv.join(" "));
      assert.match(err.at(-1)!, re);
      assert.equal(err.at(-1)!.split("\n").length, 1);
    }
    assert.equal(await runCli([], d), 2);
    assert.equal(await runCli(["--help"], d), 0);
  } finally {
    await broker.close();
  }
});

Deno.test("lzsync lag, digest and replay operate on a processor group", async () => {
  const broker = await createEmbeddedBroker();
  const topo = counterTopology("cli-counter");
  try {
    const { d, out, err } = deps(broker);
    await produceEvents(broker, 2000, 40);
    const host = createProcessorHost({ broker, log: silentLogger }, topo);
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    assert.equal(await runCli(["replay", "--group", topo.app, "--to", "earliest"], d), 1);
    assert.match(err.at(-1)!, /active member.*stop them/);
    await host.stop();
    await produceEvents(broker, 500, 40);

    assert.equal(await runCli(["lag", "--group", topo.app, "--json"], d), 0, err.join());
    const lag = JSON.parse(out.at(-1)!);
    assert.equal(lag.length, 4);
    assert.equal(lag.reduce((n: number, r: { lag: number }) => n + r.lag, 0), 500);
    assert.ok(lag.every((r: { lag: number; lag_seconds: number }) => r.lag === 0 || r.lag_seconds >= 0));
    assert.equal(await runCli(["lag"], d), 0);
    assert.match(out.at(-1)!, /GROUP\s+TOPIC\s+PARTITION\s+COMMITTED\s+HIGH\s+LAG\s+LAG_S/);

    assert.equal(await runCli(["digest", "--group", topo.app], d), 0);
    const before = out.at(-1)!.split("\n")[0];
    assert.match(before, /^sha256:[0-9a-f]{64}$/);
    assert.equal(
      await runCli(["replay", "--group", topo.app, "--to", "earliest", "--json"], d),
      0,
      err.join(),
    );
    const r = JSON.parse(out.at(-1)!);
    assert.deepEqual(r.droppedTopics, ["cli-counter-counts-changelog"]);
    assert.equal(await runCli(["digest", "--group", topo.app, "--json"], d), 0);
    assert.equal(JSON.parse(out.at(-1)!).stores[0].keys, 0);

    const again = createProcessorHost({ broker, log: silentLogger }, topo);
    await again.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    await again.stop();
    assert.equal(await runCli(["digest", "--group", topo.app], d), 0);
    assert.notEqual(out.at(-1)!.split("\n")[0], before); // 500 more events were counted
    assert.equal(await runCli(["describe"], d), 0);
    assert.match(out.at(-1)!, /Topology cli-counter[\s\S]*changelog cli-counter-counts-changelog/);
  } finally {
    await broker.close();
  }
});

Deno.test("lzsync start hands over to deps.start and reports its failure with exit code 1", async () => {
  const broker = await createEmbeddedBroker();
  try {
    let started = false;
    const ok = deps(broker, { start: () => Promise.resolve(void (started = true)) });
    assert.equal(await runCli(["start"], ok.d), 0);
    assert.ok(started);
    const bad = deps(broker, { start: () => Promise.reject(new Error("Cannot reach Kafka at 127.0.0.1:1")) });
    assert.equal(await runCli(["start"], bad.d), 1);
    assert.equal(bad.err.at(-1), "error: Cannot reach Kafka at 127.0.0.1:1");
  } finally {
    await broker.close();
  }
});
