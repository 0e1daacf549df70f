/**
 * A processor process for crash tests: runs the counter topology on the embedded broker (a data directory)
 * or on Kafka and reports progress as JSON lines on stdout, so a test can SIGKILL it mid-stream and start it
 * again. Stops gracefully on SIGINT/SIGTERM, or by itself once the group has caught up (`--until-caught-up`).
 *
 *   deno run -A pipeline/testing/counter_worker.ts --app A (--data-dir D | --kafka host:port) [--max-batch N]
 *     [--until-caught-up] [--die-before-commit N]
 *
 * `--die-before-commit N` SIGKILLs the process itself at its N-th checkpoint, after the changelog was
 * acknowledged and before the input offsets are committed: the worst moment for double counting.
 */
import { parseArgs } from "node:util";
import type { Broker } from "../broker/types.ts";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import { createLogger } from "../log.ts";
import { createProcessorHost } from "../processor/host.ts";
import { counterTopology } from "../../processors/counter/mod.ts";
import { caughtUp } from "../processor/_test_util.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    app: { type: "string" },
    "data-dir": { type: "string" },
    kafka: { type: "string" },
    "max-batch": { type: "string" },
    "until-caught-up": { type: "boolean" },
    "die-before-commit": { type: "string" },
  },
});
const say = (event: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ event, ...fields }));
const log = createLogger({ level: "warn" });

let broker: Broker;
if (a.kafka) {
  const { createBroker } = await import("../broker/mod.ts");
  broker = await createBroker({
    kind: "kafka",
    brokers: a.kafka.split(","),
    clientId: "counter-worker",
    logger: log,
  });
} else {
  broker = await createEmbeddedBroker({ dataDir: a["data-dir"], logger: log });
}
const topo = counterTopology(a.app);
let checkpoints = 0;
const dieAt = a["die-before-commit"] ? Number(a["die-before-commit"]) : Infinity;
const host = createProcessorHost({ broker, log }, topo, {
  maxBatchSize: a["max-batch"] ? Number(a["max-batch"]) : undefined,
  stopOnSignals: true,
  beforeCommit: () => {
    if (++checkpoints >= dieAt) Deno.kill(Deno.pid, "SIGKILL");
  },
  onCheckpoint: (e) => {
    for (const c of e.commits) say("checkpoint", { partition: c.partition, offset: c.offset });
  },
});
await host.start();
say("started", { assigned: host.assigned() });
if (a["until-caught-up"]) {
  (async () => {
    while (!(await caughtUp(broker, topo.app).catch(() => false))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    say("caught_up");
    await host.stop();
  })();
}
await host.stopped;
await broker.close();
say("stopped", host.stats());
