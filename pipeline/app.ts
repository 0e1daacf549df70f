/**
 * Composition of a running lzsync: every sync layer contributes a `Feature` (topologies run by processor
 * hosts, services such as connectors, gateway plugins); {@link runPipeline} validates what the config asks
 * for, creates the declared topics, starts everything in order and stops it in reverse on SIGINT/SIGTERM.
 */
import { Registry } from "prom-client";
import type { Runtime } from "./config.ts";
import type { Broker, TopicSpec } from "./broker/types.ts";
import { createLogger, type Logger } from "./log.ts";
import { type AppDeps, type Service, systemClock } from "./service.ts";
import type { Topology } from "./processor/types.ts";
import { createProcessorHost } from "./processor/host.ts";
import { LzError } from "./errors.ts";
import { declaredTopicSpecs, ensureTopics } from "./topics.ts";
import { createGateway } from "../connectors/gateway/mod.ts";
import { FEATURES, featureTopics } from "./features.ts";
import type { FeatureParts } from "./feature.ts";
import type { AnalyticsReader } from "./analytics/sink.ts";
import { type AdminApi, startAdminApi } from "./admin_api.ts";
import { runCli } from "./cli.ts";
import { checkPortFree } from "./port_check.ts";
import { registerProcessMetrics } from "./process_metrics.ts";

/** Every topology of this build, for `describe`, `replay` and `digest` (built without starting anything). */
export function allTopologies(): Topology[] {
  return FEATURES.flatMap((f) => f.topologies());
}

export { declaredTopicSpecs } from "./topics.ts";

/** Keeps the topologies `processors.enabled` asks for; an unknown name is a config error listing valid ones. */
export function selectTopologies(runtime: Runtime, topologies: Topology[]): Topology[] {
  const enabled = runtime.config.processors.enabled;
  if (enabled.includes("all")) return topologies;
  const names = new Set(topologies.map((t) => t.app));
  const unknown = enabled.filter((n) => !names.has(n));
  if (unknown.length) {
    throw new LzError(
      "CONFIG",
      `processors.enabled names unknown processor(s) ${unknown.join(", ")}; valid: all, ${
        [...names].join(", ")
      }`,
    );
  }
  return topologies.filter((t) => enabled.includes(t.app));
}

/** Inputs of one topology must be co-partitioned (a task reads partition p of each). */
function checkCoPartitioned(topologies: Topology[], specs: TopicSpec[]): void {
  const parts = new Map(specs.map((s) => [s.name, s.partitions]));
  for (const t of topologies) {
    const counts = new Set(t.inputs.map((i) => parts.get(i)).filter((n) => n !== undefined));
    if (counts.size > 1) {
      throw new LzError(
        "CONFIG",
        `inputs of ${t.app} (${
          t.inputs.join(", ")
        }) must have the same partition count; check processors.topics`,
      );
    }
  }
}

/** The running broker lent to one CLI command: its `close()` leaves the broker open. */
function lent(broker: Broker): Broker {
  return {
    kind: broker.kind,
    address: broker.address,
    admin: () => broker.admin(),
    producer: () => broker.producer(),
    consumer: (o) => broker.consumer(o),
    reader: (o) => broker.reader(o),
    close: () => Promise.resolve(),
  };
}

/** Serves the CLI's live commands against this process's broker (see `admin_api.ts`). */
function serveAdmin(
  runtime: Runtime,
  broker: Broker,
  log: Logger,
  analytics: AnalyticsReader | undefined,
): Promise<AdminApi> {
  return startAdminApi({
    dataDir: runtime.config.data_dir,
    log: log.child("admin"),
    run: async (argv) => {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const code = await runCli(argv, {
        loadRuntime: () => Promise.resolve(runtime),
        createBroker: () => Promise.resolve(lent(broker)),
        start: () => Promise.reject(new LzError("USAGE", "lzsync is already running")),
        topologies: allTopologies(),
        analytics: analytics
          ? () => Promise.resolve({ reader: analytics, close: () => Promise.resolve() })
          : undefined,
        stdout: (s) => stdout.push(s),
        stderr: (s) => stderr.push(s),
      });
      return { code, stdout, stderr };
    },
  });
}

async function stopAll(services: Service[], log: Logger): Promise<void> {
  for (const s of [...services].reverse()) {
    try {
      await s.stop();
    } catch (err) {
      log.error("stop failed", { service: s.name, error: err });
    }
  }
}

/** Runs the whole pipeline until SIGINT/SIGTERM (or `signal` aborts). */
export async function runPipeline(
  runtime: Runtime,
  openBroker: (runtime: Runtime) => Promise<Broker>,
  signal?: AbortSignal,
): Promise<void> {
  const { config } = runtime;
  const log = createLogger({ level: config.log_level });
  const specs = declaredTopicSpecs(runtime, featureTopics());
  if (config.gateway.enabled) checkPortFree(config.gateway.host, config.gateway.port);
  const broker = await openBroker(runtime);
  const deps: AppDeps = { runtime, broker, log, metrics: new Registry(), clock: systemClock };
  registerProcessMetrics(deps.metrics);
  const started: Service[] = [];
  let admin: AdminApi | null = null;
  try {
    await ensureTopics(
      broker.admin(),
      specs,
      log.child("topics"),
      (topic) => allTopologies().filter((t) => t.inputs.includes(topic)).map((t) => t.app),
    );
    const features: FeatureParts[] = [];
    for (const f of FEATURES) features.push(await f.build(deps));
    const topologies = selectTopologies(runtime, features.flatMap((f) => f.topologies));
    checkCoPartitioned(topologies, specs);
    const services: Service[] = [
      ...features.flatMap((f) => f.resources ?? []),
      ...topologies.map((t) =>
        createProcessorHost({ broker, log: log.child(t.app), metrics: deps.metrics, clock: deps.clock }, t, {
          retries: config.processors.retries,
        })
      ),
      ...features.flatMap((f) => f.services),
    ];
    const gateway = config.gateway.enabled ? createGateway(deps, features.flatMap((f) => f.plugins)) : null;
    if (gateway) services.push(gateway);
    for (const s of services) {
      await s.start();
      started.push(s);
    }
    if (broker.kind === "embedded") {
      admin = await serveAdmin(runtime, broker, log, features.find((f) => f.analytics)?.analytics);
    }
    log.info("lzsync is running", {
      broker: broker.address,
      data_dir: config.data_dir,
      processors: topologies.map((t) => t.app),
      url: gateway?.url,
    });
    if (gateway) console.error(`\n  lzsync is running: open ${gateway.url}\n`);
    await new Promise<void>((resolve) => {
      const onSignal = () => {
        log.info("stopping (signal): finishing batches, committing, leaving groups");
        Deno.removeSignalListener("SIGINT", onSignal);
        Deno.removeSignalListener("SIGTERM", onSignal);
        resolve();
      };
      Deno.addSignalListener("SIGINT", onSignal);
      Deno.addSignalListener("SIGTERM", onSignal);
      signal?.addEventListener("abort", onSignal, { once: true });
    });
  } finally {
    await admin?.stop();
    await stopAll(started, log);
    await broker.close();
  }
}
