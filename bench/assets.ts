/**
 * Infrastructure bench (issue 4), all figures measured in one run:
 *
 * - **snapshot diff**: a 100,000-asset snapshot (1% updated, 1% deleted, 1% new) diffed against a 100,000-asset
 *   state by the `lz-assets` processor, through the same Task code the host runs (decode + schema validation
 *   of every chunk, forwards encoded and validated). Run in a child process so its peak RSS (VmHWM) is the
 *   diff's own. Baseline: a bare `Map` diff of the same names and update times (the least any diff can do).
 * - **policy**: asset evaluations per second through the `lz-policy` processor on the embedded broker and on
 *   Kafka (every CIS rule and the two pmo.yaml governance rules; stores, evaluations, violations, scores),
 *   and the process's CPU time for it. Baselines: the same rules called in a plain loop, and the processor's
 *   Task without broker I/O. Each figure is the median of several rounds after a warm-up round (the Task and
 *   host rounds alternate; each host round on a fresh embedded broker), with the load average in its name.
 * - **Pub/Sub → WebSocket**: TemporalAssets published to the emulator, through the subscriber, Kafka, the
 *   assets processor and the gateway to a WebSocket client; p50/p99. Baseline: the same messages received by
 *   a bare `@google-cloud/pubsub` subscriber on a second subscription of the same topic.
 *
 * Kafka and the emulator: `LZSYNC_TEST_KAFKA_BROKERS` / `PUBSUB_EMULATOR_HOST` when set, else started here.
 * `LZSYNC_BENCH_QUICK=1` shrinks the counts.
 */
import process from "node:process";
import { benchLine, type BenchResult } from "./types.ts";
import type { AssetRecord } from "../schemas/assets.ts";
import type { Governance } from "../schemas/compliance.ts";
import { createTestDriver } from "../pipeline/processor/driver.ts";
import { createProcessorHost } from "../pipeline/processor/host.ts";
import { Task } from "../pipeline/processor/task.ts";
import { createEmbeddedBroker } from "../pipeline/broker/embedded/mod.ts";
import { createKafkaBroker } from "../pipeline/broker/kafka/mod.ts";
import type { Broker, ConsumedRecord } from "../pipeline/broker/types.ts";
import { startKafka } from "../pipeline/testing/kafka_server.ts";
import { silentLogger } from "../pipeline/log.ts";
import { encode } from "../pipeline/serde.ts";
import { ASSETS_TOPIC } from "../schemas/assets.ts";
import { EVALUATIONS_TOPIC, GOVERNANCE_TOPIC } from "../schemas/compliance.ts";
import { assetsTopology } from "../processors/assets/mod.ts";
import {
  CIS_RULES,
  governanceRules,
  indexByType,
  parsePmo,
  policyTopology,
} from "../processors/policy/mod.ts";

const quick = Deno.env.get("LZSYNC_BENCH_QUICK") === "1";
const DIFF_ASSETS = quick ? 20_000 : 100_000;
const POLICY_ASSETS = quick ? 20_000 : 100_000;
const PUBSUB_MESSAGES = quick ? 100 : 400;

const TYPES = [
  "compute.googleapis.com/Instance",
  "compute.googleapis.com/Firewall",
  "compute.googleapis.com/Subnetwork",
  "storage.googleapis.com/Bucket",
  "compute.googleapis.com/Network",
  "sqladmin.googleapis.com/Instance",
  "container.googleapis.com/Cluster",
];

