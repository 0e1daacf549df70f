/**
 * File persistence of the embedded broker under a data directory:
 *
 *   LOCK                          PID of the process using the directory (see embedded/lock.ts)
 *   topics/<topic>/topic.json     name, partitions, compacted, config
 *   topics/<topic>/<p>.log        the partition's records (format in embedded/codec.ts), append-only;
 *                                 a compaction rewrites it (temp file + rename)
 *   groups/commits.log            one JSON line per commit call, folded (rewritten) at open and when large
 *
 * Every acknowledged append and every commit is handed to the kernel with a write syscall before the call
 * returns, so a SIGKILL loses nothing acknowledged (no fsync: a power cut may).
 *
 * Each record carries a CRC-32C (see embedded/codec.ts). At open, a torn tail (a write cut short, nothing
 * intact after it) is truncated; damage in the middle of a file stops the open with DATA_DIR_CORRUPT naming
 * the file and the byte offset, and nothing is changed on disk until the operator runs `lzsync repair`
 * (embedded/repair.ts). A read-only open (`topics describe`, `lag`, `digest`) takes no lock and writes
 * nothing: no truncation, no compaction rewrite, no commit-log fold, no format migration.
 */
import { join } from "node:path";
import { LzError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { GroupOffset } from "../types.ts";
import { type EmbeddedTopic, type LogPersistence, type LogRecord, PartitionLog } from "./log.ts";
import type { GroupCoordinator, GroupPersistence } from "./group.ts";
import { type Damage, decodeFile, encodeHeader, encodeRecords } from "./codec.ts";
import { type DirLock, lockDataDir } from "./lock.ts";

/** Fold the commit log once it holds this many lines. */
const COMMIT_LOG_FOLD_LINES = 50_000;
const enc = new TextEncoder();

function writeAll(f: Deno.FsFile, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += f.writeSync(data.subarray(off));
}

/** Writes a file atomically (temp file, then rename). */
export function replaceFile(path: string, chunks: Uint8Array[]): void {
  const tmp = `${path}.tmp`;
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    for (const c of chunks) writeAll(f, c);
  } finally {
    f.close();
  }
  Deno.renameSync(tmp, path);
}

/** One partition's file. */
class PartitionFile implements LogPersistence {
  #file: Deno.FsFile;
  readonly #path: string;
  readonly #log: PartitionLog;

  constructor(path: string, log: PartitionLog) {
    this.#path = path;
    this.#log = log;
    this.#file = Deno.openSync(path, { append: true });
  }

