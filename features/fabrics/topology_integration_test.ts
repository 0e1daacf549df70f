/**
 * The `lzsync-fgd` topology across the upgrade from the hand-written service, whose state was its own
 * outputs: an install with a fabric registered through the API and an open draft, both only on
 * `lz.fgd.fabrics.v1` / `lz.fgd.objects.v1` and no consumer group, comes up with both; they stay after a
 * restart (now from the stores) and after `replay --to earliest` (from the commands the seed wrote).
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { encode } from "../../pipeline/serde.ts";
import { replay } from "../../pipeline/replay.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import {
  type FabricObject,
  type FabricRegistration,
  FGD_FABRICS_TOPIC,
  FGD_OBJECTS_TOPIC,
} from "../../schemas/fgd.ts";
import { readAll } from "../git_sync/_test_util.ts";
import { FabricManager } from "./manager.ts";
import { DRAFTS_STORE, FABRICS_STORE, FGD_APP } from "./topology.ts";
import { changelogTopic } from "../../pipeline/processor/types.ts";
import { crdRepoFiles, FABRIC_YAML } from "./_test_util.ts";

const SLOT = "vpcs/default/vpc-9";
const VPC = {
  apiVersion: "vpc.githedgehog.com/v1beta1",
  kind: "VPC",
  metadata: { name: "vpc-9", namespace: "default" },
  spec: { subnets: { default: { subnet: "10.0.9.0/24", vlan: 1909 } } },
};

Deno.test("lzsync-fgd upgrade: API fabrics and drafts held only by the old service's outputs come back, and stay after a restart and a replay", async () => {
  const server = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-upgrade-" });
  const broker = await createEmbeddedBroker();
  const opts = { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false };
  let m: FabricManager | undefined;
  try {
    await server.createRepo("fab", { ...crdRepoFiles(), "fabrics/dc7/raw/f.yaml": FABRIC_YAML });
    // What the hand-written service left: its records on the compacted topics, no consumer group.
    await broker.admin().createTopics(
      [FGD_FABRICS_TOPIC, FGD_OBJECTS_TOPIC].map((t) => ({ name: t.name, partitions: 1, compacted: true })),
    );
    const reg: FabricRegistration = {
      id: "dc7",
      repo: server.url("fab"),
      branch: "main",
      path: "fabrics/dc7",
      crd_dirs: ["fabrics/crds/hedgehog"],
      rule_packs: ["hedgehog"],
      source: "api",
      registered_at: "2026-11-01T00:00:00.000Z",
    };
    const at = "2026-11-02T00:00:00.000Z";
    const object: FabricObject = {
      fabric: "dc7",
      apiVersion: VPC.apiVersion,
      kind: "VPC",
      plural: "vpcs",
      name: "vpc-9",
      namespace: "default",
      path: "managed/vpcs/vpc-9.yaml",
      desired: null,
      draft: {
        op: "put",
        object: VPC,
        hash: "h9",
        base_hash: null,
        state: "open",
        author: "bob",
        created_at: at,
        updated_at: at,
        error: null,
      },
      conflict: null,
      actual: null,
      drift: "unknown",
      drift_fields: [],
      updated_at: at,
    };
    const p = await broker.producer();
    await p.send(FGD_FABRICS_TOPIC.name, [{ key: "dc7", value: encode(FGD_FABRICS_TOPIC.name, reg) }]);
    await p.send(FGD_OBJECTS_TOPIC.name, [{
      key: `dc7/${SLOT}`,
      value: encode(FGD_OBJECTS_TOPIC.name, object),
    }]);
    await p.close();

    const deps = testDeps(broker, { data_dir: dataDir, landing_zone: { repo: server.url("fab") } });
    const check = async (when: string) => {
      // after a replay the fabric comes back while the task catches up on the commands
      await waitFor(() => Promise.resolve(m!.workers.has("dc7")), `${when}: dc7 registered`, 30_000);
      const w = m!.workers.get("dc7");
      assert.ok(w, `${when}: the API fabric is registered`);
      const run = await w.trigger("test").done;
      assert.notEqual(run.outcome, "failed", `${when}: ${run.error}`);
      const d = w.drafts.get(SLOT);
      assert.deepEqual([d?.author, d?.created_at, d?.state], ["bob", at, "open"], `${when}: the draft`);
      const records = (await readAll<FabricObject>(broker, FGD_OBJECTS_TOPIC.name))
        .filter((r) => r.key === `dc7/${SLOT}`);
      assert.equal(records.at(-1)?.value?.draft?.author, "bob", `${when}: the object record shows the draft`);
      const managed = (await readAll<FabricObject>(broker, FGD_OBJECTS_TOPIC.name))
        .filter((r) => r.key?.startsWith("dc7/") && r.value?.desired);
      assert.ok(managed.length >= 16, `${when}: the fabric was ingested`);
    };

    m = new FabricManager(deps, opts);
    await m.start();
    await check("first start after the upgrade");
    await m.stop();
    for (const [store, key] of [[FABRICS_STORE, "dc7"], [DRAFTS_STORE, `dc7/${SLOT}`]]) {
      const logged = await readAll(broker, changelogTopic(FGD_APP, store));
      assert.ok(logged.some((r) => r.key === key), `the seed is in the ${store} store's changelog`);
    }

    m = new FabricManager(deps, opts);
    await m.start();
    await check("restart");
    await m.stop();

    await waitFor(
      async () => (await broker.admin().describeGroup(FGD_APP)).members.length === 0,
      "the group is empty",
      15_000,
    );
    const topo = m.topology;
    await replay({ broker, group: FGD_APP, to: "earliest", inputs: topo.inputs, stores: topo.stores });
    m = new FabricManager(deps, opts);
    await m.start();
    await check("replay --to earliest");
  } finally {
    await m?.stop();
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("lzsync-fgd: a fabric unregistered and registered again by the task that started with it publishes its objects again", async () => {
  const server = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-rereg-" });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(broker, { data_dir: dataDir, landing_zone: { repo: server.url("fab") } });
  const opts = { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false };
  let m = new FabricManager(deps, opts);
  const latest = async () => {
    const out = new Map<string, FabricObject | null>();
    for (const r of await readAll<FabricObject>(broker, FGD_OBJECTS_TOPIC.name)) out.set(r.key!, r.value);
    return [...out.values()].filter((v) => v?.fabric === "dc8" && v.desired).length;
  };
  try {
    await server.createRepo("fab", { ...crdRepoFiles(), "fabrics/dc8/raw/f.yaml": FABRIC_YAML });
    await m.start();
    const reg = { id: "dc8", path: "fabrics/dc8", crd_dirs: ["fabrics/crds/hedgehog"] };
    await m.register(reg);
    await m.workers.get("dc8")!.trigger("test").done;
    const n = await latest();
    assert.ok(n >= 16, `${n} objects`);
    await m.stop();
    // a new task: its table of lz.fgd.objects.v1 holds dc8's records
    m = new FabricManager(deps, opts);
    await m.start();
    await m.unregister("dc8");
    assert.equal(await latest(), 0, "tombstoned");
    await m.register(reg);
    await m.workers.get("dc8")!.trigger("test").done;
    assert.equal(await latest(), n, "the same objects again, after their tombstones");
  } finally {
    await m.stop();
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** `p`, or a failure naming `what` after 30 s. */
async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} waited 30 s for another fabric's run`)), 30_000);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("lzsync-fgd: a fabric whose run hangs (its git host does not answer) holds up no other fabric's sync or edit", async () => {
  const server = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-slow-" });
  const broker = await createEmbeddedBroker();
  // a git host that takes every request and answers only when the test lets it
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let asked = 0;
  const stall = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    asked++;
    await gate;
    return new Response("unavailable", { status: 503 });
  });
  const crd_dirs = ["fabrics/crds/hedgehog"];
  const m = new FabricManager(
    testDeps(broker, {
      data_dir: dataDir,
      landing_zone: { repo: server.url("fab") },
      fabrics: [
        { id: "slow", repo: `http://127.0.0.1:${stall.addr.port}/slow.git`, path: "fabrics/slow", crd_dirs },
        { id: "dc1", path: "fabrics/dc1", crd_dirs },
      ],
    }),
    { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false },
  );
  try {
    await server.createRepo("fab", { ...crdRepoFiles(), "fabrics/dc1/raw/f.yaml": FABRIC_YAML });
    await m.start();
    await waitFor(
      () => Promise.resolve(asked > 0),
      "the slow fabric's start-up run reached its host",
      30_000,
    );
    const run = await within(m.workers.get("dc1")!.trigger("test").done, "dc1's sync");
    assert.notEqual(run.outcome, "failed", run.error ?? "");
    const saved = await within(
      m.workers.get("dc1")!.edit({
        op: "put",
        kind: "vpcs",
        name: "vpc-9",
        body: VPC,
        draftOnly: true,
        author: "bob",
      }),
      "dc1's edit",
    );
    assert.equal(saved.status, 202, JSON.stringify(saved.body));
    const runs = (await readAll<{ type: string; fabric: string }>(broker, "lz.fgd.results.v1"))
      .filter((r) => r.value?.type === "run" && r.value.fabric === "slow");
    assert.equal(runs.length, 0, "the slow fabric's run is still in flight");
  } finally {
    release();
    await m.stop();
    await stall.shutdown();
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
