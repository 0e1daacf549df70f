/**
 * Replay proof for every processor group of the build: run the group on recorded inputs, take its digest,
 * `replay --to earliest`, rebuild it hours later (a later clock), and the digest must be the same. A store
 * that keeps a wall-clock time breaks this. Runs on the embedded broker and on Kafka.
 */
import assert from "node:assert/strict";
import type { Broker, ProduceRecord } from "./broker/types.ts";
import { createEmbeddedBroker } from "./broker/embedded/mod.ts";
import { needs, requireKafka } from "./testing/env.ts";
import { startKafka } from "./testing/kafka_server.ts";
import { silentLogger } from "./log.ts";
import { encode } from "./serde.ts";
import { digestGroup, readGroupState, topologyState } from "./digest.ts";
import { replay } from "./replay.ts";
import { createProcessorHost } from "./processor/host.ts";
import type { Clock, Topology } from "./processor/types.ts";
import { resolveConfig } from "./config.ts";
import { sleep, waitFor } from "./testing/wait.ts";
import { caughtUp } from "./testing/run_to_end.ts";
import { readAll } from "../features/git_sync/_test_util.ts";
import { TOPICS } from "../schemas/mod.ts";
import { gitSyncTopology } from "../processors/git_sync/mod.ts";
import { syncStatusOptions, syncStatusTopology } from "../processors/sync_status/mod.ts";
import { governanceTopology, policyTopology, scoresTopology } from "../processors/policy/mod.ts";
import { assetsTopology } from "../processors/assets/mod.ts";
import { auditTopology } from "../processors/audit/mod.ts";
import type { AuditRecord } from "../schemas/audit.ts";
import { asset } from "../processors/policy/test_assets.ts";
import type { GitCommitMarker, GitFile } from "../schemas/git_files.ts";
import type { SyncEvent } from "../schemas/sync_events.ts";
import type { AssetRecord, AssetState } from "../schemas/assets.ts";
import type { Alert } from "../schemas/alerts.ts";
import type { ComplianceScore, Governance, ScorePart } from "../schemas/compliance.ts";
import type { GitSynced } from "../schemas/git_synced.ts";
import type { GitFilesValue } from "../schemas/git_files.ts";
import { startGitServer } from "./testing/git_server.ts";
import { testDeps } from "./testing/deps.ts";
import { createGitFetch, requestPush } from "../features/git_sync/service.ts";
import { FabricManager } from "../features/fabrics/manager.ts";
import { crdRepoFiles, FABRIC_YAML, remoteTree } from "../features/fabrics/_test_util.ts";
import type { FabricObject, FgdCommand } from "../schemas/fgd.ts";
import { createPortalRepo, DESIRED_STORE } from "../features/portal_repo/topology.ts";
import { gitOut, lzFile, lzMarker, treePaths } from "../features/portal_repo/_test_util.ts";
import { join } from "node:path";
import { alertNotifierTopology, NOTIFIED_STORE, webhookPoster } from "../connectors/slack/notifier.ts";
import { createCommitStatusNotifier } from "../connectors/github/status_notifier.ts";
import { startTestApiServer } from "../connectors/github/_test_api_server.ts";
import { analyticsTopologies } from "../processors/analytics/mod.ts";
import { type DuckDbAnalytics, openDuckDb } from "../connectors/duckdb/engine.ts";
import type { AnalyticsSink } from "./analytics/sink.ts";

/** Inputs are recorded two hours before the first run; the rebuild runs three hours after it. */
const T0 = Date.now() - 2 * 3_600_000;
const LATER = 3 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const sha = (c: string) => c.repeat(40);

type Input = { topic: string; key: string | null; value: unknown; at: number };

async function produce(broker: Broker, inputs: Input[]): Promise<void> {
  const p = await broker.producer();
  try {
    for (const i of inputs) {
      const r: ProduceRecord = { key: i.key, value: encode(i.topic, i.value), timestamp: i.at };
      await p.send(i.topic, [r]);
    }
  } finally {
    await p.close();
  }
}

/**
 * Runs `topo` with `clock` until it has committed every input (and `settled` holds, for a topology whose work
 * outlives the records that asked for it), lets punctuations fire, stops it.
 */
async function runUntilCaughtUp(
  broker: Broker,
  topo: Topology,
  clock: Clock,
  settled: () => Promise<boolean> = () => Promise.resolve(true),
): Promise<void> {
  const host = createProcessorHost({ broker, log: silentLogger, clock }, topo, { retries: 1, backoffMs: 10 });
  await host.start();
  try {
    await waitFor(
      async () => await caughtUp(broker, topo.app, topo.inputs) && await settled(),
      `${topo.app} caught up`,
      60_000,
    );
    await sleep(400); // a few punctuations (the topologies here tick every 50 ms)
  } finally {
    await host.stop();
  }
  await waitFor(
    async () => (await broker.admin().describeGroup(topo.app)).members.length === 0,
    `${topo.app} left`,
    60_000,
  );
}

/**
 * Digest before, replay, rebuild with a clock `LATER` ms ahead, digest after. `between` runs after the first
 * run (to note what it wrote). A topology without stores has the empty digest: its proof is in its outputs.
 */
async function replayProof(
  broker: Broker,
  topo: Topology,
  inputs: Input[],
  settled?: () => Promise<boolean>,
  between?: () => Promise<void>,
) {
  const topics = new Set([...topo.inputs, ...topo.outputs]);
  await broker.admin().createTopics([...topics].map((name) => {
    const t = TOPICS.get(name)!;
    return { name, partitions: t.partitions, compacted: t.compacted };
  }));
  await produce(broker, inputs);
  await runUntilCaughtUp(broker, topo, { now: () => Date.now() }, settled);
  const before = await digestGroup({ broker, ...topologyState(topo) });
  await between?.();
  await replay({
    broker,
    group: topo.app,
    to: "earliest",
    inputs: topo.inputs,
    stores: topo.stores,
  });
  await runUntilCaughtUp(broker, topo, { now: () => Date.now() + LATER }, settled);
  const after = await digestGroup({ broker, ...topologyState(topo) });
  if (topo.stores.length) assert.ok(before.stores.some((s) => s.keys > 0), `${topo.app} built some state`);
  return { before, after };
}

const suffix = () => crypto.randomUUID().slice(0, 8);

