/**
 * An analytics process for crash tests: runs the analytics topology with the DuckDB sink on Kafka (or the
 * embedded broker in a data directory) and reports progress as JSON lines on stdout, so a test can SIGKILL
 * it between a sink flush and the offset commit and start it again.
 *
 *   deno run -A pipeline/testing/analytics_worker.ts --app A --db FILE --topics t1,t2
 *     (--kafka host:port | --data-dir D) [--max-batch N] [--until-caught-up] [--die-before-commit N]
 *
 * `--die-before-commit N` SIGKILLs the process itself at its N-th checkpoint, after the DuckDB flush
 * committed and before the input offsets are committed: the moment a non-idempotent sink would duplicate.
 */
import { parseArgs } from "node:util";
import type { Broker } from "../broker/types.ts";
import { createEmbeddedBroker } from "../broker/embedded/mod.ts";
import { createLogger } from "../log.ts";
import { createProcessorHost } from "../processor/host.ts";
import { analyticsTopologies } from "../../processors/analytics/mod.ts";
import { openDuckDb } from "../../connectors/duckdb/engine.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    app: { type: "string" },
    db: { type: "string" },
    topics: { type: "string" },
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
const topics = a.topics!.split(",");

let broker: Broker;
if (a.kafka) {
  const { createBroker } = await import("../broker/mod.ts");
  broker = await createBroker({
    kind: "kafka",
    brokers: a.kafka.split(","),
    clientId: "analytics-worker",
    logger: log,
  });
} else {
  broker = await createEmbeddedBroker({ dataDir: a["data-dir"], logger: log });
}
const db = await openDuckDb({ path: a.db!, log });
say("opened", { applied: Object.fromEntries(db.applied()) });
const [topo] = analyticsTopologies({ sinks: [db], topics, dailyEveryMs: 3_600_000 });
topo.app = a.app!;
let checkpoints = 0;
const dieAt = a["die-before-commit"] ? Number(a["die-before-commit"]) : Infinity;
const host = createProcessorHost({ broker, log }, topo, {
  maxBatchSize: a["max-batch"] ? Number(a["max-batch"]) : undefined,
  stopOnSignals: true,
  beforeCommit: () => {
    if (++checkpoints >= dieAt) {
      say("dying", { checkpoints, stats: db.stats() });
      Deno.kill(Deno.pid, "SIGKILL");
    }
  },
  onCheckpoint: (e) => {
    for (const c of e.commits) {
      say("checkpoint", { topic: c.topic, partition: c.partition, offset: c.offset });
    }
  },
});

/** True when the group committed every partition of every input topic up to its high offset. */
async function caughtUp(): Promise<boolean> {
  const admin = broker.admin();
  const committed = await admin.fetchCommitted(topo.app, topics);
  for (const t of topics) {
    for (const h of await admin.topicOffsets(t)) {
      const c = committed.find((x) => x.topic === t && x.partition === h.partition)?.offset ?? 0;
      if (c < h.high) return false;
    }
  }
  return true;
}

await host.start();
say("started", { assigned: host.assigned() });
if (a["until-caught-up"]) {
  (async () => {
    while (!(await caughtUp().catch(() => false))) await new Promise((r) => setTimeout(r, 100));
    say("caught_up");
    await host.stop();
  })();
}
await host.stopped;
await broker.close();
say("stopped", { stats: db.stats() });
await db.close();
