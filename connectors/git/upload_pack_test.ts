import assert from "node:assert/strict";
import { join } from "node:path";
import { startGitServer } from "../../pipeline/testing/git_server.ts";
import { openFabricRepo } from "./git_repo.ts";
import { indexPack } from "./upload_pack.ts";

async function git(args: string[], cwd: string, stdin?: Uint8Array): Promise<Uint8Array> {
  const p = new Deno.Command("git", {
    args,
    cwd,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = p.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await p.output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** Similar files over several commits (git packs them as deltas), one large, one binary, one non-ASCII name. */
function history(): Record<string, string | Uint8Array>[] {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) & 255;
  const commits: Record<string, string | Uint8Array>[] = [];
  for (let c = 0; c < 4; c++) {
    const files: Record<string, string | Uint8Array> = {};
    for (let i = 0; i < 60; i++) {
      files[`raw/f${i}.yaml`] =
        `apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: v${i}\n` +
        `spec:\n  subnets:\n    default: {subnet: 10.0.${i}.0/24, vlan: ${1000 + i + c}}\n` +
        "# pad\n".repeat(40);
    }
    files["big.txt"] = "line of a large file\n".repeat(8000 + c);
    files["bin.dat"] = Uint8Array.from({ length: 5000 }, rnd);
    files["dír/ñame.yaml"] = `k: ${c}\n`;
    commits.push(files);
  }
  return commits;
}

Deno.test("indexPack gives the .idx git index-pack writes, for OFS_DELTA and REF_DELTA packs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-upload-pack-" });
  try {
    const w = join(dir, "w");
    await Deno.mkdir(w);
    await git(["init", "--quiet", "-b", "main"], w);
    for (const [c, files] of history().entries()) {
      for (const [p, content] of Object.entries(files)) {
        await Deno.mkdir(join(w, p, ".."), { recursive: true });
        await Deno.writeFile(
          join(w, p),
          typeof content === "string" ? new TextEncoder().encode(content) : content,
        );
      }
      await git(["add", "--all"], w);
      await git(["-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", `c${c}`], w);
    }
    const objects = await git(["rev-list", "--objects", "--all"], w);
    for (const flags of [["--delta-base-offset"], []]) {
      const pack = await git(["pack-objects", "--stdout", "--window=50", ...flags], w, objects);
      const mine = indexPack(pack);
      await Deno.writeFile(join(dir, "p.pack"), pack);
      const printed = await git(["index-pack", "-o", join(dir, "p.idx"), join(dir, "p.pack")], dir);
      const theirs = await Deno.readFile(join(dir, "p.idx"));
      assert.deepEqual(mine.idx, theirs, `idx of a pack made with ${flags.join(" ") || "REF_DELTA"}`);
      assert.equal(mine.sha, new TextDecoder().decode(printed).trim()); // git prints the pack's name
    }
    // a damaged pack is refused, never indexed
    const pack = await git(["pack-objects", "--stdout"], w, objects);
    pack[pack.length >> 1] ^= 0xff;
    assert.throws(() => indexPack(pack), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("indexPack keeps every blob's content (deltas applied) when asked, within its byte budget", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-upload-pack-blobs-" });
  try {
    const w = join(dir, "w");
    await Deno.mkdir(w);
    await git(["init", "--quiet", "-b", "main"], w);
    for (const [c, files] of history().entries()) {
      for (const [p, content] of Object.entries(files)) {
        await Deno.mkdir(join(w, p, ".."), { recursive: true });
        await Deno.writeFile(
          join(w, p),
          typeof content === "string" ? new TextEncoder().encode(content) : content,
        );
      }
      await git(["add", "--all"], w);
      await git(["-c", "user.name=t", "-c", "user.email=t@x", "commit", "--quiet", "-m", `c${c}`], w);
    }
    const listed = new TextDecoder().decode(
      await git([
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
      ], w),
    ).trim().split("\n").map((l) => l.split(" "));
    const blobs = listed.filter(([, type]) => type === "blob");
    const total = blobs.reduce((n, [, , size]) => n + Number(size), 0);
    const objects = await git(["rev-list", "--objects", "--all"], w);
    for (const flags of [["--delta-base-offset"], []]) {
      const pack = await git(["pack-objects", "--stdout", "--window=50", ...flags], w, objects);
      const kept = indexPack(pack, total).blobs!;
      assert.equal(
        kept.size,
        blobs.length,
        `every blob of a pack made with ${flags.join(" ") || "REF_DELTA"}`,
      );
      for (const [oid] of blobs) assert.deepEqual(kept.get(oid), await git(["cat-file", "blob", oid], w));
      assert.equal(indexPack(pack, total - 1).blobs, undefined, "over the budget: none kept");
      assert.equal(indexPack(pack).blobs, undefined, "not asked: none kept");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the fabric repo fetches over upload-pack: a fresh clone, then only what is new; git fsck accepts the clone", async () => {
  const server = await startGitServer();
  const dir = await Deno.makeTempDir({ prefix: "lzsync-upload-fetch-" });
  try {
    const commits = history();
    await server.createRepo("r", { "README.md": "# r\n" });
    await server.commitAndPush("r", commits[0], "c0");
    const gitdir = join(dir, "own.git");
    const repo = await openFabricRepo({ repo: server.url("r"), branch: "main", gitdir });
    const check = async (files: Record<string, string | Uint8Array>) => {
      const head = await repo.fetch();
      assert.equal(head, await server.head("r"));
      assert.equal(
        new TextDecoder().decode(await git(["rev-parse", "refs/remotes/origin/main"], gitdir)).trim(),
        head,
      );
      await git(["fsck", "--strict", "--no-dangling"], gitdir);
      const tree = await repo.listTree(head!, "");
      for (const [p, content] of Object.entries(files)) {
        const want = typeof content === "string" ? new TextEncoder().encode(content) : content;
        assert.deepEqual(await repo.readBlob(tree.get(p)!.oid), want, p);
      }
    };
    await check(commits[0]);
    for (let c = 1; c < commits.length; c++) {
      await server.commitAndPush("r", commits[c], `c${c}`);
      await check(commits[c]);
    }
    const packs = [...Deno.readDirSync(join(gitdir, "objects", "pack"))].filter((e) =>
      e.name.endsWith(".pack")
    );
    assert.equal(packs.length, commits.length, "one pack per fetch of a new head");
    await check(commits.at(-1)!); // up to date: no request for a pack, no empty pack written
    const again = [...Deno.readDirSync(join(gitdir, "objects", "pack"))].filter((e) =>
      e.name.endsWith(".pack")
    );
    assert.equal(again.length, commits.length);
    assert.equal(
      await openFabricRepo({ repo: server.url("missing"), branch: "main", gitdir: join(dir, "m.git") })
        .then((r) => r.fetch()).catch((e) => e.message).then(String).then((m) => /HTTP 404|repo URL/.test(m)),
      true,
    );
    repo.close();
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
