/**
 * The commands of `deno task lzsync` (`cli.ts` parses the arguments, forwards live commands and closes the
 * broker): one named function per command, looked up in {@link COMMANDS}. Each returns the exit code or
 * throws (an LzError with code USAGE for a usage error).
 */
import type { Broker } from "./broker/types.ts";
import type { Runtime } from "./config.ts";
import { describeTopology, type Topology } from "./processor/types.ts";
import { LzError } from "./errors.ts";
import { topicDef } from "../schemas/mod.ts";
import { topicPartitions } from "./topics.ts";
import { groupLag } from "./lag.ts";
import { replay } from "./replay.ts";
import { auditReplay, auditReport, operatorName } from "./audit_cli.ts";
import { digestGroup, topologyState } from "./digest.ts";
import { table } from "./cli_format.ts";
import type { CliDeps } from "./cli_deps.ts";

/** A usage error: exit code 2, with a pointer to the help. */
export const usage = (msg: string): LzError =>
  new LzError("USAGE", `${msg} (see \`deno task lzsync --help\`)`);

/** What one command gets from `runCli`: the parsed arguments, the runtime and the broker openers. */
export interface CommandContext {
  deps: CliDeps;
  runtime: Runtime;
  /** Parsed options (`--json`, `--group`, ...). */
  o: {
    json?: boolean;
    group?: string;
    to?: string;
    month?: string;
    operator?: string;
    partitions?: string;
    compacted?: boolean;
  };
  /** Positionals after the command: `<cmd> <sub> <name> ...extra`. */
  sub?: string;
  name?: string;
  extra: string[];
  topologies: Topology[];
  /** Prints `data` as JSON with `--json`, else `human()`. */
  emit(data: unknown, human: () => string): void;
  /** `--group`, or a usage error naming the command. */
  needGroup(): string;
  /** The broker for a command that writes (opened once, closed by `runCli`). */
  open(): Promise<Broker>;
  /** The broker for a command that only reads. */
  openReadOnly(): Promise<Broker>;
}

/** `start`: runs the whole pipeline until it is stopped. */
async function startCommand(c: CommandContext): Promise<number> {
  const { deps, runtime } = c;
  await deps.start(runtime);
  return 0;
}

/** `describe`: the topologies of this build; `describe architecture`: the whole map, as Markdown. */
async function describeCommand(c: CommandContext): Promise<number> {
  const { topologies, emit } = c;
  if (c.sub === "architecture") {
    if (!c.deps.architecture) throw usage("describe architecture is not available in this build");
    const md = await c.deps.architecture(c.runtime);
    emit({ markdown: md }, () => md.trimEnd());
    return 0;
  }
  if (c.sub !== undefined) throw usage(`describe takes no argument or 'architecture', not '${c.sub}'`);
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
}

/** `topics list | create <name> | describe <name>`. */
async function topicsCommand(c: CommandContext): Promise<number> {
  const { o, sub, name, extra, emit, open, openReadOnly } = c;
  const broker = await (sub === "create" ? open() : openReadOnly());
  const admin = broker.admin();
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
    const partitions = o.partitions === undefined
      ? def ? topicPartitions(def, c.runtime.config) : 1
      : Number(o.partitions);
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw usage(`--partitions must be a whole number >= 1, got ${o.partitions}`);
    }
    const compacted = o.compacted ?? def?.compacted ?? false;
    if ((await admin.listTopics()).includes(name)) {
      throw new LzError("TOPIC_EXISTS", `topic ${name} already exists on ${broker.address}`);
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

/** `lag [--group G]`: consumer lag per partition, in records and seconds. */
async function lagCommand(c: CommandContext): Promise<number> {
  const { o, emit, openReadOnly } = c;
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

/** `replay --group G --to ...`: resets a stopped group's inputs, drops its state and audits the replay. */
async function replayCommand(c: CommandContext): Promise<number> {
  const { o, topologies, emit, needGroup, open } = c;
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

/** `digest --group G`: stable hash of every store of a group. */
async function digestCommand(c: CommandContext): Promise<number> {
  const { topologies, emit, needGroup, openReadOnly } = c;
  const group = needGroup();
  const t = topologies.find((x) => x.app === group);
  const d = await digestGroup({ broker: await openReadOnly(), ...(t ? topologyState(t) : { group }) });
  emit(d, () => `${d.digest}\n${table(d.stores, ["store", "topic", "partitions", "keys"])}`);
  return 0;
}

/** `repair`: salvages a damaged embedded data directory. */
async function repairCommand(c: CommandContext): Promise<number> {
  const { deps, runtime, emit } = c;
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

/** `sql "<query>"`: one read-only statement on the analytics tables. */
async function sqlCommand(c: CommandContext): Promise<number> {
  const { deps, runtime, sub, name, emit } = c;
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

/** `audit --month YYYY-MM`: the monthly report of the audit trail. */
async function auditCommand(c: CommandContext): Promise<number> {
  const { o, emit, openReadOnly } = c;
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

/** Every command `runCli` runs itself, by name. */
export const COMMANDS: Record<string, (c: CommandContext) => Promise<number>> = {
  start: startCommand,
  describe: describeCommand,
  topics: topicsCommand,
  lag: lagCommand,
  replay: replayCommand,
  digest: digestCommand,
  repair: repairCommand,
  sql: sqlCommand,
  audit: auditCommand,
};
