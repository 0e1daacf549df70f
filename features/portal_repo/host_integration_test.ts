import assert from "node:assert/strict";
import { join } from "node:path";
import type { Broker } from "../../pipeline/broker/types.ts";
import { createKafkaBroker } from "../../pipeline/broker/kafka/mod.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { needs, requireKafka } from "../../pipeline/testing/env.ts";
import { sleep, waitFor } from "../../pipeline/testing/wait.ts";
import { STACK_REPO, startGitStack } from "../git_sync/testing.ts";
import { replay } from "../../pipeline/replay.ts";
import { digestGroup, readGroupState, topologyState } from "../../pipeline/digest.ts";
import { GIT_FILES_TOPIC } from "../../schemas/git_files.ts";
import { DLQ_TOPIC } from "../../schemas/dlq.ts";
import { createPortalRepoHost, DESIRED_STORE, PORTAL_REPO_APP, type PortalDesired } from "./topology.ts";
import type { PortalWrite } from "./report.ts";
import { cloneDir } from "./repo.ts";
import { gitOut, treePaths } from "./_test_util.ts";

const META = "config/lz-config/sync-metadata.json";
const PORTAL = "acme/portal";

/** True once the group has committed everything on `lz.git.files.v1`. */
async function caughtUp(broker: Broker): Promise<boolean> {
  const admin = broker.admin();
  const [highs, committed] = await Promise.all([
    admin.topicOffsets(GIT_FILES_TOPIC.name),
    admin.fetchCommitted(PORTAL_REPO_APP, [GIT_FILES_TOPIC.name]),
  ]);
  return highs.every((h) => (committed.find((c) => c.partition === h.partition)?.offset ?? 0) >= h.high);
}

/** True once the stored desired revision is `commit` and written (its report went out and was checkpointed). */
async function written(broker: Broker, commit: string): Promise<boolean> {
  const state = await readGroupState({ broker, group: PORTAL_REPO_APP, stores: [DESIRED_STORE] });
  const d = [...(state.get(DESIRED_STORE)?.get(0)?.values() ?? [])] as PortalDesired[];
  return d.length === 1 && d[0].marker.commit === commit && d[0].state === "written";
}

/**
 * The whole chain on real components: LZ git server → webhook → fetcher → broker → the sink's topology in a
 * processor host → Portal git server; then a restart and a `replay --to earliest` of the group.
 */
