import assert from "node:assert/strict";
import { createEmbeddedBroker } from "./broker/embedded/mod.ts";
import type { Broker } from "./broker/types.ts";
import { resolveConfig } from "./config.ts";
import { type CliDeps, runCli } from "./cli.ts";
import { decode, encode } from "./serde.ts";
import { readTopicToEnd } from "./broker/read_topic.ts";
import { AUDIT_TOPIC, type AuditRecord } from "../schemas/audit.ts";

Deno.test("lzsync replay is audited with the operator; lzsync audit --month reports that month only", async () => {
  const broker = await createEmbeddedBroker();
  const out: string[] = [];
  const err: string[] = [];
  const d: CliDeps = {
    loadRuntime: () => Promise.resolve(resolveConfig({}, {}, "defaults")),
    createBroker: () => Promise.resolve({ ...broker, close: () => Promise.resolve() } as Broker),
    start: () => Promise.resolve(),
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
  };
  try {
    await broker.admin().createTopics([
      { name: "lz.test.events.v1", partitions: 1 },
      { name: AUDIT_TOPIC.name, partitions: 1, compacted: true },
    ]);
    await broker.admin().setCommitted("g-audit", [{ topic: "lz.test.events.v1", partition: 0, offset: 0 }]);
    const old: AuditRecord = {
      id: "sync:old",
      kind: "sync",
      at: "2026-10-31T23:59:59.000Z",
      trigger: "webhook",
      delivery_id: "d-old",
      token_name: null,
      operator: null,
      subject: "acme/lz",
      sync_id: "old",
      commit: null,
      outcome: "failed",
      error: "GIT: unreachable",
      changed: 0,
      removed: 0,
      paths: [],
      target: null,
      message: "failed",
    };
    const p = await broker.producer();
    await p.send(AUDIT_TOPIC.name, [{ key: old.id, value: encode(AUDIT_TOPIC.name, old) }]);
    await p.close();
    assert.equal(
      await runCli(["replay", "--group", "g-audit", "--to", "earliest", "--operator", "alice"], d),
      0,
      err.join(),
    );
    const trail: AuditRecord[] = [];
    await readTopicToEnd(
      broker,
      AUDIT_TOPIC.name,
      (r) => void trail.push(decode<AuditRecord>(AUDIT_TOPIC.name, r.value)!),
    );
    const replayed = trail.find((r) => r.kind === "replay")!;
    assert.deepEqual([replayed.operator, replayed.subject, replayed.trigger], [
      "alice",
      "g-audit",
      "operator",
    ]);
    // while lzsync runs, the command runs inside it: the operator's name travels with the arguments
    let forwarded: string[] = [];
    const live: CliDeps = {
      ...d,
      remote: (_rt, args) => {
        forwarded = args;
        return Promise.resolve({ stdout: [], stderr: [], code: 0 });
      },
    };
    assert.equal(await runCli(["replay", "--group", "g-audit", "--to", "earliest"], live), 0);
    assert.ok(forwarded.some((a) => /^--operator=.+/.test(a)), JSON.stringify(forwarded));
    const month = new Date().toISOString().slice(0, 7);
    assert.equal(await runCli(["audit", "--month", month, "--json"], d), 0, err.join());
    const report = JSON.parse(out.at(-1)!);
    assert.equal(report.total, 1);
    assert.deepEqual(report.counts, { replay: { operator: { ok: 1 } } });
    assert.equal(await runCli(["audit", "--month", "2026-10"], d), 0);
    assert.match(out.at(-1)!, /audit 2026-10: 1 record/);
    assert.match(out.at(-1)!, /failed 2026-10-31T23:59:59.000Z sync acme\/lz: GIT: unreachable/);
    assert.equal(await runCli(["audit", "--month", "2026-13"], d), 2);
    assert.match(err.at(-1)!, /use YYYY-MM/);
    assert.equal(await runCli(["audit"], d), 2);
  } finally {
    await broker.close();
  }
});
