/**
 * The clients of `abuse_test.ts`, each run as a process of its own so that client work does not share the
 * gateway's event loop: `deno run --allow-net testing_load_client.ts flood|measure <url> <x-forwarded-for>`.
 * Loopback only. Each stdin line `go <ms> <rate>` runs one round and prints one JSON line.
 *
 * - `flood`: `GET <url>` at `rate` requests/s for `ms` over four keep-alive connections with HTTP/1.1
 *   pipelining (the attacker's own cost stays small), then `{sent, ok, limited, other, ms}` once every
 *   request is answered.
 * - `measure`: `rate` well-behaved clients (X-Forwarded-For `<x-forwarded-for>.<k>`), each one GET every
 *   20 ms with fetch, then `{latencies, statuses}` (milliseconds, status → count).
 */
const [mode, target, xff] = Deno.args;
const url = new URL(target);
if (url.hostname !== "127.0.0.1" || !["flood", "measure"].includes(mode)) {
  throw new Error("usage: testing_load_client.ts flood|measure http://127.0.0.1:PORT/path XFF");
}
const enc = new TextEncoder();
const request = enc.encode(
  `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nX-Forwarded-For: ${xff}\r\n\r\n`,
);
const counts = { sent: 0, ok: 0, limited: 0, other: 0 };
const answered = () => counts.ok + counts.limited + counts.other;

const conns = mode === "flood"
  ? await Promise.all(
    Array.from({ length: 4 }, () => Deno.connect({ hostname: "127.0.0.1", port: Number(url.port) })),
  )
  : [];
const readers = conns.map(async (conn) => {
  const dec = new TextDecoder();
  let tail = "";
  const buf = new Uint8Array(64 * 1024);
  while (true) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return;
    const text = tail + dec.decode(buf.subarray(0, n), { stream: true });
    let after = 0;
    for (const m of text.matchAll(/HTTP\/1\.1 (\d{3}) /g)) {
      if (m[1] === "200") counts.ok++;
      else if (m[1] === "429") counts.limited++;
      else counts.other++;
      after = m.index + m[0].length;
    }
    // A status line cut by the chunk boundary is completed by the next read; nothing counted is kept.
    tail = text.slice(Math.max(after, text.length - 13));
  }
});

async function round(ms: number, rate: number) {
  const start = { ...counts };
  const t0 = performance.now();
  let next = 0;
  while (performance.now() - t0 < ms) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate) - (counts.sent - start.sent);
    const room = 256 - (counts.sent - answered());
    for (let i = 0; i < Math.min(due, room); i++) {
      counts.sent++;
      await conns[next++ % conns.length].write(request);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const end = performance.now() + 10_000;
  while (answered() < counts.sent && performance.now() < end) await new Promise((r) => setTimeout(r, 2));
  return {
    sent: counts.sent - start.sent,
    ok: counts.ok - start.ok,
    limited: counts.limited - start.limited,
    other: counts.other - start.other,
    ms: Math.round(performance.now() - t0),
  };
}

async function measure(ms: number, clients: number) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, k) => {
    await new Promise((r) => setTimeout(r, (k * 20) / clients));
    while (performance.now() - t0 < ms) {
      const s = performance.now();
      const r = await fetch(url, { headers: { "x-forwarded-for": `${xff}.${k + 1}` } });
      await r.arrayBuffer();
      latencies.push(performance.now() - s);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, Math.max(0, 20 - (performance.now() - s))));
    }
  }));
  return { latencies, statuses };
}

let buf = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const [cmd, ms, rate] = buf.slice(0, i).trim().split(/\s+/);
    buf = buf.slice(i + 1);
    if (cmd !== "go") continue;
    const out = mode === "flood"
      ? await round(Number(ms), Number(rate))
      : await measure(Number(ms), Number(rate));
    await Deno.stdout.write(enc.encode(JSON.stringify(out) + "\n"));
  }
}
for (const c of conns) c.close();
await Promise.all(readers);
