/**
 * Tokens restricted to fabric ids (`gateway.tokens[].fabrics`): writes and reads of other fabrics answer 403
 * with a JSON reason, the fabric list holds only theirs, and their WebSocket and SSE feeds (snapshot, live
 * and resumed frames) carry only their fabrics' records of the `lz.fgd.*` topics. Real gateway, the sample
 * fabric dc1 and a second fabric dc2 registered over the API.
 */
import assert from "node:assert/strict";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { LiveClient, openSse, startTestGateway } from "../../connectors/gateway/testing.ts";
import type { LiveEvent } from "../../connectors/gateway/plugin.ts";
import { buildFabricServices } from "./service.ts";
import { auditPlugin } from "../audit/plugin.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";

const FGD = [
  "lz.audit.v1",
  "lz.fgd.fabrics.v1",
  "lz.fgd.status.v1",
  "lz.fgd.objects.v1",
  "lz.fgd.unmanaged.v1",
  "lz.fgd.results.v1",
  "lz.fgd.progress.v1",
];

/** The fabric a frame is about (its data names it on every lz.fgd.* topic). */
const fabricOf = (f: LiveEvent): string | undefined => {
  const d = f.data as { id?: string; fabric?: string; subject?: string } | null;
  if (f.topic === "lz.audit.v1") return d?.subject;
  return d?.fabric ?? d?.id ?? f.key?.split(/[/:]/)[0];
};

let vpcs = 0;
/** A valid VPC whose subnet and VLAN no other VPC of the test uses. */
const VPC = (name: string) => {
  const n = ++vpcs;
  return `apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: ${name}\nspec:\n  subnets:\n    default:\n      subnet: 10.0.${
    200 + n
  }.0/24\n      vlan: ${2900 + n}\n`;
};

