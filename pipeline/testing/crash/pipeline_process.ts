/**
 * The pipeline as an operator runs it — `deno run -A pipeline/main.ts start` in a child process with its own
 * `lzsync.yaml` — so the crash test can SIGKILL it at any instant, and the read-only CLI commands it checks
 * with afterwards. The child's JSON log lines are kept (the last ones tell what it was doing when killed).
 */
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** A running pipeline child. */
export interface PipelineProcess {
  readonly pid: number;
  /** Log lines so far (stdout and stderr). */
  readonly lines: string[];
  /** Resolves once a log line matches. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
  /** SIGKILL: no handler runs, nothing is flushed. */
  kill(): Promise<Deno.CommandStatus>;
  /** SIGTERM: the pipeline finishes its batches, commits and exits. */
  stop(timeoutMs?: number): Promise<Deno.CommandStatus>;
  readonly status: Promise<Deno.CommandStatus>;
}

/** Starts `lzsync start` with `config` (a path to its lzsync.yaml). */
export function startPipeline(config: string, env: Record<string, string> = {}): PipelineProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", MAIN, "start"],
    env: { LZSYNC_CONFIG: config, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (lines.length > 5000) lines.splice(0, 1000);
        for (const w of [...waiters]) {
          if (w.re.test(l)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(l);
          }
        }
      }
    }
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then(async (s) => {
    await pumped;
    return s;
  });
  const signal = async (sig: Deno.Signal) => {
    try {
      child.kill(sig);
    } catch { /* already exited */ }
    return await status;
  };
  return {
    pid: child.pid,
    lines,
    status,
    waitForLine(re, timeoutMs) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.findIndex((w) => w.re === re), 1);
          reject(
            new Error(
              `no log line matching ${re} within ${timeoutMs} ms; last lines:\n${
                lines.slice(-15).join("\n")
              }`,
            ),
          );
        }, timeoutMs);
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        status.then(() => {
          clearTimeout(timer);
          reject(new Error(`the pipeline exited before ${re}; last lines:\n${lines.slice(-15).join("\n")}`));
        });
      });
    },
    kill: () => signal("SIGKILL"),
    async stop(timeoutMs = 30_000) {
      const t = setTimeout(() => signal("SIGKILL"), timeoutMs);
      try {
        return await signal("SIGTERM");
      } finally {
        clearTimeout(t);
      }
    },
  };
}

/** Runs one CLI command (`deno task lzsync ...`) with `config`; returns exit code and stdout. */
export async function lzsyncCli(
  config: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", MAIN, ...args],
    env: { LZSYNC_CONFIG: config, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}