function gitInputs(repo: string): Input[] {
  const file = (path: string, commit: string, at: number, content: string): Input => ({
    topic: "lz.git.files.v1",
    key: `${repo}:${path}`,
    at,
    value: {
      kind: "file",
      repo,
      path,
      commit,
      commit_time: iso(at - 30_000),
      size: content.length,
      blob_sha: sha("f"),
      mode: "100644",
      change: "added",
      content,
      encoding: "utf-8",
      content_ref: null,
      sync_id: `s-${commit[0]}`,
      synced_at: iso(at),
    } satisfies GitFile,
  });
  const marker = (commit: string, at: number, source: "start" | "webhook", n: number): Input => ({
    topic: "lz.git.files.v1",
    key: repo,
    at,
    value: {
      kind: "commit",
      repo,
      branch: "main",
      commit,
      commit_time: iso(at - 30_000),
      message: "m",
      author: "a <a@x>",
      previous: null,
      forced: false,
      diff: "full",
      changed: n,
      removed: 0,
      tracked: 2,
      sync_id: `s-${commit[0]}`,
      source,
      received_at: source === "webhook" ? iso(at - 2_000) : null,
      started_at: iso(at - 1_000),
      synced_at: iso(at),
    } satisfies GitCommitMarker,
  });
  return [
    file("docs/a.md", sha("1"), T0, "# A"),
    file("pmo.yaml", sha("1"), T0, "x: 1"),
    marker(sha("1"), T0 + 500, "start", 2),
    file("docs/a.md", sha("2"), T0 + 600_000, "# A2"),
    marker(sha("2"), T0 + 600_500, "webhook", 1),
  ];
}

function syncEvents(): Input[] {
  let n = 0;
  const ev = (at: number, o: Partial<SyncEvent>): Input => ({
    topic: "lz.sync.events.v1",
    key: o.layer ?? "git",
    at: at + 5,
    value: {
      id: `e${++n}`,
      layer: "git",
      ok: true,
      items: 3,
      started_at: iso(at - 1000),
      finished_at: iso(at),
      ...o,
    } satisfies SyncEvent,
  });
  return [
    ev(T0, { commit_time: iso(T0 - 40_000) }),
    ev(T0 + 1_000, { layer: "webhook", received_at: iso(T0 - 500) }),
    ev(T0 + 2_000, { layer: "api", ok: false, error: "quota" }),
    ev(T0 + 3_000, { layer: "api", ok: false, error: "quota" }),
    ev(T0 + 4_000, { layer: "api", ok: false, error: "quota" }),
    // a slow sync: a true SyncLatency alert, opened and resolved at the times the records say
    ev(T0 + 600_000, { commit_time: iso(T0 + 600_000 - 900_000) }),
    ev(T0 + 700_000, { commit_time: iso(T0 + 690_000) }),
    ev(T0 + 800_000, { layer: "api", items: 12 }),
  ];
}

function policyInputs(): Input[] {
  const fw = (name: string, ranges: string[]): AssetRecord =>
    asset("compute.googleapis.com/Firewall", name, {
      direction: "INGRESS",
      sourceRanges: ranges,
      allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
    });
  const state = (a: AssetRecord, at: number, type: AssetState["type"]): Input => ({
    topic: "lz.assets.v1",
    key: a.name,
    at,
    value: {
      type,
      name: a.name,
      asset: a,
      source: "api",
      snapshot_id: "snap-1",
      message_id: null,
      changed_at: iso(at - 1000),
      observed_at: iso(at),
    } satisfies AssetState,
  });
  const open = fw("ssh-open", ["0.0.0.0/0"]);
  return [
    state(open, T0, "resource_created"),
    state(fw("ssh-closed", ["10.0.0.0/8"]), T0 + 1_000, "resource_created"),
    {
      topic: "lz.infra.events.v1",
      key: open.name,
      at: T0 + 2_000,
      value: {
        type: "policy_violated",
        message_id: "m1",
        publish_time: iso(T0 + 2_000),
        subscription: "projects/p/subscriptions/s",
        rule_id: "no-public-ssh",
        asset_name: open.name,
        asset_type: open.asset_type,
        project: "p1",
        severity: "high",
        message: "public ssh",
      },
    },
    state(fw("ssh-open", ["10.1.0.0/16"]), T0 + 60_000, "resource_updated"),
  ];
}

function assetsInputs(): Input[] {
  const parent = "projects/p1";
  const id = "snap-1";
  const snap = (at: number, value: unknown): Input => ({
    topic: "lz.assets.snapshot.v1",
    key: parent,
    at,
    value,
  });
  // a bucket of its own per call: lz.assets.v1 on a shared Kafka keeps what earlier runs (and other tests) wrote
  const bucket = asset("storage.googleapis.com/Bucket", `b1-${suffix()}`, {}, {
    update_time: iso(T0 - 10_000),
  });
  return [
    snap(T0, {
      type: "snapshot_started",
      snapshot_id: id,
      previous_snapshot_id: null,
      source: "api",
      parent,
      asset_types: ["storage.googleapis.com/Bucket"],
      content_types: ["RESOURCE"],
      started_at: iso(T0),
    }),
    snap(T0 + 10, { type: "snapshot_assets", snapshot_id: id, seq: 0, assets: [bucket] }),
    snap(T0 + 20, {
      type: "snapshot_completed",
      snapshot_id: id,
      asset_count: 1,
      chunk_count: 1,
      pages: 1,
      read_time: iso(T0),
      completed_at: iso(T0 + 20),
      duration_ms: 5,
    }),
  ];
}

function auditInputs(repo: string): Input[] {
  const push = (syncId: string, at: number, source: string, delivery: string | null): Input => ({
    topic: "lz.git.push.v1",
    key: repo,
    at,
    value: {
      repo,
      ref: "refs/heads/main",
      before: null,
      after: null,
      forced: false,
      created: false,
      deleted: false,
      commit_count: 0,
      head_commit: null,
      paths: { added: [], modified: [], removed: [], truncated: true, from: "none" },
      delivery_id: delivery,
      received_at: iso(at),
      source,
      sync_id: syncId,
    },
  });
  return [
    push("a1", T0, "webhook", "delivery-a1"),
    {
      topic: "lz.sync.progress.v1",
      key: "a1",
      at: T0 + 500,
      value: {
        sync_id: "a1",
        layer: "git",
        phase: "completed",
        done: true,
        repo,
        commit: sha("a"),
        changed: 1,
        removed: 0,
        message: "synced",
        at: iso(T0 + 500),
      },
    },
    push("a2", T0 + 1000, "schedule", null), // coalesced: waits in the store
  ];
}

/** Pushes (hints) for git-fetch: a start, a webhook-like trigger and a schedule, recorded at T0. */
function fetchInputs(repo: string): Input[] {
  const push = (id: string, at: number, source: "start" | "trigger" | "schedule"): Input => ({
    topic: "lz.git.push.v1",
    key: repo,
    at,
    value: requestPush(repo, "main", source, id, at),
  });
  return [push("f1", T0, "start"), push("f2", T0 + 1_000, "trigger"), push("f3", T0 + 2_000, "schedule")];
}