/** A realistic asset (≈ 0.8–1.2 KB of JSON) of the i-th kind, in one of 100 projects. */
export function benchAsset(i: number, updateTime = "2024-05-01T10:00:00.000Z"): AssetRecord {
  const type = TYPES[i % TYPES.length];
  const p = `proj-${i % 100}`;
  const labels = {
    env: i % 3 ? "prod" : "dev",
    owner: `team-${i % 17}`,
    "cost-center": `cc-${1000 + (i % 50)}`,
  };
  const zone = i % 5 ? "europe-west1-b" : "asia-east1-a";
  let data: Record<string, unknown>;
  let name: string;
  switch (type) {
    case "compute.googleapis.com/Instance":
      name = `//compute.googleapis.com/projects/${p}/zones/${zone}/instances/vm-${i}`;
      data = {
        name: `vm-${i}`,
        status: "RUNNING",
        machineType:
          `https://www.googleapis.com/compute/v1/projects/${p}/zones/${zone}/machineTypes/e2-medium`,
        labels,
        metadata: { items: [{ key: "enable-oslogin", value: "TRUE" }] },
        networkInterfaces: [{
          network: `https://www.googleapis.com/compute/v1/projects/${p}/global/networks/vpc`,
          networkIP: `10.${i % 250}.${(i >> 8) % 250}.${i % 200}`,
          accessConfigs: i % 10 === 0 ? [{ type: "ONE_TO_ONE_NAT", natIP: "34.1.2.3" }] : [],
        }],
        disks: [{ boot: true, autoDelete: true, deviceName: `vm-${i}`, diskSizeGb: "20" }],
        serviceAccounts: [{
          email: `sa@${p}.iam.gserviceaccount.com`,
          scopes: ["https://www.googleapis.com/auth/cloud-platform"],
        }],
      };
      break;
    case "compute.googleapis.com/Firewall":
      name = `//compute.googleapis.com/projects/${p}/global/firewalls/fw-${i}`;
      data = {
        name: `fw-${i}`,
        direction: "INGRESS",
        priority: 1000,
        network: `https://www.googleapis.com/compute/v1/projects/${p}/global/networks/vpc`,
        sourceRanges: i % 20 === 0 ? ["0.0.0.0/0"] : ["10.0.0.0/8"],
        allowed: [{ IPProtocol: "tcp", ports: i % 40 === 0 ? ["3389"] : ["22", "443"] }],
        disabled: false,
        logConfig: { enable: false },
      };
      break;
    case "compute.googleapis.com/Subnetwork":
      name = `//compute.googleapis.com/projects/${p}/regions/europe-west1/subnetworks/sn-${i}`;
      data = {
        name: `sn-${i}`,
        network: `https://www.googleapis.com/compute/v1/projects/${p}/global/networks/vpc`,
        ipCidrRange: `10.${i % 250}.0.0/20`,
        purpose: "PRIVATE",
        privateIpGoogleAccess: true,
        ...(i % 3 ? { logConfig: { enable: true, flowSampling: 0.5 } } : { enableFlowLogs: false }),
      };
      break;
    case "storage.googleapis.com/Bucket":
      name = `//storage.googleapis.com/bucket-${i}`;
      data = {
        name: `bucket-${i}`,
        projectNumber: String(100000 + (i % 100)),
        location: "EU",
        storageClass: "STANDARD",
        labels,
        iamConfiguration: { uniformBucketLevelAccess: { enabled: i % 4 !== 0 } },
      };
      break;
    case "compute.googleapis.com/Network":
      name = `//compute.googleapis.com/projects/${p}/global/networks/net-${i}`;
      data = {
        name: i % 50 === 0 ? "default" : `net-${i}`,
        autoCreateSubnetworks: false,
        mtu: 1460,
        routingConfig: { routingMode: "REGIONAL" },
      };
      break;
    case "sqladmin.googleapis.com/Instance":
      name = `//cloudsql.googleapis.com/projects/${p}/instances/db-${i}`;
      data = {
        name: `db-${i}`,
        databaseVersion: "POSTGRES_15",
        region: "europe-west1",
        settings: {
          tier: "db-custom-2-7680",
          userLabels: labels,
          ipConfiguration: {
            ipv4Enabled: i % 6 === 0,
            sslMode: i % 4 ? "ENCRYPTED_ONLY" : "ALLOW_UNENCRYPTED_AND_ENCRYPTED",
            authorizedNetworks: [],
          },
        },
      };
      break;
    default:
      name = `//container.googleapis.com/projects/${p}/locations/europe-west1/clusters/gke-${i}`;
      data = {
        name: `gke-${i}`,
        status: "RUNNING",
        currentMasterVersion: "1.29.4-gke.1043002",
        currentNodeCount: 3,
        resourceLabels: labels,
        legacyAbac: {},
        privateClusterConfig: i % 2 ? { enablePrivateNodes: true } : {},
      };
  }
  return {
    name,
    asset_type: type,
    project: type === "storage.googleapis.com/Bucket" ? null : p,
    project_number: String(100000 + (i % 100)),
    location: type === "compute.googleapis.com/Instance"
      ? zone
      : type.includes("Network") || type.includes("Firewall")
      ? "global"
      : "europe-west1",
    update_time: updateTime,
    ancestors: [`projects/${100000 + (i % 100)}`, "folders/1", "organizations/9"],
    resource_parent: `//cloudresourcemanager.googleapis.com/projects/${100000 + (i % 100)}`,
    data,
    ...(type === "storage.googleapis.com/Bucket"
      ? {
        iam_policy: {
          bindings: [{
            role: "roles/storage.objectViewer",
            members: i % 25 === 0 ? ["allUsers"] : ["group:eng@example.com"],
          }],
        },
      }
      : {}),
  };
}

