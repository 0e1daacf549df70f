/**
 * `deno task test` entry: starts the real components every integration test needs (Apache Kafka, the
 * Pub/Sub emulator), exports their addresses, runs the given command (`deno test ...`), then stops them.
 *
 * Exported to the tests: `LZSYNC_TEST_KAFKA_BROKERS`, `PUBSUB_EMULATOR_HOST`, `LZSYNC_TEST_CHROMIUM` (Debian's
 * Chromium, installed with apt-get when missing), `LZSYNC_TEST_BIGQUERY_EMULATOR` (the bigquery-emulator
 * binary, built once with `go build` into the cache; tests start their own instance). A component that cannot start
 * is reported; under `CI=true` that fails the run before any test runs (a skipped suite is not a passed one).
 */
import { startKafka } from "./kafka_server.ts";
import { startPubsubEmulator } from "./pubsub_emulator.ts";
import { ensureChromium } from "./chromium.ts";
import { ensureBigQueryEmulator } from "./bigquery_emulator.ts";

const ci = Deno.env.get("CI") === "true";
const args = Deno.args.length ? Deno.args : ["deno", "test", "-A"];
const env: Record<string, string> = {};
const stops: (() => Promise<void>)[] = [];
const failures: string[] = [];

const t0 = performance.now();
const [kafka, pubsub, chromium, bigquery] = await Promise.allSettled([
  startKafka(),
  startPubsubEmulator(),
  ensureChromium(),
  ensureBigQueryEmulator(),
]);
if (kafka.status === "fulfilled") {
  env.LZSYNC_TEST_KAFKA_BROKERS = kafka.value.brokers;
  stops.push(kafka.value.stop);
} else failures.push(`Kafka: ${kafka.reason?.message ?? kafka.reason}`);
if (pubsub.status === "fulfilled") {
  env.PUBSUB_EMULATOR_HOST = pubsub.value.host;
  stops.push(pubsub.value.stop);
} else failures.push(`Pub/Sub emulator: ${pubsub.reason?.message ?? pubsub.reason}`);
if (chromium.status === "fulfilled") env.LZSYNC_TEST_CHROMIUM = chromium.value;
else failures.push(`Chromium: ${chromium.reason?.message ?? chromium.reason}`);
if (bigquery.status === "fulfilled") env.LZSYNC_TEST_BIGQUERY_EMULATOR = bigquery.value;
else failures.push(`BigQuery emulator: ${bigquery.reason?.message ?? bigquery.reason}`);
console.error(
  `[with_services] started in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(env)}`,
);

let code = 1;
try {
  if (failures.length) {
    console.error(`[with_services] could not start:\n  ${failures.join("\n  ")}`);
    if (ci) throw new Error("CI=true: a required test component could not start; failing the run");
    console.error(
      "[with_services] integration tests that need these components will be SKIPPED (not passed)",
    );
  }
  // Pass through extra test arguments: `deno task test path/to/file_test.ts`
  const [cmd, ...rest] = args;
  const child = new Deno.Command(cmd === "deno" ? Deno.execPath() : cmd, {
    args: rest,
    env,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forward = (sig: Deno.Signal) => () => {
    try {
      child.kill(sig);
    } catch { /* gone */ }
  };
  Deno.addSignalListener("SIGINT", forward("SIGINT"));
  Deno.addSignalListener("SIGTERM", forward("SIGTERM"));
  code = (await child.status).code;
} catch (err) {
  console.error(`[with_services] ${(err as Error).message}`);
  code = 1;
} finally {
  await Promise.allSettled(stops.map((s) => s()));
}
Deno.exit(code);
