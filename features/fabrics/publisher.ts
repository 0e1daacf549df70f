/**
 * Writes a fabric's state to its compacted topics as diffs: only records whose value changed are forwarded,
 * keys that disappeared get tombstones. Seeded with what the topics held at task start, so a restart also
 * removes what vanished while lzsync was down.
 */
import { encode, encodeSerialized } from "../../pipeline/serde.ts";
import {
  type FabricObject,
  type FabricStatus,
  FGD_OBJECTS_TOPIC,
  FGD_RESULTS_TOPIC,
  FGD_STATUS_TOPIC,
  FGD_UNMANAGED_TOPIC,
  type FgdResult,
  type UnmanagedFile,
} from "../../schemas/fgd.ts";

const STAMP_TAIL = ',"updated_at":""}';

/**
 * The record value of `value` given its stamp (its JSON with `updated_at: ""`). When `updated_at` is the
 * last field (as the record builders write it) the value's JSON is the stamp with the time put back, so a
 * record is serialized once, not twice; otherwise it is serialized again.
 */
export function _encodeStamped(topic: string, value: unknown, stamp: string): Uint8Array | null {
  const json = _stampedJson(value, stamp);
  return json === undefined ? encode(topic, value) : encodeSerialized(topic, value, json);
}

/**
 * Where a fabric's records go: the `lzsync-fgd` processor's `ctx.forward` (see `topology.ts`), or its
 * `ctx.forwardJson` when `json` (the value's `JSON.stringify`) is given.
 */
export type FabricOutput = (topic: string, key: string, value: unknown | null, json?: string) => void;

/**
 * The JSON of `value` given its stamp (its JSON with `updated_at: ""`), or undefined. When `updated_at` is
 * the last field (as the record builders write it) the value's JSON is the stamp with the time put back, so
 * a record is serialized once, not twice.
 */
export function _stampedJson(value: unknown, stamp: string): string | undefined {
  const at = (value as { updated_at?: unknown } | null)?.updated_at;
  if (typeof at !== "string" || !stamp.endsWith(STAMP_TAIL)) return undefined;
  return `${stamp.slice(0, -STAMP_TAIL.length)},"updated_at":${JSON.stringify(at)}}`;
}

/** Diff-publishing of one fabric's records. */
export class FabricPublisher {
  readonly #objects = new Map<string, string>();
  readonly #unmanaged = new Map<string, string>();

  constructor(readonly fabric: string, readonly out: FabricOutput) {}

  /** Records the keys/values the topics already hold for this fabric (restore). */
  seed(topic: "objects" | "unmanaged", key: string, value: unknown): void {
    (topic === "objects" ? this.#objects : this.#unmanaged).set(
      key,
      JSON.stringify({ ...(value as object), updated_at: "" }),
    );
  }

  #diff<V>(topic: string, last: Map<string, string>, next: Map<string, V>): number {
    let n = 0;
    const stamp = (v: V) => JSON.stringify({ ...(v as object), updated_at: "" });
    for (const [key, value] of next) {
      const s = stamp(value);
      if (last.get(key) === s) continue;
      this.out(topic, key, value, _stampedJson(value, s));
      last.set(key, s);
      n++;
    }
    for (const key of [...last.keys()]) {
      if (next.has(key)) continue;
      this.out(topic, key, null);
      last.delete(key);
      n++;
    }
    return n;
  }

  /** Publishes the full set of this fabric's object records (keyed `<fabric>/<plural>/<ns>/<name>`). */
  objects(next: Map<string, FabricObject>): number {
    return this.#diff(FGD_OBJECTS_TOPIC.name, this.#objects, next);
  }

  /** Publishes the full set of this fabric's unmanaged files (keyed `<fabric>:<path>`). */
  unmanaged(next: Map<string, UnmanagedFile>): number {
    return this.#diff(FGD_UNMANAGED_TOPIC.name, this.#unmanaged, next);
  }

  status(status: FabricStatus): void {
    this.out(FGD_STATUS_TOPIC.name, this.fabric, status);
  }

  results(results: FgdResult[]): void {
    for (const r of results) this.out(FGD_RESULTS_TOPIC.name, this.fabric, r);
  }

  /** Tombstones every record of the fabric (unregistration). */
  clear(): void {
    this.objects(new Map());
    this.unmanaged(new Map());
    this.out(FGD_STATUS_TOPIC.name, this.fabric, null);
  }
}