/**
 * Commands for lzsync-fgd, recorded at T0: an API registration (dc2, beside the config fabric dc1), the draft
 * a Portal edit of dc2 left, an edit nobody waits for any more (a replay must not perform it) and a sync.
 */
function fgdInputs(dc2: string): Input[] {
  const cmd = (at: number, fabric: string, value: FgdCommand): Input => ({
    topic: "lz.fgd.commands.v1",
    key: fabric,
    at,
    value,
  });
  const vpc = (name: string, subnet: string, vlan: number) => ({
    apiVersion: "vpc.githedgehog.com/v1beta1",
    kind: "VPC",
    metadata: { name, namespace: "default" },
    spec: { subnets: { default: { subnet, vlan } } },
  });
  return [
    cmd(T0, dc2, {
      type: "register",
      request_id: "r1",
      at: iso(T0),
      sync_id: `fgd-${dc2}-00000001`,
      registration: {
        id: dc2,
        branch: "main",
        path: `fabrics/${dc2}`,
        crd_dirs: ["fabrics/crds/hedgehog"],
        rule_packs: ["hedgehog"],
        source: "api",
        registered_at: iso(T0),
      },
    }),
    cmd(T0 + 1_000, dc2, {
      type: "draft",
      at: iso(T0 + 1_000),
      fabric: dc2,
      slot: "vpcs/default/vpc-9",
      draft: {
        op: "put",
        object: vpc("vpc-9", "10.0.9.0/24", 1909),
        hash: "h9",
        base_hash: null,
        state: "open",
        author: "bob",
        created_at: iso(T0 + 1_000),
        updated_at: iso(T0 + 1_000),
        error: null,
        conflict: null,
        meta: {
          apiVersion: "vpc.githedgehog.com/v1beta1",
          kind: "VPC",
          plural: "vpcs",
          name: "vpc-9",
          namespace: "default",
          path: "managed/vpcs/vpc-9.yaml",
        },
      },
    }),
    cmd(T0 + 2_000, dc2, {
      type: "edit",
      request_id: "gone",
      at: iso(T0 + 2_000),
      fabric: dc2,
      edit: {
        op: "put",
        kind: "vpcs",
        name: "vpc-10",
        body: vpc("vpc-10", "10.0.10.0/24", 1910),
        author: "eve",
      },
    }),
    cmd(T0 + 3_000, "dc1", {
      type: "sync",
      request_id: "s1",
      at: iso(T0 + 3_000),
      fabric: "dc1",
      sync_id: "fgd-dc1-00000002",
      reason: "api",
    }),
  ];
}

/** Each partition's end offset of `topic`: where what a later run writes begins. */
async function ends(broker: Broker, topic: string): Promise<Map<number, number>> {
  return new Map((await broker.admin().topicOffsets(topic)).map((o) => [o.partition, o.high]));
}

/**
 * The latest value per partition and key of the records `keep` selects of `topic`, written at or after
 * `from` (default: all): what a compacted topic tells a reader.
 */
async function latest<V>(
  broker: Broker,
  topic: string,
  keep: (key: string | null, value: V | null) => boolean,
  from?: Map<number, number>,
): Promise<Record<string, V | null>> {
  const out: Record<string, V | null> = {};
  for (const r of await readAll<V>(broker, topic)) {
    if (r.offset >= (from?.get(r.partition) ?? 0) && keep(r.key, r.value)) {
      out[`${r.partition}/${r.key}`] = r.value;
    }
  }
  return out;
}

/** Score parts of two policy tasks for a project scope and `overall`, recorded at T0; one part later removed. */
function scorePartInputs(project: string): Input[] {
  const part = (scope: string, partition: number, at: number, passed: number, evaluated: number): Input => ({
    topic: "lz.compliance.score_parts.v1",
    key: `${scope}|${partition}`,
    at,
    value: {
      scope,
      partition,
      passed,
      evaluated,
      open_violations: evaluated - passed,
      updated_at: iso(at),
    } satisfies ScorePart,
  });
  const scope = `project:${project}`;
  return [
    part(scope, 0, T0, 3, 4),
    part(scope, 1, T0 + 1_000, 1, 2),
    part(`overall-${project}`, 0, T0 + 2_000, 4, 6),
    part(scope, 0, T0 + 60_000, 4, 4), // the open violation was fixed
    { topic: "lz.compliance.score_parts.v1", key: `${scope}|1`, at: T0 + 61_000, value: null }, // task 1 gone
  ];
}

/** pmo.yaml of `repo` synced, deleted (a tombstone) and synced again, recorded at T0. */
function governanceInputs(repo: string): Input[] {
  const pmo = (commit: string, at: number, content: string): Input => ({
    topic: "lz.git.files.v1",
    key: `${repo}:pmo.yaml`,
    at,
    value: {
      kind: "file",
      repo,
      path: "pmo.yaml",
      commit,
      commit_time: iso(at - 30_000),
      size: content.length,
      blob_sha: sha("e"),
      mode: "100644",
      change: "modified",
      content,
      encoding: "utf-8",
      content_ref: null,
      sync_id: `g-${commit[0]}`,
      synced_at: iso(at),
    } satisfies GitFile,
  });
  return [
    pmo(sha("3"), T0, "allowed_regions: [europe-west1]\n"),
    { topic: "lz.git.files.v1", key: `${repo}:pmo.yaml`, at: T0 + 300_000, value: null },
    pmo(
      sha("4"),
      T0 + 600_000,
      "allowed_regions: [europe-west1, europe-west4]\nrequired_labels: [{key: team}]\n",
    ),
  ];
}

/**
 * Two Landing Zone syncs of `lz` for the Portal repository sink (the fixtures of its topology test): two
 * files at C1, one changed at C2, then a deletion after C2's marker; recorded at T0.
 */
function portalInputs(lz: string): Input[] {
  const [c1, c2] = [sha("5"), sha("6")];
  const at = (n: number) => T0 + n * 1_000;
  const file = (path: string, content: string, commit: string, n: number): Input => ({
    topic: "lz.git.files.v1",
    key: `${lz}:${path}`,
    at: at(n),
    value: lzFile(lz, path, content, commit),
  });
  const marker = (commit: string, n: number): Input => ({
    topic: "lz.git.files.v1",
    key: lz,
    at: at(n),
    value: {
      ...lzMarker(lz, commit, `change ${commit[0]}`),
      sync_id: `s-${commit[0]}`,
      synced_at: iso(at(n)),
    },
  });
  return [
    file("docs/a.md", "# A\n", c1, 0),
    file("docs/old.md", "# old\n", c1, 1),
    marker(c1, 2),
    file("docs/a.md", "# A2\n", c2, 3),
    marker(c2, 4),
    { topic: "lz.git.files.v1", key: `${lz}:docs/old.md`, at: at(5), value: null },
  ];
}

