/**
 * The Portal repository topology in the test driver, writing to a real git server: catch-up collapsing, the
 * reports forwarded at the punctuation, the stored desired revision, a replay that commits nothing, a
 * transient failure retried with backoff, and a refusal sent to the DLQ. (The driver leaves sink flushes to
 * the test, as the host does them at each checkpoint.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEmbeddedBroker } from "../../pipeline/broker/embedded/mod.ts";
import { createTestDriver, type TestDriver } from "../../pipeline/processor/driver.ts";
import type { Topology } from "../../pipeline/processor/types.ts";
import { testDeps } from "../../pipeline/testing/deps.ts";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { LzError } from "../../pipeline/errors.ts";
import { GIT_FILES_TOPIC, type GitCommitMarker, type GitFile } from "../../schemas/git_files.ts";
import type { AuditRecord } from "../../schemas/audit.ts";
import type { SyncEvent } from "../../schemas/sync_events.ts";
import { createPortalRepo, DESIRED_STORE, type PortalDesired, type PortalRepoOptions } from "./topology.ts";
import { gitOut, lzFile, lzMarker, treePaths } from "./_test_util.ts";

const LZ = "acme/landing-zone";
const C1 = "1".repeat(40);
const C2 = "2".repeat(40);
const FILES = GIT_FILES_TOPIC.name;

const marker = (commit: string, syncedAt: string): GitCommitMarker => ({
  ...lzMarker(LZ, commit, `change ${commit[0]}`),
  sync_id: `s-${commit[0]}`,
  synced_at: syncedAt,
});
const M1 = marker(C1, "2026-11-02T10:00:01.000Z");
const M2 = marker(C2, "2026-11-02T11:00:01.000Z");

async function setup(o: { auth?: string; token?: string } = {}) {
  const server = await startGitServer(o.auth ? { auth: { token: o.auth } } : {});
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-portal-topo-" });
  await server.createRepo("acme/portal", { "README.md": "# Portal\n" });
  const broker = await createEmbeddedBroker();
  const deps = testDeps(
    broker,
    { data_dir: dataDir, portal_repo: { repo: server.url("acme/portal") } },
    o.token ? { PORTAL_REPO_TOKEN: o.token } : {},
  );
  const cfg = deps.runtime.config.portal_repo!;
  const gitdir = join(server.root, "acme/portal.git");
  const built: { close(): void }[] = [];
  const drive = (opts: PortalRepoOptions = {}, tables: GitCommitMarker[] = []) => {
    const p = createPortalRepo(deps, cfg, { lzRepo: LZ, tickMs: 100, ...opts });
    built.push(p.writer);
    const d = createTestDriver(p.topology as Topology, {
      tables: { [FILES]: tables.map((m) => ({ key: m.repo, value: m })) },
    });
    return { d, writer: p.writer };
  };
  const commits = async () => Number(await gitOut(gitdir, "rev-list", "--count", "main"));
  const close = async () => {
    for (const w of built) w.close();
    await broker.close();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  };
  return { server, gitdir, drive, commits, close };
}

const desired = (d: TestDriver) => d.store<PortalDesired>(DESIRED_STORE).get(LZ);
const audits = (d: TestDriver) => d.forwarded("lz.audit.v1").map((r) => r.value as AuditRecord);
const events = (d: TestDriver) => d.forwarded("lz.sync.events.v1").map((r) => r.value as SyncEvent);

async function pipeSync(d: TestDriver, files: GitFile[], m: GitCommitMarker) {
  for (const f of files) await d.pipe(FILES, `${f.repo}:${f.path}`, f);
  await d.pipe(FILES, m.repo, m);
}

const sync1 = [lzFile(LZ, "docs/a.md", "# A\n", C1), lzFile(LZ, "docs/old.md", "# old\n", C1)];
const sync2 = [lzFile(LZ, "docs/a.md", "# A2\n", C2)];

Deno.test("portal topology: catch-up writes only the latest revision, once; reports go out at the punctuation; a replay commits nothing", async () => {
  const t = await setup();
  try {
    const { d, writer } = t.drive({}, [M2]);
    await pipeSync(d, sync1, M1);
    assert.equal(writer.requested, false, "M1 is history: the topic already held M2 at start");
    assert.equal(desired(d)?.marker.commit, C1);
    await pipeSync(d, sync2, M2);
    await d.pipe(FILES, `${LZ}:docs/old.md`, null); // a deletion after the marker: not in M2's request
    assert.equal(writer.requested, true);
    await writer.flush();
    assert.equal(await t.commits(), 2, "one Portal commit for both Landing Zone commits");
    assert.match(await gitOut(t.gitdir, "log", "-1", "--format=%B", "main"), new RegExp(C2));
    assert.ok((await treePaths(t.gitdir)).includes("docs/lz-reference/old.md"));
    assert.equal(audits(d).length, 0, "reports wait for the punctuation");
    await d.advance(100);
    assert.deepEqual(audits(d).map((a) => [a.kind, a.outcome, a.commit]), [["portal_write", "ok", C2]]);
    assert.deepEqual(events(d).map((e) => [e.layer, e.ok, e.items]), [["portal", true, 2]]);
    assert.deepEqual(desired(d), {
      marker: M2,
      source: { partition: 0, offset: 4 },
      state: "written",
      attempts: 0,
      error: null,
    });
    await d.advance(10_000);
    assert.equal(writer.requested, false, "a written revision is not written again");
    await d.close();

    // the same records into empty stores (what `replay --to earliest` does): the same state, no new commit
    const r = t.drive({}, [M2]);
    await pipeSync(r.d, [...sync1, ...sync2], M2);
    await r.d.pipe(FILES, `${LZ}:docs/old.md`, null);
    await r.writer.flush();
    await r.d.advance(100);
    assert.equal(await t.commits(), 2);
    assert.deepEqual(audits(r.d).map((a) => a.outcome), ["unchanged"]);
    assert.equal(desired(r.d)?.state, "written");
    await r.d.close();
  } finally {
    await t.close();
  }
});

Deno.test("portal topology: a transient failure is reported and retried with backoff until it lands", async () => {
  const t = await setup();
  try {
    let reads = 0;
    const big = new TextEncoder().encode("# big\n");
    const read = (f: GitFile) => {
      reads++;
      if (reads < 3) {
        return Promise.reject(
          new LzError("PORTAL_CONTENT", `cannot read ${f.path}: not in the mirror yet`, { retriable: true }),
        );
      }
      return Promise.resolve(big);
    };
    const { d, writer } = t.drive({ read, retryMs: 1_000 });
    const ref: GitFile = {
      ...lzFile(LZ, "docs/big.md", "# big\n", C1),
      content: null,
      encoding: null,
      content_ref: {
        kind: "git-blob",
        repo: LZ,
        commit: C1,
        blob_sha: lzFile(LZ, "x", "# big\n", C1).blob_sha,
        path: "docs/big.md",
      },
    };
    await pipeSync(d, [ref], M1);
    await writer.flush();
    await d.advance(100);
    assert.deepEqual(audits(d).map((a) => a.outcome), ["failed"]);
    assert.equal(events(d)[0].ok, false);
    assert.match(events(d)[0].error ?? "", /not in the mirror yet/);
    assert.deepEqual([desired(d)?.state, desired(d)?.attempts], ["pending", 1]);
    await d.advance(800);
    assert.equal(writer.requested, false, "the first retry waits 1 s");
    await d.advance(200);
    assert.equal(writer.requested, true);
    assert.equal(desired(d)?.attempts, 2);
    await writer.flush();
    await d.advance(1_000);
    assert.equal(writer.requested, false, "the second retry waits 2 s");
    await d.advance(1_100);
    assert.equal(writer.requested, true);
    await writer.flush();
    await d.advance(100);
    assert.deepEqual(audits(d).map((a) => a.outcome), ["failed", "failed", "ok"]);
    assert.deepEqual([desired(d)?.state, desired(d)?.attempts, desired(d)?.error], ["written", 0, null]);
    assert.equal(await gitOut(t.gitdir, "show", "main:docs/lz-reference/big.md"), "# big");
    assert.equal(d.dlq().length, 0);
    await d.close();
  } finally {
    await t.close();
  }
});

Deno.test("portal topology: a refusal (HTTP 401) goes to the DLQ with the reason and is not retried", async () => {
  const t = await setup({ auth: "right-token", token: "wrong-token" });
  try {
    const { d, writer } = t.drive({ retryMs: 100 });
    await pipeSync(d, sync1, M1);
    await writer.flush();
    await d.advance(100);
    const [dead] = d.dlq();
    assert.ok(dead, "a DLQ record");
    assert.match(dead.error, /HTTP 401/);
    assert.ok(!dead.error.includes("wrong-token"), "no secret in the reason");
    assert.deepEqual([dead.stage, dead.source], ["lzsync-portal-repo", {
      topic: FILES,
      partition: 0,
      offset: 2,
    }]);
    assert.equal(dead.original.key, LZ);
    assert.equal(
      JSON.parse(
        new TextDecoder().decode(Uint8Array.from(atob(dead.original.value_base64!), (c) => c.charCodeAt(0))),
      )
        .commit,
      C1,
    );
    assert.deepEqual(audits(d).map((a) => a.outcome), ["failed"]);
    assert.equal(desired(d)?.state, "failed");
    await d.advance(120_000);
    assert.equal(writer.requested, false, "not retried");
    assert.equal(d.dlq().length, 1);
    // the next Landing Zone commit is tried again
    await pipeSync(d, sync2, M2);
    assert.equal(writer.requested, true);
    await d.close();
  } finally {
    await t.close();
  }
});

Deno.test("portal topology: a deleted Landing Zone branch is audited as skipped and leaves the Portal alone", async () => {
  const t = await setup();
  try {
    const { d, writer } = t.drive();
    await pipeSync(d, sync1, M1);
    await writer.flush();
    await d.advance(100);
    const head = await t.server.head("acme/portal");
    d.clear();
    const gone: GitCommitMarker = { ...marker(C2, "2026-11-02T12:00:01.000Z"), commit: null };
    await d.pipe(FILES, LZ, gone);
    assert.equal(writer.requested, false);
    assert.deepEqual(audits(d).map((a) => [a.outcome, a.id]), [["skipped", "portal:s-2:skipped"]]);
    assert.match(audits(d)[0].message, /branch main was deleted/);
    assert.equal(events(d).length, 0, "no sync event for a skipped write");
    assert.equal(desired(d)?.state, "skipped");
    await d.advance(120_000);
    assert.equal(writer.requested, false, "not retried");
    assert.equal(await t.server.head("acme/portal"), head);
    await d.close();
  } finally {
    await t.close();
  }
});
