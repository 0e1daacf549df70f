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
