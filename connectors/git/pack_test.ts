import assert from "node:assert/strict";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import {
  buildPack,
  commitObject,
  gitObject,
  STORE_BELOW,
  treeObject,
  writePack,
  zlibStored,
} from "./pack.ts";

async function git(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

Deno.test("buildPack writes a pack and index git verifies (CRCs, offsets, objects) and reads back byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-pack-" });
  try {
    await git(["init", "--quiet", "--bare", "r.git"], dir);
    const gitdir = join(dir, "r.git");
    // small and large, text and binary, one empty and one that deflate cannot shrink
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) & 255;
    const contents: Uint8Array[] = [
      new Uint8Array(),
      new TextEncoder().encode("apiVersion: v1\nkind: X\n"),
      new TextEncoder().encode("a".repeat(100_000)),
      Uint8Array.from({ length: 70_000 }, rnd),
      ...Array.from({ length: 200 }, (_, i) => new TextEncoder().encode(`name: obj-${i}\nspec: {n: ${i}}\n`)),
    ];
    const blobs = contents.map((c) => gitObject("blob", c));
    const tree = treeObject(blobs.map((b, i) => ({ mode: "100644", path: `f${i}.yaml`, oid: b.oid })));
    const commit = commitObject({
      tree: tree.oid,
      parents: [],
      author: { name: "t", email: "t@x" },
      timestamp: 1_700_000_000,
      message: "pack test",
    });
    const pack = buildPack([...blobs, tree, commit]);
    await writePack(gitdir, pack);
    const verify = await git(
      ["verify-pack", "-v", join(gitdir, "objects", "pack", `pack-${pack.sha}.idx`)],
      dir,
    );
    assert.match(verify, /: ok\n?$/);
    await git(["fsck", "--strict", "--no-dangling", commit.oid], gitdir);
    for (const [i, b] of blobs.entries()) {
      const out = await new Deno.Command("git", {
        args: ["cat-file", "blob", b.oid],
        cwd: gitdir,
        stdout: "piped",
      })
        .output();
      assert.deepEqual(out.stdout, contents[i], `blob ${i}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("zlibStored writes zlib streams that zlib inflates byte for byte, over block and checksum boundaries", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) & 255;
  // 3800 bytes: one Adler-32 modulo round; 65535: one stored block; larger: several blocks
  for (const n of [0, 1, 255, 3799, 3800, 3801, STORE_BELOW - 1, 65535, 65536, 200_001]) {
    const content = Uint8Array.from({ length: n }, () => 255 - (rnd() & 3)); // high bytes: sums grow fastest
    const z = zlibStored(content);
    assert.equal(z.length, 2 + n + 5 * Math.max(1, Math.ceil(n / 65535)) + 4, `${n} bytes`);
    // inflateSync checks the header, each block's LEN/NLEN and the Adler-32 trailer
    assert.deepEqual(new Uint8Array(inflateSync(z)), content, `${n} bytes`);
  }
});
