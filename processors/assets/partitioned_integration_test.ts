/**
 * Asset state partitioned by asset name, on real brokers: the same history (two Cloud Asset polls written
 * through the snapshot writer, feed messages between them) through the assets, policy and score topologies
 * run by processor hosts, once on one partition with one member (the reference), then on 3 partitions with
 * two members per group, on the embedded broker and on Apache Kafka. The asset state, the open violations
 * and the scores must be the same.
 */
import assert from "node:assert/strict";
import type { Broker } from "../../pipeline/broker/types.ts";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { needs, requireKafka } from "../../pipeline/testing/env.ts";
import { createLogger, silentLogger } from "../../pipeline/log.ts";
import { decode, encode } from "../../pipeline/serde.ts";
import { createProcessorHost, type ProcessorHost } from "../../pipeline/processor/host.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { declaredTopicSpecs, ensureTopics } from "../../pipeline/topics.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { sleep, waitFor } from "../../pipeline/testing/wait.ts";
import { producerSink, SnapshotWriter } from "../../connectors/cloud_asset/snapshot_writer.ts";
import { ASSET_SNAPSHOTS_TOPIC, type AssetRecord, type AssetState } from "../../schemas/assets.ts";
import { INFRA_EVENTS_TOPIC } from "../../schemas/infra_events.ts";
import { type ComplianceScore, GOVERNANCE_TOPIC } from "../../schemas/compliance.ts";
import type { Violation } from "../../schemas/violations.ts";
import { TOPICS } from "../../schemas/mod.ts";
import { assetsTopology } from "./mod.ts";
import { policyTopology, scoresTopology } from "../policy/mod.ts";

const PARENT = "organizations/9";
const ANC = (n: number) => [`projects/${n}`, "organizations/9"];
const T1 = "2024-05-01T10:00:00.000Z";
const T2 = "2024-05-01T12:00:00.000Z";

function project(n: number): AssetRecord {
  return {
    name: `//cloudresourcemanager.googleapis.com/projects/${n}`,
    asset_type: "cloudresourcemanager.googleapis.com/Project",
    project: `proj-${n}`,
    project_number: String(n),
    location: null,
    update_time: "2024-04-01T00:00:00.000Z",
    ancestors: ANC(n),
    resource_parent: null,
    data: { projectId: `proj-${n}`, labels: { team: "web" } },
  };
}

/** Firewall `i` (of project 101 + i % 3), SSH open to the internet when `open`. */
function firewall(i: number, open: boolean, t = "2024-04-02T00:00:00.000Z"): AssetRecord {
  const p = 101 + (i % 3);
  return {
    name: `//compute.googleapis.com/projects/proj-${p}/global/firewalls/fw-${i}`,
    asset_type: "compute.googleapis.com/Firewall",
    project: `proj-${p}`,
    project_number: String(p),
    location: "global",
    update_time: t,
    ancestors: ANC(p),
    resource_parent: null,
    data: {
      name: `fw-${i}`,
      direction: "INGRESS",
      sourceRanges: [open ? "0.0.0.0/0" : "10.0.0.0/8"],
      allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
    },
  };
}

/** Bucket `i`, known only by its project number (the name has no project); public when `members` says so. */
function bucket(i: number, members: string[]): AssetRecord {
  const p = 101 + (i % 3);
  return {
    name: `//storage.googleapis.com/bkt-${p}-${i}`,
    asset_type: "storage.googleapis.com/Bucket",
    project: null,
    project_number: String(p),
    location: "EU",
    update_time: "2024-04-03T00:00:00.000Z",
    ancestors: ANC(p),
    resource_parent: null,
    data: { name: `bkt-${p}-${i}`, iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } },
    iam_policy: { bindings: [{ role: "roles/storage.objectViewer", members }] },
  };
}

