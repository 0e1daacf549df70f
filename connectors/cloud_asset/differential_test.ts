/**
 * Differential test of sync layers 3 and 4: one history of a project's assets (two states an hour apart)
 * observed through the export file (NDJSON, IAM policy on its own lines), through the REST poll (ListAssets
 * RESOURCE and IAM_POLICY against the local REST server) and through real-time feed messages (RESOURCE and
 * IAM_POLICY feeds, in any order) must end in the same asset state and the same violations, whichever
 * sources are used and however their records interleave.
 */
import assert from "node:assert/strict";
import { createTestDriver } from "../../pipeline/processor/driver.ts";
import type { AssetState, SnapshotRecord } from "../../schemas/assets.ts";
import type { Violation } from "../../schemas/violations.ts";
import type { ComplianceScore, Evaluation } from "../../schemas/compliance.ts";
import { assetsTopology } from "../../processors/assets/mod.ts";
import { policyTopology, scoresTopology } from "../../processors/policy/mod.ts";
import { parseMessage } from "../pubsub/parse.ts";
import { createAssetLister } from "./client.ts";
import { loadExportFile } from "./export_file.ts";
import { pollAssets } from "./poll.ts";
import { type RestAsset, startAssetRestServer } from "./rest_test_server.ts";

const PARENT = "projects/web-prod";
const T1 = "2024-05-01T10:00:00.000Z";
const T2 = "2024-05-01T12:00:00.000Z";
const ANC = ["projects/111", "organizations/9"];
const TYPES = [
  "cloudresourcemanager.googleapis.com/Project",
  "compute.googleapis.com/Firewall",
  "compute.googleapis.com/Instance",
  "storage.googleapis.com/Bucket",
];

const project: RestAsset = {
  name: "//cloudresourcemanager.googleapis.com/projects/111",
  assetType: TYPES[0],
  ancestors: ANC,
  updateTime: "2024-05-01T08:00:00Z",
  resource: { version: "v1", location: "global", data: { projectId: "web-prod", projectNumber: "111" } },
};
const firewall = (name: string, updateTime: string, ranges: string[], port: string): RestAsset => ({
  name: `//compute.googleapis.com/projects/web-prod/global/firewalls/${name}`,
  assetType: TYPES[1],
  ancestors: ANC,
  updateTime,
  resource: {
    version: "v1",
    location: "global",
    parent: "//cloudresourcemanager.googleapis.com/projects/111",
    data: {
      name,
      direction: "INGRESS",
      sourceRanges: ranges,
      allowed: [{ IPProtocol: "tcp", ports: [port] }],
    },
  },
});
const vm: RestAsset = {
  name: "//compute.googleapis.com/projects/web-prod/zones/europe-west1-b/instances/vm-1",
  assetType: TYPES[2],
  ancestors: ANC,
  updateTime: "2024-05-01T09:00:00Z",
  resource: {
    version: "v1",
    location: "europe-west1-b",
    data: { name: "vm-1", networkInterfaces: [{ accessConfigs: [{ natIP: "34.1.1.1" }] }] },
  },
};
const bucket = (members: string[], _iamTime: string): RestAsset => ({
  name: "//storage.googleapis.com/web-static",
  assetType: TYPES[3],
  ancestors: ANC,
  // Only the IAM policy changes: the resource keeps its update time (the policy's change is `iamTime`).
  updateTime: "2024-05-01T09:00:00Z",
  resource: {
    version: "v1",
    location: "EUROPE-WEST1",
    data: { name: "web-static", iamConfiguration: { uniformBucketLevelAccess: { enabled: true } } },
  },
  iamPolicy: {
    bindings: [{ role: "roles/storage.objectViewer", members }],
    etag: members[0] === "allUsers" ? "BwXhqDpRgBs=" : "BwWWja0YfJA=",
  },
});

/** The inventory at T1 and at T2: SSH closed, bucket made private, VM deleted, an RDP-open firewall added. */
const V1 = [
  project,
  firewall("allow-ssh", "2024-05-01T09:00:00Z", ["0.0.0.0/0"], "22"),
  vm,
  bucket(["allUsers"], "2024-05-01T09:00:00Z"),
];
const V2 = [
  project,
  firewall("allow-ssh", "2024-05-01T11:00:00Z", ["10.0.0.0/8"], "22"),
  bucket(["group:web@example.com"], "2024-05-01T11:10:00Z"),
  firewall("allow-rdp", "2024-05-01T11:30:00Z", ["0.0.0.0/0"], "3389"),
];

/** One record as the processors see it; `partition` is set for snapshot records (written per partition). */
type Obs = { topic: string; key: string; value: unknown; at: number; partition?: number };
const SNAP = "lz.assets.snapshot.v1";
const EVENTS = "lz.infra.events.v1";

