import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort } from "./testing/free_port.ts";
import { runLzsync, startLzsync } from "./testing/lzsync_process.ts";

Deno.test("lag, topics, digest and replay work while lzsync runs on the embedded broker (admin API)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-cli-live-" });
  const env = { LZSYNC_DATA_DIR: join(dir, "data"), LZSYNC_PORT: String(freePort()) };
  const lz = await startLzsync(env);
  try {
    const admin = JSON.parse(await Deno.readTextFile(join(dir, "data", "admin.json")));
    assert.match(admin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await Deno.stat(join(dir, "data", "admin.json"))).mode! & 0o777, 0o600);

    const lag = await runLzsync(["lag", "--group", "lzsync-assets", "--json"], env);
    assert.equal(lag.code, 0, lag.stderr);
    const rows = JSON.parse(lag.stdout);
    assert.ok(rows.length > 0 && rows.every((r: { group: string }) => r.group === "lzsync-assets"));

    const topics = await runLzsync(["topics", "list"], env);
    assert.equal(topics.code, 0, topics.stderr);
    assert.match(topics.stdout, /lz\.assets\.v1\s+\d+\s+compact/);

    const digest = await runLzsync(["digest", "--group", "lzsync-assets", "--json"], env);
    assert.equal(digest.code, 0, digest.stderr);
    assert.match(JSON.parse(digest.stdout).digest, /^sha256:[0-9a-f]{64}$/);

    // The documented refusal, not "data directory in use": the group runs in that process.
    const replay = await runLzsync(["replay", "--group", "lzsync-assets", "--to", "earliest"], env);
    assert.equal(replay.code, 1);
    assert.match(
      replay.stderr,
      /group lzsync-assets has \d+ active member\(s\).*stop them, then run replay again/,
    );
    assert.doesNotMatch(replay.stderr, /in use by process/);

    // Process CPU and memory are on /metrics (issue 16, item 8).
    const metrics = await (await fetch(`${lz.url}/metrics`)).text();
    assert.match(metrics, /^process_cpu_seconds_total \d/m);
    assert.match(metrics, /^process_resident_memory_bytes \d{7,}/m);

    // The admin API wants the token from admin.json.
    const res = await fetch(`${admin.url}/v1/cli`, {
      method: "POST",
      body: JSON.stringify({ argv: ["lag"] }),
    });
    assert.equal(res.status, 401);
    assert.match((await res.json()).reason, /admin\.json/);
  } finally {
    assert.equal(await lz.stop(), 0, lz.stderr());
  }
  // Stopped: admin.json is gone and the CLI opens the data directory itself; replay now resets the group.
  await assert.rejects(Deno.stat(join(dir, "data", "admin.json")), Deno.errors.NotFound);
  const replay = await runLzsync(["replay", "--group", "lzsync-assets", "--to", "earliest", "--json"], env);
  assert.equal(replay.code, 0, replay.stderr);
  assert.equal(JSON.parse(replay.stdout).group, "lzsync-assets");
  await Deno.remove(dir, { recursive: true });
});
