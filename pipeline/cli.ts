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
 *   describe                                     the topologies of this build
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
import type { Runtime } from "./config.ts";
import { describeTopology, type Topology } from "./processor/types.ts";
import { LzError } from "./errors.ts";
import { topicDef } from "../schemas/mod.ts";
import { groupLag } from "./lag.ts";
import { replay } from "./replay.ts";
import { auditReplay, auditReport, operatorName } from "./audit_cli.ts";
import { digestGroup } from "./digest.ts";
import { table } from "./cli_format.ts";
import type { RepairReport } from "./broker/embedded_repair.ts";
import { type CliOutcome, LIVE_COMMANDS } from "./admin_api.ts";
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
  /** `repair`: salvages the embedded broker's data directory (see `broker/embedded_repair.ts`). */
  repair?(runtime: Runtime): Promise<RepairReport>;
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
  describe                                       topologies of this build
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

const usage = (msg: string) => new LzError("USAGE", `${msg} (see \`deno task lzsync --help\`)`);

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

    switch (cmd) {
      case "start":
        await deps.start(runtime);
        return 0;
      case "describe":
        emit(
          topologies.map((t) => ({
            app: t.app,
            inputs: t.inputs,
            stores: t.stores,
            outputs: t.outputs,
            description: t.description,
          })),
          () => topologies.map(describeTopology).join("\n\n") || "no topologies in this build",
        );
        return 0;
      case "topics": {
        const admin = (await (sub === "create" ? open() : openReadOnly())).admin();
        if (sub === "list") {
          const names = (await admin.listTopics()).sort();
          const rows = await Promise.all(names.map(async (n) => {
            const d = await admin.describeTopic(n);
            return { topic: n, partitions: d.partitions, cleanup: d.compacted ? "compact" : "delete" };
          }));
          emit(rows, () => rows.length ? table(rows, ["topic", "partitions", "cleanup"]) : "no topics");
          return 0;
        }
        if (sub === "create") {
          if (!name || extra.length) {
            throw usage(
              "topics create takes one topic name: topics create <name> [--partitions N] [--compacted]",
            );
          }
          const def = topicDef(name);
          const partitions = o.partitions === undefined ? def?.partitions ?? 1 : Number(o.partitions);
          if (!Number.isInteger(partitions) || partitions < 1) {
            throw usage(`--partitions must be a whole number >= 1, got ${o.partitions}`);
          }
          const compacted = o.compacted ?? def?.compacted ?? false;
          if ((await admin.listTopics()).includes(name)) {
            throw new LzError("TOPIC_EXISTS", `topic ${name} already exists on ${broker!.address}`);
          }
          await admin.createTopics([{ name, partitions, compacted }]);
          emit(
            { topic: name, partitions, compacted },
            () => `created ${name} (${partitions} partitions, ${compacted ? "compacted" : "delete"})`,
          );
          return 0;
        }
        if (sub === "describe") {
          if (!name || extra.length) {
            throw usage("topics describe takes one topic name: topics describe <name>");
          }
          const d = await admin.describeTopic(name);
          const offsets = await admin.topicOffsets(name);
          const def = topicDef(name);
          const info = {
            ...d,
            offsets,
            declared: def ? { key: def.key, description: def.description } : null,
          };
          emit(info, () =>
            [
              `topic ${d.name}: ${d.partitions} partitions, ${d.compacted ? "compacted" : "delete"}`,
              def
                ? `declared in schemas/: key = ${def.key}; ${def.description}`
                : "not declared in schemas/ (internal or foreign)",
              `config: ${Object.entries(d.config).map(([k, v]) => `${k}=${v}`).join(", ") || "-"}`,
              table(offsets.map((x) => ({ ...x, records: x.high - x.low })), [
                "partition",
                "low",
                "high",
                "records",
              ]),
            ].join("\n"));
          return 0;
        }
        throw usage(
          `unknown topics subcommand ${
            sub === undefined ? "(none)" : JSON.stringify(sub)
          }; use list, create or describe`,
        );
      }
      case "lag": {
        const rows = await groupLag({ broker: await openReadOnly(), group: o.group });
        emit(
          rows,
          () =>
            rows.length
              ? table(rows.map((r) => ({ ...r, lag_s: Number(r.lag_seconds.toFixed(1)) })), [
                "group",
                "topic",
                "partition",
                "committed",
                "high",
                "lag",
                "lag_s",
              ])
              : o.group
              ? `group ${o.group} has no committed offsets`
              : "no consumer groups",
        );
        return 0;
      }
      case "replay": {
        const group = needGroup();
        if (!o.to) {
          throw usage("replay needs --to earliest|<ISO time>|<duration>, e.g. --to earliest or --to 2h");
        }
        const t = topologies.find((x) => x.app === group);
        const r = await replay({
          broker: await open(),
          group,
          to: o.to,
          inputs: t?.inputs,
          stores: t?.stores,
        });
        await auditReplay(await open(), r, o.operator ?? operatorName());
        emit(r, () =>
          [
            `group ${group} reset to ${o.to}${
              r.timestamp !== undefined ? ` (${new Date(r.timestamp).toISOString()})` : ""
            }`,
            r.offsets.length
              ? table(r.offsets as unknown as Record<string, unknown>[], ["topic", "partition", "offset"])
              : "no input offsets to reset",
            `dropped state: ${r.droppedTopics.join(", ") || "none"}`,
            "start the group again to rebuild its state",
          ].join("\n"));
        return 0;
      }
      case "digest": {
        const group = needGroup();
        const t = topologies.find((x) => x.app === group);
        const d = await digestGroup({ broker: await openReadOnly(), group, stores: t?.stores });
        emit(d, () => `${d.digest}\n${table(d.stores, ["store", "topic", "partitions", "keys"])}`);
        return 0;
      }
      case "repair": {
        if (!deps.repair || runtime.config.broker.kind !== "embedded") {
          throw new LzError(
            "USAGE",
            "repair works on the embedded broker's data directory only (broker.kind: embedded)",
          );
        }
        const r = await deps.repair(runtime);
        emit(r, () =>
          [
            `checked ${r.files_checked} partition files in ${r.dir}`,
            ...r.repaired.map((f) =>
              `repaired ${f.file}: kept ${f.kept} intact records` +
              f.damaged.map((d) =>
                `; skipped damaged bytes ${d.from_byte}..${d.to_byte} (offsets ${d.lost_offsets[0]}..${
                  d.lost_offsets[1]
                } at most)`
              ).join("") +
              (f.torn_bytes ? `; cut a torn tail of ${f.torn_bytes} bytes` : "") +
              `; original saved as ${f.backup}`
            ),
            r.repaired.length ? "start lzsync again" : "no damage found; nothing changed",
          ].join("\n"));
        return 0;
      }
      case "sql": {
        if (!sub || name !== undefined) {
          throw usage('sql needs one quoted statement, e.g. sql "SELECT * FROM daily_metrics"');
        }
        if (!deps.analytics) throw new LzError("NOT_RUNNING", "this build has no analytics tables");
        const db = await deps.analytics(runtime);
        try {
          const rows = await db.reader.query(sub);
          emit(
            rows,
            () =>
              rows.length === 0
                ? "(no rows)"
                : `${table(rows.slice(0, 1000), Object.keys(rows[0]))}\n(${rows.length} row${
                  rows.length === 1 ? "" : "s"
                }${rows.length > 1000 ? ", first 1000 shown" : ""})`,
          );
        } finally {
          await db.close();
        }
        return 0;
      }
      case "audit": {
        if (!o.month) throw usage("audit needs --month YYYY-MM, e.g. --month 2026-11");
        const r = await auditReport(await openReadOnly(), o.month);
        emit(r, () => {
          const rows = Object.entries(r.counts).flatMap(([kind, t]) =>
            Object.entries(t).flatMap(([trigger, outs]) =>
              Object.entries(outs).map(([outcome, count]) => ({ kind, trigger, outcome, count }))
            )
          );
          return [
            `audit ${r.month}: ${r.total} record(s)`,
            rows.length ? table(rows, ["kind", "trigger", "outcome", "count"]) : "nothing audited this month",
            `tokens: ${Object.entries(r.tokens).map(([n, c]) => `${n} (${c})`).join(", ") || "none"}`,
            `Portal commits: ${r.portal_commits.length}`,
            ...r.failures.map((f) => `failed ${f.at} ${f.kind} ${f.subject}: ${f.error ?? ""}`),
          ].join("\n");
        });
        return 0;
      }
      default:
        throw usage(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    const code = e instanceof LzError && e.code === "USAGE" ? 2 : 1;
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return code;
  } finally {
    if (broker) await (broker as Broker).close().catch(() => {});
  }
}
