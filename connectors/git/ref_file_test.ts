import assert from "node:assert/strict";
import { join } from "node:path";
import { LzError } from "../../pipeline/errors.ts";
import { clearStaleLocks, writeFileAtomic, writeRefAtomic } from "./ref_file.ts";

Deno.test("writeRefAtomic() writes the ref through <ref>.lock and leaves no lock behind", async () => {
  const gitdir = await Deno.makeTempDir();
  try {
    await writeRefAtomic(gitdir, "refs/heads/main", "a".repeat(40));
    assert.equal(await Deno.readTextFile(join(gitdir, "refs/heads/main")), `${"a".repeat(40)}\n`);
    assert.deepEqual([...Deno.readDirSync(join(gitdir, "refs/heads"))].map((e) => e.name), ["main"]);
  } finally {
    await Deno.remove(gitdir, { recursive: true });
  }
});

Deno.test("writeRefAtomic() refuses while another writer holds the lock, and leaves its lock alone", async () => {
  const gitdir = await Deno.makeTempDir();
  try {
    await writeRefAtomic(gitdir, "refs/heads/main", "a".repeat(40));
    await Deno.writeTextFile(join(gitdir, "refs/heads/main.lock"), "theirs");
    await assert.rejects(
      () => writeRefAtomic(gitdir, "refs/heads/main", "b".repeat(40)),
      (err: unknown) => err instanceof LzError && err.code === "GIT_LOCKED" && err.retriable,
    );
    assert.equal(await Deno.readTextFile(join(gitdir, "refs/heads/main")), `${"a".repeat(40)}\n`);
    assert.equal(await Deno.readTextFile(join(gitdir, "refs/heads/main.lock")), "theirs");
  } finally {
    await Deno.remove(gitdir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() replaces the file whole and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dest = join(dir, "pack-1.idx");
    await Deno.writeTextFile(dest, "old");
    await writeFileAtomic(dir, dest, new TextEncoder().encode("new content"));
    assert.equal(await Deno.readTextFile(dest), "new content");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["pack-1.idx"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("clearStaleLocks() removes what a killed writer left in an own clone, and nothing else", async () => {
  const gitdir = await Deno.makeTempDir();
  try {
    await writeRefAtomic(gitdir, "refs/remotes/origin/main", "a".repeat(40));
    await Deno.writeTextFile(join(gitdir, "refs/remotes/origin/main.lock"), "");
    await Deno.writeTextFile(join(gitdir, "packed-refs.lock"), "");
    await Deno.mkdir(join(gitdir, "objects/pack"), { recursive: true });
    await Deno.writeTextFile(join(gitdir, "objects/pack/tmp_lzsync_abc"), "");
    await Deno.writeTextFile(join(gitdir, "objects/pack/pack-1.idx"), "");
    await clearStaleLocks(gitdir);
    assert.deepEqual([...Deno.readDirSync(join(gitdir, "refs/remotes/origin"))].map((e) => e.name), ["main"]);
    assert.deepEqual([...Deno.readDirSync(join(gitdir, "objects/pack"))].map((e) => e.name), ["pack-1.idx"]);
    assert.throws(() => Deno.statSync(join(gitdir, "packed-refs.lock")));
  } finally {
    await Deno.remove(gitdir, { recursive: true });
  }
});

Deno.test("clearStaleLocks() drops a pack whose index a kill cut short, and keeps a whole one", async () => {
  const gitdir = await Deno.makeTempDir();
  try {
    const dir = join(gitdir, "objects/pack");
    await Deno.mkdir(dir, { recursive: true });
    const torn = `pack-${"a".repeat(40)}`, whole = `pack-${"b".repeat(40)}`;
    // a v2 index that says it holds 3 objects: 8 + 1024 + 3 * 28 + 40 bytes when whole
    const idx = new Uint8Array(8 + 1024 + 3 * 28 + 40);
    const v = new DataView(idx.buffer);
    v.setUint32(0, 0xff744f63);
    v.setUint32(4, 2);
    for (let i = 0; i < 256; i++) v.setUint32(8 + i * 4, 3);
    await Deno.writeFile(join(dir, `${whole}.idx`), idx);
    await Deno.writeFile(join(dir, `${whole}.pack`), new Uint8Array(12));
    await Deno.writeFile(join(dir, `${torn}.idx`), idx.subarray(0, 1100));
    await Deno.writeFile(join(dir, `${torn}.pack`), new Uint8Array(12));
    await clearStaleLocks(gitdir);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [`${whole}.idx`, `${whole}.pack`]);
  } finally {
    await Deno.remove(gitdir, { recursive: true });
  }
});
