import assert from "node:assert/strict";
import { createEmbeddedBroker } from "./mod.ts";
import { readTopicToEnd } from "../read_topic.ts";
import type { Broker } from "../types.ts";
import { repairDataDir } from "./repair.ts";
import { silentLogger } from "../../log.ts";
import { runCli } from "../../cli.ts";
import { resolveConfig } from "../../config.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function keys(broker: Broker, topic: string): Promise<string[]> {
  const out: string[] = [];
  await readTopicToEnd(broker, topic, (r) => out.push(r.key ?? "-"));
  return out;
}

/** A data dir with topic `t` (1 partition) holding records k0..k(n-1); returns the partition file path. */
async function dirWith(n: number): Promise<{ dir: string; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-crc-" });
  const b = await createEmbeddedBroker({ dataDir: dir });
  await b.admin().createTopics([{ name: "t", partitions: 1 }]);
  const p = await b.producer();
  for (let i = 0; i < n; i++) await p.send("t", [{ key: `k${i}`, value: enc.encode(`value-${i}`) }]);
  await b.admin().setCommitted("g", [{ topic: "t", partition: 0, offset: 3 }]);
  await b.close();
  return { dir, file: `${dir}/topics/t/0.log` };
}

/** Byte positions of the records of a partition file (either format). */
function recordStarts(buf: Uint8Array): number[] {
  const pre = dec.decode(buf.subarray(0, 8)) === "LZLOG001" ? 4 : 8;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: number[] = [];
  for (let pos = 24; pos < buf.length; pos += pre + dv.getUint32(pos, true)) out.push(pos);
  return out;
}

const bytesOf = (file: string) => Deno.readFileSync(file);

