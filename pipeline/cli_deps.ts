/**
 * What the CLI needs from its host (`main.ts` gives the real ones, tests their own): the config, the broker,
 * the pipeline and the optional parts. Types only, shared by `cli.ts` and the command table in
 * `cli_commands.ts`.
 */
import type { Broker } from "./broker/types.ts";
import type { Runtime } from "./config.ts";
import type { Topology } from "./processor/types.ts";
import type { RepairReport } from "./broker/embedded/repair.ts";
import type { CliOutcome } from "./admin_api.ts";
import type { AnalyticsReader } from "./analytics/sink.ts";

/** What the CLI needs from its caller. */
export interface CliDeps {
  /** Loads and validates the config (`lzsync.yaml` + environment). */
  loadRuntime(): Promise<Runtime>;
  /**
   * Opens the broker the config names; the CLI closes it after the command. `readOnly`: the command only
   * reads (the embedded broker then neither locks nor changes its data directory).
   */
  createBroker(runtime: Runtime, opts?: { readOnly?: boolean }): Promise<Broker>;
  /** `repair`: salvages the embedded broker's data directory (see `broker/embedded/repair.ts`). */
  repair?(runtime: Runtime): Promise<RepairReport>;
  /** `describe architecture`: the map of this build under the config (see `architecture.ts`). */
  architecture?(runtime: Runtime): Promise<string>;
  /** Runs the whole pipeline until it is stopped (the `start` command). */
  start(runtime: Runtime): Promise<void>;
  /**
   * Runs `argv` in the lzsync that holds the data directory (its admin API, see `admin_api.ts`); null when
   * none runs, and the CLI opens the broker itself. Consulted for `topics`, `lag`, `replay` and `digest`.
   */
  remote?(runtime: Runtime, argv: string[]): Promise<CliOutcome | null>;
  /**
   * `sql`: the analytics tables to query — the running pipeline's (through the admin API) or the DuckDB file
   * opened read-only when no pipeline holds it.
   */
  analytics?(runtime: Runtime): Promise<{ reader: AnalyticsReader; close(): Promise<void> }>;
  /** Topologies of this build: `describe` lists them; replay/digest take input and store names from them. */
  topologies?: Topology[];
  /** Output sinks (default: console). */
  stdout?(text: string): void;
  stderr?(text: string): void;
}