Deno.test("a token restricted to fabric dc1 writes and reads only dc1 (REST, WebSocket, SSE)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-scope-" });
  const broker = await createEmbeddedBroker();
  const config = {
    data_dir: dataDir,
    gateway: {
      anonymous_reads: "never",
      tokens: [
        { name: "dc1-ops", token_env: "DC1_TOKEN", scopes: ["read", "write", "trigger"], fabrics: ["dc1"] },
        { name: "dc1-admin", token_env: "DC1_ADMIN", scopes: ["admin"], fabrics: ["dc1"] },
      ],
    },
  };
  const env = { LZSYNC_TOKEN: "adm", DC1_TOKEN: "t1", DC1_ADMIN: "a1" };
  const deps = testDeps(broker, config, env);
  const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
  for (const s of fgd.services) await s.start();
  const gw = await startTestGateway({ plugins: [fgd.plugin, auditPlugin()], broker, config, env });
  const call = async (token: string, method: string, path: string, body?: string) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/yaml" },
      body,
    });
    return { status: res.status, body: await res.json() };
  };
  const clients: { close(): Promise<unknown> }[] = [];
  try {
    await fgd.manager.workers.get("dc1")!.trigger("test").done;
    const reg = await call(
      "adm",
      "POST",
      "/api/v1/fabrics",
      JSON.stringify({ id: "dc2", path: "fabrics/dc2" }),
    );
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    await fgd.manager.workers.get("dc2")!.trigger("test").done;
    const dc2Vpc = await call(
      "adm",
      "PUT",
      "/api/v1/fabrics/dc2/objects/vpcs/vpc-two?draft=true",
      VPC("vpc-two"),
    );
    assert.equal(dc2Vpc.status, 202, JSON.stringify(dc2Vpc.body));
    await gw.waitReady();

    // REST: 403 with a reason for every route naming dc2, whatever the scope; dc1 works.
    const refused: [string, string, string, string?][] = [
      ["t1", "GET", "/api/v1/fabrics/dc2"],
      ["t1", "GET", "/api/v1/fabrics/dc2/objects"],
      ["t1", "GET", "/api/v1/fabrics/dc2/objects/vpcs/vpc-two"],
      ["t1", "GET", "/api/v1/fabrics/dc2/unmanaged"],
      ["t1", "GET", "/api/v1/fabrics/dc2/findings"],
      ["t1", "POST", "/api/v1/fabrics/dc2/sync"],
      ["t1", "PUT", "/api/v1/fabrics/dc2/objects/vpcs/vpc-x", VPC("vpc-x")],
      ["t1", "DELETE", "/api/v1/fabrics/dc2/objects/vpcs/vpc-two"],
      ["t1", "DELETE", "/api/v1/fabrics/dc2/drafts/vpcs/vpc-two"],
      ["t1", "GET", "/api/v1/fabrics/nope"], // existence of other fabrics is not revealed either
      ["a1", "DELETE", "/api/v1/fabrics/dc2"],
      ["a1", "POST", "/api/v1/fabrics", JSON.stringify({ id: "dc3", path: "fabrics/dc3" })],
    ];
    for (const [token, method, path, body] of refused) {
      const r = await call(token, method, path, body);
      assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, "forbidden");
      assert.match(
        r.body.reason,
        /token "dc1-(ops|admin)" is restricted to fabric dc1; (dc2|dc3|nope) is not one/,
      );
    }
    assert.equal(fgd.manager.workers.has("dc3"), false);
    assert.equal((await call("adm", "GET", "/api/v1/fabrics/dc2/objects/vpcs/vpc-two")).status, 200);
    const list = await call("t1", "GET", "/api/v1/fabrics");
    assert.deepEqual(list.body.fabrics.map((f: { id: string }) => f.id), ["dc1"]);
    const all = await call("adm", "GET", "/api/v1/fabrics");
    assert.deepEqual(all.body.fabrics.map((f: { id: string }) => f.id), ["dc1", "dc2"]);
    assert.equal((await call("t1", "GET", "/api/v1/fabrics/dc1/objects")).status, 200);
    const put = await call(
      "t1",
      "PUT",
      "/api/v1/fabrics/dc1/objects/vpcs/vpc-one?draft=true",
      VPC("vpc-one"),
    );
    assert.equal(put.status, 202, JSON.stringify(put.body));

    // The audit trail: fabric records of dc1 only for the restricted token.
    const subjects = async (token: string) => {
      const r = await call(token, "GET", "/api/v1/audit?kind=fabric_write&limit=1000");
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return [...new Set(r.body.records.map((x: { subject: string }) => x.subject))].sort();
    };
    assert.deepEqual(await subjects("t1"), ["dc1"]);
    assert.deepEqual(await subjects("adm"), ["dc1", "dc2", "dc3"]);

    // Live feeds: snapshots hold only dc1 for the restricted token, both fabrics for the admin.
    const topic = FGD.join(",");
    const mine = await LiveClient.open(gw.wsUrl, { topic, access_token: "t1" });
    const admin = await LiveClient.open(gw.wsUrl, { topic, access_token: "adm" });
    clients.push(mine, admin);
    const sse = await openSse(`${gw.url}/api/v1/events?topic=${topic}`, { authorization: "Bearer t1" });
    clients.push({ close: () => sse.stop() });
    assert.equal(sse.status, 200);
    const snapEnd = (f: LiveEvent) => f.type === "snapshot-end";
    await mine.waitFor(snapEnd);
    await admin.waitFor(snapEnd);
    const snapFabrics = (frames: LiveEvent[]) =>
      [...new Set(frames.filter((f) => f.snapshot).map(fabricOf))].sort();
    assert.deepEqual(snapFabrics(admin.frames), ["dc1", "dc2", "dc3"]); // dc3: the refused registration, audited
    assert.deepEqual(snapFabrics(mine.frames), ["dc1"]);
    assert.ok(mine.frames.some((f) => f.topic === "lz.fgd.objects.v1" && f.key?.startsWith("dc1/")));

    // Live: a dc2 sync and edit reach the admin only; a later dc1 sync reaches both.
    const s2 = await call("adm", "POST", "/api/v1/fabrics/dc2/sync");
    await admin.waitFor((f) => f.topic === "lz.fgd.progress.v1" && f.key === s2.body.sync_id, 10_000);
    await call("adm", "PUT", "/api/v1/fabrics/dc2/objects/vpcs/vpc-three?draft=true", VPC("vpc-three"));
    await admin.waitFor((f) => !f.snapshot && f.key === "dc2/vpcs/default/vpc-three", 10_000);
    const cursor = mine.lastCursor()!;
    const s1 = await call("t1", "POST", "/api/v1/fabrics/dc1/sync");
    assert.equal(s1.status, 202);
    const done1 = (f: LiveEvent) =>
      f.topic === "lz.fgd.progress.v1" && f.key === s1.body.sync_id &&
      (f.data as { done?: boolean }).done === true;
    await mine.waitFor(done1, 10_000);
    const deadline = Date.now() + 10_000;
    while (!sse.frames.some((f) => done1(f.data)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(sse.frames.some((f) => done1(f.data)), "the SSE client saw dc1's sync end");
    assert.ok(admin.live().some((f) => fabricOf(f) === "dc2"), "dc2 frames were sent (to the admin)");
    assert.deepEqual([...new Set(mine.frames.filter((f) => f.topic !== "~gateway").map(fabricOf))], ["dc1"]);
    assert.deepEqual([
      ...new Set(sse.frames.map((f) => f.data).filter((f) => f.topic !== "~gateway").map(fabricOf)),
    ], ["dc1"]);

    // Resuming from a cursor taken before the dc2 changes replays dc1's records only.
    const resumed = await LiveClient.open(gw.wsUrl, { topic, access_token: "t1", cursor });
    clients.push(resumed);
    await resumed.waitFor(done1, 10_000);
    assert.deepEqual([...new Set(resumed.frames.filter((f) => f.topic !== "~gateway").map(fabricOf))], [
      "dc1",
    ]);
  } finally {
    for (const c of clients) await c.close();
    await gw.stop();
    for (const s of fgd.services) await s.stop();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
