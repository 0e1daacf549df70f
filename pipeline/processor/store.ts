/**
 * In-memory key-value stores of one task, with dirty tracking for the changelog and an undo log so a failed
 * `process()` call leaves no half-applied writes behind (its retries and its DLQ outcome start clean).
 *
 * Changelog wire format (persisted contract): topic `<app>-<store>-changelog`, partition = task partition,
 * key = store key, value = JSON of the stored value or `null` (tombstone) for a delete, header
 * {@link SRC_HEADER} = JSON `{"<topic>:<partition>": <offset>}` — the last input offset of each source
 * partition whose effects are included in the record's checkpoint.
 *
 * A store with a {@link StoreCodec} writes its values in the codec's readable form instead, and every record
 * carries {@link FMT_HEADER} = the codec's version; a record without that header was written before the store
 * had a codec (version 0). Restore decodes each record by its own version, so a changelog written by an older
 * lzsync restores into the same state (and the same digest) as one written today.
 */
import type { KeyValueStore, StoreCodec } from "./types.ts";
export type { StoreCodec } from "./types.ts";
import type { ProduceRecord } from "../broker/types.ts";
import { encodeJsonAll, encodeTextsAll } from "../serde.ts";
import { LzError } from "../errors.ts";

/** Changelog header holding the applied source offsets. */
export const SRC_HEADER = "lz-src";
/** Changelog header holding the version of a codec store's value format (absent: version 0). */
export const FMT_HEADER = "lz-fmt";

const ABSENT = Symbol("absent");

/** A task's store: a Map plus the set of keys changed since the last checkpoint. */
export class MemoryStore<V = unknown> implements KeyValueStore<V> {
  readonly name: string;
  readonly codec: StoreCodec<V> | undefined;
  readonly #map = new Map<string, V>();
  readonly #dirty = new Set<string>();
  readonly #undo: [string, V | typeof ABSENT][] = [];
  #tx = false;

  constructor(name: string, codec?: StoreCodec<V>) {
    this.name = name;
    this.codec = codec;
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  put(key: string, value: V): void {
    if (typeof key !== "string") {
      throw new TypeError(`store ${this.name}: key must be a string, got ${typeof key}`);
    }
    if (value === undefined || value === null) {
      throw new TypeError(`store ${this.name}: cannot put ${value} for ${key}; use delete()`);
    }
    if (this.#tx) this.#undo.push([key, this.#map.has(key) ? this.#map.get(key)! : ABSENT]);
    this.#map.set(key, value);
    this.#dirty.add(key);
  }

  delete(key: string): void {
    if (!this.#map.has(key)) return;
    if (this.#tx) this.#undo.push([key, this.#map.get(key)!]);
    this.#map.delete(key);
    this.#dirty.add(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.#map.entries();
  }

  get size(): number {
    return this.#map.size;
  }

  /** Starts recording undo information (one input record's worth of writes). */
  begin(): void {
    this.#tx = true;
    if (this.#undo.length) this.#undo.length = 0;
  }

  /** Forgets the undo information: the writes since {@link begin} stand. */
  commit(): void {
    this.#tx = false;
    if (this.#undo.length) this.#undo.length = 0;
  }

  /** Reverts every write since {@link begin}. */
  rollback(): void {
    const undo = this.#undo;
    this.#tx = false;
    for (let i = undo.length - 1; i >= 0; i--) {
      const [k, old] = undo[i];
      if (old === ABSENT) this.#map.delete(k);
      else this.#map.set(k, old);
    }
    undo.length = 0;
  }

  /** Number of keys changed since the last {@link takeChangelog}. */
  get dirtyCount(): number {
    return this.#dirty.size;
  }

  /**
   * Changelog records for every dirty key (current value or a tombstone), stamped with `applied`, and clears
   * the dirty set. Call only when the records will be produced; on failure call {@link markDirty}.
   */
  takeChangelog(partition: number, applied: Record<string, number>): ProduceRecord[] {
    const codec = this.codec;
    const headers: Record<string, string> = codec
      ? { [SRC_HEADER]: JSON.stringify(applied), [FMT_HEADER]: String(codec.version) }
      : { [SRC_HEADER]: JSON.stringify(applied) };
    const out: ProduceRecord[] = [];
    const values: V[] = [];
    const at: number[] = [];
    for (const key of this.#dirty) {
      const v = this.#map.get(key);
      if (v !== undefined) {
        at.push(out.length);
        values.push(v);
      }
      out.push({ key, value: null, headers, partition });
    }
    const bytes = codec ? encodeTextsAll(values.map((v) => codec.encode(v))) : encodeJsonAll(values);
    for (let j = 0; j < at.length; j++) out[at[j]].value = bytes[j];
    this.#dirty.clear();
    return out;
  }

  /** Marks keys dirty again (a changelog produce failed). */
  markDirty(keys: Iterable<string>): void {
    for (const k of keys) this.#dirty.add(k);
  }

  /** Empties the store and forgets dirty keys (before a full restore). */
  clear(): void {
    this.#map.clear();
    this.#dirty.clear();
  }

  /**
   * Applies one parsed changelog value during restore (not dirty: it is already in the changelog), as written
   * (`fmt`: its {@link FMT_HEADER}), through the codec when the store has one.
   */
  restoreWritten(key: string, raw: unknown | null, fmt: string | undefined): void {
    if (raw === null) this.#map.delete(key);
    else if (this.codec) this.#map.set(key, this.codec.decode(raw, fmt === undefined ? 0 : Number(fmt)));
    else if (fmt !== undefined) {
      throw new LzError(
        "CHANGELOG_FORMAT",
        `store ${this.name}: a changelog record of format ${fmt} needs the store's codec (pass the topology's codecs)`,
      );
    } else this.#map.set(key, raw as V);
  }
}
