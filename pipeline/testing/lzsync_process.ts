/**
 * lzsync as a user runs it: `deno run -A pipeline/main.ts ...` in a child process, from the repository root,
 * with a fresh data directory and gateway port given through the environment. For tests of the CLI against a
 * running pipeline and of start-up messages.
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { sleep, waitFor } from "./wait.ts";

/** The repository root (where `deno task` runs). */
export const REPO_ROOT = fromFileUrl(new URL("../../", import.meta.url));
const MAIN = fromFileUrl(new URL("../main.ts", import.meta.url));

/** What one finished `lzsync <args>` printed. */
export interface LzsyncRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lzsync <args>` to completion. */
export async function runLzsync(args: string[], env: Record<string, string>): Promise<LzsyncRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A running `lzsync start`; {@link stop} sends SIGTERM and waits for the exit. */
export interface LzsyncProcess {
  url: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  stop(): Promise<number>;
}

/** Starts `lzsync start` and resolves once `/readyz` answers 200 (or rejects after `timeoutMs`). */
export async function startLzsync(
  env: Record<string, string>,
  timeoutMs = 90_000,
): Promise<LzsyncProcess> {
  const port = env.LZSYNC_PORT;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "start"],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let err = "";
  const reading = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) err += dec.decode(chunk);
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s.code;
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    const code = await status;
    await reading;
    return code;
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`lzsync start exited early:\n${err}`);
        try {
          const res = await fetch(`${url}/readyz`);
          await res.body?.cancel();
          return res.status === 200;
        } catch {
          await sleep(250);
          return false;
        }
      },
      `lzsync start on ${url} to be ready`,
      timeoutMs,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, stderr: () => err, stop };
}
