/**
 * The gateway's port, checked before lzsync creates or locks anything: a port already in use stops the start
 * with one line naming the address and how to choose another (`gateway.port`, `LZSYNC_PORT`), and the data
 * directory is left as it was (not even created).
 */
import { LzError } from "./errors.ts";

/** The LzError for a listen failure on `host:port` (in use, or not allowed); other errors pass through. */
export function listenError(err: unknown, host: string, port: number): unknown {
  const addr = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (err instanceof Deno.errors.AddrInUse) {
    return new LzError(
      "PORT_IN_USE",
      `cannot listen on ${addr}: port ${port} is already in use (another lzsync?); stop what holds it or choose ` +
        `another port with LZSYNC_PORT=${port === 65535 ? 8081 : port + 1} or gateway.port in lzsync.yaml`,
      { cause: err, detail: { host, port } },
    );
  }
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.AddrNotAvailable) {
    return new LzError(
      "PORT_UNAVAILABLE",
      `cannot listen on ${addr} (${(err as Error).message}); set LZSYNC_PORT / gateway.port or ` +
        `LZSYNC_HOST / gateway.host to an address this machine may bind`,
      { cause: err, detail: { host, port } },
    );
  }
  return err;
}

/** Throws {@link listenError} when `host:port` cannot be bound right now; port 0 (any free port) always can. */
export function checkPortFree(host: string, port: number): void {
  if (port === 0) return;
  try {
    Deno.listen({ hostname: host, port }).close();
  } catch (err) {
    throw listenError(err, host, port);
  }
}
