import assert from "node:assert/strict";
import { join } from "node:path";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { silentLogger } from "../../pipeline/log.ts";
import { compileMapping } from "./mapping.ts";
import { desiredState } from "./plan.ts";
import { PortalClone } from "./repo.ts";
import { createPortalPulls } from "./pulls.ts";
import { writePullRequest } from "./pull_request.ts";
import { startFakeGitHub } from "./_test_github.ts";
import { gitOut, lzFile, lzMarker, treePaths } from "./_test_util.ts";
import { resolveConfig } from "../../pipeline/config.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";
import { STACK_REPO, startGitStack } from "../git_sync/testing.ts";
import { createPortalRepoHost } from "./topology.ts";

const META = "config/lz-config/sync-metadata.json";
const LZ = "acme/landing-zone";
const C = (n: number) => String(n).repeat(40);
const TOKEN = "gh-test-token";
const author = { name: "lzsync", email: "lzsync@example.com" };
const mapping = compileMapping([{ from: "docs/**", to: "docs/lz-reference/" }], META);
const noBlob = () => Promise.reject(new Error("inline only"));
const desired = (n: number, files: Record<string, string>) =>
  desiredState(
    Object.entries(files).map(([p, c]) => lzFile(LZ, p, c, C(n))),
    lzMarker(LZ, C(n), `change ${n}`),
    mapping,
    META,
    noBlob,
  );

async function setup() {
  const server = await startGitServer();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-portal-pr-" });
  await server.createRepo("acme/portal", { "README.md": "# Portal\n", "docs/guide.md": "# guide\n" });
  const gitdir = join(server.root, "acme/portal.git");
  const gh = startFakeGitHub({ owner: "acme", repo: "portal", gitdir, token: TOKEN });
  const pulls = createPortalPulls({ owner: "acme", repo: "portal", baseUrl: gh.url, token: TOKEN });
  const clone = new PortalClone({ repo: server.url("acme/portal"), branch: "main", dataDir });
  const write = async (d: ReturnType<typeof desired>, autoMerge = true) =>
    await writePullRequest(
      {
        base: await clone.open(),
        head: await clone.open("lzsync/sync"),
        gitdir: clone.gitdir,
        baseBranch: "main",
        prBranch: "lzsync/sync",
      },
      pulls,
      mapping,
      d,
      { author, autoMerge, mergeMethod: "squash" },
      silentLogger,
    );
  const calls = () => {
    const out = gh.requests.map((r) => `${r.method} ${r.path}`);
    gh.requests.length = 0;
    return out;
  };
  const close = async () => {
    clone.close();
    await gh.stop();
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  };
  return { server, gh, gitdir, write, calls, close };
}

Deno.test("pull_request mode: one branch, one PR updated per LZ commit, auto-merge, base never written", async () => {
  const t = await setup();
  try {
    t.gh.requiredChecks = true;
    const mainBefore = await t.server.head("acme/portal");
    const r1 = await t.write(desired(1, { "docs/a.md": "# A\n" }));
    assert.equal(r1.outcome, "pr_opened");
    assert.deepEqual(t.calls(), [
      "GET /repos/acme/portal/pulls",
      "POST /repos/acme/portal/pulls",
      "POST /graphql",
    ]);
    assert.deepEqual([r1.pr?.number, r1.pr?.auto_merge, t.gh.pulls[0].auto_merge], [1, true, {
      merge_method: "squash",
    }]);
    assert.equal(await t.server.head("acme/portal"), mainBefore, "the target branch is not written");
    assert.equal(await t.server.head("acme/portal", "lzsync/sync"), r1.commit);
    assert.ok((await treePaths(t.gitdir, "lzsync/sync")).includes("docs/lz-reference/a.md"));
    assert.equal(t.gh.pulls[0].head, "lzsync/sync");
    assert.match(t.gh.pulls[0].body, new RegExp(`\`${C(1)}\` change 1`));

    // a second Landing Zone commit: one commit on the same branch, the same PR updated, both sources listed
    const r2 = await t.write(desired(2, { "docs/a.md": "# A\n", "docs/b.md": "# B\n" }));
    assert.equal(r2.outcome, "pr_updated");
    assert.deepEqual(t.calls(), ["GET /repos/acme/portal/pulls", "PATCH /repos/acme/portal/pulls/1"]);
    assert.equal(await gitOut(t.gitdir, "rev-parse", "lzsync/sync^"), r1.commit);
    assert.equal(t.gh.pulls.length, 1);
    assert.match(t.gh.pulls[0].body, new RegExp(`${C(1)}[^]*${C(2)}`));

    // the same sync again: nothing pushed, the PR left alone
    const again = await t.write(desired(2, { "docs/a.md": "# A\n", "docs/b.md": "# B\n" }));
    assert.equal(again.outcome, "unchanged");
    assert.deepEqual(t.calls(), ["GET /repos/acme/portal/pulls"]);
    assert.equal(await t.server.head("acme/portal", "lzsync/sync"), r2.commit);

    // someone commits on main meanwhile: a merge commit of main's new head, their commit is kept
    const theirs = await t.server.commitAndPush(
      "acme/portal",
      { "docs/guide.md": "# edited\n" },
      "edit guide",
    );
    const r3 = await t.write(desired(3, { "docs/a.md": "# A2\n", "docs/b.md": "# B\n" }));
    assert.equal(r3.outcome, "pr_updated");
    assert.equal(await t.server.head("acme/portal"), theirs);
    const parents = (await gitOut(t.gitdir, "rev-list", "--parents", "-n1", "lzsync/sync")).split(" ").slice(
      1,
    );
    assert.deepEqual(parents.sort(), [theirs, r2.commit!].sort());
    assert.equal(await gitOut(t.gitdir, "show", "lzsync/sync:docs/guide.md"), "# edited");
    assert.equal(await gitOut(t.gitdir, "show", "lzsync/sync:docs/lz-reference/a.md"), "# A2");
    const diff = await gitOut(t.gitdir, "diff", "--name-only", "main...lzsync/sync");
    assert.deepEqual(diff.split("\n").sort(), [META, "docs/lz-reference/a.md", "docs/lz-reference/b.md"]);
  } finally {
    await t.close();
  }
});