/** The first poll: 3 projects, 40 firewalls (every 4th open), 20 buckets (every 5th public). */
const POLL1: AssetRecord[] = [
  ...[101, 102, 103].map(project),
  ...Array.from({ length: 40 }, (_, i) => firewall(i, i % 4 === 0)),
  ...Array.from({ length: 20 }, (_, i) => bucket(i, i % 5 === 0 ? ["allUsers"] : ["group:x"])),
];
const GONE = new Set([3, 7, 11, 19, 23, 31]);
const CLOSED = new Set([0, 4, 8, 12, 16]);
/** The second poll: 6 firewalls and 3 buckets gone, 5 firewalls closed. */
const POLL2: AssetRecord[] = [
  ...[101, 102, 103].map(project),
  ...Array.from({ length: 40 }, (_, i) => i)
    .filter((i) => !GONE.has(i))
    .map((i) => CLOSED.has(i) ? firewall(i, false, "2024-05-01T11:00:00.000Z") : firewall(i, i % 4 === 0)),
  ...Array.from({ length: 20 }, (_, i) => i)
    .filter((i) => ![2, 9, 14].includes(i))
    .map((i) => bucket(i, i % 5 === 0 ? ["allUsers"] : ["group:x"])),
];

/** Feed messages after the second poll: a new open firewall, a bucket made public, a new bucket, a deletion. */
function feedEvents(): { key: string; value: unknown }[] {
  const feed = (asset: AssetRecord, id: string, window: string, deleted = false) => ({
    key: asset.name,
    value: {
      type: "asset_feed",
      message_id: id,
      publish_time: window,
      subscription: "projects/lz/subscriptions/feed",
      asset,
      prior_asset: null,
      prior_asset_state: deleted ? "PRESENT" : null,
      deleted,
      window_start: window,
    },
  });
  // IAM-only messages (no resource part) only merge into a bucket the task already holds.
  const iamOnly = (i: number): AssetRecord => ({
    ...bucket(i, ["allUsers"]),
    data: null,
    location: null,
    update_time: "2024-05-01T12:35:00.000Z",
  });
  return [
    feed(firewall(100, true, "2024-05-01T12:30:00.000Z"), "f1", "2024-05-01T12:30:00.000Z"),
    feed(
      { ...bucket(1, ["allUsers"]), update_time: "2024-05-01T12:40:00.000Z" },
      "f2",
      "2024-05-01T12:40:00.000Z",
    ),
    feed(bucket(50, ["allAuthenticatedUsers"]), "f3", "2024-05-01T12:45:00.000Z"),
    ...[3, 4, 6, 7, 8, 11].map((i) => feed(iamOnly(i), `iam${i}`, "2024-05-01T12:35:00.000Z")),
    ...[5, 9, 13, 17, 21, 25].map((i) =>
      feed(firewall(i, false), `del${i}`, "2024-05-01T12:50:00.000Z", true)
    ),
  ];
}

const GOVERNANCE = {
  repo: "lz",
  path: "pmo.yaml",
  commit: "c1",
  present: true,
  required_labels: [{ key: "team", pattern: null, allowed: null }],
  allowed_regions: [],
  exceptions: [],
  updated_at: "2024-05-01T09:00:00.000Z",
};

const KEYED = [...TOPICS.values()].filter((t) => t.keyed).map((t) => t.name);
const ALL = [...KEYED, "lz.compliance.score_parts.v1", "lz.compliance.scores.v1"];

/** Deletes the topics of this scenario (one Kafka broker is shared by the whole test run). */
async function resetTopics(broker: Broker): Promise<void> {
  const admin = broker.admin();
  const existing = (await admin.listTopics()).filter((t) => ALL.includes(t));
  if (!existing.length) return;
  await admin.deleteTopics(existing);
  await waitFor(
    async () => {
      const left = await admin.listTopics();
      return !existing.some((t) => left.includes(t));
    },
    "scenario topics deleted",
    30_000,
  );
  await sleep(500);
}

/** True when every group has committed all of its inputs up to their ends. */
async function allCaughtUp(broker: Broker, topologies: Topology[]): Promise<boolean> {
  const admin = broker.admin();
  for (const t of topologies) {
    const committed = await admin.fetchCommitted(t.app, t.inputs);
    for (const topic of t.inputs) {
      for (const h of await admin.topicOffsets(topic)) {
        const c = committed.find((x) => x.topic === topic && x.partition === h.partition)?.offset ?? 0;
        if (c < h.high) return false;
      }
    }
  }
  return true;
}

