/**
 * An exclusive lock on a data directory: a `LOCK` file holding the owner's PID, created with `createNew`
 * so two processes cannot both win. A lock left by a process that no longer runs is taken over.
 */
import { join } from "node:path";
import { LzError } from "../../errors.ts";
import type { Logger } from "../../log.ts";

/** True when a process with this PID exists (Linux: /proc; elsewhere: `kill -0`). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (Deno.build.os === "linux") {
    try {
      Deno.statSync(`/proc/${pid}`);
      return true;
    } catch {
      return false;
    }
  }
  const r = new Deno.Command("kill", { args: ["-0", String(pid)], stdout: "null", stderr: "null" })
    .outputSync();
  return r.success;
}

/** A held lock; {@link release} removes the file if it is still ours. */
export interface DirLock {
  readonly path: string;
  release(): void;
}

/** Takes the lock of `dir` or throws LzError `DATA_DIR_LOCKED` naming the PID that holds it. */
export function lockDataDir(dir: string, log: Logger): DirLock {
  const path = join(dir, "LOCK");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const f = Deno.openSync(path, { write: true, createNew: true });
      f.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      f.close();
      return {
        path,
        release: () => {
          try {
            if (Deno.readTextFileSync(path).trim() === String(Deno.pid)) Deno.removeSync(path);
          } catch { /* already gone */ }
        },
      };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    let text = "";
    try {
      text = Deno.readTextFileSync(path).trim();
    } catch { /* removed meanwhile: retry */ }
    const pid = Number(text);
    if (text !== "" && pidAlive(pid)) {
      throw new LzError(
        "DATA_DIR_LOCKED",
        `data directory ${dir} is in use by process ${pid}${pid === Deno.pid ? " (this process)" : ""}; ` +
          `stop it or use another data directory (LZSYNC_DATA_DIR). If no lzsync runs as ${pid}, delete ${path}`,
        { detail: { dir, pid } },
      );
    }
    if (text === "" && attempt === 0) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // the owner may be writing its PID now
      continue;
    }
    log.warn("taking over a stale data directory lock", { dir, stalePid: text });
    try {
      Deno.removeSync(path);
    } catch { /* someone else took it over first */ }
  }
  throw new LzError(
    "DATA_DIR_LOCKED",
    `could not lock data directory ${dir} (${path}); another process keeps taking it`,
  );
}
