import assert from "node:assert/strict";
import type { Broker } from "./broker/types.ts";
import { resolveConfig } from "./config.ts";
import { silentLogger } from "./log.ts";
import { type CliDeps, runCli } from "./cli.ts";
import { openDuckDb } from "../connectors/duckdb/engine.ts";
import { assetRecord, T0 } from "../connectors/duckdb/_fixtures.ts";

Deno.test("lzsync sql runs one read-only statement on the DuckDB file (table or --json) and refuses writes", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/analytics.duckdb`;
  try {
    const w = await openDuckDb({ path, log: silentLogger });
    w.add(assetRecord(0, "a", "resource_created", T0));
    w.add(assetRecord(1, "b", "resource_created", T0));
    await w.flush();
    await w.close();
    const out: string[] = [];
    const err: string[] = [];
    const d: CliDeps = {
      loadRuntime: () => Promise.resolve(resolveConfig({ data_dir: dir })),
      createBroker: () => Promise.reject(new Error("sql needs no broker")) as Promise<Broker>,
      start: () => Promise.resolve(),
      analytics: async () => {
        const db = await openDuckDb({ path, log: silentLogger, readOnly: true });
        return { reader: db, close: () => db.close() };
      },
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
    };
    assert.equal(
      await runCli(["sql", `SELECT key, "offset" FROM raw_lz_assets_v1 ORDER BY key`], d),
      0,
      err.join(),
    );
    assert.match(out.at(-1)!, /^KEY\s+OFFSET\na\s+0\nb\s+1\n\(2 rows\)$/);
    assert.equal(await runCli(["sql", "SELECT COUNT(*) AS n FROM assets_history", "--json"], d), 0);
    assert.deepEqual(JSON.parse(out.at(-1)!), [{ n: 2 }]);
    assert.equal(await runCli(["sql", "DROP TABLE assets_history"], d), 1);
    assert.match(err.at(-1)!, /only SELECT and EXPLAIN/);
    assert.equal(await runCli(["sql"], d), 2);
    assert.match(err.at(-1)!, /sql needs one quoted statement/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