/** Waits until every group is caught up and no topic grew for a while (the score punctuation ran). */
async function settle(broker: Broker, topologies: Topology[]): Promise<void> {
  const ends = async () =>
    JSON.stringify(
      await Promise.all(ALL.map(async (t) => (await broker.admin().topicOffsets(t)).map((o) => o.high))),
    );
  let last = "";
  await waitFor(
    async () => {
      if (!(await allCaughtUp(broker, topologies))) return false;
      const now = await ends();
      const same = now === last;
      last = now;
      if (!same) await sleep(700);
      return same;
    },
    "pipeline settled",
    60_000,
  );
}

/** Latest value per key of a topic. */
async function table<T>(broker: Broker, topic: string): Promise<Map<string, T | null>> {
  const m = new Map<string, T | null>();
  await readTopicToEnd(broker, topic, (r) => void m.set(r.key!, decode<T>(topic, r.value)));
  return m;
}

async function writePoll(
  broker: Broker,
  assets: AssetRecord[],
  at: string,
  partitions: number,
): Promise<void> {
  const producer = await broker.producer();
  try {
    const w = new SnapshotWriter({
      sink: producerSink(producer),
      key: PARENT,
      snapshotId: `poll-${at}`,
      clock: { now: () => Date.parse(at) },
      maxAssets: 7,
      partitions,
    });
    w.readTime = at;
    await w.begin({
      previous_snapshot_id: null,
      source: "api",
      parent: PARENT,
      asset_types: [],
      content_types: ["RESOURCE", "IAM_POLICY"],
    });
    for (const a of assets) await w.add(a);
    await w.complete({ pages: 1, read_time: at });
  } finally {
    await producer.close();
  }
}

