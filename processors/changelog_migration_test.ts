/**
 * Upgrade of the persisted state (issue 13, item 4): `testdata/changelog_v0.json` holds the changelogs of
 * `lzsync-assets` and `lzsync-policy` exactly as lzsync wrote them before the stores had codecs (compact field
 * names, no `lz-fmt` header; captured from main at the commit it names, with the digests that lzsync computed
 * then). Today's code must restore them to the same state, write them back in the readable format 1, and
 * restore that to the same state again.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../pipeline/broker/embedded/mod.ts";
import type { Broker } from "../pipeline/broker/types.ts";
import { digestGroup, readGroupState, topologyState } from "../pipeline/digest.ts";
import { createProcessorHost } from "../pipeline/processor/host.ts";
import { FMT_HEADER, MemoryStore, SRC_HEADER } from "../pipeline/processor/store.ts";
import { changelogTopic, type Topology } from "../pipeline/processor/types.ts";
import { silentLogger } from "../pipeline/log.ts";
import { decodeJson, encode } from "../pipeline/serde.ts";
import type { AssetState } from "../schemas/assets.ts";
import { asset } from "./policy/test_assets.ts";
import { assetsTopology } from "./assets/mod.ts";
import { policyTopology } from "./policy/mod.ts";
import { policyAssetCodec } from "./policy/codec.ts";
import { assetEntryCodec } from "./assets/codec.ts";

interface Captured {
  captured_from: string;
  groups: Record<
    string,
    {
      digest: string;
      stores: Record<string, { key: string; value: string | null; headers: Record<string, string> }[]>;
    }
  >;
}

const fixture: Captured = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/changelog_v0.json", import.meta.url)),
);
const topologies: Topology[] = [assetsTopology() as Topology, policyTopology() as Topology];

/** Writes the captured changelog records of `app` to the changelogs of `as` (same partitions, keys, headers). */
async function load(broker: Broker, app: string, as = app): Promise<void> {
  const p = await broker.producer();
  for (const [store, rows] of Object.entries(fixture.groups[app].stores)) {
    const topic = changelogTopic(as, store);
    await broker.admin().createTopics([{ name: topic, partitions: 1, compacted: true }]);
    if (rows.length === 0) continue;
    await p.send(
      topic,
      rows.map((r) => ({
        key: r.key,
        value: r.value === null ? null : new TextEncoder().encode(r.value),
        headers: r.headers,
        partition: 0,
      })),
    );
  }
  await p.close();
}

Deno.test("changelogs written before the codecs restore to the same state and digest (lzsync-assets, lzsync-policy)", async () => {
  const broker = await createEmbeddedBroker();
  try {
    for (const t of topologies) {
      const rows = Object.values(fixture.groups[t.app].stores).flat();
      assert.ok(
        rows.length > 0 && rows.every((r) => r.headers[FMT_HEADER] === undefined),
        "format-0 fixture",
      );
      await load(broker, t.app);
      const d = await digestGroup({ broker, ...topologyState(t) });
      assert.equal(d.digest, fixture.groups[t.app].digest, `${t.app}: digest as lzsync computed it then`);
    }
  } finally {
    await broker.close();
  }
});

