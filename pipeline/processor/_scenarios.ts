/**
 * The processor host's integration scenarios, written once against the {@link Broker} contract and run by
 * `host_integration_test.ts` on the embedded broker and on Kafka.
 */
import assert from "node:assert/strict";
import type { Broker } from "../broker/types.ts";
import { silentLogger } from "../log.ts";
import { decode } from "../serde.ts";
import { digestGroup } from "../digest.ts";
import { replay } from "../replay.ts";
import { createProcessorHost, type HostOptions } from "./host.ts";
import { changelogTopic } from "./types.ts";
import { counterTopology, COUNTS_STORE } from "../../processors/counter/mod.ts";
import { TEST_COUNTS_TOPIC } from "../../pipeline/testing/test_topics.ts";
import { DLQ_TOPIC, type DlqRecord } from "../../schemas/dlq.ts";
import { caughtUp, EVENTS, produceEvents, readCounts, sorted } from "./_test_util.ts";
import { waitFor } from "../testing/wait.ts";

/** Deletes the counter's topics (shared by every scenario on one Kafka broker) and waits until they are gone. */
export async function resetTestTopics(broker: Broker): Promise<void> {
  const admin = broker.admin();
  const names = [EVENTS, TEST_COUNTS_TOPIC.name];
  const existing = (await admin.listTopics()).filter((t) => names.includes(t));
  if (existing.length === 0) return;
  await admin.deleteTopics(existing);
  await waitFor(
    async () => {
      const left = await admin.listTopics();
      return !existing.some((t) => left.includes(t));
    },
    "test topics deleted",
    30_000,
  );
}

const app = (name: string) => `it-${name}-${crypto.randomUUID().slice(0, 8)}`;
const fast: HostOptions = { retries: 2, backoffMs: 10 };

/** Two members share the partitions; when one leaves the survivor takes over; every count is exact. */
export async function twoMembersShareAndTakeOver(broker: Broker): Promise<void> {
  await resetTestTopics(broker);
  const topo = counterTopology(app("share"));
  const expected = await produceEvents(broker, 10_000, 200);
  const a = createProcessorHost({ broker, log: silentLogger }, topo, { ...fast, clientId: "member-a" });
  const b = createProcessorHost({ broker, log: silentLogger }, topo, { ...fast, clientId: "member-b" });
  try {
    await a.start();
    await b.start();
    await waitFor(() => a.assigned().length > 0 && b.assigned().length > 0, "both members own partitions");
    assert.deepEqual([...a.assigned(), ...b.assigned()].sort(), [0, 1, 2, 3]);
    for (const [k, v] of await produceEvents(broker, 10_000, 200)) {
      expected.set(k, (expected.get(k) ?? 0) + v);
    }
    await waitFor(() => caughtUp(broker, topo.app), "caught up with two members", 30_000);
    await b.stop();
    await waitFor(() => a.assigned().length === 4, "survivor owns every partition", 30_000);
    for (const [k, v] of await produceEvents(broker, 5_000, 200)) expected.set(k, (expected.get(k) ?? 0) + v);
    await waitFor(() => caughtUp(broker, topo.app), "caught up after takeover", 30_000);
    assert.deepEqual(sorted(await readCounts(broker, topo.app)), sorted(expected));
    const fromChangelog = await digestGroup({ broker, group: topo.app, stores: [COUNTS_STORE] });
    assert.equal(a.digest(), fromChangelog.digest);
  } finally {
    await b.stop();
    await a.stop();
  }
}

/** Reads this app's DLQ records. */
async function readDlq(broker: Broker, stage: string, want: number): Promise<DlqRecord[]> {
  const out: DlqRecord[] = [];
  const reader = broker.reader({ topics: [DLQ_TOPIC.name], from: "earliest" });
  await reader.run((batch) => {
    for (const r of batch.records) {
      const v = decode<DlqRecord>(DLQ_TOPIC.name, r.value)!;
      if (v.stage === stage) out.push(v);
    }
    return Promise.resolve();
  });
  try {
    await waitFor(() => out.length >= want, `${want} DLQ records of ${stage}`);
  } finally {
    await reader.stop();
  }
  return out;
}

