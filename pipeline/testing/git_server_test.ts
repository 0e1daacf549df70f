import assert from "node:assert/strict";
import fs from "node:fs";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { startGitServer } from "./git_server.ts";

const author = { name: "iso", email: "iso@lzsync.invalid" };

Deno.test("git server: isomorphic-git clones, sees a helper push on fetch, and pushes back", async () => {
  const server = await startGitServer();
  const dir = await Deno.makeTempDir({ prefix: "lzsync-clone-" });
  try {
    const first = await server.createRepo("lz", { "README.md": "hello\n", "docs/a.md": "# A\n" });
    await git.clone({ fs, http, dir, url: server.url("lz"), ref: "main", singleBranch: true });
    assert.equal(await git.resolveRef({ fs, dir, ref: "HEAD" }), first);
    assert.equal(await Deno.readTextFile(`${dir}/docs/a.md`), "# A\n");

    const second = await server.commitAndPush("lz", { "docs/a.md": "# A2\n", "README.md": null }, "edit");
    await git.fetch({ fs, http, dir, url: server.url("lz"), ref: "main", singleBranch: true });
    assert.equal(await git.resolveRef({ fs, dir, ref: "refs/remotes/origin/main" }), second);

    await git.checkout({ fs, dir, ref: "main" });
    await git.merge({ fs, dir, ours: "main", theirs: "origin/main", fastForwardOnly: true, author });
    await git.checkout({ fs, dir, ref: "main", force: true });
    await Deno.writeTextFile(`${dir}/docs/b.md`, "# B\n");
    await git.add({ fs, dir, filepath: "docs/b.md" });
    const third = await git.commit({ fs, dir, message: "from iso", author });
    const res = await git.push({ fs, http, dir, url: server.url("lz"), ref: "main" });
    assert.equal(res.ok, true);
    assert.equal(await server.head("lz"), third);

    // The helper builds on what isomorphic-git pushed.
    const fourth = await server.commitAndPush("lz", { "docs/c.md": "# C\n" }, "after iso");
    const log = await git.log({
      fs,
      dir: `${server.root}/lz.git`,
      gitdir: `${server.root}/lz.git`,
      ref: "main",
    });
    assert.deepEqual(log.slice(0, 4).map((c) => c.oid), [fourth, third, second, first]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await server.stop();
  }
});

Deno.test("git server: force-push rewrites history and deleteBranch removes a branch", async () => {
  const server = await startGitServer();
  try {
    const first = await server.createRepo("r", { "a.txt": "1" });
    await server.commitAndPush("r", { "a.txt": "2" }, "two");
    const rewritten = await server.commitAndPush("r", { "b.txt": "x" }, "rewrite", { parent: first });
    assert.equal(await server.head("r"), rewritten);
    const commit = await git.readCommit({ fs, gitdir: `${server.root}/r.git`, oid: rewritten });
    assert.deepEqual(commit.commit.parent, [first]);

    const feature = await server.commitAndPush("r", { "f.txt": "f" }, "feature", { branch: "feature" });
    assert.equal(await server.head("r", "feature"), feature);
    await server.deleteBranch("r", "feature");
    assert.equal(await server.head("r", "feature"), undefined);
  } finally {
    await server.stop();
  }
});

Deno.test("git server: with auth, clone and fetch need the token (basic or bearer), 401 without", async () => {
  const server = await startGitServer({ auth: { token: "s3cret" } });
  const dir = await Deno.makeTempDir({ prefix: "lzsync-clone-" });
  try {
    const sha = await server.createRepo("private", { "x.md": "x" });
    await assert.rejects(
      git.clone({ fs, http, dir: `${dir}/no`, url: server.url("private"), singleBranch: true }),
      (e: Error) => /401|HttpError/.test(`${e.name} ${e.message}`),
    );
    await git.clone({
      fs,
      http,
      dir: `${dir}/yes`,
      url: server.url("private"),
      singleBranch: true,
      onAuth: () => ({ username: "x-access-token", password: "s3cret" }),
    });
    assert.equal(await git.resolveRef({ fs, dir: `${dir}/yes`, ref: "HEAD" }), sha);
    await git.fetch({
      fs,
      http,
      dir: `${dir}/yes`,
      url: server.url("private"),
      singleBranch: true,
      headers: { authorization: "Bearer s3cret" },
    });
    const bad = await fetch(`${server.url("private")}/info/refs?service=git-upload-pack`, {
      headers: { authorization: "Bearer wrong" },
    });
    await bad.body?.cancel();
    assert.equal(bad.status, 401);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await server.stop();
  }
});