function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return Deno.memoryUsage().rss;
}

/**
 * A snapshot's records as the broker would deliver them (JSON bytes), encoded before any timing starts: a
 * consumer never pays for the producer's serialization.
 */
function encodeSnapshot(id: string, assets: AssetRecord[], at: string): { key: string; value: Uint8Array }[] {
  const parent = "organizations/9";
  const enc = new TextEncoder();
  const out = [{
    key: parent,
    value: enc.encode(JSON.stringify({
      type: "snapshot_started",
      snapshot_id: id,
      previous_snapshot_id: null,
      source: "api",
      parent,
      asset_types: TYPES,
      content_types: ["RESOURCE"],
      started_at: at,
    })),
  }];
  let seq = 0;
  for (let i = 0; i < assets.length; i += 500) {
    out.push({
      key: parent,
      value: enc.encode(
        JSON.stringify({
          type: "snapshot_assets",
          snapshot_id: id,
          seq: seq++,
          assets: assets.slice(i, i + 500),
        }),
      ),
    });
  }
  out.push({
    key: parent,
    value: enc.encode(JSON.stringify({
      type: "snapshot_completed",
      snapshot_id: id,
      asset_count: assets.length,
      chunk_count: seq,
      pages: seq,
      read_time: at,
      completed_at: at,
      duration_ms: 0,
    })),
  });
  return out;
}

async function pipeSnapshot(
  d: ReturnType<typeof createTestDriver>,
  records: { key: string; value: Uint8Array }[],
) {
  for (const r of records) await d.pipe("lz.assets.snapshot.v1", r.key, null, { raw: r.value });
}

/** The child process of the diff bench: prints one JSON line of figures. */
async function diffChild(n: number): Promise<void> {
  const d = createTestDriver(assetsTopology());
  const first = Array.from({ length: n }, (_, i) => benchAsset(i));
  await pipeSnapshot(d, encodeSnapshot("s1", first, "2024-05-01T11:00:00.000Z"));
  const created = d.forwarded("lz.assets.v1").length;
  d.clear();
  // Second snapshot: 1% updated (newer time, new data), 1% gone, 1% new.
  const second: AssetRecord[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 100 === 1) continue;
    if (i % 100 === 2) {
      const a = benchAsset(i, "2024-05-01T12:00:00.000Z");
      a.data = { ...a.data, description: "changed" };
      second.push(a);
    } else second.push(first[i]);
  }
  for (let i = n; i < n + n / 100; i++) second.push(benchAsset(i, "2024-05-01T12:00:00.000Z"));
  first.length = 0;
  const records = encodeSnapshot("s2", second, "2024-05-01T13:00:00.000Z");
  const t0 = performance.now();
  await pipeSnapshot(d, records);
  const ms = performance.now() - t0;
  const out = d.forwarded("lz.assets.v1");
  const kinds: Record<string, number> = {};
  for (const r of out) {
    kinds[(r.value as { type: string }).type] = (kinds[(r.value as { type: string }).type] ?? 0) + 1;
  }
  // Baseline: a bare Map diff of names and update times.
  const prev = new Map<string, string>();
  for (let i = 0; i < n; i++) prev.set(benchAsset(i).name, "2024-05-01T10:00:00.000Z");
  const b0 = performance.now();
  const seen = new Set<string>();
  let changed = 0;
  for (const a of second) {
    seen.add(a.name);
    if (prev.get(a.name) !== a.update_time) changed++;
  }
  let gone = 0;
  for (const k of prev.keys()) if (!seen.has(k)) gone++;
  const baseMs = performance.now() - b0;
  console.log(JSON.stringify({ ms, baseMs, rss: peakRssBytes(), created, kinds, changed, gone }));
  await d.close();
}

