/**
 * The admin API of a running lzsync: how `lag`, `topics`, `digest` and `replay` work while lzsync runs on the
 * embedded broker, whose data directory the running process holds locked (as `rpk` talks to a running
 * broker). The running process serves the CLI's own commands on a loopback port and writes where to reach it
 * in `<data_dir>/admin.json` (mode 0600: `{pid, url, token}`, a fresh random token per start); the CLI, finding
 * the data directory locked by that process, sends it the arguments and prints the answer. The commands run
 * against the live broker, so `replay` gives its documented refusal while the group has members.
 */
import { join } from "node:path";
import { timingSafeEqual } from "node:crypto";
import { LzError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { pidAlive } from "./broker/embedded/lock.ts";

/** The commands the admin API runs; anything else (start, repair, topics create) stays local. */
export const LIVE_COMMANDS: ReadonlySet<string> = new Set(["topics", "lag", "replay", "digest", "sql"]);

/** What one CLI run produced: its exit code and the lines it wrote. */
export interface CliOutcome {
  code: number;
  stdout: string[];
  stderr: string[];
}

/** Where a running lzsync serves its admin API (the contents of `admin.json`). */
export interface AdminEndpoint {
  pid: number;
  url: string;
  token: string;
}

/** A started admin API; {@link stop} closes the port and removes `admin.json`. */
export interface AdminApi {
  readonly url: string;
  stop(): Promise<void>;
}

const FILE = "admin.json";
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** Starts the admin API on 127.0.0.1 (a free port) and writes `<dataDir>/admin.json`. */
export async function startAdminApi(
  opts: { dataDir: string; run(argv: string[]): Promise<CliOutcome>; log: Logger },
): Promise<AdminApi> {
  const token = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  const expected = new TextEncoder().encode(`Bearer ${token}`);
  const authorized = (h: string | null) => {
    const got = new TextEncoder().encode(h ?? "");
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path !== "/v1/cli") {
      return json(404, { error: "not_found", reason: "the admin API serves POST /v1/cli" });
    }
    if (req.method !== "POST") return json(405, { error: "method_not_allowed", reason: "use POST" });
    if (!authorized(req.headers.get("authorization"))) {
      return json(401, { error: "unauthorized", reason: `send the token from ${join(opts.dataDir, FILE)}` });
    }
    let argv: unknown;
    try {
      argv = (await req.json())?.argv;
    } catch {
      return json(400, { error: "bad_request", reason: 'body must be JSON {"argv": ["lag", ...]}' });
    }
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
      return json(400, { error: "bad_request", reason: "argv must be a non-empty array of strings" });
    }
    if (!LIVE_COMMANDS.has(argv[0])) {
      return json(400, {
        error: "bad_request",
        reason: `${argv[0]} does not run through the admin API; it serves ${[...LIVE_COMMANDS].join(", ")}`,
      });
    }
    opts.log.info("admin command", { argv });
    return json(200, await opts.run(argv));
  });
  const addr = server.addr as Deno.NetAddr;
  const url = `http://127.0.0.1:${addr.port}`;
  const file = join(opts.dataDir, FILE);
  const tmp = `${file}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify({ pid: Deno.pid, url, token } satisfies AdminEndpoint), {
    mode: 0o600,
  });
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, file);
  return {
    url,
    stop: async () => {
      try {
        const cur = JSON.parse(await Deno.readTextFile(file)) as AdminEndpoint;
        if (cur.pid === Deno.pid && cur.url === url) await Deno.remove(file);
      } catch { /* already gone */ }
      await server.shutdown();
    },
  };
}

/**
 * The admin API of the lzsync that holds `<dataDir>/broker` locked, or null when no other live process holds
 * it (the CLI then opens the data directory itself). A lock held by a process that serves no admin API is an
 * error naming the process.
 */
export async function findRunningAdmin(dataDir: string): Promise<AdminEndpoint | null> {
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(join(dataDir, "broker", "LOCK"))).trim());
  } catch {
    return null;
  }
  if (!pidAlive(pid) || pid === Deno.pid) return null;
  try {
    const ep = JSON.parse(await Deno.readTextFile(join(dataDir, FILE))) as AdminEndpoint;
    if (ep.pid === pid && typeof ep.url === "string" && typeof ep.token === "string") return ep;
  } catch { /* absent or being written */ }
  throw new LzError(
    "DATA_DIR_LOCKED",
    `data directory ${dataDir} is in use by process ${pid}, which serves no admin API (${
      join(dataDir, FILE)
    } is missing: it is still starting, or it is not lzsync); retry in a few seconds, or stop it`,
    { retriable: true, detail: { dir: dataDir, pid } },
  );
}

/** Runs one CLI command in the running lzsync behind `ep`. */
export async function runRemoteCli(ep: AdminEndpoint, argv: string[]): Promise<CliOutcome> {
  let res: Response;
  try {
    res = await fetch(`${ep.url}/v1/cli`, {
      method: "POST",
      headers: { authorization: `Bearer ${ep.token}`, "content-type": "application/json" },
      body: JSON.stringify({ argv }),
    });
  } catch (err) {
    throw new LzError(
      "ADMIN_UNREACHABLE",
      `lzsync (process ${ep.pid}) holds the data directory but its admin API at ${ep.url} does not answer (${
        (err as Error).message
      }); is it shutting down? retry, or stop it`,
      { retriable: true, cause: err },
    );
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new LzError(
      "ADMIN_REFUSED",
      `the admin API of lzsync (process ${ep.pid}) answered ${res.status}: ${body?.reason ?? "no reason"}`,
    );
  }
  return body as CliOutcome;
}