/** Bad JSON, a schema-invalid value and a value that makes process() throw land in the DLQ; the rest count. */
export async function poisonRecordsGoToDlq(broker: Broker): Promise<void> {
  await resetTestTopics(broker);
  const topo = counterTopology(app("poison"));
  await produceEvents(broker, 0, 1);
  const producer = await broker.producer();
  const enc = new TextEncoder();
  const good = (n: number) => ({ key: "p", value: enc.encode(JSON.stringify({ id: "p", n })) });
  const metas = await producer.send(EVENTS, [
    good(0),
    { key: "p", value: enc.encode("{not json"), headers: { origin: "test" } },
    { key: "p", value: enc.encode(JSON.stringify({ id: "p", colour: "red" })) },
    { key: "p", value: enc.encode(JSON.stringify({ id: "p", fail: true })) },
    good(4),
    good(5),
  ]);
  await producer.close();
  const host = createProcessorHost({ broker, log: silentLogger }, topo, fast);
  try {
    await host.start();
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    const dlq = await readDlq(broker, topo.app, 3);
    dlq.sort((x, y) => x.source.offset - y.source.offset);
    assert.deepEqual(dlq.map((d) => [d.error_code, d.source.topic, d.source.partition, d.source.offset]), [
      ["DECODE", EVENTS, metas[1].partition, metas[1].offset],
      ["VALIDATION", EVENTS, metas[2].partition, metas[2].offset],
      ["PROCESS", EVENTS, metas[3].partition, metas[3].offset],
    ]);
    assert.match(dlq[0].error, /not valid UTF-8 JSON/);
    assert.equal(atob(dlq[0].original.value_base64!), "{not json");
    assert.equal(dlq[0].original.headers.origin, "test");
    assert.match(dlq[1].error, /colour/);
    assert.match(dlq[2].error, /fail=true/);
    assert.equal(dlq[2].attempts, 3);
    assert.deepEqual(sorted(await readCounts(broker, topo.app)), [["p", 3]]);
  } finally {
    await host.stop();
  }
}

/** Replay refuses while the group runs; after `replay --to earliest` and a restart the digest is unchanged. */
export async function replayRebuildsTheSameState(broker: Broker): Promise<void> {
  await resetTestTopics(broker);
  const topo = counterTopology(app("replay"));
  const expected = await produceEvents(broker, 6_000, 300);
  const run = async (until: () => Promise<boolean>) => {
    const host = createProcessorHost({ broker, log: silentLogger }, topo, fast);
    await host.start();
    try {
      await waitFor(until, "caught up", 30_000);
    } finally {
      await host.stop();
    }
    return host;
  };
  const host = createProcessorHost({ broker, log: silentLogger }, topo, fast);
  await host.start();
  try {
    await waitFor(() => caughtUp(broker, topo.app), "caught up");
    await assert.rejects(replay({ broker, group: topo.app, to: "earliest" }), /active member/);
  } finally {
    await host.stop();
  }
  const before = await digestGroup({ broker, group: topo.app, stores: [COUNTS_STORE] });
  assert.equal(before.stores[0].keys, 300);
  await waitFor(
    async () => (await broker.admin().describeGroup(topo.app)).members.length === 0,
    "group empty",
    30_000,
  );
  const r = await replay({
    broker,
    group: topo.app,
    to: "earliest",
    inputs: topo.inputs,
    stores: topo.stores,
  });
  assert.deepEqual(r.droppedTopics, [changelogTopic(topo.app, COUNTS_STORE)]);
  assert.ok(r.offsets.every((o) => o.offset === 0));
  assert.ok(!(await broker.admin().listTopics()).includes(changelogTopic(topo.app, COUNTS_STORE)));
  await run(() => caughtUp(broker, topo.app));
  const after = await digestGroup({ broker, group: topo.app, stores: [COUNTS_STORE] });
  assert.equal(after.digest, before.digest);
  assert.deepEqual(sorted(await readCounts(broker, topo.app)), sorted(expected));
}

/**
 * A crash after the changelog was written but before the input commit: the restarted host restores the
 * applied source offsets and skips the records the state already holds (no double count).
 */
export async function restartAfterLostCommitDoesNotDoubleCount(broker: Broker): Promise<void> {
  await resetTestTopics(broker);
  const topo = counterTopology(app("lostcommit"));
  const expected = await produceEvents(broker, 4_000, 100);
  for (let round = 0; round < 2; round++) {
    const host = createProcessorHost({ broker, log: silentLogger }, topo, fast);
    await host.start();
    try {
      await waitFor(() => caughtUp(broker, topo.app), "caught up", 30_000);
    } finally {
      await host.stop();
    }
    if (round === 0) {
      // Simulate the lost commit: rewind the group's offsets but keep the changelog.
      await waitFor(
        async () => (await broker.admin().describeGroup(topo.app)).members.length === 0,
        "group empty",
      );
      const low = (await broker.admin().topicOffsets(EVENTS)).map((o) => ({
        topic: EVENTS,
        partition: o.partition,
        offset: 0,
      }));
      await broker.admin().setCommitted(topo.app, low);
    }
  }
  assert.deepEqual(sorted(await readCounts(broker, topo.app)), sorted(expected));
}