async function diffBench(): Promise<BenchResult[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--diff-child", String(DIFF_ASSETS)],
    stdout: "piped",
    stderr: "inherit",
  });
  const out = await child.output();
  if (!out.success) throw new Error("diff bench child failed");
  const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  const expect = {
    resource_updated: DIFF_ASSETS / 100,
    resource_deleted: DIFF_ASSETS / 100,
    resource_created: DIFF_ASSETS / 100,
  };
  const correct = JSON.stringify(r.kinds) === JSON.stringify({ ...r.kinds, ...expect }) &&
    r.created === DIFF_ASSETS;
  return [
    {
      name: `assets: diff a ${DIFF_ASSETS.toLocaleString()}-asset snapshot against state (1% upd/del/new)${
        correct ? "" : " — WRONG RESULT"
      }`,
      value: Math.round(r.ms),
      unit: "ms",
      baseline: { name: "bare Map diff of names + update times", value: Math.round(r.baseMs * 10) / 10 },
      ratio: Math.round((r.ms / Math.max(r.baseMs, 0.1)) * 10) / 10,
      target: "< 3000 ms",
      pass: correct && r.ms < 3000,
    },
    {
      name: "assets: peak RSS of the diff process (state + snapshot)",
      value: Math.round(r.rss / 1024 / 1024),
      unit: "MiB",
      target: "< 1024 MiB",
      pass: r.rss < 1024 * 1024 * 1024,
    },
  ];
}

/**
 * Runs the policy processor in the real host on `broker` over `assets` (`lz.assets.v1` records, encoded
 * before any timing: see {@link policyInputs}; after the governance record) and
 * returns assets/s from start to the commit of the last asset, the CPU time of the process over the same
 * span (every thread: the host, the broker when embedded, the GC), and the evaluation records' end offset.
 */
export async function policyThroughHost(
  broker: Broker,
  assets: readonly { key: string | null; value: Uint8Array | null }[],
  gov: Governance,
): Promise<{ rate: number; cpuMs: number; outputs: number }> {
  const id = crypto.randomUUID().slice(0, 8);
  const producer = await broker.producer();
  await broker.admin().createTopics(
    [ASSETS_TOPIC, GOVERNANCE_TOPIC, EVALUATIONS_TOPIC].map((t) => ({
      name: t.name,
      partitions: 1,
      compacted: true,
    })),
  );
  await producer.send(GOVERNANCE_TOPIC.name, [{ key: "pmo", value: encode(GOVERNANCE_TOPIC.name, gov) }]);
  let end = 0;
  for (let i = 0; i < assets.length; i += 1000) {
    const metas = await producer.send(
      ASSETS_TOPIC.name,
      assets.slice(i, i + 1000).map((a) => ({ key: a.key, value: a.value })),
    );
    end = metas.at(-1)!.offset + 1;
  }
  await producer.close();
  // Earlier runs on the same broker (Kafka shared with the tests) leave records: start after them.
  const start = end - assets.length;
  const app = `bench-policy-${id}`;
  await broker.admin().setCommitted(app, [{ topic: ASSETS_TOPIC.name, partition: 0, offset: start }]);
  const govEnd = (await broker.admin().topicOffsets(GOVERNANCE_TOPIC.name))[0].high;
  await broker.admin().setCommitted(app, [{
    topic: GOVERNANCE_TOPIC.name,
    partition: 0,
    offset: govEnd - 1,
  }]);
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const host = createProcessorHost({ broker, log: silentLogger }, policyTopology({ app }), {
    maxBatchSize: 2000,
    onCheckpoint(e) {
      if (e.commits.some((c) => c.topic === ASSETS_TOPIC.name && c.offset >= end)) done();
    },
  });
  const c0 = cpuMs();
  const t0 = performance.now();
  await host.start();
  await finished;
  const rate = assets.length / ((performance.now() - t0) / 1000);
  const cpu = cpuMs() - c0;
  await host.stop();
  const outputs = (await broker.admin().topicOffsets(EVALUATIONS_TOPIC.name))[0].high;
  return { rate, cpuMs: cpu, outputs };
}

