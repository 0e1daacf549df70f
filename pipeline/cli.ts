/**
 * `deno task lzsync <command>`: operations on a running or stopped lzsync. `pipeline/main.ts` calls
 * {@link runCli} with the process arguments and exits with the code it returns:
 * 0 on success, 2 for a usage error (the message says what to fix), 1 for any other failure.
 *
 *   start                                        run the pipeline (deps.start)
 *   topics list | create <name> [--partitions N] [--compacted] | describe <name>
 *   lag [--group G]                              per group and partition, in records and seconds
 *   replay --group G --to earliest|<ISO time>|<duration>
 *   digest --group G                             stable hash of every store of a group
 *   audit --month YYYY-MM                        monthly report of the audit trail (lz.audit.v1)
 *   describe [architecture]                      the topologies of this build; the whole map (Markdown)
 *   sql "<query>"                                one read-only statement on the analytics tables
 *   repair                                       salvage a damaged embedded data directory (on purpose)
 *
 * Commands that only read (`topics list|describe`, `lag`, `digest`) open the broker read-only: on the
 * embedded broker they take no lock and change no file. While lzsync runs on the embedded broker (its data
 * directory locked), `topics`, `lag`, `replay` and `digest` run inside it through its admin API
 * (`admin_api.ts`), against the live broker.
 *
 * Every command takes `--json` for one JSON document on stdout instead of a table.
 */
import { parseArgs } from "node:util";
import type { Broker } from "./broker/types.ts";
import { LzError } from "./errors.ts";
import { operatorName } from "./audit_cli.ts";
import { COMMANDS, usage } from "./cli_commands.ts";
import type { CliDeps } from "./cli_deps.ts";
export type { CliDeps } from "./cli_deps.ts";
import { LIVE_COMMANDS } from "./admin_api.ts";

export const USAGE = `usage: deno task lzsync <command> [options]

commands:
  start                                          run the pipeline
  topics list                                    topics with partitions and cleanup policy
  topics create <name> [--partitions N] [--compacted]
  topics describe <name>                         partitions, offsets, config, declared schema
  lag [--group G]                                consumer lag per partition (records, seconds)
  replay --group G --to earliest|<ISO time>|<duration>
                                                 reset a stopped group and drop its state
  digest --group G                               stable hash of every store of a group
  audit --month YYYY-MM                          monthly report of the audit trail (syncs, writes, replays)
  describe [architecture]                        topologies of this build; architecture: the map (Markdown)
  sql "<SELECT ...>"                             one read-only statement on the analytics tables (DuckDB),
                                                 through the running lzsync or on the file when stopped
  repair                                         embedded broker: keep every intact record of a damaged
                                                 data directory, set damaged files aside (lzsync stopped)
  demo-push [--url U] [--message TEXT]           commit to the sample Landing Zone and deliver a signed
                                                 webhook to the running gateway (default: gateway.public_url,
                                                 else gateway.host:port)

options: --json (machine-readable output), --help`;

/**
 * The help of one command (`lzsync <command> --help`, `lzsync help <command>`): its lines of {@link USAGE};
 * null for a command USAGE does not list.
 */
export function commandHelp(cmd: string): string | null {
  const lines = USAGE.split("\n");
  const picked: string[] = [];
  let inCmd = false;
  for (const line of lines) {
    if (/^ {2}\S/.test(line)) inCmd = line.slice(2).split(" ")[0] === cmd;
    else if (!/^ {40,}\S/.test(line)) inCmd = false;
    if (inCmd) picked.push(line);
  }
  if (!picked.length) return null;
  return `usage: deno task lzsync ${cmd} [options]\n\n${picked.join("\n")}\n\n${lines.at(-1)}`;
}

/** Runs one CLI command; returns the process exit code. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const out = deps.stdout ?? ((s: string) => console.log(s));
  const err = deps.stderr ?? ((s: string) => console.error(s));
  let broker: Broker | null = null;
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          json: { type: "boolean" },
          help: { type: "boolean", short: "h" },
          group: { type: "string" },
          to: { type: "string" },
          month: { type: "string" },
          operator: { type: "string" },
          partitions: { type: "string" },
          compacted: { type: "boolean" },
        },
      });
    } catch (e) {
      throw usage((e as Error).message);
    }
    const { values: o, positionals: pos } = parsed;
    const [cmd, sub, name, ...extra] = pos;
    if (o.help || cmd === "help") {
      const topic = cmd === "help" ? sub : cmd;
      out((topic && commandHelp(topic)) ?? USAGE);
      return 0;
    }
    if (cmd === undefined) {
      err(USAGE);
      return 2;
    }
    const emit = (data: unknown, human: () => string) =>
      out(o.json ? JSON.stringify(data, null, 2) : human());
    const topologies = deps.topologies ?? [];
    const needGroup = () => {
      if (!o.group) {
        throw usage(`${cmd} needs --group <group>; \`lzsync describe\` lists the topologies (groups)`);
      }
      return o.group;
    };
    const runtime = await deps.loadRuntime();
    if (LIVE_COMMANDS.has(cmd) && deps.remote) {
      // the running process records a replay in the audit trail: it names the operator who ran this command
      const forwarded = cmd === "replay" && !o.operator ? [...argv, `--operator=${operatorName()}`] : argv;
      const r = await deps.remote(runtime, forwarded);
      if (r) {
        for (const line of r.stdout) out(line);
        for (const line of r.stderr) err(line);
        return r.code;
      }
    }
    const open = async () => (broker ??= await deps.createBroker(runtime));
    const openReadOnly = async () => (broker ??= await deps.createBroker(runtime, { readOnly: true }));

    const run = COMMANDS[cmd];
    if (!run) throw usage(`unknown command ${JSON.stringify(cmd)}`);
    return await run({ deps, runtime, o, sub, name, extra, topologies, emit, needGroup, open, openReadOnly });
  } catch (e) {
    const code = e instanceof LzError && e.code === "USAGE" ? 2 : 1;
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return code;
  } finally {
    if (broker) await (broker as Broker).close().catch(() => {});
  }
}
