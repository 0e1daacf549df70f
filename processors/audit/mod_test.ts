import assert from "node:assert/strict";
import { createTestDriver } from "../../pipeline/processor/driver.ts";
import { requestPush } from "../../features/git_sync/service.ts";
import type { GitPush } from "../../schemas/git_push.ts";
import type { SyncProgress } from "../../schemas/sync_progress.ts";
import type { AuditRecord } from "../../schemas/audit.ts";
import type { FgdResult } from "../../schemas/fgd.ts";
import { AUDIT_WAIT_MS, auditTopology, RUNS_STORE } from "./mod.ts";

const REPO = "acme/landing-zone";
const C = "c".repeat(40);
const push = (syncId: string, o: Partial<GitPush> = {}): GitPush => ({
  ...requestPush(REPO, "main", "trigger", syncId, Date.UTC(2026, 10, 2)),
  ...o,
});
const done = (syncId: string, o: Partial<SyncProgress> = {}): SyncProgress => ({
  sync_id: syncId,
  layer: "git",
  phase: "completed",
  done: true,
  repo: REPO,
  commit: C,
  changed: 2,
  removed: 1,
  message: "synced 2 changed and 1 removed path(s)",
  at: "2026-11-02T10:00:05.000Z",
  ...o,
});
const audits = (d: ReturnType<typeof createTestDriver>) =>
  d.forwarded("lz.audit.v1").map((r) => r.value as AuditRecord);

Deno.test("audit: a sync run names the webhook delivery or the trigger's token, whichever side comes first", async () => {
  const d = createTestDriver(auditTopology());
  try {
    await d.pipe("lz.git.push.v1", REPO, push("s1", { source: "webhook", delivery_id: "gh-123" }));
    await d.pipe("lz.sync.progress.v1", "s1", done("s1", { phase: "fetching", done: false }));
    assert.equal(audits(d).length, 0);
    await d.pipe("lz.sync.progress.v1", "s1", done("s1"));
    // progress first (a replay may read that topic's backlog before the pushes)
    await d.pipe("lz.sync.progress.v1", "s2", done("s2", { phase: "failed", message: "GIT: cannot fetch" }));
    await d.pipe("lz.git.push.v1", REPO, push("s2", { token_name: "portal-ci" }));
    const [a1, a2] = audits(d);
    assert.deepEqual(
      [
        a1.id,
        a1.kind,
        a1.trigger,
        a1.delivery_id,
        a1.token_name,
        a1.commit,
        a1.outcome,
        a1.changed,
        a1.removed,
      ],
      ["sync:s1", "sync", "webhook", "gh-123", null, C, "ok", 2, 1],
    );
    assert.deepEqual([a2.id, a2.trigger, a2.token_name, a2.outcome, a2.error], [
      "sync:s2",
      "trigger",
      "portal-ci",
      "failed",
      "GIT: cannot fetch",
    ]);
    assert.equal(d.store(RUNS_STORE).size, 0);
  } finally {
    await d.close();
  }
});

Deno.test("audit: a run whose push never comes is audited as unknown after the wait; an orphan push is dropped", async () => {
  const d = createTestDriver(auditTopology());
  try {
    const t0 = Date.UTC(2026, 10, 2);
    await d.pipe("lz.sync.progress.v1", "lost", done("lost", { changed: 0, removed: 0 }), { timestamp: t0 });
    await d.pipe("lz.git.push.v1", REPO, push("coalesced", { source: "schedule" }), { timestamp: t0 });
    assert.equal(audits(d).length, 0);
    await d.pipe("lz.git.push.v1", REPO, push("later"), { timestamp: t0 + AUDIT_WAIT_MS + 1 });
    const [a] = audits(d);
    assert.deepEqual([a.id, a.trigger, a.outcome], ["sync:lost", "unknown", "unchanged"]);
    assert.deepEqual([...d.store(RUNS_STORE).entries()].map(([k]) => k), ["later"]);
  } finally {
    await d.close();
  }
});

Deno.test("audit: fabric runs that wrote, failed or were asked for are audited as fabric_sync; unchanged polls are not", async () => {
  const d = createTestDriver(auditTopology());
  const run = (
    syncId: string,
    trigger: string,
    outcome: "committed" | "unchanged" | "failed",
  ): FgdResult => ({
    type: "run",
    fabric: "dc1",
    sync_id: syncId,
    path: "fabrics/dc1",
    document: null,
    outcome,
    targets: [],
    kind: null,
    name: null,
    commit: outcome === "committed" ? C : null,
    findings: [],
    run: {
      sync_id: syncId,
      trigger,
      outcome,
      started_at: "2026-11-02T10:00:00.000Z",
      finished_at: "2026-11-02T10:00:02.000Z",
      duration_ms: 2000,
      attempts: outcome === "failed" ? 5 : 1,
      base: null,
      commit: outcome === "committed" ? C : null,
      files: 3,
      created: outcome === "committed" ? 4 : 0,
      updated: outcome === "committed" ? 1 : 0,
      rejected: 0,
      error: outcome === "failed" ? "the branch main kept moving" : null,
    },
    at: "2026-11-02T10:00:02.000Z",
  });
  try {
    await d.pipe("lz.fgd.results.v1", "dc1", run("f1", "push webhook", "committed"));
    await d.pipe("lz.fgd.results.v1", "dc1", run("f2", "schedule", "unchanged"));
    await d.pipe("lz.fgd.results.v1", "dc1", run("f3", "api", "unchanged"));
    await d.pipe("lz.fgd.results.v1", "dc1", run("f4", "schedule", "failed"));
    // file and object results of a run are not audited on their own
    await d.pipe("lz.fgd.results.v1", "dc1", {
      ...run("f1", "push webhook", "committed"),
      type: "file",
      run: null,
    });
    const got = audits(d).map((a) => [a.id, a.kind, a.trigger, a.outcome, a.changed, a.commit, a.at]);
    assert.deepEqual(got, [
      ["fabric_sync:dc1:f1", "fabric_sync", "webhook", "ok", 5, C, "2026-11-02T10:00:02.000Z"],
      ["fabric_sync:dc1:f3", "fabric_sync", "trigger", "unchanged", 0, null, "2026-11-02T10:00:02.000Z"],
      ["fabric_sync:dc1:f4", "fabric_sync", "schedule", "failed", 0, null, "2026-11-02T10:00:02.000Z"],
    ]);
    assert.match(audits(d)[2].error ?? "", /kept moving/);
  } finally {
    await d.close();
  }
});