/** CPU time of this process so far (user + system, every thread), in ms. */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The 1-minute load average, for the figures' names (machines are shared: say the load). */
function load(): string {
  try {
    return Deno.loadavg()[0].toFixed(1);
  } catch {
    return "?";
  }
}

/**
 * The policy processor's input records (`resource_created` on `lz.assets.v1`, validated and encoded before
 * any timing, as the broker delivers them): a consumer never pays for the producer's serialization.
 */
function policyInputs(assets: AssetRecord[]): ConsumedRecord[] {
  return assets.map((a, i) => ({
    topic: ASSETS_TOPIC.name,
    partition: 0,
    offset: i,
    key: a.name,
    headers: {},
    timestamp: 0,
    value: encode(ASSETS_TOPIC.name, {
      type: "resource_created",
      name: a.name,
      asset: a,
      source: "api",
      snapshot_id: "s",
      message_id: null,
      changed_at: "2024-05-01T10:00:00.000Z",
      observed_at: "2024-05-01T10:00:00.000Z",
    })!,
  }));
}

/**
 * The processor's own cost: the host's Task (decode + validate each record, evaluate, store, encode and
 * validate forwards, changelog records at a checkpoint every 1,000 records), with no broker I/O. Returns
 * assets/s and the number of output and changelog records.
 */
async function policyThroughTask(
  raw: ConsumedRecord[],
  gov: Governance,
): Promise<{ rate: number; outputs: number }> {
  const task = new Task({
    topology: policyTopology({ app: "bench-policy-task" }),
    partition: 0,
    clock: { now: () => 0 },
    log: silentLogger,
  });
  await task.init();
  await task.processBatch(GOVERNANCE_TOPIC.name, 0, [{
    topic: GOVERNANCE_TOPIC.name,
    partition: 0,
    offset: 0,
    key: "pmo",
    headers: {},
    timestamp: 0,
    value: new TextEncoder().encode(JSON.stringify(gov)),
  }]);
  task.drain();
  const k0 = performance.now();
  let outputs = 0;
  for (let i = 0; i < raw.length; i += 1000) {
    await task.processBatch(ASSETS_TOPIC.name, 0, raw.slice(i, i + 1000));
    const cp = task.drain();
    outputs += cp.outputs.length;
    for (const c of cp.changelog.values()) outputs += c.length;
  }
  const rate = raw.length / ((performance.now() - k0) / 1000);
  await task.close();
  return { rate, outputs };
}

/** Measured rounds of the policy figures on the embedded broker (after one warm-up round). */
const POLICY_ROUNDS = quick ? 3 : 5;
/** Measured rounds on Kafka (after a smaller warm-up round). */
const KAFKA_ROUNDS = quick ? 1 : 3;

