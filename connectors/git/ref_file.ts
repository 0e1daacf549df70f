/**
 * Crash-safe writes into lzsync's own git clones, the way git makes them: a file is written to a temp file
 * in the same directory, fsynced and renamed over the target; a ref is written to `<ref>.lock` (created
 * exclusively, so it never races git or another lzsync) and renamed over the ref. After a SIGKILL at any
 * instant the target holds either its old or its new content, never a torn one.
 */
import { dirname, join } from "node:path";
import { LzError } from "../../pipeline/errors.ts";

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch { /* not every platform can fsync a directory; the rename is still atomic */ }
}

async function writeAndRename(tmp: string, dest: string, data: Uint8Array, createNew: boolean) {
  const f = await Deno.open(tmp, { write: true, createNew, create: !createNew, truncate: !createNew });
  try {
    try {
      let off = 0;
      while (off < data.length) off += await f.write(data.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, dest);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dirname(dest));
}

/** Writes `data` to `dest` atomically through a temp file in `dir` (the directory of `dest`). */
export async function writeFileAtomic(dir: string, dest: string, data: Uint8Array): Promise<void> {
  const tmp = join(dir, `tmp_lzsync_${crypto.randomUUID().slice(0, 12)}`);
  await writeAndRename(tmp, dest, data, true);
}

/**
 * Points `ref` (e.g. `refs/heads/main`) of `gitdir` at `value` through git's `<ref>.lock` protocol. Throws a
 * retriable `GIT_LOCKED` error when the lock is held (git or another writer is updating the ref).
 */
export async function writeRefAtomic(gitdir: string, ref: string, value: string): Promise<void> {
  const path = join(gitdir, ref);
  await Deno.mkdir(dirname(path), { recursive: true });
  try {
    await writeAndRename(`${path}.lock`, path, new TextEncoder().encode(`${value}\n`), true);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new LzError(
        "GIT_LOCKED",
        `${ref} of ${gitdir} is locked by another writer (${ref}.lock exists)`,
        {
          retriable: true,
          cause: err,
        },
      );
    }
    throw err;
  }
}

/**
 * Removes the `*.lock` and `tmp_lzsync_*` files a killed lzsync left in one of its own clones (only lzsync
 * writes there, and a fabric's clone is opened by one handle at a time), so a crash never wedges the clone.
 * Never called on a user's repository, whose locks belong to git.
 */
export async function clearStaleLocks(gitdir: string): Promise<void> {
  const sweep = async (dir: string, depth: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory && depth > 0) await sweep(path, depth - 1);
      else if (e.isFile && (e.name.endsWith(".lock") || e.name.startsWith("tmp_lzsync_"))) {
        await Deno.remove(path).catch(() => {});
      }
    }
  };
  await sweep(gitdir, 0);
  await sweep(join(gitdir, "refs"), 16);
  await sweep(join(gitdir, "objects", "pack"), 0);
  await dropTornPacks(join(gitdir, "objects", "pack"));
}

/**
 * Removes packs whose index a kill cut short (isomorphic-git's fetch writes `.pack` and `.idx` in place): an
 * index shorter than its own fan-out table says. No ref points into such a pack — refs move only after the
 * fetch — so the next fetch brings its objects again.
 */
async function dropTornPacks(dir: string): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isFile || !/^pack-[0-9a-f]{40}\.idx$/.test(e.name)) continue;
    const path = join(dir, e.name);
    const idx = await Deno.readFile(path).catch(() => null);
    if (!idx || idxComplete(idx)) continue;
    await Deno.remove(path).catch(() => {});
    await Deno.remove(path.replace(/\.idx$/, ".pack")).catch(() => {});
  }
}

/** True when a version-2 pack index is as long as its object count needs (header, fan-out, ids, CRCs, offsets, trailer). */
function idxComplete(idx: Uint8Array): boolean {
  if (idx.length < 8 + 1024 + 40) return false;
  const v = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
  if (v.getUint32(0) !== 0xff744f63 || v.getUint32(4) !== 2) return true; // not a v2 index: leave it to git
  const n = v.getUint32(8 + 255 * 4);
  return idx.length >= 8 + 1024 + n * 28 + 40;
}