Deno.test("pull_request mode: the PR is closed when the diff becomes empty; merged at once without checks", async () => {
  const t = await setup();
  try {
    const d1 = desired(1, { "docs/a.md": "# A\n" });
    t.gh.requiredChecks = true;
    await t.write(d1);
    t.calls();
    // the same content reaches main another way: nothing left to merge, the PR is closed
    await t.server.commitAndPush("acme/portal", { "docs/lz-reference/a.md": "# A\n" }, "by hand");
    const closed = await t.write(d1);
    assert.deepEqual([closed.outcome, closed.pr?.state], ["pr_closed", "closed"]);
    assert.deepEqual(t.calls(), ["GET /repos/acme/portal/pulls", "PATCH /repos/acme/portal/pulls/1"]);
    assert.equal(t.gh.pulls[0].state, "closed");
    assert.equal((await t.write(d1)).outcome, "unchanged");
    t.calls();

    // no required checks: GitHub refuses auto-merge ("clean status"), so lzsync merges now
    t.gh.requiredChecks = false;
    const r = await t.write(desired(2, { "docs/a.md": "# A\n", "docs/c.md": "# C\n" }));
    assert.deepEqual([r.outcome, r.pr?.number, r.pr?.state], ["pr_opened", 2, "closed"]);
    assert.deepEqual(t.calls(), [
      "GET /repos/acme/portal/pulls",
      "POST /repos/acme/portal/pulls",
      "POST /graphql",
      "PUT /repos/acme/portal/pulls/2/merge",
    ]);
    assert.ok(t.gh.pulls[1].merged);
    assert.equal(await gitOut(t.gitdir, "show", "main:docs/lz-reference/c.md"), "# C");
    // merged: the next run has nothing to do
    assert.equal(
      (await t.write(desired(2, { "docs/a.md": "# A\n", "docs/c.md": "# C\n" }))).outcome,
      "unchanged",
    );
  } finally {
    await t.close();
  }
});

Deno.test("pull_request mode through the sink: webhook → fetch → broker → PR opened, updated, audited", async () => {
  const s = await startGitStack();
  await s.git.createRepo("acme/portal", { "README.md": "# Portal\n" });
  const gh = startFakeGitHub({
    owner: "acme",
    repo: "portal",
    gitdir: join(s.git.root, "acme/portal.git"),
    token: TOKEN,
  });
  gh.requiredChecks = true;
  const cfg = resolveConfig({
    portal_repo: {
      repo: s.git.url("acme/portal"),
      mode: "pull_request",
      github: { owner: "acme", repo: "portal", api_url: gh.url },
    },
  }).config.portal_repo!;
  const deps = {
    ...s.gw.deps,
    runtime: { ...s.gw.deps.runtime, secret: (n: string) => n === "PORTAL_REPO_TOKEN" ? TOKEN : undefined },
  };
  const outcomes: string[] = [];
  const sink = createPortalRepoHost(deps, cfg, {
    onWrite: (w) => void outcomes.push(w.result?.outcome ?? w.error!),
  });
  try {
    await sink.start();
    await waitFor(() => outcomes.includes("pr_opened"), "the PR of the first sync", 30_000, () => outcomes);
    const c2 = await s.git.commitAndPush(STACK_REPO, { "docs/more.md": "# More\n" }, "docs: more");
    await s.deliverPush(c2, { deliveryId: "d-pr" });
    await waitFor(() => outcomes.includes("pr_updated"), "the PR update", 30_000, () => outcomes);
    assert.equal(gh.pulls.length, 1);
    assert.match(gh.pulls[0].body, new RegExp(`${s.first}[^]*${c2}`));
    assert.ok(gh.pulls[0].auto_merge);
    assert.equal(
      await gitOut(join(s.git.root, "acme/portal.git"), "show", "lzsync/sync:docs/lz-reference/more.md"),
      "# More",
    );
    assert.ok(gh.requests.every((r) => r.path.startsWith("/repos/acme/portal/") || r.path === "/graphql"));
  } finally {
    await sink.stop();
    await gh.stop();
    await s.stop();
  }
});