async function scenario(broker?: Broker) {
  const s = await startGitStack({ broker });
  const writes: PortalWrite[] = [];
  try {
    await s.git.createRepo(PORTAL, { "README.md": "# Portal\n", "docs/guide.md": "# not managed\n" });
    const gitdir = join(s.git.root, `${PORTAL}.git`);
    const cfg = resolveConfig({
      portal_repo: {
        repo: s.git.url(PORTAL),
        paths: [
          { from: "docs/**", to: "docs/lz-reference/" },
          { from: "pmo.yaml", to: "config/lz-pmo.yaml" },
        ],
      },
    }).config.portal_repo!;
    const start = () => {
      const sink = createPortalRepoHost(s.gw.deps, cfg, { onWrite: (w) => void writes.push(w), tickMs: 50 });
      return sink.start().then(() => sink);
    };
    let sink = await start();
    const portalHead = () => s.git.head(PORTAL);
    const commitsOf = async () => Number(await gitOut(gitdir, "rev-list", "--count", "main"));

    // 1. The first sync lands as one commit naming the Landing Zone's initial commit.
    await waitFor(
      () => writes.some((w) => w.ok && w.marker.commit === s.first),
      "first portal write",
      30_000,
    );
    assert.deepEqual(await treePaths(gitdir), [
      "README.md",
      META,
      "config/lz-pmo.yaml",
      "docs/guide.md",
      "docs/lz-reference/index.md",
      "docs/lz-reference/networking.md",
    ]);
    assert.match(
      await gitOut(gitdir, "log", "-1", "--format=%B", "main"),
      new RegExp(`Landing-Zone-Commit: ${s.first}`),
    );
    assert.equal(await commitsOf(), 2);

    // 2. A Landing Zone commit changing mapped files: one Portal commit; the deletion is mirrored.
    const c2 = await s.git.commitAndPush(STACK_REPO, {
      "docs/networking.md": null,
      "docs/new/page.md": "# New page\n",
    }, "docs: new page");
    assert.equal((await s.deliverPush(c2, { deliveryId: "d-2" })).status, 202);
    await waitFor(() => writes.some((w) => w.marker.commit === c2), "portal write of c2", 30_000);
    const paths = await treePaths(gitdir);
    assert.ok(paths.includes("docs/lz-reference/new/page.md"));
    assert.ok(!paths.includes("docs/lz-reference/networking.md"));
    assert.equal(await commitsOf(), 3);
    const meta = JSON.parse(await gitOut(gitdir, "show", `main:${META}`));
    assert.equal(meta.source.commit, c2);
    assert.equal(meta.source.repo, STACK_REPO);

    // 3. A Landing Zone commit that changes no mapped file commits nothing.
    const headBefore = await portalHead();
    const c3 = await s.git.commitAndPush(STACK_REPO, { "terraform/net.tf": "# net\n" }, "tf only");
    await s.deliverPush(c3, { deliveryId: "d-3" });
    await waitFor(() => writes.some((w) => w.marker.commit === c3), "portal write of c3", 30_000);
    assert.equal(writes.find((w) => w.marker.commit === c3)!.result!.outcome, "unchanged");
    assert.equal(await portalHead(), headBefore);

    // 4. A restart resumes from its committed offsets and stored state: it checks the stored revision against
    // the Portal once (unchanged) and then writes only what comes next.
    const broker = s.gw.broker;
    await waitFor(() => caughtUp(broker), "the sink caught up", 30_000);
    await waitFor(() => written(broker, c3), "c3 recorded as written", 30_000);
    await sink.stop();
    const settled = await digestGroup({ broker, ...topologyState(sink.topology) });
    const n = writes.length;
    sink = await start();
    await waitFor(() => writes.length > n, "the restarted sink's check of c3", 30_000);
    const c4 = await s.git.commitAndPush(STACK_REPO, { "terraform/dns.tf": "# dns\n" }, "tf only again");
    await s.deliverPush(c4, { deliveryId: "d-4" });
    await waitFor(() => writes.some((w) => w.marker.commit === c4), "portal write of c4", 30_000);
    await sleep(300);
    assert.deepEqual(
      writes.slice(n).map((w) => [w.marker.commit, w.result?.outcome]),
      [[c3, "unchanged"], [c4, "unchanged"]],
      "after a restart: one check of the stored revision, then the new Landing Zone commit",
    );
    assert.equal(await portalHead(), headBefore);
    await waitFor(() => caughtUp(broker), "the sink caught up after the restart", 30_000);
    await waitFor(() => written(broker, c4), "c4 recorded as written", 30_000);
    await sink.stop();
    const before = await digestGroup({ broker, ...topologyState(sink.topology) });
    assert.notEqual(before.digest, settled.digest, "c4 is in the state");
    const desired = before.stores.find((st) => st.store === DESIRED_STORE)!;
    assert.equal(desired.keys, 1);

    // 5. `replay --to earliest` then a restart: the same state, and nothing new on the Portal (the replayed
    // history collapses into the latest revision, which the Portal already holds).
    const commitsBefore = await commitsOf();
    await replay({
      broker,
      group: PORTAL_REPO_APP,
      to: "earliest",
      inputs: sink.topology.inputs,
      stores: sink.topology.stores,
    });
    const m = writes.length;
    sink = await start();
    await waitFor(() => caughtUp(broker), "the replayed sink caught up", 30_000);
    await waitFor(() => writes.length > m, "the replayed sink's write of the latest revision", 30_000);
    await waitFor(() => written(broker, c4), "c4 recorded as written after the replay", 30_000);
    await sleep(300);
    await sink.stop();
    assert.deepEqual(
      writes.slice(m).map((w) => [w.marker.commit, w.result?.outcome]),
      [[c4, "unchanged"]],
      "the replay writes only the latest revision, and it is unchanged",
    );
    const after = await digestGroup({ broker, ...topologyState(sink.topology) });
    assert.equal(after.digest, before.digest);
    assert.equal(await portalHead(), headBefore);
    assert.equal(await commitsOf(), commitsBefore);
  } finally {
    await s.stop();
  }
}

