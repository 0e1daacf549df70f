/**
 * `lzsync repair`: what the operator runs, on purpose, when the embedded broker refuses to open a data
 * directory because a partition file is damaged in the middle (DATA_DIR_CORRUPT). With the directory locked
 * (lzsync must be stopped), every partition file is checked record by record (CRC-32C); a damaged file is
 * copied aside as `<p>.log.damaged-<time>` and rewritten with every intact record, before and after the
 * damage. Torn tails are cut as a normal start would. Nothing else is touched; a directory with no damage is
 * left byte for byte as it was.
 */
import { join } from "node:path";
import type { Logger } from "../../log.ts";
import { LzError } from "../../errors.ts";
import { decodeFile, encodeHeader, encodeRecords } from "./codec.ts";
import { replaceFile } from "./disk.ts";
import { lockDataDir } from "./lock.ts";

/** One file that repair rewrote. */
export interface RepairedFile {
  file: string;
  topic: string;
  partition: number;
  /** Damaged byte ranges skipped, with the offsets that may have been in them. */
  damaged: { from_byte: number; to_byte: number; lost_offsets: [number, number] }[];
  /** Bytes of a torn tail cut at the end. */
  torn_bytes: number;
  /** Intact records kept. */
  kept: number;
  /** The original file, kept for inspection. */
  backup: string;
}

/** What {@link repairDataDir} did. */
export interface RepairReport {
  dir: string;
  files_checked: number;
  repaired: RepairedFile[];
}

/** Checks every partition file under `dir` and salvages the damaged ones (see the module doc). */
export function repairDataDir(dir: string, log: Logger): RepairReport {
  const topicsDir = join(dir, "topics");
  try {
    Deno.statSync(topicsDir);
  } catch {
    throw new LzError("DATA_DIR", `${dir} is not an embedded broker data directory (no topics/ in it)`);
  }
  const lock = lockDataDir(dir, log);
  const report: RepairReport = { dir, files_checked: 0, repaired: [] };
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  try {
    for (const entry of [...Deno.readDirSync(topicsDir)].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!entry.isDirectory) continue;
      const tdir = join(topicsDir, entry.name);
      let meta: { name: string; partitions: number };
      try {
        meta = JSON.parse(Deno.readTextFileSync(join(tdir, "topic.json")));
      } catch {
        continue; // the loader ignores it too
      }
      for (let p = 0; p < meta.partitions; p++) {
        const file = join(tdir, `${p}.log`);
        const buf = Deno.readFileSync(file);
        report.files_checked++;
        const d = decodeFile(buf, meta.name, p, { salvage: true });
        const torn = buf.length - d.validBytes;
        if (d.damage.length === 0 && torn === 0) continue;
        const backup = `${file}.damaged-${stamp}`;
        Deno.copyFileSync(file, backup);
        const lastOffset = d.records.length ? d.records[d.records.length - 1].offset : -1;
        const high = Math.max(d.high, lastOffset + 1);
        replaceFile(file, [encodeHeader(high, d.low), encodeRecords(d.records)]);
        const r: RepairedFile = {
          file,
          topic: meta.name,
          partition: p,
          damaged: d.damage.map((x) => ({
            from_byte: x.from,
            to_byte: x.to,
            lost_offsets: [x.afterOffset + 1, x.nextOffset - 1],
          })),
          torn_bytes: torn,
          kept: d.records.length,
          backup,
        };
        log.warn("repaired a damaged partition file", { ...r });
        report.repaired.push(r);
      }
    }
  } finally {
    lock.release();
  }
  return report;
}
