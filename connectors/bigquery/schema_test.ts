import assert from "node:assert/strict";
import { silentLogger } from "../../pipeline/log.ts";
import { analyticsTables } from "../../pipeline/analytics/tables.ts";
import { openDuckDb } from "../duckdb/engine.ts";
import { bigQueryFields, bigQueryTable } from "./schema.ts";

/** What each DuckDB column type is in BigQuery (stated here, independently of either engine's mapping). */
const SAME_TYPE: Record<string, string> = {
  "VARCHAR": "STRING",
  "BIGINT": "INT64",
  "DOUBLE": "FLOAT64",
  "BOOLEAN": "BOOL",
  "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
  "DATE": "DATE",
  "JSON": "JSON",
};

Deno.test("the DuckDB tables (as created in a real DuckDB) and the BigQuery schemas agree column by column", async () => {
  const db = await openDuckDb({ path: ":memory:", log: silentLogger });
  try {
    const tables = analyticsTables().filter((t) => t.kind !== "internal");
    assert.ok(tables.length >= 20, `only ${tables.length} tables`);
    for (const t of tables) {
      const duck = await db.query(
        `SELECT column_name AS name, data_type AS type, is_nullable = 'YES' AS nullable
         FROM information_schema.columns WHERE table_name = '${t.name}' ORDER BY ordinal_position`,
      );
      const bq = bigQueryFields(t);
      assert.deepEqual(
        bq.map((f) => f.name),
        duck.map((c) => c.name),
        `${t.name}: column names or order differ`,
      );
      for (const [i, f] of bq.entries()) {
        const c = duck[i];
        assert.equal(
          SAME_TYPE[c.type as string],
          f.type,
          `${t.name}.${f.name}: DuckDB ${c.type} vs BigQuery ${f.type}`,
        );
        assert.equal(
          c.nullable ? "NULLABLE" : "REQUIRED",
          f.mode,
          `${t.name}.${f.name}: nullability differs`,
        );
      }
    }
  } finally {
    await db.close();
  }
});

Deno.test("BigQuery tables are partitioned by day on a TIMESTAMP or DATE column and clustered by their key", () => {
  for (const t of analyticsTables().filter((t) => t.kind !== "internal")) {
    const spec = bigQueryTable(t);
    const field = (n: string) => spec.schema.fields.find((f) => f.name === n);
    assert.ok(spec.timePartitioning, `${t.name} is not partitioned`);
    assert.ok(["TIMESTAMP", "DATE"].includes(field(spec.timePartitioning.field)!.type), t.name);
    for (const c of spec.clustering?.fields ?? []) {
      assert.ok(field(c) && !["JSON", "FLOAT64"].includes(field(c)!.type), `${t.name} clusters on ${c}`);
    }
  }
  const raw = bigQueryTable(analyticsTables().find((t) => t.name === "raw_lz_assets_v1")!);
  assert.deepEqual([raw.timePartitioning, raw.clustering], [{ type: "DAY", field: "ts" }, {
    fields: ["key"],
  }]);
});
