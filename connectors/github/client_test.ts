import assert from "node:assert/strict";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { createGitHubClient, STATUS_CONTEXT } from "./client.ts";
import { startTestApiServer } from "./_test_api_server.ts";

Deno.test("octokit client sets the lzsync/portal status and lists changed files via Compare", async () => {
  const git = await startGitServer();
  const first = await git.createRepo("acme/lz", { "docs/a.md": "a", "docs/old.md": "o", "pmo.yaml": "x" });
  const second = await git.commitAndPush("acme/lz", {
    "docs/a.md": "a2",
    "docs/b.md": "b",
    "pmo.yaml": null,
  }, "second");
  const api = startTestApiServer({ token: "ghp_test", repos: { "acme/lz": `${git.root}/acme/lz.git` } });
  try {
    const gh = createGitHubClient({ owner: "acme", repo: "lz", baseUrl: api.url, token: "ghp_test" });
    assert.equal(await gh.getCommitStatus(second), null, "no lzsync/portal status yet");
    await gh.setCommitStatus(
      second,
      "success",
      "Synced to the Portal: 2 files",
      "http://portal/api/v1/sync/git",
    );
    assert.deepEqual(api.statuses, [{
      owner: "acme",
      repo: "lz",
      sha: second,
      body: {
        state: "success",
        context: STATUS_CONTEXT,
        description: "Synced to the Portal: 2 files",
        target_url: "http://portal/api/v1/sync/git",
      },
    }]);
    assert.deepEqual(await gh.getCommitStatus(second), {
      state: "success",
      description: "Synced to the Portal: 2 files",
      target_url: "http://portal/api/v1/sync/git",
    });
    assert.equal(await gh.getCommitStatus(second, "ci/other"), null, "another context's latest is its own");
    const paths = await gh.compare(first, second);
    assert.deepEqual(paths, {
      added: ["docs/b.md"],
      modified: ["docs/a.md"],
      removed: ["pmo.yaml"],
      truncated: false,
      from: "compare",
    });
  } finally {
    await api.stop();
    await git.stop();
  }
});

Deno.test("octokit client errors say what to fix and never carry the token", async () => {
  const api = startTestApiServer({ token: "ghp_right", repos: {}, failStatuses: 1 });
  try {
    const wrong = createGitHubClient({ owner: "acme", repo: "lz", baseUrl: api.url, token: "ghp_wrong" });
    await assert.rejects(wrong.setCommitStatus("a".repeat(40), "success", "x"), (e: Error) => {
      assert.match(e.message, /HTTP 401.*token/);
      assert.ok(!e.message.includes("ghp_wrong"));
      return true;
    });
    const right = createGitHubClient({ owner: "acme", repo: "lz", baseUrl: api.url, token: "ghp_right" });
    await assert.rejects(right.setCommitStatus("a".repeat(40), "success", "x"), /HTTP 502/);
    await assert.rejects(right.setCommitStatus("a".repeat(40), "success", "x"), /HTTP 404.*owner\/repo/);
  } finally {
    await api.stop();
  }
});