/**
 * Alert transitions for the notifier: one opened at T0 (older than the notifier's max age already at the
 * first run) and one opened and resolved a minute before the first run.
 */
function alertInputs(tag: string, now: number): Input[] {
  const alert = (at: number, id: string, state: "open" | "resolved", opened: number): Input => ({
    topic: "lz.alerts.v1",
    key: id,
    at,
    value: {
      id,
      type: "SyncFailure",
      layer: "git",
      state,
      severity: "critical",
      message: `sync failed (${tag})`,
      value: 1,
      threshold: 0.5,
      opened_at: iso(opened),
      resolved_at: state === "resolved" ? iso(at) : null,
      updated_at: iso(at),
    } satisfies Alert,
  });
  return [
    alert(T0, `SyncFailure:git:old-${tag}`, "open", T0),
    alert(now - 60_000, `SyncFailure:git:${tag}`, "open", now - 60_000),
    alert(now - 30_000, `SyncFailure:git:${tag}`, "resolved", now - 60_000),
  ];
}

/**
 * Synced commits of `repo` for the commit-status notifier, a minute apart from `at`: consistent, inconsistent,
 * consistent (commits `c[0]`, `c[1]`, `c[2]`).
 */
function syncedInputs(repo: string, at: number, c: string[]): Input[] {
  const synced = (commit: string, at: number, consistent: boolean): Input => ({
    topic: "lz.git.synced.v1",
    key: repo,
    at,
    value: {
      repo,
      branch: "main",
      commit,
      commit_time: iso(at - 30_000),
      message: "m",
      author: "a <a@x>",
      previous: null,
      forced: false,
      files: 7,
      changed: 1,
      removed: 0,
      consistent,
      sync_id: `s-${commit[0]}`,
      source: "webhook",
      received_at: null,
      materialized_at: iso(at),
      commit_latency_seconds: 30,
      receipt_latency_seconds: null,
    } satisfies GitSynced,
  });
  return [
    synced(c[0], at, true),
    synced(c[1], at + 60_000, false),
    synced(c[2], at + 120_000, true),
  ];
}

/**
 * What the DuckDB analytics file holds of lz.sync.events.v1 and lz.assets.v1, as canonical text: the raw
 * histories, the sync runs, the assets' validity intervals and the applied offsets. Not `analytics_offsets.updated_at` (when the flush ran: bookkeeping, a wall
 * time) nor the daily tables (recomputed up to the day of the processor's clock, by design).
 */
async function duckState(db: DuckDbAnalytics): Promise<string> {
  const rows = async (sql: string) =>
    JSON.stringify(await db.query(sql), (_k, v) => typeof v === "bigint" ? v.toString() : v);
  return [
    await rows(`SELECT * FROM raw_lz_sync_events_v1 ORDER BY "partition", "offset"`),
    await rows(`SELECT * FROM sync_runs ORDER BY id`),
    await rows(`SELECT * FROM raw_lz_assets_v1 ORDER BY "partition", "offset"`),
    await rows(`SELECT * FROM assets_history ORDER BY "partition", "offset"`),
    await rows(`SELECT topic, "partition", next_offset FROM analytics_offsets ORDER BY topic, "partition"`),
  ].join("\n");
}

/**
 * Inputs of a multi-partition analytics group, keyed by this run's `tag`: six firewalls created (spread over
 * the partitions of lz.assets.v1 by their names), two updated (closing their first validity interval), one
 * deleted, and a policy_violated event for two of them on lz.infra.events.v1.
 */
function partitionedInputs(tag: string): Input[] {
  const fw = (i: number, ranges: string[]): AssetRecord =>
    asset("compute.googleapis.com/Firewall", `fw-${tag}-${i}`, {
      direction: "INGRESS",
      sourceRanges: ranges,
      allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
    });
  const state = (i: number, at: number, type: AssetState["type"], ranges = ["10.0.0.0/8"]): Input => {
    const a = fw(i, ranges);
    return {
      topic: "lz.assets.v1",
      key: a.name,
      at,
      value: {
        type,
        name: a.name,
        asset: a,
        source: "api",
        snapshot_id: `snap-${tag}`,
        message_id: null,
        changed_at: iso(at - 1000),
        observed_at: iso(at),
      } satisfies AssetState,
    };
  };
  const violated = (i: number, at: number): Input => {
    const a = fw(i, ["0.0.0.0/0"]);
    return {
      topic: "lz.infra.events.v1",
      key: a.name,
      at,
      value: {
        type: "policy_violated",
        message_id: `m-${tag}-${i}`,
        publish_time: iso(at),
        subscription: "projects/p/subscriptions/s",
        rule_id: "no-public-ssh",
        asset_name: a.name,
        asset_type: a.asset_type,
        project: "p1",
        severity: "high",
        message: "public ssh",
      },
    };
  };
  return [
    ...[0, 1, 2, 3, 4, 5].map((i) => state(i, T0 + i * 1_000, "resource_created", ["0.0.0.0/0"])),
    violated(0, T0 + 10_000),
    violated(3, T0 + 11_000),
    state(0, T0 + 60_000, "resource_updated"),
    state(3, T0 + 61_000, "resource_updated"),
    state(4, T0 + 120_000, "resource_deleted"),
  ];
}

/** What a DuckDB file holds of `tag`'s assets and infra events (raw rows, intervals), as canonical text. */
async function partitionedDuckState(db: DuckDbAnalytics, tag: string): Promise<string> {
  const rows = async (sql: string) =>
    JSON.stringify(await db.query(sql), (_k, v) => typeof v === "bigint" ? v.toString() : v);
  const mine = `"key" LIKE '%fw-${tag}-%'`;
  return [
    await rows(`SELECT * FROM raw_lz_assets_v1 WHERE ${mine} ORDER BY "partition", "offset"`),
    await rows(`SELECT * FROM raw_lz_infra_events_v1 WHERE ${mine} ORDER BY "partition", "offset"`),
    await rows(`SELECT * FROM assets_history WHERE ${mine} ORDER BY "partition", "offset"`),
    await rows(
      `SELECT topic, "partition", next_offset FROM analytics_offsets ` +
        `WHERE topic IN ('lz.assets.v1', 'lz.infra.events.v1') ORDER BY topic, "partition"`,
    ),
  ].join("\n");
}