/** Runs the history with `partitions` partitions per keyed topic and `members` members per group. */
async function run(broker: Broker, partitions: number, members: number) {
  await resetTopics(broker);
  const lines: string[] = [];
  const short = await ensureTopics(
    broker.admin(),
    declaredTopicSpecs(resolveConfig({ broker: { partitions } })),
    createLogger({ sink: (l) => lines.push(l) }),
  );
  assert.deepEqual(short.filter((s) => ALL.includes(s.name)), [], lines.join("\n"));
  for (const t of KEYED) assert.equal((await broker.admin().describeTopic(t)).partitions, partitions, t);
  const id = crypto.randomUUID().slice(0, 8);
  const topologies = [
    assetsTopology({ app: `it-assets-${id}` }),
    policyTopology({ app: `it-policy-${id}`, scoreIntervalMs: 100 }),
    scoresTopology(`it-scores-${id}`),
  ];
  const hosts: ProcessorHost[] = [];
  for (const t of topologies) {
    for (let m = 0; m < members; m++) {
      hosts.push(
        createProcessorHost({ broker, log: silentLogger }, t, { clientId: `${t.app}-m${m}`, tickMs: 50 }),
      );
    }
  }
  const producer = await broker.producer();
  try {
    for (const h of hosts) await h.start();
    if (members > 1) {
      await waitFor(
        () => hosts.filter((_, i) => i < 2 * members).every((h) => h.assigned().length > 0),
        "both members of the assets and policy groups own partitions",
        60_000,
      );
    }
    // The governance topology broadcasts pmo.yaml; here it is written as it would: one copy per partition.
    await producer.send(
      GOVERNANCE_TOPIC.name,
      Array.from({ length: partitions }, (_, p) => ({
        key: "pmo",
        partition: p,
        value: encode(GOVERNANCE_TOPIC.name, GOVERNANCE),
      })),
    );
    await writePoll(broker, POLL1, T1, partitions);
    await settle(broker, topologies);
    await writePoll(broker, POLL2, T2, partitions);
    await settle(broker, topologies);
    await producer.send(
      INFRA_EVENTS_TOPIC.name,
      feedEvents().map((e) => ({ key: e.key, value: encode(INFRA_EVENTS_TOPIC.name, e.value) })),
    );
    await settle(broker, topologies);
    if (members > 1) {
      for (let i = 0; i < 2 * members; i += members) {
        const owned = hosts.slice(i, i + members).map((h) => h.assigned().length);
        assert.ok(
          owned.every((n) => n > 0),
          `${topologies[i / members].app}: every member owns tasks: ${owned}`,
        );
      }
    }
  } finally {
    await producer.close();
    for (const h of hosts) await h.stop();
  }
  const assets = [...await table<AssetState>(broker, "lz.assets.v1")]
    .filter(([, v]) => v && v.type !== "resource_deleted")
    .map(([k, v]) => [k, v!.asset] as const)
    .sort(([a], [b]) => a < b ? -1 : 1);
  const open = [...await table<Violation>(broker, "lz.violations.v1")]
    .filter(([, v]) => v?.state === "open")
    .map(([k, v]) => `${k} ${v!.severity} ${v!.project} ${v!.message}`)
    .sort();
  const scores = [...await table<ComplianceScore>(broker, "lz.compliance.scores.v1")]
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v!.passed}/${v!.evaluated} open ${v!.open_violations}`)
    .sort();
  const written = async (topic: string) =>
    (await broker.admin().topicOffsets(topic)).filter((o) => o.high > 0).length;
  return {
    assets: Object.fromEntries(assets),
    open,
    scores,
    snapshotPartitions: await written(ASSET_SNAPSHOTS_TOPIC.name),
    projectIdPartitions: await written("lz.assets.projects.v1"),
  };
}

async function checkAgainstReference(broker: Broker): Promise<void> {
  const ref = await createEmbeddedBroker();
  let reference;
  try {
    reference = await run(ref, 1, 1);
  } finally {
    await ref.close();
  }
  // What the history says, read from it (so an empty or broken reference cannot pass).
  assert.equal(
    Object.keys(reference.assets).length,
    POLL2.length - 4,
    "poll 2, two feed-created, six deleted",
  );
  assert.ok(
    Object.values(reference.assets).every((a) => a.project !== null),
    "every bucket got its project id",
  );
  assert.ok(reference.open.some((v) => v.includes("fw-100")), "the feed's open firewall is a violation");
  assert.ok(reference.open.some((v) => v.includes("bkt-103-50")), "the feed's public bucket is a violation");
  assert.ok(reference.open.some((v) => v.includes("bkt-102-1 ")), "the bucket the feed made public");
  for (const i of [3, 4, 6, 7, 8, 11]) {
    assert.ok(
      reference.open.some((v) => v.includes(`bkt-${101 + (i % 3)}-${i} `)),
      `IAM-only feed made bkt ${i} public`,
    );
  }
  assert.ok(!reference.open.some((v) => v.includes("fw-0 ")), "closed by poll 2");
  assert.ok(!reference.open.some((v) => v.includes("fw-3 ")), "deleted by poll 2");
  assert.ok(reference.scores.some((s) => s.startsWith("overall ")));
  const got = await run(broker, 3, 2);
  assert.equal(got.snapshotPartitions, 3, "the polls were written over the 3 partitions");
  assert.equal(got.projectIdPartitions, 3, "the hosts broadcast the project ids to every partition");
  assert.deepEqual(got.assets, reference.assets);
  assert.deepEqual(got.open, reference.open);
  assert.deepEqual(got.scores, reference.scores);
}

Deno.test("partitioned asset state on the embedded broker: 3 partitions, 2 members per group = 1 partition", async () => {
  const broker = await createEmbeddedBroker();
  try {
    await checkAgainstReference(broker);
  } finally {
    await broker.close();
  }
});

Deno.test({
  name: "partitioned asset state on Kafka: 3 partitions, 2 members per group = 1 partition",
  ignore: needs("kafka"),
  async fn() {
    const { createBroker } = await import("../../pipeline/broker/mod.ts");
    const broker = await createBroker({
      kind: "kafka",
      brokers: requireKafka().split(","),
      clientId: "partitioned-assets-it",
      logger: silentLogger,
    });
    try {
      await checkAgainstReference(broker);
    } finally {
      await broker.close();
    }
  },
});
