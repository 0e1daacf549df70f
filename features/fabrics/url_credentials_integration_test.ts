/**
 * A fabric registered by an older lzsync with the password inside its repo URL (`http://alice:pw@host/x.git`,
 * as stored before such URLs were refused): at start lzsync rewrites the registration without it (the
 * compacted topic then no longer holds the password), cleans the remote URL in the fabric's own clone, and
 * the fabric warns that it needs a credential reference; the gateway never shows the password — REST,
 * WebSocket and SSE snapshots, a WebSocket resumed from offset 0 (which replays the old record) — nor do
 * the logs. Real `git http-backend` demanding a token, real gateway.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { readTopicToEnd } from "../../pipeline/broker/read_topic.ts";
import { createLogger } from "../../pipeline/log.ts";
import { encode } from "../../pipeline/serde.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { type FabricRegistration, FGD_FABRICS_TOPIC, FGD_STATUS_TOPIC } from "../../schemas/fgd.ts";
import { encodeCursor } from "../../connectors/gateway/cursor.ts";
import { LiveClient, openSse, startTestGateway } from "../../connectors/gateway/testing.ts";
import { openFabricRepo } from "../../connectors/git/git_repo.ts";
import { buildFabricServices } from "./service.ts";
import { crdRepoFiles, FABRIC_YAML } from "./_test_util.ts";

const PASSWORD = "s3cret-pw-7f1c";

Deno.test("a registration stored with a password in its URL is cleaned at start and never shown", async () => {
  const server = await startGitServer({ auth: { token: PASSWORD } });
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-fgd-urlcred-" });
  const broker = await createEmbeddedBroker();
  const lines: string[] = [];
  const log = createLogger({ level: "debug", sink: (l) => lines.push(l) });
  try {
    await server.createRepo("fab", { ...crdRepoFiles(), "fabrics/dc9/raw/fabric.yaml": FABRIC_YAML });
    const clean = server.url("fab");
    const withPassword = clean.replace("http://", `http://alice:${PASSWORD}@`);
    // What an older lzsync left: the record on lz.fgd.fabrics.v1 and its own clone with that remote URL.
    const gitdir = join(dataDir, "fgd", "dc9.git");
    const old = await openFabricRepo({ repo: withPassword, branch: "main", gitdir });
    assert.ok(await old.fetch(), "the old URL worked (the server takes the password as Basic auth)");
    old.close();
    assert.match(await Deno.readTextFile(join(gitdir, "config")), new RegExp(PASSWORD));
    await broker.admin().createTopics([{ name: FGD_FABRICS_TOPIC.name, partitions: 1, compacted: true }]);
    const reg: FabricRegistration = {
      id: "dc9",
      repo: withPassword,
      branch: "main",
      path: "fabrics/dc9",
      crd_dirs: ["fabrics/crds/hedgehog"],
      rule_packs: ["hedgehog"],
      source: "api",
      registered_at: "2026-11-01T00:00:00.000Z",
    };
    const producer = await broker.producer();
    await producer.send(FGD_FABRICS_TOPIC.name, [{ key: "dc9", value: encode(FGD_FABRICS_TOPIC.name, reg) }]);
    await producer.close();

    const config = { data_dir: dataDir, landing_zone: { repo: clean } };
    const env = { LZSYNC_TOKEN: "adm" };
    const deps = { ...testDeps(broker, config, env), log };
    const fgd = buildFabricServices(deps, { scheduleMs: 0, kubeIntervalMs: 0, gitHints: false });
    for (const s of fgd.services) await s.start();
    const gw = await startTestGateway({ plugins: [fgd.plugin], broker, config, env, log });
    const clients: { close(): Promise<unknown> }[] = [];
    try {
      await fgd.manager.workers.get("dc9")!.trigger("test").done;
      await gw.waitReady();

      // The registration on the topic is the corrected one; after compaction the password is gone.
      const stored: (FabricRegistration | null)[] = [];
      const readAll = async () => {
        stored.length = 0;
        const raw: string[] = [];
        await readTopicToEnd(broker, FGD_FABRICS_TOPIC.name, (r) => {
          raw.push(r.value ? new TextDecoder().decode(r.value) : "null");
          stored.push(r.value ? JSON.parse(new TextDecoder().decode(r.value)) : null);
        });
        return raw.join("\n");
      };
      await readAll();
      assert.equal(stored.at(-1)?.repo, clean);
      assert.deepEqual(stored.at(-1)?.credential_removed, ["repo"]);
      (broker as unknown as { compact(t: string): number }).compact(FGD_FABRICS_TOPIC.name);
      assert.doesNotMatch(await readAll(), new RegExp(PASSWORD));

      // The own clone's remote URL is clean.
      const gitConfig = await Deno.readTextFile(join(gitdir, "config"));
      assert.doesNotMatch(gitConfig, new RegExp(PASSWORD));
      assert.match(gitConfig, new RegExp(`url = ${clean.replace(/[.]/g, "\\.")}`));

      // The fabric says it needs a credential reference (and fails to fetch without one).
      const res = await fetch(`${gw.url}/api/v1/fabrics/dc9`, { headers: { authorization: "Bearer adm" } });
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.doesNotMatch(text, new RegExp(PASSWORD));
      const status = JSON.parse(text);
      assert.equal(status.repo, clean);
      assert.match(
        status.warnings[0],
        /repo held credentials inside the URL .* name a token from the config's credentials/,
      );
      assert.equal(status.state, "error");
      assert.match(status.last_error, /HTTP 401/);
      const list =
        await (await fetch(`${gw.url}/api/v1/fabrics`, { headers: { authorization: "Bearer adm" } }))
          .text();
      assert.doesNotMatch(list, new RegExp(PASSWORD));

      // Live feeds: snapshots, and a resume from offset 0 that replays the old record from the broker.
      const topic = `${FGD_FABRICS_TOPIC.name},${FGD_STATUS_TOPIC.name}`;
      const ws = await LiveClient.open(gw.wsUrl, { topic, access_token: "adm" });
      clients.push(ws);
      await ws.waitFor((f) => f.type === "snapshot-end");
      assert.ok(ws.frames.some((f) => f.topic === FGD_FABRICS_TOPIC.name && f.key === "dc9"));
      const sse = await openSse(`${gw.url}/api/v1/events?topic=${topic}`, { authorization: "Bearer adm" });
      clients.push({ close: () => sse.stop() });
      const cursor = encodeCursor({ p: { [FGD_FABRICS_TOPIC.name]: [0] } });
      const resumed = await LiveClient.open(gw.wsUrl, {
        topic: FGD_FABRICS_TOPIC.name,
        access_token: "adm",
        cursor,
      });
      clients.push(resumed);
      await resumed.waitFor((f) =>
        f.key === "dc9" && (f.data as FabricRegistration).credential_removed !== undefined
      );
      const deadline = Date.now() + 5_000;
      while (!sse.frames.some((f) => f.data.type === "snapshot-end") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      for (
        const text of [JSON.stringify(ws.frames), JSON.stringify(sse.frames), JSON.stringify(resumed.frames)]
      ) {
        assert.doesNotMatch(text, new RegExp(PASSWORD));
      }
      assert.ok(sse.frames.some((f) => f.data.key === "dc9"));
    } finally {
      for (const c of clients) await c.close();
      await gw.stop();
      for (const s of fgd.services) await s.stop();
    }
    assert.ok(
      lines.some((l) => /removed credentials stored inside a fabric's URL/.test(l)),
      "the fix is logged",
    );
    assert.equal(lines.filter((l) => l.includes(PASSWORD)).length, 0, "no log line holds the password");
  } finally {
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
