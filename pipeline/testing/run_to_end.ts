/** Runs a topology in a test until its group has committed everything on its inputs, then stops it. */
import type { Registry } from "prom-client";
import type { Broker } from "../broker/types.ts";
import { createProcessorHost } from "../processor/host.ts";
import type { Clock, Topology } from "../processor/types.ts";
import { silentLogger } from "../log.ts";
import { waitFor } from "./wait.ts";

/** True once `group` has committed the end of every partition of `topics`. */
export async function caughtUp(broker: Broker, group: string, topics: string[]): Promise<boolean> {
  const admin = broker.admin();
  for (const topic of topics) {
    const [highs, committed] = await Promise.all([
      admin.topicOffsets(topic),
      admin.fetchCommitted(group, [topic]),
    ]);
    const ok = highs.every((h) =>
      h.high === 0 || (committed.find((c) => c.partition === h.partition)?.offset ?? 0) >= h.high
    );
    if (!ok) return false;
  }
  return true;
}

/** Starts a host of `topo`, waits until it has caught up on its inputs, stops it. */
export async function runToEnd(
  broker: Broker,
  topo: Topology,
  o: { metrics?: Registry; clock?: Clock; timeoutMs?: number } = {},
): Promise<void> {
  const host = createProcessorHost({ broker, log: silentLogger, metrics: o.metrics, clock: o.clock }, topo, {
    backoffMs: 5,
  });
  try {
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app, topo.inputs), `${topo.app} caught up`, o.timeoutMs);
  } finally {
    await host.stop();
  }
}