Deno.test("restored format-0 state is written back readable (format 1) and restores to the same digest", async () => {
  const broker = await createEmbeddedBroker();
  try {
    for (const t of topologies) {
      await load(broker, t.app);
      const state = await readGroupState({ broker, ...topologyState(t) });
      // Rewrite every entry through the store, as a checkpoint does, into the changelogs of a second group.
      const copy = `${t.app}-migrated`;
      const p = await broker.producer();
      for (const store of t.stores) {
        const s = new MemoryStore(store, t.codecs?.[store]);
        for (const [k, v] of state.get(store)!.get(0) ?? []) s.put(k, v);
        const recs = s.takeChangelog(0, { "lz.assets.v1:0": 1 });
        const topic = changelogTopic(copy, store);
        await broker.admin().createTopics([{ name: topic, partitions: 1, compacted: true }]);
        if (recs.length) await p.send(topic, recs);
        if (t.codecs?.[store] && recs.length) {
          assert.ok(recs.every((r) => r.headers?.[FMT_HEADER] === "1" && r.headers?.[SRC_HEADER]));
        }
      }
      await p.close();
      const d = await digestGroup({ broker, group: copy, stores: t.stores, codecs: t.codecs });
      assert.equal(d.digest, fixture.groups[t.app].digest, `${t.app}: format 1 restores to the same state`);
    }
    // What format 1 looks like on disk: readable names, the asset record as an object.
    const reader = broker.reader({ topics: ["lzsync-policy-migrated-assets-changelog"], from: "earliest" });
    const values: Record<string, unknown>[] = [];
    await reader.run((b) => {
      for (const r of b.records) values.push(decodeJson(r.value!));
      return Promise.resolve();
    });
    const until = Date.now() + 5_000;
    while (values.length < 40 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await reader.stop();
    const vm0 = values.find((v) =>
      (v.results as Record<string, unknown>)["cis-gcp-4.9-vm-public-ip"] &&
      (v.asset as { project_id: string }).project_id === "proj-0" &&
      (v.asset as { type: string }).type === "compute.googleapis.com/Instance"
    )!;
    assert.deepEqual(Object.keys(vm0.asset as object).sort(), [
      "labels",
      "location",
      "project_id",
      "project_number",
      "type",
    ]);
    const r = (vm0.results as Record<string, Record<string, unknown>>)["cis-gcp-4.9-vm-public-ip"];
    assert.equal(r.passed, false);
    assert.equal(r.first_seen, "2024-05-01T10:00:00.000Z");
    assert.match(String(r.message), /has an external IP/);
    assert.deepEqual((vm0.results as Record<string, unknown>)["cis-gcp-4.4-os-login"], { passed: true });
  } finally {
    await broker.close();
  }
});

Deno.test("a host started over a format-0 changelog restores it and checkpoints format 1; mixed changelogs digest as the host", async () => {
  const broker = await createEmbeddedBroker();
  const t = policyTopology() as Topology;
  try {
    await load(broker, t.app);
    const host = createProcessorHost({ broker, log: silentLogger }, t, { retries: 1, backoffMs: 10 });
    await host.start();
    const topic = changelogTopic(t.app, "assets");
    try {
      const until = Date.now() + 20_000;
      while (host.digest() !== fixture.groups[t.app].digest && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(host.digest(), fixture.groups[t.app].digest, "the running host restored format 0");
      // The captured state applied lz.assets.v1 up to offset 39: offset 40 is a new observation.
      const bucket = asset("storage.googleapis.com/Bucket", "migrated-bucket", { iamConfiguration: {} });
      const v: AssetState = {
        type: "resource_created",
        name: bucket.name,
        asset: bucket,
        source: "api",
        snapshot_id: "s2",
        message_id: null,
        changed_at: "2024-05-02T10:00:00.000Z",
        observed_at: "2024-05-02T10:00:00.000Z",
      };
      const p = await broker.producer();
      await p.send(
        "lz.assets.v1",
        Array.from({ length: 41 }, () => ({ key: bucket.name, value: encode("lz.assets.v1", v) })),
      );
      await p.close();
      const [before] = await broker.admin().topicOffsets(topic);
      while ((await broker.admin().topicOffsets(topic))[0].high === before.high && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.notEqual(host.digest(), fixture.groups[t.app].digest, "the new asset is in the state");
      const d = await digestGroup({ broker, ...topologyState(t) });
      assert.equal(
        d.digest,
        host.digest(),
        "a changelog of format 0 and format 1 records digests as the host",
      );
    } finally {
      await host.stop();
    }
    const reader = broker.reader({ topics: [topic], from: "earliest" });
    const fmts: (string | undefined)[] = [];
    await reader.run((b) => {
      for (const r of b.records) fmts.push(r.headers[FMT_HEADER]);
      return Promise.resolve();
    });
    const until = Date.now() + 5_000;
    while (fmts.length < 41 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await reader.stop();
    assert.deepEqual(fmts.slice(0, 40), Array(40).fill(undefined), "format 0 records stay as they were");
    assert.ok(fmts.length > 40 && fmts.slice(40).every((f) => f === "1"), "new checkpoints write format 1");
  } finally {
    await broker.close();
  }
});

Deno.test("a changelog format newer than this lzsync is refused with the reason, not misread", () => {
  assert.throws(
    () => policyAssetCodec.decode({}, 2),
    /format 2, newer than this lzsync knows \(1\); upgrade/,
  );
  assert.throws(() => assetEntryCodec.decode({}, 7), /format 7, newer than this lzsync knows/);
  const s = new MemoryStore("assets", policyAssetCodec);
  assert.throws(
    () => s.restoreWritten("k", { a: {}, r: {} }, "9"),
    /CHANGELOG_FORMAT|newer than this lzsync/,
  );
});