/** An export file of `assets`: RESOURCE lines, then the IAM policies on lines of their own. */
function exportText(assets: RestAsset[]): string {
  const lines = assets.map(({ iamPolicy: _, ...r }) => JSON.stringify(r));
  for (const a of assets) {
    if (a.iamPolicy) {
      lines.push(
        JSON.stringify({
          name: a.name,
          assetType: a.assetType,
          ancestors: a.ancestors,
          iamPolicy: a.iamPolicy,
        }),
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** A snapshot sink capturing records with their partition. */
function capture(at: string, out: Obs[]) {
  return (_k: string, r: SnapshotRecord[], partition: number) =>
    Promise.resolve(
      void out.push(
        ...r.map((value) => ({ topic: SNAP, key: PARENT, value, at: Date.parse(at), partition })),
      ),
    );
}

async function fromExports(partitions = 1): Promise<Obs[]> {
  const out: Obs[] = [];
  for (const [v, at] of [[V1, T1], [V2, T2]] as const) {
    await loadExportFile({
      path: "export.ndjson",
      text: exportText([...v]),
      sink: capture(at, out),
      clock: { now: () => Date.parse(at) },
      assetTypes: TYPES,
      parent: PARENT,
      partitions,
    });
  }
  return out;
}

async function fromPolls(partitions = 1): Promise<Obs[]> {
  const server = startAssetRestServer();
  const lister = createAssetLister({ apiEndpoint: server.url });
  const out: Obs[] = [];
  try {
    for (const [v, at] of [[V1, T1], [V2, T2]] as const) {
      server.setAssets([...v]);
      server.setReadTime(at);
      await pollAssets({
        lister,
        sink: capture(at, out),
        clock: { now: () => Date.parse(at) },
        parent: PARENT,
        assetTypes: TYPES,
        pageSize: 2,
        partitions,
      });
    }
  } finally {
    await lister.close();
    await server.close();
  }
  return out;
}

/** Feed messages (RESOURCE feed and IAM_POLICY feed) for every change, as Pub/Sub delivers them. */
function fromFeed(): Obs[] {
  let id = 0;
  const msg = (body: unknown, window: string): Obs => {
    const p = parseMessage({
      id: `m${++id}`,
      data: new TextEncoder().encode(JSON.stringify(body)),
      attributes: {},
      publishTime: new Date(Date.parse(window) + 5_000).toISOString(),
      subscription: "projects/web-prod/subscriptions/lz-feed",
    });
    if (p.kind !== "event") throw new Error(`feed message not parsed: ${JSON.stringify(p)}`);
    return { topic: EVENTS, key: p.key, value: p.event, at: Date.parse(window) + 5_000 };
  };
  const resource = ({ iamPolicy: _, ...r }: RestAsset) => r;
  const iam = (a: RestAsset) => ({
    name: a.name,
    assetType: a.assetType,
    ancestors: a.ancestors,
    iamPolicy: a.iamPolicy,
  });
  const out: Obs[] = [];
  for (const a of V1) {
    out.push(
      msg(
        { asset: resource(a), priorAssetState: "DOES_NOT_EXIST", window: { startTime: a.updateTime } },
        a.updateTime!,
      ),
    );
    if (a.iamPolicy) out.push(msg({ asset: iam(a), window: { startTime: a.updateTime } }, a.updateTime!));
  }
  const [, ssh, b2, rdp] = V2;
  const IAM_CHANGED = "2024-05-01T11:10:00Z";
  out.push(
    msg(
      { asset: resource(ssh), priorAsset: resource(V1[1]), window: { startTime: ssh.updateTime } },
      ssh.updateTime!,
    ),
  );
  out.push(
    msg({ asset: iam(b2), priorAsset: iam(V1[3]), window: { startTime: IAM_CHANGED } }, IAM_CHANGED),
  );
  const gone = "2024-05-01T11:20:00Z";
  out.push(
    msg({
      asset: { name: vm.name, assetType: vm.assetType, ancestors: ANC },
      deleted: true,
      priorAssetState: "PRESENT",
      priorAsset: resource(vm),
      window: { startTime: gone },
    }, gone),
  );
  out.push(
    msg(
      { asset: resource(rdp), priorAssetState: "DOES_NOT_EXIST", window: { startTime: rdp.updateTime } },
      rdp.updateTime!,
    ),
  );
  return out;
}

/** A seeded PRNG (mulberry32), so a failing interleaving can be replayed from its seed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Merges streams keeping each stream's order (snapshots are one topic per source), choosing at random. */
function interleave(streams: Obs[][], rand: () => number): Obs[] {
  const left = streams.map((s) => [...s]).filter((s) => s.length);
  const out: Obs[] = [];
  while (left.length) {
    const i = Math.floor(rand() * left.length);
    out.push(left[i].shift()!);
    if (!left[i].length) left.splice(i, 1);
  }
  return out;
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Runs the assets then the policy processor (and the score sum) over `obs` with `partitions` partitions per
 * keyed topic; the end state as comparable JSON. Broadcast project ids are fed back to the assets tasks after
 * the record that produced them, as the host's checkpoint would.
 */
async function endState(obs: Obs[], partitions = 1) {
  const assets = createTestDriver(assetsTopology(), { keyedPartitions: partitions });
  let fedBack = 0;
  for (const o of obs) {
    await assets.pipe(o.topic, o.key, o.value, { timestamp: o.at, partition: o.partition });
    const ids = assets.forwarded("lz.assets.projects.v1");
    for (; fedBack < ids.length; fedBack++) {
      const r = ids[fedBack];
      await assets.pipe("lz.assets.projects.v1", r.key, r.value, { timestamp: o.at, partition: r.partition });
    }
  }
  const changes = assets.forwarded("lz.assets.v1");
  await assets.close();
  const policy = createTestDriver(policyTopology(), { keyedPartitions: partitions });
  for (const c of changes) await policy.pipe("lz.assets.v1", c.key, c.value);
  await policy.advance(1_000);
  const totals = createTestDriver(scoresTopology());
  for (const r of policy.forwarded("lz.compliance.score_parts.v1")) {
    await totals.pipe("lz.compliance.score_parts.v1", r.key, r.value);
  }
  const last = <T>(d: typeof policy, topic: string) => {
    const m = new Map<string, T | null>();
    for (const r of d.forwarded(topic)) m.set(r.key!, r.value as T | null);
    return m;
  };
  const state = new Map<string, unknown>();
  for (const c of changes) {
    const v = c.value as AssetState | null;
    // Deleted and never seen are the same state (a deletion that arrives first leaves only a tombstone).
    if (!v || v.type === "resource_deleted") state.delete(c.key!);
    else state.set(c.key!, v.asset);
  }
  const open = [...last<Violation>(policy, "lz.violations.v1")].filter(([, v]) => v?.state === "open")
    .map(([k]) => k).sort();
  const evaluations = [...last<Evaluation>(policy, "lz.compliance.evaluations.v1")]
    .filter(([, e]) => e)
    .map(([k, e]) => [k, e!.results.map((r) => `${r.rule_id}:${r.passed}`).sort()])
    .sort();
  const scores = [...last<ComplianceScore>(totals, "lz.compliance.scores.v1")]
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v!.passed}/${v!.evaluated} open ${v!.open_violations}`).sort();
  await policy.close();
  await totals.close();
  return { state: Object.fromEntries([...state].sort()), open, evaluations, scores };
}

/** The runs of the differential test: each source alone, in sequence, and 40 seeded interleavings. */
function runsOf(exports: Obs[], polls: Obs[], feed: Obs[]): [string, Obs[]][] {
  const runs: [string, Obs[]][] = [
    ["exports only", exports],
    ["polls only", polls],
    ["exports then feed", [...exports, ...feed]],
    ["feed then polls", [...feed, ...polls]],
  ];
  for (let seed = 1; seed <= 40; seed++) {
    const rand = rng(seed);
    const streams = [exports, polls, shuffle(feed, rand)].filter(() => rand() < 0.8);
    if (!streams.length) continue;
    runs.push([`seed ${seed}`, interleave(streams, rand)]);
  }
  return runs;
}

Deno.test("differential: export file, REST poll and feed messages in any interleaving end in the same state and violations", async () => {
  const exports = await fromExports();
  const polls = await fromPolls();
  const feed = fromFeed();
  const reference = await endState(feed);
  // What the end state must be, read from the history itself.
  assert.deepEqual(reference.open, [
    "cis-gcp-3.7-rdp-open|//compute.googleapis.com/projects/web-prod/global/firewalls/allow-rdp",
  ]);
  assert.deepEqual(Object.keys(reference.state), V2.map((a) => a.name).sort(), "the VM is gone");
  const b = reference.state[V2[2].name] as { iam_policy: unknown; project: string };
  assert.deepEqual(b.iam_policy, V2[2].iamPolicy, "the IAM part merged into the bucket");
  assert.equal(b.project, "web-prod", "the bucket's project id learned from the project asset");

  for (const [name, obs] of runsOf(exports, polls, feed)) {
    const got = await endState(obs);
    assert.deepEqual(
      got,
      reference,
      `${name}: ${obs.map((o) => (o.value as { type: string }).type).join(" ")}`,
    );
  }
});

Deno.test("differential over 3 partitions: every source and interleaving ends as the 1-partition run", async () => {
  const reference = await endState(fromFeed());
  assert.ok(reference.scores.some((s) => s.startsWith("overall ")), "scores are compared too");
  const exports = await fromExports(3);
  const polls = await fromPolls(3);
  const feed = fromFeed();
  const parts = new Set(exports.map((o) => o.partition));
  assert.deepEqual([...parts].sort(), [0, 1, 2], "the snapshots are written over the 3 partitions");
  for (const [name, obs] of runsOf(exports, polls, feed)) {
    const got = await endState(obs, 3);
    assert.deepEqual(
      got,
      reference,
      `${name} (3 partitions): ${obs.map((o) => (o.value as { type: string }).type).join(" ")}`,
    );
  }
});