  append(records: LogRecord[]): void {
    writeAll(this.#file, encodeRecords(records));
  }

  rewrite(kept: LogRecord[]): void {
    this.#file.close();
    replaceFile(this.#path, [encodeHeader(this.#log.high, this.#log.low), encodeRecords(kept)]);
    this.#file = Deno.openSync(this.#path, { append: true });
  }

  close(): void {
    this.#file.close();
  }
}

/** The message of a partition file damaged in the middle. */
export function corruptionMessage(path: string, d: Damage): string {
  return `partition file ${path} is corrupt at byte ${d.from}: ${d.to - d.from} damaged bytes ` +
    `${d.afterOffset < 0 ? "before the first record" : `after offset ${d.afterOffset}`}, intact records ` +
    `follow from offset ${d.nextOffset} (byte ${d.to}); lzsync will not start on a damaged log. Stop lzsync, ` +
    `back up the data directory, then run \`deno task lzsync repair\` to keep every intact record and set ` +
    `the damaged file aside`;
}

/** The data directory of one embedded broker. */
export class DiskStore implements GroupPersistence {
  readonly dir: string;
  readonly readOnly: boolean;
  readonly #log: Logger;
  readonly #lock: DirLock | null;
  #commits: Deno.FsFile | null = null;
  #commitLines = 0;
  #files = new Map<string, PartitionFile[]>();
  #groups: GroupCoordinator | null = null;

  constructor(dir: string, log: Logger, lock: DirLock | null) {
    this.dir = dir;
    this.readOnly = lock === null;
    this.#log = log;
    this.#lock = lock;
  }

  #topicDir(name: string): string {
    return join(this.dir, "topics", name);
  }

  /** Reads every topic, partition and commit into memory and attaches persistence. */
  load(topics: Map<string, EmbeddedTopic>, groups: GroupCoordinator): void {
    const started = performance.now();
    this.#groups = groups;
    let count = 0;
    for (const entry of Deno.readDirSync(join(this.dir, "topics"))) {
      if (!entry.isDirectory) continue;
      const tdir = this.#topicDir(entry.name);
      let meta: { name: string; partitions: number; compacted: boolean; config: Record<string, string> };
      try {
        meta = JSON.parse(Deno.readTextFileSync(join(tdir, "topic.json")));
      } catch {
        this.#log.warn("ignoring a topic directory without topic.json", { dir: tdir });
        continue;
      }
      const t: EmbeddedTopic = { ...meta, partitions: [], deleted: false };
      for (let p = 0; p < meta.partitions; p++) {
        const log = new PartitionLog(meta.name, p, meta.compacted);
        const path = join(tdir, `${p}.log`);
        const buf = Deno.readFileSync(path);
        let decoded;
        try {
          decoded = decodeFile(buf, meta.name, p);
        } catch (err) {
          throw new LzError("DATA_DIR_CORRUPT", `cannot read ${path}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        if (decoded.damage.length) {
          throw new LzError("DATA_DIR_CORRUPT", corruptionMessage(path, decoded.damage[0]), {
            detail: { file: path, byte: decoded.damage[0].from },
          });
        }
        const { records, high, low, validBytes } = decoded;
        if (validBytes < buf.length) {
          this.#log.warn(
            this.readOnly
              ? "ignoring an incomplete record at the end of a partition file (read-only: not truncated)"
              : "truncating an incomplete record at the end of a partition file",
            { topic: meta.name, partition: p, file: path, byte: validBytes, bytes: buf.length - validBytes },
          );
          if (!this.readOnly) Deno.truncateSync(path, validBytes);
        }
        if (decoded.version === 1 && !this.readOnly) {
          replaceFile(path, [encodeHeader(high, low), encodeRecords(records)]);
          this.#log.info("migrated a partition file to the checksummed format", { file: path });
        }
        log.load(records, high, low);
        count += records.length;
        t.partitions.push(log);
      }
      if (!this.readOnly) this.#attach(t);
      topics.set(t.name, t);
    }
    this.#loadCommits(groups);
    this.#log.info("data directory loaded", {
      dir: this.dir,
      topics: topics.size,
      records: count,
      ms: Math.round(performance.now() - started),
    });
  }

  #attach(t: EmbeddedTopic): void {
    const files = t.partitions.map((log) =>
      new PartitionFile(join(this.#topicDir(t.name), `${log.partition}.log`), log)
    );
    t.partitions.forEach((log, i) => (log.persistence = files[i]));
    this.#files.set(t.name, files);
  }

  createTopic(t: EmbeddedTopic): void {
    const tdir = this.#topicDir(t.name);
    Deno.mkdirSync(tdir, { recursive: true });
    for (const log of t.partitions) replaceFile(join(tdir, `${log.partition}.log`), [encodeHeader(0, 0)]);
    const meta = { name: t.name, partitions: t.partitions.length, compacted: t.compacted, config: t.config };
    replaceFile(join(tdir, "topic.json"), [enc.encode(JSON.stringify(meta, null, 2) + "\n")]);
    this.#attach(t);
  }

  deleteTopic(t: EmbeddedTopic): void {
    for (const f of this.#files.get(t.name) ?? []) f.close();
    this.#files.delete(t.name);
    for (const log of t.partitions) log.persistence = null;
    // topic.json goes first: a crash half-way leaves a directory the loader ignores, never a half topic.
    Deno.removeSync(join(this.#topicDir(t.name), "topic.json"));
    Deno.removeSync(this.#topicDir(t.name), { recursive: true });
  }

  /** Appends one commit call as a JSON line (one write syscall). */
  commit(groupId: string, offsets: GroupOffset[]): void {
    if (this.#commitLines > COMMIT_LOG_FOLD_LINES && this.#groups) this.rewriteCommits(this.#groups);
    const line = JSON.stringify({ g: groupId, o: offsets.map((o) => [o.topic, o.partition, o.offset]) }) +
      "\n";
    writeAll(this.#commits!, enc.encode(line));
    this.#commitLines++;
  }

  /** Folds the commit log to one line per group; called at open, on topic deletion and when it grows. */
  rewriteCommits(groups: GroupCoordinator): void {
    this.#commits?.close();
    const path = join(this.dir, "groups", "commits.log");
    const lines: string[] = [];
    for (const g of groups.groups.values()) {
      const o = [...g.committed.values()].map((c) => [c.topic, c.partition, c.offset]);
      if (o.length > 0) lines.push(JSON.stringify({ g: g.id, o }) + "\n");
    }
    replaceFile(path, [enc.encode(lines.join(""))]);
    this.#commits = Deno.openSync(path, { append: true });
    this.#commitLines = lines.length;
  }

  #loadCommits(groups: GroupCoordinator): void {
    const path = join(this.dir, "groups", "commits.log");
    let text = "";
    try {
      text = Deno.readTextFileSync(path);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    for (const line of text.split("\n")) {
      if (!line) continue;
      let rec: { g: string; o: [string, number, number][] };
      try {
        rec = JSON.parse(line);
      } catch {
        this.#log.warn("skipping an incomplete line at the end of the commit log", { path });
        continue;
      }
      groups.group(rec.g).setCommitted(
        rec.o.map(([topic, partition, offset]) => ({ topic, partition, offset })),
      );
    }
    if (!this.readOnly) this.rewriteCommits(groups);
  }

  close(): void {
    for (const files of this.#files.values()) for (const f of files) f.close();
    this.#files.clear();
    this.#commits?.close();
    this.#commits = null;
    this.#lock?.release();
  }
}

/**
 * Opens (creating if needed) and locks a data directory. `readOnly` neither creates, locks nor writes
 * anything (a missing directory reads as empty).
 */
export function openDiskStore(
  dir: string,
  log: Logger,
  opts: { readOnly?: boolean } = {},
): Promise<DiskStore> {
  if (opts.readOnly) {
    for (const sub of ["topics", "groups"]) {
      try {
        Deno.statSync(join(dir, sub));
      } catch {
        return Promise.resolve(new EmptyReadOnlyStore(dir, log));
      }
    }
    return Promise.resolve(new DiskStore(dir, log, null));
  }
  try {
    Deno.mkdirSync(join(dir, "topics"), { recursive: true });
    Deno.mkdirSync(join(dir, "groups"), { recursive: true });
  } catch (err) {
    return Promise.reject(
      new LzError("DATA_DIR", `cannot create data directory ${dir}: ${(err as Error).message}`, {
        cause: err,
      }),
    );
  }
  try {
    return Promise.resolve(new DiskStore(dir, log, lockDataDir(dir, log)));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A read-only open of a data directory that does not exist (yet): no topics, no commits. */
class EmptyReadOnlyStore extends DiskStore {
  constructor(dir: string, log: Logger) {
    super(dir, log, null);
  }
  override load(): void {}
}
