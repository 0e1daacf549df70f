/**
 * One HTTP/1.1 request over a raw TCP connection, for probes `fetch` cannot make: a forged `Host` header
 * (DNS rebinding), a WebSocket upgrade from a foreign `Origin`. Re-exported by `testing.ts`. Loopback only.
 */

/** The answer of {@link rawHttp}: status line, headers (lower-cased names) and the body read so far. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `method path` to `baseUrl`'s host and port with exactly `headers` (plus `Connection: close`) and
 * reads until the server closes, `maxBytes` arrived, or — for 101 and streaming answers — the head is in.
 * With `timeoutMs` the connection is closed then (status 0 when no answer came).
 */
export async function rawHttp(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
  options: { maxBytes?: number; headOnly?: boolean; timeoutMs?: number } = {},
): Promise<RawAnswer> {
  const u = new URL(baseUrl);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, options.timeoutMs);
  try {
    const lines = [`${method} ${path} HTTP/1.1`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    if (body) lines.push(`Content-Length: ${new TextEncoder().encode(body).length}`);
    lines.push("Connection: close", "", body);
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const max = options.maxBytes ?? 1024 * 1024;
    let text = "";
    const dec = new TextDecoder();
    const chunk = new Uint8Array(64 * 1024);
    while (text.length < max) {
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) break;
      text += dec.decode(chunk.subarray(0, n), { stream: true });
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0 && (options.headOnly || / 101 /.test(text.slice(0, 16)))) break;
    }
    const end = text.indexOf("\r\n\r\n");
    const head = (end >= 0 ? text.slice(0, end) : text).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? "")?.[1] ?? 0);
    const out: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(":");
      if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return { status, headers: out, body: end >= 0 ? text.slice(end + 4) : "" };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}
