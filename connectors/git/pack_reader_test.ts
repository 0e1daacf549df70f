import assert from "node:assert/strict";
import { join } from "node:path";
import { applyDelta, PackReader } from "./pack_reader.ts";

async function git(dir: string, ...args: string[]): Promise<Uint8Array> {
  const out = await new Deno.Command("git", {
    args: ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** A repository whose history makes git write deltas: one growing file edited over many commits. */
async function repoWithDeltas(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-pack-" });
  await git(dir, "init", "-q", "-b", "main");
  let text = "";
  for (let c = 0; c < 12; c++) {
    for (let l = 0; l < 200; l++) text += `line ${c}.${l}: ${"x".repeat(l % 40)}\n`;
    await Deno.writeTextFile(join(dir, "big.txt"), text);
    await Deno.writeTextFile(join(dir, `small-${c}.yaml`), `kind: VPC\nmetadata: {name: v${c}}\n`);
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", `commit ${c}`);
  }
  return dir;
}

async function allObjects(gitdir: string): Promise<{ oid: string; type: string }[]> {
  const out = new TextDecoder().decode(
    await git(gitdir, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"),
  );
  return out.trim().split("\n").map((l) => {
    const [oid, type] = l.split(" ");
    return { oid, type };
  });
}

async function checkAll(dir: string, reader: PackReader) {
  const objects = await allObjects(dir);
  assert.ok(objects.length > 30);
  for (const { oid, type } of objects) {
    const got = reader.read(oid);
    assert.ok(got, `${oid} (${type}) not found`);
    assert.equal(got.type, type);
    assert.deepEqual(got.content, await git(dir, "cat-file", type, oid), `${oid} content`);
  }
}

Deno.test("pack reader: every object of a gc'd repository (offset deltas) equals git cat-file", async () => {
  const dir = await repoWithDeltas();
  try {
    await git(dir, "gc", "-q", "--aggressive");
    const verify = new TextDecoder().decode(await git(dir, "verify-pack", "-v", ...idxFiles(dir)));
    assert.match(verify, /chain length = [1-9]/, "the fixture has delta chains");
    await checkAll(join(dir, ".git"), new PackReader(join(dir, ".git")));
    // The same through per-object reads of a pack that is not held in memory.
    await checkAll(
      join(dir, ".git"),
      new PackReader(join(dir, ".git"), { maxInMemory: 0, baseCacheBytes: 0 }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function idxFiles(dir: string): string[] {
  const packDir = join(dir, ".git", "objects", "pack");
  return [...Deno.readDirSync(packDir)].filter((e) => e.name.endsWith(".idx")).map((e) =>
    join(packDir, e.name)
  );
}

Deno.test("pack reader: a pack with reference deltas (REF_DELTA) equals git cat-file", async () => {
  const dir = await repoWithDeltas();
  try {
    await git(dir, "repack", "-a", "-d", "-q", "-f", "--depth=10", "--window=20");
    // Rewrite the pack without offset deltas: every delta names its base by object id.
    const oids = (await allObjects(join(dir, ".git"))).map((o) => o.oid).join("\n") + "\n";
    const packDir = join(dir, ".git", "objects", "pack");
    const old = idxFiles(dir);
    const cmd = new Deno.Command("git", {
      args: ["-C", dir, "pack-objects", "-q", "--no-delta-base-offset", "--window=20", join(packDir, "ref")],
      stdin: "piped",
      stdout: "null",
    }).spawn();
    const w = cmd.stdin.getWriter();
    await w.write(new TextEncoder().encode(oids));
    await w.close();
    assert.ok((await cmd.status).success);
    for (const f of old) {
      await Deno.remove(f);
      await Deno.remove(f.replace(/\.idx$/, ".pack"));
    }
    await checkAll(join(dir, ".git"), new PackReader(join(dir, ".git")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pack reader: loose objects and unknown ids answer null; a pack written later is found", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-pack-" });
  try {
    await git(dir, "init", "-q", "-b", "main");
    await Deno.writeTextFile(join(dir, "a.txt"), "a\n");
    await git(dir, "add", "a.txt");
    const loose = new TextDecoder().decode(await git(dir, "hash-object", "a.txt")).trim();
    const reader = new PackReader(join(dir, ".git"));
    assert.equal(reader.read(loose), null, "a loose object is not in a pack");
    assert.equal(reader.read("0".repeat(40)), null);
    assert.equal(reader.read("not-an-oid"), null);
    await git(dir, "commit", "-q", "-m", "one");
    await git(dir, "repack", "-a", "-d", "-q");
    assert.deepEqual(reader.read(loose), { type: "blob", content: new TextEncoder().encode("a\n") });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pack reader: a delta that does not fit its base is refused, never misapplied", () => {
  const base = new TextEncoder().encode("hello");
  // base size 5, result size 5, copy offset 0 length 5
  assert.deepEqual(applyDelta(base, new Uint8Array([5, 5, 0x91, 0, 5])), base);
  assert.throws(() => applyDelta(base, new Uint8Array([6, 5, 0x91, 0, 5])), /6-byte base/);
  assert.throws(() => applyDelta(base, new Uint8Array([5, 9, 0x91, 2, 9])), /out of range/);
  assert.throws(() => applyDelta(base, new Uint8Array([5, 5, 0])), /reserved/);
});
