/**
 * Writes a fabric's state to its compacted topics as diffs: only records whose value changed are produced,
 * keys that disappeared get tombstones. Seeded with what the topics held at start, so a restart also
 * removes what vanished while lzsync was down.
 */
import type { Producer, ProduceRecord } from "../../pipeline/broker/types.ts";
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

const BATCH = 1000;

const STAMP_TAIL = ',"updated_at":""}';

/**
 * The record value of `value` given its stamp (its JSON with `updated_at: ""`). When `updated_at` is the
 * last field (as the record builders write it) the value's JSON is the stamp with the time put back, so a
 * record is serialized once, not twice; otherwise it is serialized again.
 */
export function _encodeStamped(topic: string, value: unknown, stamp: string): Uint8Array | null {
  const at = (value as { updated_at?: unknown } | null)?.updated_at;
  if (typeof at !== "string" || !stamp.endsWith(STAMP_TAIL)) return encode(topic, value);
  const json = `${stamp.slice(0, -STAMP_TAIL.length)},"updated_at":${JSON.stringify(at)}}`;
  return encodeSerialized(topic, value, json);
}

/** Diff-publishing of one fabric's records. */
export class FabricPublisher {
  readonly #objects = new Map<string, string>();
  readonly #unmanaged = new Map<string, string>();

  constructor(readonly fabric: string, readonly producer: () => Promise<Producer>) {}

  /** Records the keys/values the topics already hold for this fabric (restore). */
  seed(topic: "objects" | "unmanaged", key: string, value: unknown): void {
    (topic === "objects" ? this.#objects : this.#unmanaged).set(
      key,
      JSON.stringify({ ...(value as object), updated_at: "" }),
    );
  }

  async #send(topic: string, records: ProduceRecord[]): Promise<void> {
    if (!records.length) return;
    const p = await this.producer();
    for (let i = 0; i < records.length; i += BATCH) await p.send(topic, records.slice(i, i + BATCH));
  }

  async #diff<V>(topic: string, last: Map<string, string>, next: Map<string, V>): Promise<number> {
    const out: ProduceRecord[] = [];
    const stamp = (v: V) => JSON.stringify({ ...(v as object), updated_at: "" });
    for (const [key, value] of next) {
      const s = stamp(value);
      if (last.get(key) === s) continue;
      out.push({ key, value: _encodeStamped(topic, value, s) });
      last.set(key, s);
    }
    for (const key of [...last.keys()]) {
      if (next.has(key)) continue;
      out.push({ key, value: null });
      last.delete(key);
    }
    await this.#send(topic, out);
    return out.length;
  }

  /** Publishes the full set of this fabric's object records (keyed `<fabric>/<plural>/<ns>/<name>`). */
  objects(next: Map<string, FabricObject>): Promise<number> {
    return this.#diff(FGD_OBJECTS_TOPIC.name, this.#objects, next);
  }

  /** Publishes the full set of this fabric's unmanaged files (keyed `<fabric>:<path>`). */
  unmanaged(next: Map<string, UnmanagedFile>): Promise<number> {
    return this.#diff(FGD_UNMANAGED_TOPIC.name, this.#unmanaged, next);
  }

  async status(status: FabricStatus): Promise<void> {
    await this.#send(FGD_STATUS_TOPIC.name, [{
      key: this.fabric,
      value: encode(FGD_STATUS_TOPIC.name, status),
    }]);
  }

  async results(results: FgdResult[]): Promise<void> {
    await this.#send(
      FGD_RESULTS_TOPIC.name,
      results.map((r) => ({ key: this.fabric, value: encode(FGD_RESULTS_TOPIC.name, r) })),
    );
  }

  /** Tombstones every record of the fabric (unregistration). */
  async clear(): Promise<void> {
    await this.objects(new Map());
    await this.unmanaged(new Map());
    await this.#send(FGD_STATUS_TOPIC.name, [{ key: this.fabric, value: null }]);
  }
}
