/**
 * Runs goccy/bigquery-emulator (pinned) on free loopback ports. The binary is built once from the Go module
 * proxy through the wrapper module `deploy/bigquery-emulator/` (`go build` of its `tool`) into the same cache
 * as Kafka's jars (`LZSYNC_CACHE_DIR`, default `~/.cache/lzsync`); a cold build takes about 9 minutes and
 * 6 GB of memory on 2 cores, later runs reuse the binary.
 */
import { freePort, waitForPort } from "./free_port.ts";
import { terminate } from "./process.ts";

export const BIGQUERY_EMULATOR_VERSION = "0.8.1";

function cacheDir(): string {
  const home = Deno.env.get("HOME") ?? "/tmp";
  return Deno.env.get("LZSYNC_CACHE_DIR") ?? `${home}/.cache/lzsync`;
}

/** Where the built emulator lives. */
export function emulatorBinary(): string {
  return `${cacheDir()}/bigquery-emulator-${BIGQUERY_EMULATOR_VERSION}`;
}

/** Builds the emulator once (idempotent) and returns the binary's path. Needs `go` (1.25+) on PATH. */
export async function ensureBigQueryEmulator(): Promise<string> {
  const bin = emulatorBinary();
  try {
    await Deno.stat(bin);
    return bin;
  } catch { /* not built yet */ }
  const dir = `${cacheDir()}/bigquery-emulator-build`;
  await Deno.mkdir(dir, { recursive: true });
  for (const f of ["go.mod", "go.sum"]) {
    await Deno.copyFile(
      new URL(`../../deploy/bigquery-emulator/${f}`, import.meta.url).pathname,
      `${dir}/${f}`,
    );
  }
  const tmp = `${bin}.tmp-${Deno.pid}`;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("go", {
      args: ["build", "-o", tmp, "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator"],
      cwd: dir,
      // One package at a time: the zetasql build needs ~6 GB at -p=1 and more in parallel.
      env: { GOFLAGS: "-mod=mod -p=1", CGO_ENABLED: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    throw new Error(`cannot build the BigQuery emulator: go is not available (${(err as Error).message})`);
  }
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr);
    throw new Error(
      `go build of bigquery-emulator ${BIGQUERY_EMULATOR_VERSION} failed:\n${text.slice(-3000)}`,
    );
  }
  await Deno.rename(tmp, bin);
  return bin;
}

/** A running emulator; `stop()` ends it (SIGTERM, then SIGKILL after 2 s). */
export interface BigQueryEmulator {
  /** `http://127.0.0.1:PORT`, the client's `apiEndpoint`. */
  endpoint: string;
  project: string;
  stop(): Promise<void>;
}

/** Starts a fresh in-memory emulator for `project` and waits until it answers. */
export async function startBigQueryEmulator(project = "lzsync-test"): Promise<BigQueryEmulator> {
  const bin = await ensureBigQueryEmulator();
  const port = freePort();
  const grpc = freePort();
  const child = new Deno.Command(bin, {
    args: [
      `--project=${project}`,
      "--host=127.0.0.1",
      `--port=${port}`,
      `--grpc-port=${grpc}`,
      "--log-level=error",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate(child, 2000);
    await stderr;
  };
  try {
    await waitForPort(port, 30_000, `bigquery-emulator ${BIGQUERY_EMULATOR_VERSION}`);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${(await stderr).slice(-2000)}`);
  }
  return { endpoint: `http://127.0.0.1:${port}`, project, stop };
}
