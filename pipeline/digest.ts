/**
 * A stable digest of the state of a processor group: SHA-256 over every entry of every store, sorted by
 * store, partition and key, each value in canonical JSON (object keys sorted). It is computed from the
 * changelog topics read to their end, so it needs no running processor, and it equals
 * `ProcessorHost.digest()` of a single member that owns every partition once it has checkpointed.
 * `replay` uses it to prove that rebuilt state equals the state before.
 */
import { createHash } from "node:crypto";
import type { Broker } from "./broker/types.ts";
import type { Logger } from "./log.ts";
import { silentLogger } from "./log.ts";
import { LzError } from "./errors.ts";
import { changelogTopic, type Topology } from "./processor/types.ts";
import { MemoryStore, type StoreCodec } from "./processor/store.ts";
import { restoreStores } from "./processor/restore.ts";

/** One store entry. */
export interface DigestRow {
  store: string;
  partition: number;
  key: string;
  value: unknown;
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The digest of a set of store entries (order-independent), as `sha256:<hex>`. */
export function stateDigest(rows: DigestRow[]): string {
  rows.sort((a, b) => cmp(a.store, b.store) || a.partition - b.partition || cmp(a.key, b.key));
  const h = createHash("sha256");
  for (const r of rows) {
    h.update(`${JSON.stringify([r.store, r.partition, r.key])}\t${canonicalJson(r.value)}\n`);
  }
  return `sha256:${h.digest("hex")}`;
}

/** What {@link digestGroup} reports. */
export interface GroupDigest {
  group: string;
  digest: string;
  stores: { store: string; topic: string; partitions: number; keys: number }[];
}

/** Store names of a group, from its changelog topics (`<group>-<store>-changelog`). */
export async function groupStores(broker: Broker, group: string): Promise<string[]> {
  const prefix = `${group}-`;
  return (await broker.admin().listTopics())
    .filter((t) => t.startsWith(prefix) && t.endsWith("-changelog") && t.length > prefix.length + 10)
    .map((t) => t.slice(prefix.length, -"-changelog".length))
    .sort();
}

/** The state of a group as read from its changelogs: store -> partition -> key -> value. */
export type GroupState = Map<string, Map<number, Map<string, unknown>>>;

/** Which group's state to read, and how: `stores` and `codecs` come from the group's topology. */
export interface GroupStateOptions {
  broker: Broker;
  group: string;
  stores?: string[];
  /** The topology's store codecs: a store with a codec has versioned changelog records (see `store.ts`). */
  codecs?: Record<string, StoreCodec>;
  log?: Logger;
}

/** The group, stores and codecs of a topology, for {@link readGroupState} and {@link digestGroup}. */
export function topologyState(
  t: Pick<Topology, "app" | "stores" | "codecs">,
): Omit<GroupStateOptions, "broker" | "log"> {
  return { group: t.app, stores: t.stores, codecs: t.codecs };
}

/**
 * Reads every store of `group` from its changelogs to their current end. `stores` (from the topology) avoids
 * guessing store names from topic names; a declared store whose changelog does not exist yet is empty, and
 * a topology with no stores has an empty state.
 */
export async function readGroupState(
  opts: GroupStateOptions,
): Promise<GroupState> {
  const { broker, group } = opts;
  const admin = broker.admin();
  const existing = new Set(await admin.listTopics());
  // a topology that declares no stores (a notifier, a stateless mapper) has the empty state: its digest is
  // the digest of nothing, not an error; only a guessed group without changelog topics is one
  const names = opts.stores ?? await groupStores(broker, group);
  if (names.length === 0 && opts.stores === undefined) {
    throw new LzError(
      "NO_STATE",
      `group ${group} has no changelog topics on ${broker.address}; check the group name (lzsync describe lists them)`,
    );
  }
  const state: GroupState = new Map();
  for (const s of names) {
    const parts = new Map<number, Map<string, unknown>>();
    state.set(s, parts);
    if (!existing.has(changelogTopic(group, s))) continue;
    const n = (await admin.describeTopic(changelogTopic(group, s))).partitions;
    const targets = Array.from(
      { length: n },
      (_, p) => ({ partition: p, stores: new Map([[s, new MemoryStore(s, opts.codecs?.[s])]]) }),
    );
    await restoreStores(broker, group, targets, opts.log ?? silentLogger);
    for (const t of targets) parts.set(t.partition, new Map(t.stores.get(s)!.entries()));
  }
  return state;
}

/** Digests every store of `group` by reading its changelogs (see {@link readGroupState}). */
export async function digestGroup(
  opts: GroupStateOptions,
): Promise<GroupDigest> {
  const state = await readGroupState(opts);
  const rows: DigestRow[] = [];
  const stores: GroupDigest["stores"] = [];
  for (const [store, parts] of state) {
    let keys = 0;
    for (const [partition, m] of parts) {
      for (const [key, value] of m) rows.push({ store, partition, key, value });
      keys += m.size;
    }
    stores.push({ store, topic: changelogTopic(opts.group, store), partitions: parts.size, keys });
  }
  return { group: opts.group, digest: stateDigest(rows), stores };
}
