import assert from "node:assert/strict";
import { resolveConfig } from "../../pipeline/config.ts";
import type { AuditRecord } from "../../schemas/audit.ts";
import { auditRecord } from "../audit/record.ts";
import { portalRepoStatus } from "./plugin.ts";

const write = (
  at: string,
  outcome: AuditRecord["outcome"],
  message: string,
  target: string | null,
  error?: string,
) =>
  auditRecord({
    id: `portal:${at}`,
    kind: "portal_write",
    at,
    trigger: "sync",
    subject: "https://github.com/acme/portal.git",
    outcome,
    message,
    target,
    commit: "a".repeat(40),
    error: error ?? null,
  });

function configured(...a: Parameters<typeof portalRepoStatus>) {
  const st = portalRepoStatus(...a);
  if (!st.configured) throw new Error("expected a configured sink");
  return st;
}

Deno.test("portalRepoStatus() shows the open pull request, then its closing; an error only while it is the latest", () => {
  const cfg = resolveConfig({
    portal_repo: { repo: "https://github.com/acme/portal.git", mode: "pull_request" },
  })
    .config.portal_repo!;
  const url = "https://github.com/acme/portal/pull/7";
  const now = Date.parse("2026-11-02T10:10:00Z");
  const opened = write(
    "2026-11-02T10:00:00.000Z",
    "ok",
    "pr_opened abc on the Portal after 1 attempt(s); pull request #7 open, auto-merge on",
    url,
  );
  let st = configured(cfg, [opened], now);
  assert.deepEqual(st.pull_request, { url, number: 7, state: "open", auto_merge: true, at: opened.at });
  assert.equal(st.freshness_seconds, 600);
  const failed = write("2026-11-02T10:05:00.000Z", "failed", "GIT: cannot fetch", null, "GIT: cannot fetch");
  st = configured(cfg, [opened, failed], now);
  assert.equal(st.last_error, "GIT: cannot fetch");
  const closed = write(
    "2026-11-02T10:06:00.000Z",
    "ok",
    "pr_closed def on the Portal after 1 attempt(s); pull request #7 closed",
    url,
  );
  st = configured(cfg, [opened, failed, closed], now);
  assert.deepEqual([st.pull_request?.state, st.last_error], ["closed", null]);
  assert.deepEqual(portalRepoStatus(undefined, [], now).configured, false);
});