Deno.test("embedded log: a corrupted length field mid-segment refuses to open, naming file and byte; nothing is truncated", async () => {
  const { dir, file } = await dirWith(10);
  try {
    const buf = bytesOf(file);
    const at = recordStarts(buf)[3];
    new DataView(buf.buffer).setUint32(at, 0xffff_ff00, true);
    Deno.writeFileSync(file, buf);
    for (const readOnly of [true, false]) {
      await assert.rejects(
        createEmbeddedBroker({ dataDir: dir, readOnly }),
        (err: Error) => {
          assert.match(err.message, new RegExp(`${file.replace(/[/.]/g, "\\$&")} is corrupt at byte ${at}`));
          assert.match(err.message, /after offset 2, intact records follow from offset 4/);
          assert.match(err.message, /lzsync repair/);
          return true;
        },
      );
      assert.deepEqual(bytesOf(file), buf, `the file is left as it was (readOnly: ${readOnly})`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("embedded log: a flipped byte inside a record is caught by its CRC-32C", async () => {
  const { dir, file } = await dirWith(6);
  try {
    const buf = bytesOf(file);
    const i = dec.decode(buf).indexOf("value-2");
    assert.ok(i > 0);
    buf[i + 6] ^= 0x01; // "value-2" becomes "value-3": structurally fine, only a checksum sees it
    Deno.writeFileSync(file, buf);
    await assert.rejects(createEmbeddedBroker({ dataDir: dir }), /is corrupt at byte \d+: .*after offset 1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("embedded log: a torn tail is skipped by a read-only open (file untouched) and truncated by a writable one", async () => {
  const { dir, file } = await dirWith(3);
  try {
    const good = bytesOf(file);
    const torn = new Uint8Array([...good, 200, 0, 0, 0, 9, 9, 9]);
    Deno.writeFileSync(file, torn);
    const ro = await createEmbeddedBroker({ dataDir: dir, readOnly: true });
    assert.deepEqual(await keys(ro, "t"), ["k0", "k1", "k2"]);
    assert.deepEqual(await ro.admin().fetchCommitted("g"), [{ topic: "t", partition: 0, offset: 3 }]);
    await assert.rejects((await ro.producer()).send("t", [{ key: "x", value: null }]), /read-only/);
    await assert.rejects(ro.admin().createTopics([{ name: "u" }]), /read-only/);
    await assert.rejects(
      ro.admin().setCommitted("g", [{ topic: "t", partition: 0, offset: 1 }]),
      /read-only/,
    );
    await ro.close();
    assert.deepEqual(bytesOf(file), torn, "read-only: not truncated");
    assert.ok(
      !(await Array.fromAsync(Deno.readDir(dir))).some((e) => e.name === "LOCK"),
      "no lock file left",
    );
    const rw = await createEmbeddedBroker({ dataDir: dir });
    assert.deepEqual(await keys(rw, "t"), ["k0", "k1", "k2"]);
    await rw.close();
    assert.deepEqual(bytesOf(file), good, "writable: the torn tail is cut");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lzsync repair keeps every intact record on both sides of the damage and sets the damaged file aside", async () => {
  const { dir, file } = await dirWith(10);
  try {
    const clean = repairDataDir(dir, silentLogger);
    assert.deepEqual(clean.repaired, [], "no damage: nothing changed");
    const buf = bytesOf(file);
    const starts = recordStarts(buf);
    new DataView(buf.buffer).setUint32(starts[4], 7, true); // record 4 unreadable
    Deno.writeFileSync(file, buf);
    const r = repairDataDir(dir, silentLogger);
    assert.equal(r.repaired.length, 1);
    const f = r.repaired[0];
    assert.deepEqual([f.topic, f.partition, f.kept, f.damaged.length], ["t", 0, 9, 1]);
    assert.deepEqual(f.damaged[0].lost_offsets, [4, 4]);
    assert.deepEqual(bytesOf(f.backup), buf, "the damaged original is kept");
    const b = await createEmbeddedBroker({ dataDir: dir });
    assert.deepEqual(await keys(b, "t"), ["k0", "k1", "k2", "k3", "k5", "k6", "k7", "k8", "k9"]);
    assert.deepEqual(await b.admin().topicOffsets("t"), [{ partition: 0, low: 0, high: 10 }]);
    const m = await (await b.producer()).send("t", [{ key: "k10", value: null }]);
    assert.equal(m[0].offset, 10, "offsets go on after the last one ever written");
    await b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A partition file in the first format (no checksums), as lzsync wrote it before. */
function v1File(recs: { offset: number; key: string; value: string }[]): Uint8Array {
  const parts: number[] = [];
  const head = new Uint8Array(24);
  enc.encodeInto("LZLOG001", head);
  new DataView(head.buffer).setFloat64(8, 0, true);
  parts.push(...head);
  for (const r of recs) {
    const k = enc.encode(r.key);
    const v = enc.encode(r.value);
    const body = new Uint8Array(16 + 4 + k.length + 4 + v.length + 4);
    const dv = new DataView(body.buffer);
    dv.setFloat64(0, r.offset, true);
    dv.setFloat64(8, 1_700_000_000_000 + r.offset, true);
    dv.setInt32(16, k.length, true);
    body.set(k, 20);
    dv.setInt32(20 + k.length, v.length, true);
    body.set(v, 24 + k.length);
    dv.setUint32(24 + k.length + v.length, 0, true);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, body.length, true);
    parts.push(...len, ...body);
  }
  return new Uint8Array(parts);
}

Deno.test("embedded log: files of the first format (no checksum) are read, and migrated on a writable open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-crc-v1-" });
  try {
    await Deno.mkdir(`${dir}/topics/t`, { recursive: true });
    await Deno.mkdir(`${dir}/groups`);
    Deno.writeTextFileSync(
      `${dir}/topics/t/topic.json`,
      JSON.stringify({ name: "t", partitions: 1, compacted: false, config: { "cleanup.policy": "delete" } }),
    );
    const old = v1File([0, 1, 2].map((i) => ({ offset: i, key: `k${i}`, value: `v${i}` })));
    Deno.writeFileSync(`${dir}/topics/t/0.log`, old);
    const ro = await createEmbeddedBroker({ dataDir: dir, readOnly: true });
    assert.deepEqual(await keys(ro, "t"), ["k0", "k1", "k2"]);
    await ro.close();
    assert.deepEqual(bytesOf(`${dir}/topics/t/0.log`), old, "read-only leaves the old file as it is");
    const rw = await createEmbeddedBroker({ dataDir: dir });
    await (await rw.producer()).send("t", [{ key: "k3", value: enc.encode("v3") }]);
    await rw.close();
    assert.equal(dec.decode(bytesOf(`${dir}/topics/t/0.log`).subarray(0, 8)), "LZLOG002");
    const again = await createEmbeddedBroker({ dataDir: dir });
    assert.deepEqual(await keys(again, "t"), ["k0", "k1", "k2", "k3"]);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("read-only commands (topics list/describe, lag, digest) never modify the data directory", async () => {
  const { dir, file } = await dirWith(3);
  try {
    const torn = new Uint8Array([...bytesOf(file), 99, 0, 0]);
    Deno.writeFileSync(file, torn);
    const commits = bytesOf(`${dir}/groups/commits.log`);
    const seen: (boolean | undefined)[] = [];
    const deps = {
      loadRuntime: () => Promise.resolve(resolveConfig({})),
      createBroker: (_: unknown, o?: { readOnly?: boolean }) => {
        seen.push(o?.readOnly);
        return createEmbeddedBroker({ dataDir: dir, readOnly: o?.readOnly });
      },
      start: () => Promise.resolve(),
      stdout: () => {},
      stderr: () => {},
    };
    for (const args of [["topics", "list"], ["topics", "describe", "t"], ["lag"], ["lag", "--group", "g"]]) {
      assert.equal(await runCli(args, deps), 0, args.join(" "));
    }
    assert.equal(await runCli(["digest", "--group", "g"], deps), 1, "no state: an error, still read-only");
    assert.deepEqual(seen, [true, true, true, true, true]);
    assert.deepEqual(bytesOf(file), torn);
    assert.deepEqual(bytesOf(`${dir}/groups/commits.log`), commits);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