async function policyBench(): Promise<BenchResult[]> {
  const assets = Array.from({ length: POLICY_ASSETS }, (_, i) => benchAsset(i));
  const gov: Governance = {
    repo: "lz",
    path: "pmo.yaml",
    commit: null,
    present: true,
    updated_at: "2024-05-01T00:00:00.000Z",
    ...parsePmo(
      "required_labels: [env, owner, {key: cost-center, pattern: '^cc-[0-9]{4}$'}]\nallowed_regions: [europe-west1, europe-west3]",
    ),
  };
  // The rule engine: every applicable rule (CIS + pmo.yaml governance) on every asset. Baseline: JSON.parse
  // of the same assets (what any consumer of the topic pays per asset). Alternating rounds, medians.
  const byType = indexByType([...CIS_RULES, ...governanceRules(gov)]);
  const texts = assets.map((a) => JSON.stringify(a));
  let fails = 0;
  let evaluations = 0;
  const bareRates: number[] = [];
  const parseRates: number[] = [];
  let sink = 0;
  for (let round = 0; round <= POLICY_ROUNDS; round++) {
    fails = evaluations = 0;
    const b0 = performance.now();
    for (const a of assets) {
      for (const r of byType.get(a.asset_type) ?? []) {
        const f = r.evaluate(a);
        if (f) evaluations++;
        if (f?.passed === false) fails++;
      }
    }
    const bare = assets.length / ((performance.now() - b0) / 1000);
    const j0 = performance.now();
    for (const t of texts) sink += (JSON.parse(t) as AssetRecord).name.length;
    const parse = texts.length / ((performance.now() - j0) / 1000);
    if (round === 0) continue; // warm-up
    bareRates.push(bare);
    parseRates.push(parse);
  }
  if (sink < 0) console.log(sink);
  texts.length = 0;
  const bareRate = median(bareRates);
  const parseRate = median(parseRates);
  // The processor without broker I/O (the Task) and the processor in the real host on the embedded broker
  // (decode + validate each record, evaluate, store results, forward evaluations/violations (validated),
  // write changelogs, commit), in alternating rounds after a warm-up round of each on a tenth of the assets;
  // each host round on a fresh broker. Figures: medians.
  const raw = policyInputs(assets);
  const count = assets.length;
  // Only the encoded records stay: the host rounds do not mark 100,000 asset objects at every full GC.
  assets.length = 0;
  const taskRates: number[] = [];
  const rates: number[] = [];
  const cpus: number[] = [];
  let taskOutputs = 0;
  let outputs = 0;
  const warm = raw.slice(0, Math.max(1000, count / 10));
  for (let round = 0; round <= POLICY_ROUNDS; round++) {
    const t = await policyThroughTask(round === 0 ? warm : raw, gov);
    const embedded = await createEmbeddedBroker();
    try {
      const e = await policyThroughHost(embedded, round === 0 ? warm : raw, gov);
      if (round === 0) continue;
      taskRates.push(t.rate);
      taskOutputs = t.outputs;
      rates.push(e.rate);
      cpus.push(e.cpuMs);
      outputs = e.outputs;
    } finally {
      await embedded.close();
    }
  }
  const taskRate = median(taskRates);
  const rate = median(rates);
  const cpu = median(cpus);
  const embeddedLoad = load();
  // The same on Kafka: a warm-up round on a tenth of the assets, then the median of the rounds.
  const kafkaRates: number[] = [];
  let kafkaError = "";
  let server: { brokers: string; stop(): Promise<void> } | null = null;
  try {
    let brokers = Deno.env.get("LZSYNC_TEST_KAFKA_BROKERS");
    if (!brokers) {
      server = await startKafka();
      brokers = server.brokers;
    }
    const kafka = await createKafkaBroker({ brokers: brokers.split(","), logger: silentLogger });
    try {
      for (let round = 0; round <= KAFKA_ROUNDS; round++) {
        const r = await policyThroughHost(kafka, round === 0 ? warm : raw, gov);
        if (round > 0) kafkaRates.push(r.rate);
      }
    } finally {
      await kafka.close();
    }
  } catch (err) {
    kafkaError = (err as Error).message;
  } finally {
    await server?.stop();
  }
  raw.length = 0;
  const kafkaRate = kafkaRates.length ? median(kafkaRates) : null;
  const rounds = (xs: number[]) => xs.map((x) => Math.round(x / 100) / 10).join(", ");
  return [{
    name:
      `policy: asset evaluations/s, rule engine (${CIS_RULES.length} CIS + 2 pmo rules; ${evaluations} rule results, ${fails} failures; median of ${POLICY_ROUNDS} rounds)`,
    value: Math.round(bareRate),
    unit: "assets/s",
    baseline: { name: "JSON.parse of the same assets", value: Math.round(parseRate) },
    ratio: Math.round((bareRate / parseRate) * 100) / 100,
    target: ">= 50000 assets/s",
    pass: bareRate >= 50_000,
  }, {
    name:
      `policy: asset evaluations/s, lz-policy processor (host Task: decode, evaluate ${CIS_RULES.length} CIS + 2 pmo rules, store, encode ${taskOutputs} outputs+changelog), no broker I/O (median of ${POLICY_ROUNDS} rounds)`,
    value: Math.round(taskRate),
    unit: "assets/s",
    baseline: { name: "rule engine alone", value: Math.round(bareRate) },
    ratio: Math.round((taskRate / bareRate) * 100) / 100,
    target: "(processor incl. JSON decode/validate of input and encode of outputs; informational)",
  }, {
    name:
      `policy: asset evaluations/s, lz-policy processor in the host on the embedded broker (${CIS_RULES.length} CIS + 2 pmo rules; ${outputs} evaluation records; median of ${POLICY_ROUNDS} rounds after a warm-up, k/s: ${
        rounds(rates)
      }; load ${embeddedLoad})`,
    value: Math.round(rate),
    unit: "assets/s",
    baseline: { name: "processor Task without broker I/O", value: Math.round(taskRate) },
    ratio: Math.round((rate / taskRate) * 100) / 100,
    target: ">= 50000 assets/s (issue 9: end to end through the processor on the embedded broker)",
    pass: rate >= 50_000,
  }, {
    name:
      `policy: CPU time per ${POLICY_ASSETS.toLocaleString()} assets, lz-policy processor in the host on the embedded broker (every thread of the process: host, broker, GC; median of ${POLICY_ROUNDS} rounds)`,
    value: Math.round(cpu),
    unit: "ms",
    target: "(less load-dependent than the rate; informational)",
  }, {
    name: `policy: asset evaluations/s, lz-policy processor in the host on Kafka${
      kafkaRate === null
        ? ` (not measured: ${kafkaError})`
        : ` (median of ${KAFKA_ROUNDS} rounds after a warm-up, k/s: ${rounds(kafkaRates)}; load ${load()})`
    }`,
    value: Math.round(kafkaRate ?? 0),
    unit: "assets/s",
    baseline: { name: "the same on the embedded broker", value: Math.round(rate) },
    ratio: kafkaRate === null ? 0 : Math.round((kafkaRate / rate) * 100) / 100,
    target: "(end to end through Kafka; informational)",
  }];
}

