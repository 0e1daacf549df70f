/**
 * Tables of a topology (`Topology.tables`): compacted topics read from earliest to the end seen at the call
 * into one read-only map each, keeping the latest value per key (a tombstone removes it). The host reads them
 * before it starts the tasks of an assignment; the test driver fills them from given records. A record that
 * does not decode is left out with a warning: a table is a hint of the past, never a reason not to start.
 */
import type { Broker } from "../broker/types.ts";
import { readTopicToEnd } from "../broker/read_topic.ts";
import type { Logger } from "../log.ts";
import { decode } from "../serde.ts";
import type { TableSpec, Topology } from "./types.ts";

/** The tables of a topology, by topic. */
export type Tables = Map<string, Map<string, unknown>>;

/** Applies one record (decoded value, `null` a tombstone) to a table. */
export function applyTableRecord(
  table: Map<string, unknown>,
  spec: TableSpec,
  key: string | null,
  value: unknown,
): void {
  if (key === null) return;
  const v = value === null ? undefined : spec.select ? spec.select(value) : value;
  if (v === undefined) table.delete(key);
  else table.set(key, v);
}

/** Reads every table of `topology` to its current end. */
export async function readTables(broker: Broker, topology: Topology, log: Logger): Promise<Tables> {
  const out: Tables = new Map();
  for (const spec of topology.tables ?? []) {
    const table = new Map<string, unknown>();
    let bad = 0;
    await readTopicToEnd(broker, spec.topic, (r) => {
      let value: unknown;
      try {
        value = decode(spec.topic, r.value);
      } catch {
        bad++;
        return;
      }
      applyTableRecord(table, spec, r.key, value);
    });
    if (bad) log.warn("table records that do not decode were left out", { topic: spec.topic, records: bad });
    out.set(spec.topic, table);
  }
  return out;
}
