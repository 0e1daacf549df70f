/**
 * A push over git's smart-HTTP protocol (`git-receive-pack`), as git itself sends it: discover the remote
 * ref, then one POST with the ref update command and a packfile. The update is a compare-and-swap on the
 * server (`<old> <new> <ref>`): when someone pushed in between, the server answers `ng` and nothing changes.
 * Used by the fabric repo for large commits (see `pack.ts`); fetching stays with isomorphic-git.
 */
import { crashArmed, crashPoint } from "../../pipeline/crash_point.ts";
import { LzError } from "../../pipeline/errors.ts";

const ZERO = "0000000000000000000000000000000000000000";
const enc = new TextEncoder();
const dec = new TextDecoder();

function pkt(line: string): Uint8Array {
  const body = enc.encode(line);
  return enc.encode((body.length + 4).toString(16).padStart(4, "0") + line);
}

/** Splits pkt-lines; `null` marks a flush packet. */
export function parsePktLines(buf: Uint8Array): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = [];
  let at = 0;
  while (at + 4 <= buf.length) {
    const len = parseInt(dec.decode(buf.subarray(at, at + 4)), 16);
    if (Number.isNaN(len)) break;
    if (len === 0) {
      out.push(null);
      at += 4;
      continue;
    }
    if (len < 4) {
      at += 4;
      continue;
    }
    out.push(buf.subarray(at + 4, at + len));
    at += len;
  }
  return out;
}

/** What the server advertises for `ref`. */
export interface Advertisement {
  oid: string | null;
  capabilities: Set<string>;
}

function failure(what: string, url: string, status: number): LzError {
  const hint = status === 401 || status === 403
    ? "check the token of the fabric's credential (or credential_env)"
    : status === 404
    ? "check the fabric's repo URL"
    : "the git server refused";
  return new LzError("GIT_PUSH", `cannot ${what} ${url} (HTTP ${status}): ${hint}`, {
    retriable: status >= 500,
  });
}

/** Reads the receive-pack advertisement: the current oid of `ref` (null when absent) and capabilities. */
export async function discover(
  url: string,
  ref: string,
  headers: Record<string, string>,
): Promise<Advertisement> {
  const res = await fetch(`${url.replace(/\/+$/, "")}/info/refs?service=git-receive-pack`, { headers });
  const body = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) throw failure("discover refs of", url, res.status);
  let oid: string | null = null;
  let capabilities = new Set<string>();
  for (const line of parsePktLines(body)) {
    if (!line) continue;
    const text = dec.decode(line).replace(/\n$/, "");
    if (text.startsWith("#")) continue;
    const [refPart, caps] = text.split("\0");
    if (caps !== undefined) capabilities = new Set(caps.split(" ").filter(Boolean));
    const [o, name] = refPart.split(" ");
    if (name === ref) oid = o === ZERO ? null : o;
  }
  return { oid, capabilities };
}

/** Outcome of {@link receivePack}. */
export type ReceiveOutcome = { ok: true } | { ok: false; reason: string };

/** Sends one ref update with its pack. `old` null creates the ref. */
/** The crash test's `fgd:mid-push`: sends the first half of `body`, waits for it to leave, then dies. */
function halfThenCrash(body: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    async pull(c) {
      if (!sent) {
        sent = true;
        c.enqueue(body.subarray(0, Math.max(1, body.length >> 1)));
        return;
      }
      await new Promise((r) => setTimeout(r, 300));
      crashPoint("fgd:mid-push");
    },
  });
}

export async function receivePack(
  url: string,
  headers: Record<string, string>,
  update: { old: string | null; new: string; ref: string },
  pack: Uint8Array,
  capabilities: Set<string>,
): Promise<ReceiveOutcome> {
  const sideband = capabilities.has("side-band-64k");
  const caps = ["report-status", ...(sideband ? ["side-band-64k"] : []), "agent=lzsync"].join(" ");
  const command = pkt(`${update.old ?? ZERO} ${update.new} ${update.ref}\0 ${caps}\n`);
  const body = new Uint8Array(command.length + 4 + pack.length);
  body.set(command);
  body.set(enc.encode("0000"), command.length);
  body.set(pack, command.length + 4);
  const res = await fetch(`${url.replace(/\/+$/, "")}/git-receive-pack`, {
    method: "POST",
    headers: {
      ...headers,
      "content-type": "application/x-git-receive-pack-request",
      accept: "application/x-git-receive-pack-result",
    },
    body: crashArmed("fgd:mid-push") ? halfThenCrash(body) : body,
  });
  const out = new Uint8Array(await res.arrayBuffer());
  if (!res.ok) throw failure("push to", url, res.status);
  let report = out;
  if (sideband) {
    const parts: Uint8Array[] = [];
    for (const line of parsePktLines(out)) {
      if (!line || line.length === 0) continue;
      if (line[0] === 1) parts.push(line.subarray(1));
      else if (line[0] === 3) return { ok: false, reason: dec.decode(line.subarray(1)).trim() };
    }
    report = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      report.set(p, at);
      at += p.length;
    }
  }
  const lines = parsePktLines(report).filter((l): l is Uint8Array => !!l).map((l) => dec.decode(l).trim());
  const unpack = lines.find((l) => l.startsWith("unpack "));
  if (unpack && unpack !== "unpack ok") return { ok: false, reason: unpack };
  const status = lines.find((l) => l.startsWith(`ok ${update.ref}`) || l.startsWith(`ng ${update.ref}`));
  if (status?.startsWith("ok ")) return { ok: true };
  return {
    ok: false,
    reason: status ? status.slice(`ng ${update.ref} `.length) : `no report for ${update.ref}`,
  };
}