async function pubsubBench(): Promise<BenchResult[]> {
  const { pubsubToWebsocket } = await import("./pubsub_latency.ts");
  return await pubsubToWebsocket(PUBSUB_MESSAGES);
}

/** Runs every infrastructure figure. */
export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  results.push(...await diffBench());
  results.push(...await policyBench());
  results.push(...await pubsubBench());
  return results;
}

if (import.meta.main) {
  if (Deno.args[0] === "--diff-child") await diffChild(Number(Deno.args[1]));
  else {
    const only = Deno.args[0];
    const r = only === "diff"
      ? await diffBench()
      : only === "policy"
      ? await policyBench()
      : only === "pubsub"
      ? await pubsubBench()
      : await run();
    console.table(
      r.map((x) => ({
        name: x.name,
        value: x.value,
        unit: x.unit,
        baseline: x.baseline ? `${x.baseline.name}: ${x.baseline.value}` : "",
        ratio: x.ratio,
        target: x.target ?? "",
        "": x.pass === undefined ? "" : x.pass ? "PASS" : "MISS",
      })),
    );
    // The same JSON lines as `deno task bench` (`... | grep '^{"bench"'`).
    console.log("");
    for (const x of r) console.log(JSON.stringify(benchLine({ area: "assets", ...x })));
  }
}
