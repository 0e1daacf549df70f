import assert from "node:assert/strict";
import { join } from "node:path";
import { lastChanges } from "./last_change.ts";

const ENV = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@x.invalid",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@x.invalid",
};

async function git(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, env: ENV, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

async function commit(dir: string, files: Record<string, string | null>, msg: string): Promise<string> {
  for (const [p, text] of Object.entries(files)) {
    if (text === null) await git(["rm", "-q", p], dir);
    else {
      await Deno.mkdir(join(dir, p, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, p), text);
      await git(["add", p], dir);
    }
  }
  await git(["commit", "-qm", msg], dir);
  return await git(["rev-parse", "HEAD"], dir);
}

Deno.test("lastChanges() answers like git log -1 --first-parent, through merges, mode changes and re-adds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await git(["init", "-q", "--initial-branch=main"], dir);
    await commit(dir, { "a.md": "a\n", "d/b.md": "b\n", "d/e/c.md": "c\n", "x.md": "x\n" }, "root");
    await commit(dir, { "d/b.md": "b2\n" }, "b2");
    await git(["checkout", "-q", "-b", "side"], dir);
    await commit(dir, { "d/e/c.md": "c2\n" }, "side c2");
    await git(["checkout", "-q", "main"], dir);
    await commit(dir, { "a.md": "a2\n" }, "a2");
    await git(["merge", "-q", "--no-ff", "-m", "merge side", "side"], dir);
    await commit(dir, { "x.md": null }, "rm x");
    await commit(dir, { "x.md": "x\n" }, "re-add x");
    await git(["update-index", "--chmod=+x", "d/b.md"], dir);
    await git(["commit", "-qm", "chmod b"], dir);
    await commit(dir, { "unrelated.txt": "u\n" }, "unrelated");
    const paths = ["a.md", "d/b.md", "d/e/c.md", "x.md", "unrelated.txt"];
    const head = await git(["rev-parse", "HEAD"], dir);
    const got = await lastChanges(join(dir, ".git"), head, paths);
    for (const p of paths) {
      assert.equal(got.get(p), await git(["log", "-1", "--first-parent", "--format=%H", "--", p], dir), p);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
