import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createEmbeddedBroker } from "./mod.ts";
import { readTopicToEnd } from "../read_topic.ts";
import type { Broker, ConsumedRecord } from "../types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "lzsync-disk-" });
}

/** Every record of a topic, read with a reader from earliest up to the current high offsets. */
async function readAll(broker: Broker, topic: string): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  await readTopicToEnd(broker, topic, (r) => out.push(r));
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

Deno.test("embedded data dir: records, offsets, headers, topic metadata and commits survive close and reopen", async () => {
  const dir = await tempDir();
  try {
    const b1 = await createEmbeddedBroker({ dataDir: dir });
    await b1.admin().createTopics([{ name: "t", partitions: 3 }, {
      name: "c",
      partitions: 2,
      compacted: true,
    }]);
    const p = await b1.producer();
    const sent = await p.send("t", [
      { key: "a", value: enc.encode("1"), headers: { h: "ü" }, timestamp: 1000 },
      { key: null, value: enc.encode("2") },
      { key: "b", value: null },
      { key: "c", value: new Uint8Array(0) },
      ...Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: enc.encode(`v${i}`) })),
    ]);
    await b1.admin().setCommitted("g", [{ topic: "t", partition: 1, offset: 7 }]);
    await b1.admin().setCommitted("g2", [{ topic: "t", partition: 0, offset: 3 }]);
    const before = await readAll(b1, "t");
    const offsetsBefore = await b1.admin().topicOffsets("t");
    await b1.close();

    const b2 = await createEmbeddedBroker({ dataDir: dir });
    assert.deepEqual(await b2.admin().listTopics(), ["c", "t"]);
    assert.deepEqual(await b2.admin().describeTopic("c"), {
      name: "c",
      partitions: 2,
      compacted: true,
      config: { "cleanup.policy": "compact" },
    });
    assert.deepEqual(await b2.admin().topicOffsets("t"), offsetsBefore);
    const after = await readAll(b2, "t");
    assert.equal(after.length, sent.length);
    assert.deepEqual(after, before);
    const a = after.find((r) => r.key === "a")!;
    assert.deepEqual([a.timestamp, a.headers, dec.decode(a.value!)], [1000, { h: "ü" }, "1"]);
    assert.equal(after.find((r) => r.key === "b")!.value, null);
    assert.deepEqual(await b2.admin().fetchCommitted("g"), [{ topic: "t", partition: 1, offset: 7 }]);
    assert.deepEqual(await b2.admin().fetchCommitted("g2"), [{ topic: "t", partition: 0, offset: 3 }]);
    const more = await (await b2.producer()).send("t", [{ key: "a", value: enc.encode("after restart") }]);
    assert.equal(more[0].offset, offsetsBefore.find((o) => o.partition === more[0].partition)!.high);
    await b2.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("embedded data dir: compaction rewrites the partition file; offsets and high survive reopen", async () => {
  const dir = await tempDir();
  let now = 1_000_000;
  const clock = { now: () => now };
  try {
    const b1 = await createEmbeddedBroker({ dataDir: dir, clock });
    await b1.admin().createTopics([
      { name: "c", partitions: 1, compacted: true, config: { "delete.retention.ms": "1000" } },
      { name: "r", partitions: 1, config: { "retention.ms": "1000" } },
    ]);
    const old = Array.from(
      { length: 1_200 },
      () => ({ key: null, value: enc.encode("old"), timestamp: now - 5_000 }),
    );
    await (await b1.producer()).send("r", old); // expired on arrival: retention trims at once
    assert.deepEqual(await b1.admin().topicOffsets("r"), [{ partition: 0, low: 1_200, high: 1_200 }]);
    const p = await b1.producer();
    for (let round = 0; round < 5; round++) {
      await p.send(
        "c",
        Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: enc.encode(`r${round}`) })),
      );
    }
    await p.send("c", [{ key: "k0", value: null }, { key: "k1", value: null }]);
    const file = `${dir}/topics/c/0.log`;
    const sizeBefore = Deno.statSync(file).size;
    assert.equal(b1.compact("c"), 402, "keeps the latest of 100 keys (2 of them recent tombstones)");
    assert.ok(Deno.statSync(file).size < sizeBefore / 3, "the file was rewritten smaller");
    await b1.close();

    const b2 = await createEmbeddedBroker({ dataDir: dir, clock });
    assert.deepEqual(await b2.admin().topicOffsets("r"), [{ partition: 0, low: 1_200, high: 1_200 }]);
    let recs = await readAll(b2, "c");
    assert.equal(recs.length, 100);
    assert.deepEqual(recs.slice(0, 2).map((r) => [r.key, r.value, r.offset]), [["k2", recs[0].value, 402], [
      "k3",
      recs[1].value,
      403,
    ]]);
    assert.equal(dec.decode(recs[2].value!), "r4");
    assert.deepEqual(recs.slice(-2).map((r) => [r.key, r.value, r.offset]), [["k0", null, 500], [
      "k1",
      null,
      501,
    ]]);
    now += 5_000; // tombstones now older than delete.retention.ms
    assert.equal(b2.compact("c"), 2);
    assert.deepEqual(await b2.admin().topicOffsets("c"), [{ partition: 0, low: 0, high: 502 }]);
    await b2.close();

    const b3 = await createEmbeddedBroker({ dataDir: dir, clock });
    assert.deepEqual(await b3.admin().topicOffsets("r"), [{ partition: 0, low: 1_200, high: 1_200 }]);
    // The tail of the log was compacted away; the next offset still follows the old high.
    assert.equal(
      (await (await b3.producer()).send("c", [{ key: "z", value: enc.encode("z") }]))[0].offset,
      502,
    );
    recs = await readAll(b3, "c");
    assert.equal(recs.length, 99);
    assert.deepEqual(recs.slice(-2).map((r) => [r.key, r.offset]), [["k99", 499], ["z", 502]]);
    await b3.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("embedded data dir: a torn record at the end of a file is truncated, the rest is kept", async () => {
  const dir = await tempDir();
  try {
    const b1 = await createEmbeddedBroker({ dataDir: dir });
    await b1.admin().createTopics([{ name: "t", partitions: 1 }]);
    await (await b1.producer()).send("t", [{ key: "a", value: enc.encode("x") }, {
      key: "b",
      value: enc.encode("y"),
    }]);
    await b1.close();
    const f = await Deno.open(`${dir}/topics/t/0.log`, { append: true });
    await f.write(new Uint8Array([200, 0, 0, 0, 1, 2, 3])); // a length prefix promising more than follows
    f.close();
    const b2 = await createEmbeddedBroker({ dataDir: dir });
    assert.deepEqual((await readAll(b2, "t")).map((r) => r.key), ["a", "b"]);
    const m = await (await b2.producer()).send("t", [{ key: "c", value: enc.encode("z") }]);
    assert.equal(m[0].offset, 2);
    await b2.close();
    const b3 = await createEmbeddedBroker({ dataDir: dir });
    assert.deepEqual((await readAll(b3, "t")).map((r) => r.key), ["a", "b", "c"]);
    await b3.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("embedded data dir: a second broker on the same dir is refused naming the PID; stale locks are taken over", async () => {
  const dir = await tempDir();
  try {
    const b1 = await createEmbeddedBroker({ dataDir: dir });
    await assert.rejects(createEmbeddedBroker({ dataDir: dir }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "DATA_DIR_LOCKED");
      assert.match(err.message, new RegExp(`process ${Deno.pid}\\b`));
      return true;
    });
    await b1.close();
    // A lock left by a process that has exited.
    const child = new Deno.Command("true").spawn();
    await child.status;
    await Deno.writeTextFile(`${dir}/LOCK`, `${child.pid}\n`);
    const b2 = await createEmbeddedBroker({ dataDir: dir });
    assert.equal((await Deno.readTextFile(`${dir}/LOCK`)).trim(), String(Deno.pid));
    await b2.close();
    await assert.rejects(Deno.stat(`${dir}/LOCK`), Deno.errors.NotFound, "close releases the lock");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("embedded data dir: after SIGKILL mid-stream, every acknowledged record and commit is there", async () => {
  const dir = await tempDir();
  try {
    const script = fileURLToPath(new URL("./crash_child.ts", import.meta.url));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, dir, "crash", "crash-group"],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let lastAck: { acked: number; high: number[] } | null = null;
    let lastCommit: { committed: number; high: number[] } | null = null;
    let buf = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (!lastAck || lastAck.acked < 200) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the child exited before acknowledging 200 batches");
      buf += value;
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) {
        const msg = JSON.parse(l);
        if ("acked" in msg) lastAck = msg;
        else lastCommit = msg;
      }
    }
    await assert.rejects(createEmbeddedBroker({ dataDir: dir }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "DATA_DIR_LOCKED");
      assert.match(err.message, new RegExp(`process ${child.pid}\\b`));
      return true;
    });
    child.kill("SIGKILL");
    await reader.cancel();
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");

    const broker = await createEmbeddedBroker({ dataDir: dir });
    const highs = (await broker.admin().topicOffsets("crash")).map((o) => o.high);
    lastAck!.high.forEach((h, p) =>
      assert.ok(highs[p] >= h, `partition ${p}: high ${highs[p]} < acknowledged ${h}`)
    );
    const recs = await readAll(broker, "crash");
    const values = new Set(recs.map((r) => dec.decode(r.value!)));
    for (let b = 0; b <= lastAck!.acked; b++) {
      for (let j = 0; j < 50; j++) assert.ok(values.has(`b${b}-${j}`), `acknowledged record b${b}-${j} lost`);
    }
    for (const p of [0, 1, 2]) {
      const offs = recs.filter((r) => r.partition === p).map((r) => r.offset);
      assert.deepEqual(offs, offs.map((_, i) => i), `partition ${p} offsets are dense`);
    }
    const committed = await broker.admin().fetchCommitted("crash-group");
    assert.ok(lastCommit, "the child committed at least once");
    for (const c of committed) assert.ok(c.offset >= lastCommit!.high[c.partition]);
    assert.equal(committed.length, 3);
    await broker.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