Deno.test("portal sink on the embedded broker: webhook → fetch → one Portal commit per LZ commit, idempotent", async () => {
  await scenario();
});

Deno.test({
  name: "portal sink on Kafka: webhook → fetch → one Portal commit per LZ commit, idempotent",
  ignore: needs("kafka"),
  fn: async () => {
    const broker = await createKafkaBroker({
      brokers: requireKafka().split(","),
      clientId: "lzsync-portal-test",
    });
    try {
      await scenario(broker);
    } finally {
      await broker.close();
    }
  },
});

Deno.test("portal sink: files above the inline limit are read from the fetcher's mirror, byte for byte", async () => {
  const s = await startGitStack({ config: { layers: { git: { inline_max_bytes: 64 } } } });
  const writes: PortalWrite[] = [];
  try {
    await s.git.createRepo(PORTAL, { "README.md": "# Portal\n" });
    const gitdir = join(s.git.root, `${PORTAL}.git`);
    const cfg = resolveConfig({ portal_repo: { repo: s.git.url(PORTAL) } }).config.portal_repo!;
    const big = new Uint8Array(5000).map((_, i) => (i * 7) % 256); // binary, well above the limit
    const c2 = await s.git.commitAndPush(STACK_REPO, { "docs/diagram.bin": big }, "docs: diagram");
    const sink = createPortalRepoHost(s.gw.deps, cfg, { onWrite: (w) => void writes.push(w) });
    await sink.start();
    try {
      await s.deliverPush(c2, { deliveryId: "d-big" });
      await waitFor(
        () => writes.some((w) => w.ok && w.marker.commit === c2),
        "the write of c2",
        30_000,
        () => writes,
      );
      const out = await new Deno.Command("git", {
        args: ["--git-dir", gitdir, "show", "main:docs/lz-reference/diagram.bin"],
        stdout: "piped",
      }).output();
      assert.deepEqual(out.stdout, big);
    } finally {
      await sink.stop();
    }
  } finally {
    await s.stop();
  }
});

Deno.test("portal sink: a damaged clone (torn pack index) is dropped and fetched again; the write lands", async () => {
  const s = await startGitStack();
  const writes: PortalWrite[] = [];
  try {
    await s.git.createRepo(PORTAL, { "README.md": "# Portal\n" });
    const cfg = resolveConfig({ portal_repo: { repo: s.git.url(PORTAL) } }).config.portal_repo!;
    const first = createPortalRepoHost(s.gw.deps, cfg, { onWrite: (w) => void writes.push(w) });
    await first.start();
    await waitFor(() => writes.some((w) => w.ok), "the first write", 30_000);
    await first.stop();
    const packs = join(cloneDir(s.gw.deps.runtime.config.data_dir, cfg.repo), "objects", "pack");
    let torn = 0;
    for await (const e of Deno.readDir(packs)) {
      if (!e.name.endsWith(".idx")) continue;
      await Deno.writeFile(join(packs, e.name), new Uint8Array(10)); // what a crash mid-write would leave
      torn++;
    }
    assert.ok(torn > 0);
    const c2 = await s.git.commitAndPush(STACK_REPO, { "docs/after.md": "# After\n" }, "docs: after");
    const sink = createPortalRepoHost(s.gw.deps, cfg, {
      onWrite: (w) => void writes.push(w),
      retryMs: 100,
    });
    await sink.start();
    try {
      await s.deliverPush(c2, { deliveryId: "d-torn" });
      await waitFor(
        () => writes.some((w) => w.ok && w.marker.commit === c2),
        "a good write of c2",
        30_000,
        () => writes.map((w) => w.error ?? w.result?.outcome),
      );
      const tree = await treePaths(join(s.git.root, `${PORTAL}.git`));
      assert.ok(tree.includes("docs/lz-reference/after.md"));
    } finally {
      await sink.stop();
    }
  } finally {
    await s.stop();
  }
});

