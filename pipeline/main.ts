/**
 * The `lzsync` entry point: `deno task start` and `deno task lzsync <command>`.
 * Loads the config once, opens the broker it names, and either runs the whole pipeline (`start`) or one
 * operator command (see `pipeline/cli.ts`).
 */
import { loadConfig, parseDuration, type Runtime } from "./config.ts";
import { createLogger } from "./log.ts";
import { createBroker } from "./broker/mod.ts";
import { repairDataDir } from "./broker/embedded/repair.ts";
import { runCli } from "./cli.ts";
import { describeError, LzError, ValidationError } from "./errors.ts";
import { allTopologies, runPipeline } from "./app.ts";
import { describeArchitecture } from "./architecture.ts";
import { demoPushCommand } from "./demo.ts";
import { findRunningAdmin, runRemoteCli } from "./admin_api.ts";
import { openDuckDb } from "../connectors/duckdb/engine.ts";
import { duckDbPath } from "../features/analytics/mod.ts";

/**
 * Opens the configured broker. `quiet` (operator commands): only warnings and errors are logged, so nothing
 * but the command's own output lands ahead of its table (`log_level: debug` still shows everything).
 */
async function openBroker(runtime: Runtime, opts: { readOnly?: boolean; quiet?: boolean } = {}) {
  const { config } = runtime;
  if (!opts.readOnly) await Deno.mkdir(config.data_dir, { recursive: true });
  return createBroker({
    readOnly: opts.readOnly,
    kind: config.broker.kind,
    brokers: config.broker.brokers,
    clientId: config.broker.client_id,
    dataDir: `${config.data_dir}/broker`,
    logger: createLogger({
      level: opts.quiet && config.log_level !== "debug" ? "warn" : config.log_level,
      ns: "lzsync.broker",
    }),
    kafka: { maxWaitTimeMs: parseDuration(config.broker.fetch_max_wait) },
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "demo-push") return await demoPushCommand(argv.slice(1));
  return await runCli(argv.length ? argv : ["--help"], {
    loadRuntime: () => loadConfig(),
    createBroker: (runtime, opts) => openBroker(runtime, { ...opts, quiet: true }),
    start: (runtime) => runPipeline(runtime, (r) => openBroker(r)),
    remote: async (runtime, args) => {
      if (runtime.config.broker.kind !== "embedded") return null;
      const ep = await findRunningAdmin(runtime.config.data_dir);
      return ep ? await runRemoteCli(ep, args) : null;
    },
    repair: (runtime) =>
      Promise.resolve(
        repairDataDir(
          `${runtime.config.data_dir}/broker`,
          createLogger({ level: runtime.config.log_level, ns: "lzsync.repair" }),
        ),
      ),
    topologies: allTopologies(),
    architecture: (runtime) => describeArchitecture(runtime),
    analytics: async (runtime) => {
      const db = await openDuckDb({
        path: duckDbPath(runtime.config),
        log: createLogger({ level: "error" }),
        readOnly: true,
      });
      return { reader: db, close: () => db.close() };
    },
  });
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    // Startup failures (bad config, unreachable broker) are one readable line, not a stack trace.
    const msg = err instanceof ValidationError || err instanceof LzError ? err.message : describeError(err);
    console.error(`lzsync: ${msg}`);
    if (!(err instanceof LzError)) console.error((err as Error)?.stack ?? "");
    code = 1;
  }
  Deno.exit(code);
}
