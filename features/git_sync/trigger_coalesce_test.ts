/**
 * Issue 10, item 5: manual triggers coalesce. 400 triggers against a real git smart-HTTP server do not cause
 * 400 git fetches: one run in flight plus one queued, every other trigger is answered with the queued run's
 * `sync_id`, and every id answered reaches `completed`.
 */
import assert from "node:assert/strict";
import type { SyncProgress } from "../../schemas/sync_progress.ts";
import { STACK_REPO, startGitStack } from "./testing.ts";

const TOKEN = "stack-admin-token";
const auth = { authorization: `Bearer ${TOKEN}` };

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!await ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("manual triggers coalesce: 400 triggers, a handful of git fetches, every sync_id completes", async () => {
  const open = { rate_per_s: 10_000, burst: 10_000 }; // the limits are tested elsewhere; here: coalescing
  const s = await startGitStack({
    token: TOKEN,
    config: { gateway: { rate_limits: { trigger: { ip: open, token: open } } } },
  });
  try {
    await waitFor("the start-up sync", () => s.syncs.length >= 1);
    await s.git.commitAndPush(STACK_REPO, { "docs/new.md": "# new\n" }, "new doc");
    const syncsBefore = s.syncs.length;
    const requestsBefore = s.git.requests;
    const trigger = async () => {
      const r = await fetch(`${s.gw.url}/api/v1/sync/trigger`, { method: "POST", headers: auth });
      assert.equal(r.status, 202);
      return await r.json() as { sync_id: string; coalesced: boolean; status_url: string };
    };
    const answers: { sync_id: string; coalesced: boolean; status_url: string }[] = [];
    for (let i = 0; i < 400; i += 50) answers.push(...await Promise.all(Array.from({ length: 50 }, trigger)));
    const ids = [...new Set(answers.map((a) => a.sync_id))];
    await waitFor("every answered sync to finish", async () => {
      const states = await Promise.all(ids.map(async (id) => {
        const r = await fetch(`${s.gw.url}/api/v1/sync/syncs/${id}`, { headers: auth });
        return r.status === 200 ? (await r.json() as SyncProgress) : (await r.body?.cancel(), null);
      }));
      return states.every((p) => p?.done === true);
    });
    const fetches = s.syncs.length - syncsBefore;
    const gitRequests = s.git.requests - requestsBefore;
    console.log(
      `400 triggers → ${ids.length} distinct sync_id(s), ${fetches} git fetch(es), ${gitRequests} git HTTP request(s); ` +
        `${answers.filter((a) => a.coalesced).length} answered coalesced`,
    );
    assert.ok(ids.length <= 10, `400 triggers must not mean ${ids.length} syncs`);
    assert.ok(fetches <= ids.length, "at most one fetch per distinct sync");
    assert.ok(fetches >= 1, "the triggers did fetch");
    assert.ok(gitRequests <= 4 * ids.length, `${gitRequests} git requests`);
    assert.equal(answers.filter((a) => a.coalesced).length, 400 - ids.length);
    const last = await fetch(answers.at(-1)!.status_url, { headers: auth });
    const done = await last.json() as SyncProgress;
    assert.equal(done.phase, "completed", "the last trigger's sync ran after the commit and completed");
    // Once nothing is queued, the next trigger is a new sync.
    const fresh = await trigger();
    assert.ok(!ids.includes(fresh.sync_id));
    assert.equal(fresh.coalesced, false);
  } finally {
    await s.stop();
  }
});
