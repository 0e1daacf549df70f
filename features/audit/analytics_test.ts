import assert from "node:assert/strict";
import { silentLogger } from "../../pipeline/log.ts";
import { openDuckDb } from "../../connectors/duckdb/engine.ts";
import { AUDIT_TOPIC } from "../../schemas/audit.ts";
import { auditRecord } from "./record.ts";

Deno.test("the audit trail is kept in the analytics tables: one DuckDB row per record, one column per field", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-audit-duckdb-" });
  try {
    const db = await openDuckDb({ path: `${dir}/a.duckdb`, log: silentLogger });
    try {
      const rec = auditRecord({
        id: "sync:s1",
        kind: "sync",
        at: "2026-11-02T10:00:05.000Z",
        trigger: "trigger",
        token_name: "portal-ci",
        subject: "acme/landing-zone",
        sync_id: "s1",
        outcome: "ok",
        changed: 2,
        paths: ["docs/a.md", "docs/b.md"],
        message: "synced",
      });
      const at = Date.parse(rec.at);
      db.add({ topic: AUDIT_TOPIC.name, partition: 0, offset: 0, timestamp: at, key: rec.id, value: rec });
      db.add({ topic: AUDIT_TOPIC.name, partition: 0, offset: 0, timestamp: at, key: rec.id, value: rec });
      await db.flush();
      const rows = await db.query(
        `SELECT id, kind, "trigger", token_name, outcome, changed, paths FROM raw_lz_audit_v1`,
      );
      assert.equal(rows.length, 1, "a re-delivered record is not a second row");
      assert.deepEqual(
        [
          rows[0].id,
          rows[0].kind,
          rows[0].trigger,
          rows[0].token_name,
          rows[0].outcome,
          Number(rows[0].changed),
        ],
        ["sync:s1", "sync", "trigger", "portal-ci", "ok", 2],
      );
      assert.match(String(rows[0].paths), /docs\/b\.md/);
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
