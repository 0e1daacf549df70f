/**
 * Runs Google's official Pub/Sub emulator (`gcloud beta emulators pubsub start`) on a free loopback port.
 * The client libraries find it through `PUBSUB_EMULATOR_HOST`.
 */
import { freePort, waitForPort } from "./free_port.ts";

/** A running emulator; `host` is the value for `PUBSUB_EMULATOR_HOST`. */
export interface PubsubEmulator {
  host: string;
  stop(): Promise<void>;
}

/** Starts the emulator and waits until it accepts connections. */
export async function startPubsubEmulator(): Promise<PubsubEmulator> {
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-pubsub-" });
  const child = new Deno.Command("gcloud", {
    args: [
      "beta",
      "emulators",
      "pubsub",
      "start",
      `--host-port=127.0.0.1:${port}`,
      `--data-dir=${dataDir}`,
      "--quiet",
    ],
    stdout: "null",
    stderr: "null",
    // gcloud forks a Java process: put it in its own process group so stop() can end the whole tree.
    detached: true,
  }).spawn();
  try {
    await waitForPort(port, 60_000, "Pub/Sub emulator");
  } catch (err) {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* gone */ }
    throw err;
  }
  let stopped = false;
  return {
    host: `127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        Deno.kill(-child.pid, "SIGTERM");
      } catch { /* gone */ }
      const timer = setTimeout(() => {
        try {
          Deno.kill(-child.pid, "SIGKILL");
        } catch { /* gone */ }
      }, 5_000);
      await child.status;
      clearTimeout(timer);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
