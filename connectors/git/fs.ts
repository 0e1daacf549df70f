/**
 * The file system handed to isomorphic-git.
 *
 * isomorphic-git wraps the `fs` it is given on every API call and, to learn whether it is promise-based,
 * calls `readFile()` with no arguments. On Node's `fs.promises` in Deno that throws an
 * `ERR_INVALID_ARG_TYPE` whose construction (stack capture and frame hiding) costs about 0.1 ms, paid
 * once per `readBlob`/`readTree`/`resolveRef` call: with thousands of calls per fabric ingestion it was
 * the largest single cost in the profile. This wrapper answers that probe with a resolved promise and
 * passes every real call through to `node:fs/promises` unchanged.
 *
 * @module
 */
import nodeFs from "node:fs";

const p = nodeFs.promises;

/** Promise-based file system functions, with a cheap answer to isomorphic-git's no-argument probe. */
const promises = {
  readFile: (path?: unknown, options?: unknown) =>
    path === undefined ? Promise.resolve(undefined) : p.readFile(path as string, options as undefined),
  writeFile: p.writeFile,
  mkdir: p.mkdir,
  rmdir: p.rmdir,
  rm: p.rm,
  unlink: p.unlink,
  stat: p.stat,
  lstat: p.lstat,
  readdir: p.readdir,
  readlink: p.readlink,
  symlink: p.symlink,
};

/** `node:fs` with the promise functions above; pass it as `fs` to isomorphic-git. */
const fs: typeof nodeFs = { ...nodeFs, promises: promises as unknown as typeof nodeFs.promises };

export default fs;