Deno.test("portal sink: a write whose report had not gone out when it stopped is written again at start — unchanged, nothing committed twice", async () => {
  const s = await startGitStack();
  const writes: PortalWrite[] = [];
  try {
    await s.git.createRepo(PORTAL, { "README.md": "# Portal\n" });
    const gitdir = join(s.git.root, `${PORTAL}.git`);
    const cfg = resolveConfig({ portal_repo: { repo: s.git.url(PORTAL) } }).config.portal_repo!;
    // A clock that stands still: the write happens at the checkpoint, but no punctuation ever reports it.
    const frozen = Date.now();
    const first = createPortalRepoHost({ ...s.gw.deps, clock: { now: () => frozen } }, cfg, {
      onWrite: (w) => void writes.push(w),
      tickMs: 50,
    });
    await first.start();
    await waitFor(() => writes.some((w) => w.ok), "the first write", 30_000);
    await waitFor(() => caughtUp(s.gw.broker), "the first run committed its input", 30_000);
    await first.stop();
    assert.deepEqual(writes.map((w) => [w.marker.commit, w.result?.outcome]), [[s.first, "committed"]]);
    const state = await readGroupState({
      broker: s.gw.broker,
      group: PORTAL_REPO_APP,
      stores: [DESIRED_STORE],
    });
    const [d] = [...state.get(DESIRED_STORE)!.get(0)!.values()] as PortalDesired[];
    assert.deepEqual([d.marker.commit, d.state, d.attempts], [s.first, "pending", 1]);
    const commits = await gitOut(gitdir, "rev-list", "--count", "main");

    const second = createPortalRepoHost(s.gw.deps, cfg, { onWrite: (w) => void writes.push(w), tickMs: 50 });
    await second.start();
    try {
      await waitFor(() => written(s.gw.broker, s.first), "the revision recorded as written", 30_000);
      assert.deepEqual(writes.slice(1).map((w) => [w.marker.commit, w.result?.outcome]), [[
        s.first,
        "unchanged",
      ]]);
      assert.equal(await gitOut(gitdir, "rev-list", "--count", "main"), commits);
    } finally {
      await second.stop();
    }
  } finally {
    await s.stop();
  }
});

Deno.test("portal sink: a refusal it sends to the DLQ itself is counted in the host's DLQ metric and stats", async () => {
  const s = await startGitStack();
  const writes: PortalWrite[] = [];
  try {
    // No such repository on the Portal's git server: a final refusal, which the topology forwards to the DLQ.
    const cfg = resolveConfig({ portal_repo: { repo: s.git.url("acme/no-such-portal") } }).config
      .portal_repo!;
    const sink = createPortalRepoHost(s.gw.deps, cfg, { onWrite: (w) => void writes.push(w), tickMs: 50 });
    await sink.start();
    try {
      await waitFor(
        async () => (await dlqHigh(s.gw.broker)) === 1,
        "the refusal in lz.dlq.v1",
        30_000,
        () => writes,
      );
      assert.deepEqual(writes.map((w) => [w.ok, w.retriable]), [[false, false]]);
      await waitFor(() => sink.stats().dlq === 1, "the refusal counted in stats", 10_000, () => sink.stats());
      const text = await s.gw.deps.metrics.metrics();
      assert.match(text, /lzsync_dlq_records_total\{app="lzsync-portal-repo",topic="lz.git.files.v1"\} 1/);
    } finally {
      await sink.stop();
    }
  } finally {
    await s.stop();
  }
});

async function dlqHigh(broker: Broker): Promise<number> {
  return (await broker.admin().topicOffsets(DLQ_TOPIC.name)).reduce((n, o) => n + o.high, 0);
}
