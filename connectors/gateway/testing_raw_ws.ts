/**
 * A WebSocket client over raw TCP for tests and benches that need a client which stops reading (see
 * {@link RawWsClient}). Re-exported by `testing.ts`.
 */
import type { LiveEvent } from "./plugin.ts";
import { type LiveQuery, liveQuery } from "./testing_live_query.ts";

/** A frame read by {@link RawWsClient}. */
export interface RawFrame {
  opcode: number;
  text: string;
  /** Close frames: the status code. */
  code?: number;
}

/**
 * A WebSocket client over a raw TCP connection that reads only when told to: the way to play a client that
 * stops reading (the browser WebSocket always drains its socket). Loopback only, no TLS.
 */
export class RawWsClient {
  readonly frames: RawFrame[] = [];
  #buf = new Uint8Array(0);
  #reading: Promise<void> | null = null;
  #closed = false;

  private constructor(readonly conn: Deno.TcpConn) {}

  /** Connects and completes the upgrade; reads nothing after the 101 answer. */
  static async open(wsUrl: string, q: LiveQuery = {}): Promise<RawWsClient> {
    const u = new URL(wsUrl + liveQuery(q));
    const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const req = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    await conn.write(new TextEncoder().encode(req));
    const c = new RawWsClient(conn);
    while (true) {
      const text = new TextDecoder().decode(c.#buf);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        if (!text.startsWith("HTTP/1.1 101")) {
          conn.close();
          throw new Error(`upgrade refused: ${text.split("\r\n")[0]}`);
        }
        c.#buf = c.#buf.slice(new TextEncoder().encode(text.slice(0, end + 4)).length);
        c.#parse();
        return c;
      }
      if (!await c.#readOnce()) throw new Error("connection closed during the upgrade");
    }
  }

  async #readOnce(): Promise<boolean> {
    const chunk = new Uint8Array(256 * 1024);
    const n = await this.conn.read(chunk).catch(() => null);
    if (n === null) return false;
    const merged = new Uint8Array(this.#buf.length + n);
    merged.set(this.#buf);
    merged.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = merged;
    return true;
  }

  #parse(): void {
    const dec = new TextDecoder();
    let b = this.#buf;
    while (b.length >= 2) {
      const opcode = b[0] & 0x0f;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = (b[2] << 8) | b[3];
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
        off = 10;
      }
      if (b.length < off + len) break;
      const payload = b.subarray(off, off + len);
      if (opcode === 8) {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : undefined;
        this.frames.push({ opcode, code, text: dec.decode(payload.subarray(2)) });
      } else this.frames.push({ opcode, text: dec.decode(payload) });
      b = b.subarray(off + len);
    }
    this.#buf = b.slice();
  }

  /** Starts draining the socket in the background (the client "wakes up"). */
  startReading(): void {
    this.#reading ??= (async () => {
      while (!this.#closed && await this.#readOnce()) this.#parse();
    })();
  }

  /** Text frames parsed as live events. */
  events(): LiveEvent[] {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.text));
  }

  /** The close frame, if one arrived. */
  closeFrame(): RawFrame | undefined {
    return this.frames.find((f) => f.opcode === 8);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* closed */ }
    await this.#reading;
  }
}