async function kafkaBroker(brokers = requireKafka()): Promise<Broker> {
  const { createBroker } = await import("./broker/mod.ts");
  return await createBroker({
    kind: "kafka",
    brokers: brokers.split(","),
    clientId: "replay-groups-it",
    logger: silentLogger,
  });
}

/**
 * A scenario whose topics need a partition count of their own: the keyed topics on the shared Kafka were
 * created by other tests with one partition (and partitions are never taken away), so its Kafka run starts a
 * broker of its own. The embedded run is fresh anyway.
 */
const OWN_BROKER = { ownKafka: true } as const;

const scenarios: [string, (broker: Broker) => Promise<void>, { ownKafka: boolean }?][] = [
  [
    "lzsync-git-sync: digest after replay equals the digest before; latencies are the recorded ones",
    async (b) => {
      const app = `it-git-sync-${suffix()}`;
      const topo = gitSyncTopology(app);
      const repo = `acme/lz-${suffix()}`;
      const { before, after } = await replayProof(b, topo, gitInputs(repo));
      assert.equal(after.digest, before.digest);
      // lz.git.synced.v1 is compacted: what is left of both runs must carry the recorded latencies
      const synced = (await readAll<GitSynced>(b, "lz.git.synced.v1")).filter((r) => r.key === repo);
      assert.ok(synced.length >= 1);
      for (const r of synced) {
        assert.deepEqual(
          [r.value!.commit, r.value!.commit_latency_seconds, r.value!.receipt_latency_seconds],
          [sha("2"), 30, 2],
          "commit → marker and receipt → marker, from the records, in the first run and in the rebuild",
        );
        assert.equal(r.value!.materialized_at, iso(T0 + 600_500));
      }
    },
  ],
  ["lzsync-sync-status: digest after replay equals the digest before; no new latency alert", async (b) => {
    const app = `it-sync-status-${suffix()}`;
    const o = syncStatusOptions(resolveConfig({}).config, { tickMs: 50 });
    const topo = syncStatusTopology(o, app);
    const { before, after } = await replayProof(b, topo, syncEvents());
    assert.equal(after.digest, before.digest);
    // lz.alerts.v1 is compacted: every SyncLatency record of this scenario left is the true one
    const latency = (await readAll<Alert>(b, "lz.alerts.v1")).map((r) => r.value!)
      .filter((a) => a.type === "SyncLatency" && Date.parse(a.updated_at) >= T0 - 60_000);
    assert.ok(latency.length >= 1);
    for (const a of latency) {
      assert.deepEqual(
        [a.opened_at, a.resolved_at ?? iso(T0 + 700_005), a.value],
        [iso(T0 + 600_005), iso(T0 + 700_005), 900],
        "the one slow sync opens and resolves its alert at recorded times; the rebuild raises no other",
      );
    }
  }],
  ["lzsync-policy: digest after replay equals the digest before", async (b) => {
    const topo = policyTopology({ app: `it-policy-${suffix()}`, scoreIntervalMs: 50 });
    const { before, after } = await replayProof(b, topo, policyInputs());
    assert.equal(after.digest, before.digest);
  }],
  [
    "lzsync-policy-scores: digest after replay equals the digest before; the rebuilt scores are the recorded ones",
    async (b) => {
      const topo = scoresTopology(`it-policy-scores-${suffix()}`);
      const project = `p-${suffix()}`;
      const mine = (k: string | null) => k === `project:${project}` || k === `overall-${project}`;
      let first: Record<string, ComplianceScore | null> = {};
      let mark = new Map<number, number>();
      const { before, after } = await replayProof(b, topo, scorePartInputs(project), undefined, async () => {
        first = await latest<ComplianceScore>(b, "lz.compliance.scores.v1", mine);
        mark = await ends(b, "lz.compliance.scores.v1");
      });
      assert.equal(after.digest, before.digest);
      // (on Kafka the parts topic also holds the lzsync-policy scenario's parts: look at this one's scopes)
      const parts = (await readGroupState({ broker: b, ...topologyState(topo) })).get("parts")!.get(0)!;
      assert.deepEqual(
        Object.keys(parts.get(`project:${project}`) as object),
        ["0"],
        "task 1's part removed",
      );
      assert.deepEqual(Object.keys(parts.get(`overall-${project}`) as object), ["0"]);
      // the rebuild re-sends the scores (lz.compliance.scores.v1 is compacted: the same latest value per
      // scope as the first run), times from the parts, none from its clock
      assert.deepEqual(await latest<ComplianceScore>(b, "lz.compliance.scores.v1", mine, mark), first);
      const last = first[`0/project:${project}`]!;
      assert.deepEqual([last.passed, last.evaluated, last.score, last.updated_at], [
        4,
        4,
        100,
        iso(T0 + 60_000),
      ]);
      assert.equal(first[`0/overall-${project}`]?.updated_at, iso(T0 + 2_000));
    },
  ],
  [
    "lzsync-policy-governance (no stores): the empty digest before and after; the rebuild re-sends the recorded rules",
    async (b) => {
      const topo = governanceTopology(`it-policy-governance-${suffix()}`);
      const repo = `acme/lz-${suffix()}`;
      const mine = (_k: string | null, v: Governance | null) => v?.repo === repo;
      let first: Record<string, Governance | null> = {};
      let mark = new Map<number, number>();
      const { before, after } = await replayProof(b, topo, governanceInputs(repo), undefined, async () => {
        first = await latest<Governance>(b, "lz.compliance.governance.v1", mine);
        mark = await ends(b, "lz.compliance.governance.v1");
      });
      assert.deepEqual(before.stores, []);
      assert.equal(after.digest, before.digest);
      // stateless: what a replay re-sends is every pmo.yaml version again (broadcast, one copy per partition),
      // the same records, so lzsync-policy downstream ends with the same governance rules (a compacted topic:
      // the latest is what is left to compare, the second pmo.yaml, its time the recorded sync's)
      const v = first["0/pmo"]!;
      assert.deepEqual(
        [v.repo, v.commit, v.present, v.allowed_regions, v.required_labels.map((l) => l.key), v.updated_at],
        [repo, sha("4"), true, ["europe-west1", "europe-west4"], ["team"], iso(T0 + 600_000)],
      );
      assert.deepEqual(await latest<Governance>(b, "lz.compliance.governance.v1", mine, mark), first);
    },
  ],
  [
    "lzsync-portal-repo: digest after replay equals the digest before; the rebuild commits nothing to the Portal",
    async (b) => {
      const server = await startGitServer();
      const dataDir = await Deno.makeTempDir({ prefix: "lzsync-replay-portal-" });
      const portal = `acme/portal-${suffix()}`;
      const lz = `acme/lz-${suffix()}`;
      await server.createRepo(portal, { "README.md": "# Portal\n" });
      const deps = testDeps(b, { data_dir: dataDir, portal_repo: { repo: server.url(portal) } });
      const p = createPortalRepo(deps, deps.runtime.config.portal_repo!, { lzRepo: lz, tickMs: 50 });
      try {
        const gitdir = join(server.root, `${portal}.git`);
        const commits = async () => Number(await gitOut(gitdir, "rev-list", "--count", "main"));
        const writes = async () =>
          (await readAll<AuditRecord>(b, "lz.audit.v1")).map((r) => r.value)
            .filter((v) => v?.kind === "portal_write" && v.subject.includes(portal));
        let first = { commits: 0, audits: 0, tree: [] as string[] };
        const { before, after } = await replayProof(
          b,
          // a group of its own: on a shared Kafka the default group's changelog holds other tests' state
          { ...(p.topology as Topology), app: `it-portal-repo-${suffix()}` },
          portalInputs(lz),
          undefined,
          async () => {
            first = {
              commits: await commits(),
              audits: (await writes()).length,
              tree: await treePaths(gitdir),
            };
          },
        );
        console.log(
          `lzsync-portal-repo: before ${before.digest} ${
            JSON.stringify(before.stores.map((s) => [s.store, s.keys]))
          }, after ${after.digest}`,
        );
        assert.equal(after.digest, before.digest);
        assert.equal(before.stores.find((s) => s.store === DESIRED_STORE)?.keys, 1);
        assert.equal(first.commits, 2, "the catch-up wrote the latest revision in one Portal commit");
        assert.ok(first.tree.includes("docs/lz-reference/a.md"), JSON.stringify(first.tree));
        // what a replay re-sends: the stored revision is written again, which commits nothing (the Portal
        // already holds the mapped files) and is reported `unchanged`
        assert.equal(await commits(), first.commits, "the rebuild commits nothing");
        assert.deepEqual(await treePaths(gitdir), first.tree);
        const audits = await writes();
        assert.ok(audits.length > first.audits, "the rebuild reported its write");
        assert.equal(audits.at(-1)!.outcome, "unchanged");
        assert.equal(audits.at(-1)!.commit, sha("6"));
      } finally {
        p.writer.close();
        await server.stop();
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  ],
  [
    "lzsync-alert-notifier: digest after replay equals the digest before; no replay posts an alert again (the ledger outlives the dropped store), a new transition is posted",
    async (b) => {
      const posts: string[] = [];
      const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
        posts.push(((await req.json()) as { text: string }).text);
        return new Response("ok");
      });
      try {
        const tag = suffix();
        const topo: Topology = {
          ...alertNotifierTopology({
            post: webhookPoster(`http://127.0.0.1:${hook.addr.port}/hook`),
            maxAgeMs: 15 * 60_000, // alerts.notify_max_age's default
            backoffMs: 10,
          }) as Topology,
          app: `it-alert-notifier-${tag}`,
        };
        const mine = () => posts.filter((t) => t.includes(`(${tag})`));
        let first: string[] = [];
        const inputs = alertInputs(tag, Date.now());
        const { before, after } = await replayProof(b, topo, inputs, undefined, () => {
          first = mine();
          return Promise.resolve();
        });
        assert.equal(after.digest, before.digest);
        assert.ok(before.stores.find((s) => s.store === NOTIFIED_STORE)!.keys >= 2, "both alerts handled");
        // the first run posts the recent open and resolve; the alert opened at T0 is stale (not posted)
        assert.deepEqual(first, [
          `🔴 lzsync SyncFailure on git — sync failed (${tag})`,
          `✅ lzsync resolved: SyncFailure on git — sync failed (${tag})`,
        ]);
        // the rebuild three hours later posts nothing again
        assert.deepEqual(mine(), first);
        // A replay right away (the notifier's clock is now, every transition younger than notify_max_age):
        // the store is dropped again, but lz.alerts.notified.v1 says both were posted — nothing is re-sent.
        await replay({
          broker: b,
          group: topo.app,
          to: "earliest",
          inputs: topo.inputs,
          stores: topo.stores,
        });
        await runUntilCaughtUp(b, topo, { now: () => Date.now() });
        assert.deepEqual(mine(), first);
        // the alert opening again (a new episode) is news
        const reopen = alertInputs(tag, Date.now() + 60_000)[1];
        await produce(b, [{ ...reopen, at: Date.now() }]);
        await runUntilCaughtUp(b, topo, { now: () => Date.now() });
        assert.deepEqual(mine(), [...first, first[0]]);
      } finally {
        await hook.shutdown();
      }
    },
  ],
  [
    "lzsync-github-status (no stores): the empty digest before and after; no replay sets a status GitHub already shows",
    async (b) => {
      const repo = `acme/lz-${suffix()}`;
      const recent = `acme/lz-${suffix()}`;
      const api = startTestApiServer({ token: "ghp_r", repos: { "acme/lz": "/nonexistent" } });
      try {
        const deps = testDeps(b, {
          gateway: { public_url: "https://portal.example" },
          landing_zone: {
            repo: "https://github.example/acme/lz.git",
            github: { owner: "acme", repo: "lz", api_url: api.url }, // commit_status_max_age: 1h
          },
        }, { GITHUB_TOKEN: "ghp_r" });
        const topo: Topology = {
          ...createCommitStatusNotifier(deps, { backoffMs: 10 }) as Topology,
          app: `it-github-status-${suffix()}`,
        };
        // one repo synced two hours ago (T0), one ten minutes ago; the commits are this run's own (a shared
        // Kafka holds other runs' syncs too: the notifier reads them, the filter leaves them out)
        const run = crypto.randomUUID().replace(/-/g, "").slice(0, 8);
        const commits = [0, 1, 2, 3, 4, 5].map((i) => run + String(i).repeat(32));
        const [c1, c2] = [commits.slice(0, 3), commits.slice(3)];
        const mine = () =>
          api.statuses.filter((s) => commits.includes(s.sha)).map((s) => [s.sha.slice(8, 9), s.body.state]);
        let first: string[][] = [];
        let reads = 0;
        const { before, after } = await replayProof(
          b,
          topo,
          [...syncedInputs(repo, T0, c1), ...syncedInputs(recent, Date.now() - 600_000, c2)],
          undefined,
          () => {
            first = mine();
            reads = api.statusReads;
            return Promise.resolve();
          },
        );
        assert.deepEqual(before.stores, []);
        assert.equal(after.digest, before.digest);
        // the first run: the old repo's two superseded syncs are older than the max age (no status), its
        // latest gets one; the recent repo's three all do, in order
        assert.deepEqual(first, [["2", "success"], ["3", "success"], ["4", "error"], ["5", "success"]]);
        // the rebuild, three hours later: only the latest sync of each repo is checked, and GitHub shows it
        assert.deepEqual(mine(), first, "the rebuild set no status again");
        assert.ok(api.statusReads > reads, "it read the statuses GitHub shows");
        // a replay right away (the recent syncs younger than the max age): each is read, none set again
        await replay({
          broker: b,
          group: topo.app,
          to: "earliest",
          inputs: topo.inputs,
          stores: topo.stores,
        });
        await runUntilCaughtUp(b, topo, { now: () => Date.now() });
        assert.deepEqual(mine(), first, "the replay set no status again");
      } finally {
        await api.stop();
      }
    },
  ],
  [
    "lzsync-analytics (no stores; DuckDB sink): a replay into a fresh file rebuilds the same tables; into the kept file it writes nothing",
    async (b) => {
      const dir = await Deno.makeTempDir({ prefix: "lzsync-replay-analytics-" });
      const dbs: DuckDbAnalytics[] = [
        await openDuckDb({ path: join(dir, "first.duckdb"), log: silentLogger }),
      ];
      const cur = () => dbs.at(-1)!;
      // the topology's sink; the rebuild swaps the file under it, as an operator moves it away before a replay
      const sink: AnalyticsSink = {
        name: "duckdb",
        add: (r) => cur().add(r),
        refreshDaily: (now) => cur().refreshDaily(now),
        flush: () => cur().flush(),
      };
      try {
        const topo: Topology = {
          ...analyticsTopologies({
            sinks: [sink],
            topics: ["lz.sync.events.v1", "lz.assets.v1"],
            dailyEveryMs: 50,
          })[0],
          app: `it-analytics-${suffix()}`,
        };
        let first = "";
        const assets = policyInputs().filter((i) => i.topic === "lz.assets.v1"); // an update closes an interval
        const { before, after } = await replayProof(
          b,
          topo,
          [...syncEvents(), ...assets],
          undefined,
          async () => {
            first = await duckState(cur());
            dbs.push(await openDuckDb({ path: join(dir, "rebuilt.duckdb"), log: silentLogger }));
          },
        );
        assert.deepEqual(before.stores, []);
        assert.equal(after.digest, before.digest);
        assert.match(first, /"id":"e8"/, "the first run wrote the sync runs");
        const closed = await cur().query(
          `SELECT count(*) AS n FROM assets_history WHERE valid_to IS NOT NULL`,
        );
        assert.ok(Number(closed[0].n) >= 1, "and closed the updated asset's first interval");
        // the documented rebuild (move the file away, replay --to earliest): the same rows, from the records
        assert.equal(await duckState(cur()), first);
        // a replay with the file kept: every record comes again and is ignored (its offsets are applied)
        const redelivered = cur().stats().redelivered;
        await replay({
          broker: b,
          group: topo.app,
          to: "earliest",
          inputs: topo.inputs,
          stores: topo.stores,
        });
        await runUntilCaughtUp(b, topo, { now: () => Date.now() + LATER });
        assert.ok(cur().stats().redelivered > redelivered, "the replayed records were ignored");
        assert.equal(await duckState(cur()), first);
      } finally {
        for (const db of dbs) await db.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  ],
  [
    "lzsync-analytics-p<N> (no stores; DuckDB sink; inputs of 3 partitions): a replay into a fresh file rebuilds the same rows; into the kept file it writes nothing",
    async (b) => {
      const dir = await Deno.makeTempDir({ prefix: "lzsync-replay-analytics-p-" });
      const dbs: DuckDbAnalytics[] = [
        await openDuckDb({ path: join(dir, "first.duckdb"), log: silentLogger }),
      ];
      const cur = () => dbs.at(-1)!;
      const sink: AnalyticsSink = {
        name: "duckdb",
        add: (r) => cur().add(r),
        refreshDaily: (now) => cur().refreshDaily(now),
        flush: () => cur().flush(),
      };
      try {
        // the keyed topics with broker.partitions: 3 (this broker is the scenario's own: see OWN_BROKER)
        const inputs = ["lz.assets.v1", "lz.infra.events.v1"];
        await b.admin().createTopics(
          inputs.map((name) => ({ name, partitions: 3, compacted: TOPICS.get(name)!.compacted })),
        );
        for (const t of inputs) assert.equal((await b.admin().describeTopic(t)).partitions, 3, t);
        const [built] = analyticsTopologies({
          sinks: [sink],
          topics: inputs,
          partitions: new Map(inputs.map((t) => [t, 3])),
          dailyEveryMs: 50,
        });
        assert.equal(built.app, "lzsync-analytics-p3");
        const topo: Topology = { ...built, app: `it-analytics-p3-${suffix()}` };
        const tag = suffix();
        let first = "";
        const { before, after } = await replayProof(b, topo, partitionedInputs(tag), undefined, async () => {
          first = await partitionedDuckState(cur(), tag);
          dbs.push(await openDuckDb({ path: join(dir, "rebuilt.duckdb"), log: silentLogger }));
        });
        assert.deepEqual(before.stores, []);
        assert.equal(after.digest, before.digest);
        const spread = await cur().query(
          `SELECT count(DISTINCT "partition") AS n FROM raw_lz_assets_v1 WHERE "key" LIKE '%fw-${tag}-%'`,
        );
        assert.ok(Number(spread[0].n) >= 2, "the assets are on more than one partition");
        const closed = await cur().query(
          `SELECT count(*) AS n FROM assets_history WHERE "key" LIKE '%fw-${tag}-%' AND valid_to IS NOT NULL`,
        );
        assert.equal(Number(closed[0].n), 3, "two updates and a deletion closed three intervals");
        assert.match(first, new RegExp(`m-${tag}-3`), "the first run wrote the infra events");
        // the documented rebuild (move the file away, replay --to earliest): the same rows, from the records
        assert.equal(await partitionedDuckState(cur(), tag), first);
        // a replay with the file kept: every record comes again and is ignored (its offsets are applied)
        const redelivered = cur().stats().redelivered;
        await replay({
          broker: b,
          group: topo.app,
          to: "earliest",
          inputs: topo.inputs,
          stores: topo.stores,
        });
        await runUntilCaughtUp(b, topo, { now: () => Date.now() + LATER });
        assert.ok(cur().stats().redelivered > redelivered, "the replayed records were ignored");
        assert.equal(await partitionedDuckState(cur(), tag), first);
      } finally {
        for (const db of dbs) await db.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
    OWN_BROKER,
  ],
  ["lzsync-assets: digest after replay equals the digest before", async (b) => {
    const topo = assetsTopology({ app: `it-assets-${suffix()}`, sweepIntervalMs: 50 });
    const inputs = assetsInputs();
    const { before, after } = await replayProof(b, topo, inputs);
    assert.equal(after.digest, before.digest);
    // what the rebuild forwards is what the first run forwarded, so lzsync-policy downstream agrees too
    const name = (inputs[1].value as { assets: AssetRecord[] }).assets[0].name;
    const states = (await readAll<AssetState>(b, "lz.assets.v1")).filter((r) => r.key === name);
    assert.ok(states.length >= 1);
    for (const r of states) {
      assert.deepEqual([r.value!.type, r.value!.observed_at], ["resource_created", iso(inputs[1].at)]);
    }
  }],
  [
    "lzsync-audit: digest after replay equals the digest before; the rebuilt record is the recorded one",
    async (b) => {
      const topo = auditTopology(`it-audit-${suffix()}`);
      const repo = `acme/lz-${suffix()}`;
      const { before, after } = await replayProof(b, topo, auditInputs(repo));
      assert.equal(after.digest, before.digest);
      const recs = (await readAll<AuditRecord>(b, "lz.audit.v1")).filter((r) => r.value?.subject === repo);
      assert.ok(recs.length >= 1);
      for (const r of recs) {
        assert.deepEqual([r.key, r.value!.delivery_id, r.value!.at], [
          "sync:a1",
          "delivery-a1",
          iso(T0 + 500),
        ]);
      }
    },
  ],
  [
    "lzsync-git-fetch: digest after replay equals the digest before; the rebuild fetched the whole tree again",
    async (b) => {
      const server = await startGitServer();
      const dataDir = await Deno.makeTempDir({ prefix: "lzsync-replay-fetch-" });
      try {
        const name = `acme/lz-${suffix()}`;
        await server.createRepo(name, {
          "docs/a.md": "# A\n",
          "pmo.yaml": "x: 1\n",
          "terraform/main.tf": "# tf\n",
          "README.md": "untracked\n",
        });
        const deps = testDeps(b, { data_dir: dataDir, landing_zone: { repo: server.url(name) } });
        const f = createGitFetch(deps, { groupId: `it-git-fetch-${suffix()}`, syncOnStart: false });
        const { before, after } = await replayProof(b, f.topology as Topology, fetchInputs(f.repo));
        console.log(
          `lzsync-git-fetch: before ${before.digest} ${
            JSON.stringify(before.stores.map((s) => [s.store, s.keys]))
          }, after ${after.digest}`,
        );
        assert.equal(after.digest, before.digest);
        const files = before.stores.find((s) => s.store === "files");
        assert.equal(files?.keys, 3, "the three tracked files");
        // the rebuild (its clock three hours ahead) fetched and emitted the whole tree: a replay is a resync
        const latest = (await readAll<GitFilesValue>(b, "lz.git.files.v1"))
          .filter((r) => r.key === f.repo && r.value?.kind === "commit").at(-1)?.value;
        assert.ok(latest?.kind === "commit");
        assert.equal(latest.diff, "full");
        assert.equal(latest.changed, 3);
        assert.ok(Date.parse(latest.started_at) > Date.now() + LATER / 2, "the rebuild's marker");
      } finally {
        await server.stop();
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  ],
  [
    "lzsync-fgd: digest after replay equals the digest before; the rebuild edits no git and keeps the draft",
    async (b) => {
      const server = await startGitServer();
      const dataDir = await Deno.makeTempDir({ prefix: "lzsync-replay-fgd-" });
      try {
        const name = `acme/lz-${suffix()}`;
        const dc2 = `dc2-${suffix()}`;
        await server.createRepo(name, {
          ...crdRepoFiles(),
          "fabrics/dc1/raw/f.yaml": FABRIC_YAML,
          [`fabrics/${dc2}/raw/f.yaml`]: FABRIC_YAML,
        });
        const deps = testDeps(b, {
          data_dir: dataDir,
          landing_zone: { repo: server.url(name) },
          fabrics: [{ id: "dc1", path: "fabrics/dc1", crd_dirs: ["fabrics/crds/hedgehog"] }],
        });
        const m = new FabricManager(deps, {
          app: `it-fgd-${suffix()}`,
          scheduleMs: 0,
          kubeIntervalMs: 0,
          gitHints: false, // lzsync's own commits come back as pushes: a hint processed at the stop would wait
        });
        const topo = m.topology as Topology;
        // runs outlive the commands that asked for them: wait until no run is pending (in its changelog)
        const idle = async () => {
          const d = await digestGroup({ broker: b, ...topologyState(topo) });
          return d.stores.find((s) => s.store === "fabrics")!.keys > 0 &&
            d.stores.find((s) => s.store === "pending")!.keys === 0;
        };
        const { before, after } = await replayProof(b, topo, fgdInputs(dc2), idle);
        console.log(
          `lzsync-fgd: before ${before.digest} ${
            JSON.stringify(before.stores.map((s) => [s.store, s.keys]))
          }, after ${after.digest}`,
        );
        assert.equal(after.digest, before.digest);
        const keys = Object.fromEntries(before.stores.map((s) => [s.store, s.keys]));
        assert.ok(keys.fabrics >= 1 && keys.drafts >= 1, JSON.stringify(keys));
        assert.equal(keys.pending, 0, "no run left waiting at rest");
        const managed = await remoteTree(server.root, name, "main", `fabrics/${dc2}/managed`);
        assert.ok(managed.length > 0, "the registration run ingested dc2");
        assert.ok(
          !managed.some((p) => p.includes("vpc-10")),
          "the edit nobody waited for was never performed",
        );
        const objects = await readAll<FabricObject>(b, "lz.fgd.objects.v1");
        const draft = objects.filter((r) => r.key === `${dc2}/vpcs/default/vpc-9`).at(-1)?.value;
        assert.equal(draft?.draft?.author, "bob", "the rebuilt object record shows the draft");
      } finally {
        await server.stop();
        await Deno.remove(dataDir, { recursive: true });
      }
    },
  ],
];

for (const [name, fn, opts] of scenarios) {
  Deno.test(`embedded: ${name}`, async () => {
    const broker = await createEmbeddedBroker();
    try {
      await fn(broker);
    } finally {
      await broker.close();
    }
  });
  Deno.test({
    name: `kafka: ${name}`,
    ignore: needs("kafka"),
    async fn() {
      const own = opts?.ownKafka ? await startKafka() : null;
      try {
        const broker = await kafkaBroker(own?.brokers);
        try {
          await fn(broker);
        } finally {
          await broker.close();
        }
      } finally {
        await own?.stop();
      }
    },
  });
}
