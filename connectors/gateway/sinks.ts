/**
 * Transports of the live feed behind one small interface: a WebSocket (Deno's, whose `send()` never blocks
 * and never refuses) and an SSE response stream. Both report the bytes they hold but have not written yet,
 * which the hub checks against the client's budget before every send.
 */
import type { Frame } from "./frames.ts";

/** Where a client's frames go. */
export interface Sink {
  readonly transport: "ws" | "sse";
  /** Queues a frame; never blocks. */
  send(frame: Frame): void;
  /** Bytes queued and not yet written to the connection. */
  buffered(): number;
  /**
   * True when `bytes` more fit within `budget` of unsent bytes (and counts them as queued); false when the
   * client is over budget. Cheap on the fan-out path: see {@link WsSink.reserve}.
   */
  reserve(bytes: number, budget: number): boolean;
  /** Ends the connection after what is already queued (WS: close frame with code and reason). */
  close(code: number, reason: string): void;
  /** Keeps idle proxies from cutting the connection (SSE comment; no-op on WS, which pings itself). */
  heartbeat(): void;
}

/**
 * A Deno WebSocket as a sink. Reading `bufferedAmount` costs about as much as a send, so the sink keeps a
 * credit: after a read of `bufferedAmount` it may queue `budget - bufferedAmount` more bytes without reading
 * again (the socket only drains meanwhile, so the credit is conservative); an over-budget verdict always
 * comes from a fresh read. `send` throws once the socket closed (the hub then drops the client).
 */
export class WsSink implements Sink {
  readonly transport = "ws";
  readonly #socket: WebSocket;
  #credit = 0;

  constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  send(frame: Frame): void {
    this.#socket.send(frame.text);
  }

  buffered(): number {
    return this.#socket.bufferedAmount;
  }

  reserve(bytes: number, budget: number): boolean {
    if (bytes <= this.#credit) {
      this.#credit -= bytes;
      return true;
    }
    this.#credit = budget - this.#socket.bufferedAmount;
    if (bytes > this.#credit) return false;
    this.#credit -= bytes;
    return true;
  }

  close(code: number, reason: string): void {
    this.#credit = 0;
    try {
      this.#socket.close(code, reason);
    } catch { /* already closing */ }
  }

  heartbeat(): void {}
}

const PING = new TextEncoder().encode(": ping\n\n");

/**
 * An SSE response body. The stream's queue is measured in bytes with a high-water mark of the client
 * budget; Deno pulls from it only as fast as the socket drains, so `buffered()` is what the client lags.
 */
export class SseSink implements Sink {
  readonly transport = "sse";
  readonly stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  readonly #budget: number;

  constructor(budget: number, onCancel: () => void) {
    this.#budget = budget;
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        controller.enqueue(new TextEncoder().encode("retry: 1000\n\n"));
      },
      cancel: () => {
        this.#closed = true;
        onCancel();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: budget }));
  }

  send(frame: Frame): void {
    if (this.#closed) throw new Error("the SSE stream is closed");
    this.#controller.enqueue(frame.sse());
  }

  buffered(): number {
    if (this.#closed) return 0;
    const d = this.#controller.desiredSize;
    return d === null ? 0 : this.#budget - d;
  }

  reserve(bytes: number, budget: number): boolean {
    return this.buffered() + bytes <= budget;
  }

  close(_code: number, _reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#controller.close();
    } catch { /* already closed */ }
  }

  heartbeat(): void {
    if (!this.#closed) this.#controller.enqueue(PING);
  }
}
