/**
 * A processor process killed with SIGKILL mid-stream and started again ends with exactly the expected
 * counts: nothing lost, nothing counted twice. On the embedded broker the state survives in a data
 * directory; on Kafka in the real broker.
 */
import assert from "node:assert/strict";
import type { Broker } from "../broker/types.ts";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import { silentLogger } from "../log.ts";
import { needs, requireKafka } from "../testing/env.ts";
import { produceEvents, readCounts, sorted } from "./_test_util.ts";
import { resetTestTopics } from "./_scenarios.ts";

const WORKER = new URL("../testing/counter_worker.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

interface Line {
  event: string;
  partition?: number;
  offset?: number;
}

/**
 * Runs the worker until `stopWhen` returns true for a line (then SIGKILL) or until it exits by itself.
 * Returns the lines it printed and whether it was killed.
 */
async function runWorker(args: string[], stopWhen: (l: Line, all: Line[]) => boolean, timeoutMs = 30_000) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines: Line[] = [];
  let killed = false;
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  let buf = "";
  try {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const l = JSON.parse(buf.slice(0, i)) as Line;
        buf = buf.slice(i + 1);
        lines.push(l);
        if (!killed && stopWhen(l, lines)) {
          child.kill("SIGKILL");
          killed = true;
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
  const status = await child.status;
  const err = await stderr;
  if (!killed && status.code !== 0 && status.signal !== "SIGKILL") {
    throw new Error(`worker exited with ${status.code}:\n${err.slice(-2000)}`);
  }
  return { lines, killed, signal: status.signal };
}

/** Sum over partitions of the highest committed offset reported so far. */
function progress(lines: Line[]): number {
  const byPartition = new Map<number, number>();
  for (const l of lines) if (l.event === "checkpoint") byPartition.set(l.partition!, l.offset!);
  return [...byPartition.values()].reduce((a, b) => a + b, 0);
}

async function crashAndRecover(
  target: string[],
  app: string,
  total: number,
  kills: number,
): Promise<void> {
  // First the worst moment (changelog written, commit not), then plain SIGKILLs from outside.
  const selfKill = await runWorker([
    ...target,
    "--app",
    app,
    "--max-batch",
    "250",
    "--die-before-commit",
    "6",
  ], () => false);
  assert.equal(selfKill.signal, "SIGKILL", "the worker did not die before its 6th commit");
  assert.ok(progress(selfKill.lines) < total);
  for (let k = 0; k < kills; k++) {
    // Kill after a few more checkpoints than the previous run reached, while records are still waiting.
    const { killed, lines, signal } = await runWorker(
      [...target, "--app", app, "--max-batch", "250"],
      (l, all) => l.event === "checkpoint" && all.filter((x) => x.event === "checkpoint").length >= 8 + 6 * k,
    );
    assert.ok(killed, `run ${k} finished before it could be killed`);
    assert.equal(signal, "SIGKILL");
    const p = progress(lines);
    assert.ok(p < total, `run ${k} had already processed everything (${p}/${total})`);
  }
  const last = await runWorker([...target, "--app", app, "--until-caught-up"], () => false, 60_000);
  assert.ok(last.lines.some((l) => l.event === "caught_up"), "final run never caught up");
}

Deno.test("embedded: a processor process killed with SIGKILL mid-stream and restarted counts exactly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-crash-" });
  try {
    let broker: Broker = await createEmbeddedBroker({ dataDir: dir, logger: silentLogger });
    const expected = await produceEvents(broker, 40_000, 500);
    await broker.close();
    await crashAndRecover(["--data-dir", dir], "crash-embedded", 40_000, 2);
    broker = await createEmbeddedBroker({ dataDir: dir, logger: silentLogger });
    try {
      assert.deepEqual(sorted(await readCounts(broker, "crash-embedded")), sorted(expected));
    } finally {
      await broker.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "kafka: a processor process killed with SIGKILL mid-stream and restarted counts exactly",
  ignore: needs("kafka"),
  async fn() {
    const brokers = requireKafka();
    const { createBroker } = await import("../broker/mod.ts");
    const broker = await createBroker({
      kind: "kafka",
      brokers: brokers.split(","),
      clientId: "crash-it",
      logger: silentLogger,
    });
    try {
      await resetTestTopics(broker);
      const app = `crash-kafka-${crypto.randomUUID().slice(0, 8)}`;
      const expected = await produceEvents(broker, 40_000, 500);
      await crashAndRecover(["--kafka", brokers], app, 40_000, 0); // each restart waits out the dead member's session
      assert.deepEqual(sorted(await readCounts(broker, app)), sorted(expected));
    } finally {
      await broker.close();
    }
  },
});

Deno.test("embedded: SIGTERM stops a processor process gracefully (batch finished, checkpointed, exit 0)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-term-" });
  try {
    let broker: Broker = await createEmbeddedBroker({ dataDir: dir, logger: silentLogger });
    const expected = await produceEvents(broker, 40_000, 500);
    await broker.close();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", WORKER, "--data-dir", dir, "--app", "term", "--max-batch", "250"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const lines: Line[] = [];
    let buf = "";
    let termed = false;
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
      if (!termed && lines.filter((l) => l.event === "checkpoint").length >= 5) {
        child.kill("SIGTERM");
        termed = true;
      }
    }
    const status = await child.status;
    assert.equal(status.code, 0);
    assert.equal(lines.at(-1)?.event, "stopped");
    const reported = progress(lines);
    broker = await createEmbeddedBroker({ dataDir: dir, logger: silentLogger });
    try {
      const committed = await broker.admin().fetchCommitted("term");
      assert.equal(committed.reduce((n, c) => n + c.offset, 0), reported);
      const counts = await readCounts(broker, "term");
      assert.equal([...counts.values()].reduce((a, b) => a + b, 0), reported);
      for (const [k, v] of counts) assert.ok(v <= expected.get(k)!);
    } finally {
      await broker.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
