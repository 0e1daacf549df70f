/**
 * Runs a real Apache Kafka broker (pinned, KRaft combined mode, one node) on a free loopback port. The jars
 * come from Maven Central through `mvn` into a cache that survives between runs (`LZSYNC_CACHE_DIR`, default
 * `~/.cache/lzsync`).
 */
import { freePort, waitForPort } from "./free_port.ts";
import { terminate } from "./process.ts";

export const KAFKA_VERSION = "3.9.1";

/** A running broker; `stop()` kills it and removes its data directory. */
export interface KafkaServer {
  brokers: string;
  stop(): Promise<void>;
  /** Stops the broker process but keeps its port and data (for tests of a broker that goes away). */
  halt(): Promise<void>;
  /** Starts the broker again on the same port and data (halting it first if it runs). */
  restart(): Promise<void>;
}

function cacheDir(): string {
  const home = Deno.env.get("HOME") ?? "/tmp";
  return Deno.env.get("LZSYNC_CACHE_DIR") ?? `${home}/.cache/lzsync`;
}

async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text.slice(-3000)}`);
  }
  return text;
}

/** Downloads the Kafka jars once (idempotent) and returns the lib directory. */
export async function ensureKafkaJars(): Promise<string> {
  const dir = `${cacheDir()}/kafka-${KAFKA_VERSION}`;
  const lib = `${dir}/lib`;
  try {
    await Deno.stat(`${lib}/.complete`);
    return lib;
  } catch { /* not cached yet */ }
  await Deno.mkdir(dir, { recursive: true });
  const pom = new URL("../../deploy/kafka/pom.xml", import.meta.url).pathname;
  await Deno.copyFile(pom, `${dir}/pom.xml`);
  await run("mvn", [
    "-q",
    "-B",
    "dependency:copy-dependencies",
    `-DoutputDirectory=${lib}`,
    "-DincludeScope=runtime",
  ], dir);
  await Deno.writeTextFile(`${lib}/.complete`, KAFKA_VERSION);
  return lib;
}

/** Options of {@link startKafka}. */
export interface StartKafkaOptions {
  /**
   * The broker's `group.initial.rebalance.delay.ms` (default 0, so tests do not wait for a new group's
   * first join; Apache Kafka's own default is 3,000).
   */
  groupInitialRebalanceDelayMs?: number;
}

/** Starts a fresh single-node KRaft broker and waits until it answers. */
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaServer> {
  const lib = await ensureKafkaJars();
  const port = freePort();
  const ctlPort = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "lzsync-kafka-" });
  const props = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${ctlPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${ctlPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names=CONTROLLER",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${dataDir}/log`,
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=4",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    `group.initial.rebalance.delay.ms=${options.groupInitialRebalanceDelayMs ?? 0}`,
    "num.partitions=1",
    "auto.create.topics.enable=false",
    "log.cleaner.backoff.ms=1000",
  ].join("\n");
  await Deno.writeTextFile(`${dataDir}/server.properties`, props);
  const cp = `${lib}/*`;
  const clusterId = (await run("java", ["-cp", cp, "kafka.tools.StorageTool", "random-uuid"]))
    .split("\n").map((l) => l.trim()).filter((l) => /^[A-Za-z0-9_-]{22}$/.test(l))[0];
  await run("java", [
    "-cp",
    cp,
    "kafka.tools.StorageTool",
    "format",
    "-t",
    clusterId,
    "-c",
    `${dataDir}/server.properties`,
    "--standalone",
  ]);
  const spawn = async (): Promise<Deno.ChildProcess> => {
    const logFile = await Deno.open(`${dataDir}/kafka.out`, { write: true, create: true, append: true });
    const child = new Deno.Command("java", {
      args: ["-Xms256m", "-Xmx768m", "-cp", cp, "kafka.Kafka", `${dataDir}/server.properties`],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Keep the broker's own output for diagnosis without holding the test's stdout.
    child.stdout.pipeTo(logFile.writable).catch(() => {});
    child.stderr.pipeTo(new WritableStream()).catch(() => {});
    try {
      await waitForPort(port, 60_000, `Kafka ${KAFKA_VERSION}`);
    } catch (err) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      const log = await Deno.readTextFile(`${dataDir}/kafka.out`).catch(() => "");
      throw new Error(`${(err as Error).message}\n${log.slice(-3000)}`);
    }
    return child;
  };
  let child: Deno.ChildProcess | null = await spawn();
  let stopped = false;
  const halt = async () => {
    const c = child;
    child = null;
    if (c) await terminate(c, 10_000);
  };
  return {
    brokers: `127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
    halt,
    async restart() {
      if (stopped) throw new Error("this Kafka server was stopped; start a new one");
      await halt();
      child = await spawn();
    },
  };
}
