/**
 * Replay / resync of a processor group: with every member stopped, reset the group's committed input
 * offsets (to earliest, a timestamp, or a duration back) and drop its changelog-backed state (the changelog
 * topics are deleted; the next start recreates them and rebuilds every store from the inputs).
 *
 * Offsets are reset before the state is dropped: if replay is interrupted in between, the kept changelog
 * still carries its applied source offsets, so a restart skips what the state already holds (no double
 * count), and running replay again finishes the job.
 */
import type { Broker, GroupOffset } from "./broker/types.ts";
import { LzError } from "./errors.ts";
import { parseDuration } from "./config.ts";
import { groupStores } from "./digest.ts";
import { changelogTopic } from "./processor/types.ts";

/** Options of {@link replay}. */
export interface ReplayOptions {
  broker: Broker;
  group: string;
  /** `earliest`, an ISO 8601 time (`2024-05-01T12:00:00Z`) or a duration back from now (`2h`, `30m`, `1d`). */
  to: string;
  /** Input topics of the group (from its topology); default: the topics it has committed offsets for. */
  inputs?: string[];
  /** Store names (from its topology); default: guessed from `<group>-<store>-changelog` topics. */
  stores?: string[];
  now?: number;
  /** How long to wait for deleted changelog topics to disappear (default 30 s). */
  deleteTimeoutMs?: number;
}

/** What a replay did. */
export interface ReplayResult {
  group: string;
  to: string;
  /** The timestamp the offsets were reset to; undefined for `earliest`. */
  timestamp?: number;
  offsets: GroupOffset[];
  droppedTopics: string[];
}

/** Parses `earliest`, an ISO time or a duration into `"earliest"` or an epoch-ms timestamp. */
export function parseReplayTarget(to: string, now = Date.now()): "earliest" | number {
  if (to === "earliest") return "earliest";
  if (/^[0-9]+(ms|s|m|h|d)$/.test(to)) return now - parseDuration(to);
  if (/^\d{4}-\d{2}-\d{2}/.test(to)) {
    const t = Date.parse(to);
    if (!Number.isNaN(t)) return t;
  }
  throw new LzError(
    "USAGE",
    `--to ${
      JSON.stringify(to)
    } is not a replay target; use earliest, an ISO time like 2024-05-01T12:00:00Z, ` +
      `or a duration back from now like 30m, 2h or 1d`,
  );
}

/** Resets a stopped group to `to` and drops its state. Refuses while the group has active members. */
export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const { broker, group } = opts;
  const target = parseReplayTarget(opts.to, opts.now);
  const admin = broker.admin();
  const desc = await admin.describeGroup(group);
  if (desc.members.length > 0) {
    const who = desc.members.map((m) => m.clientId).join(", ");
    throw new LzError(
      "GROUP_ACTIVE",
      `group ${group} has ${desc.members.length} active member(s) (${who}) on ${broker.address}; stop them, ` +
        `then run replay again`,
      { detail: { group, members: desc.members.length } },
    );
  }
  let inputs = opts.inputs;
  if (!inputs) inputs = [...new Set((await admin.fetchCommitted(group)).map((o) => o.topic))].sort();
  const stores = opts.stores ?? await groupStores(broker, group);
  if (inputs.length === 0 && stores.length === 0) {
    throw new LzError(
      "NO_STATE",
      `group ${group} has no committed offsets and no changelog topics on ${broker.address}; check the group name`,
    );
  }
  const offsets: GroupOffset[] = [];
  for (const topic of inputs) {
    if (target === "earliest") {
      for (const o of await admin.topicOffsets(topic)) {
        offsets.push({ topic, partition: o.partition, offset: o.low });
      }
    } else {
      offsets.push(...await admin.offsetsForTimestamp(topic, target));
    }
  }
  if (offsets.length > 0) await admin.setCommitted(group, offsets);
  const existing = new Set(await admin.listTopics());
  const dropped = stores.map((s) => changelogTopic(group, s)).filter((t) => existing.has(t));
  if (dropped.length > 0) {
    await admin.deleteTopics(dropped);
    const end = Date.now() + (opts.deleteTimeoutMs ?? 30_000);
    for (;;) {
      const left = new Set(await admin.listTopics());
      if (!dropped.some((t) => left.has(t))) break;
      if (Date.now() > end) {
        throw new LzError(
          "DELETE_TIMEOUT",
          `changelog topics ${dropped.join(", ")} are still being deleted; retry`,
          {
            retriable: true,
          },
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    group,
    to: opts.to,
    timestamp: target === "earliest" ? undefined : target,
    offsets,
    droppedTopics: dropped,
  };
}
