import assert from "node:assert/strict";
import { join } from "node:path";
import { runLzsync } from "./testing/lzsync_process.ts";

Deno.test("lzsync start on a port in use names the port and LZSYNC_PORT and creates no data directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-port-" });
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (held.addr as Deno.NetAddr).port;
  try {
    const env = { LZSYNC_DATA_DIR: join(dir, "data"), LZSYNC_PORT: String(port) };
    const r = await runLzsync(["start"], env);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is already in use`),
    );
    assert.match(r.stderr, /LZSYNC_PORT=\d+ or gateway\.port in lzsync\.yaml/);
    assert.doesNotMatch(r.stderr, /os error 98|\n\s+at /, "one readable line, no stack");
    await assert.rejects(Deno.stat(join(dir, "data")), Deno.errors.NotFound);
  } finally {
    held.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lzsync help lists demo-push, <command> --help prints that command's help, tables come alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-help-" });
  const env = { LZSYNC_DATA_DIR: join(dir, "data") };
  try {
    const help = await runLzsync(["--help"], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^\s+demo-push \[--url U\]/m);

    const lag = await runLzsync(["lag", "--help"], env);
    assert.equal(lag.code, 0);
    assert.match(lag.stdout, /^usage: deno task lzsync lag/);
    assert.match(lag.stdout, /lag \[--group G\]/);
    assert.doesNotMatch(lag.stdout, /topics create|replay/, "only lag's help");
    const replay = await runLzsync(["help", "replay"], env);
    assert.match(
      replay.stdout,
      /replay --group G --to earliest\|<ISO time>\|<duration>\n\s+reset a stopped group/,
    );
    const demo = await runLzsync(["demo-push", "--help"], env);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /^usage: deno task lzsync demo-push/);

    assert.equal((await runLzsync(["topics", "create", "lz.help.test.v1"], env)).code, 0);
    const list = await runLzsync(["topics", "list"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^TOPIC\s+PARTITIONS\s+CLEANUP\n/);
    assert.doesNotMatch(list.stdout + list.stderr, /"level":"info"/, "no JSON info logs around the table");
    const rows = JSON.parse((await runLzsync(["lag", "--json"], env)).stdout);
    assert.deepEqual(rows, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
