/**
 * Deterministic crash points for the crash test (issue 8): `LZSYNC_CRASH_AT=<point>[@<n>]` makes the process
 * SIGKILL itself the n-th time (default: the first) it reaches the named point, so the test hits moments such
 * as "half of a push's pack sent" on purpose instead of by chance. Only the process dies, exactly as under
 * `kill -9 <pid>`: git children run in sessions of their own and live on. Unset (the default), a point
 * costs one comparison with a module variable.
 *
 * `pipeline/config.ts` (the one module that reads the environment) arms it; an unknown name fails the start
 * with the list of points.
 */
import { LzError } from "./errors.ts";

/** The named points and the moment each stands for. */
export const CRASH_POINTS = {
  "git-sync:after-produce":
    "a git sync's file records and commit marker are acknowledged; lzsync-git-fetch's stores and the push's offset are not",
  "fgd:after-commit-before-push": "an ingestion commit is in lzsync's own clone; nothing is pushed",
  "fgd:mid-push": "half of an ingestion push's pack is sent to the server; the rest never is",
  "fgd:after-push": "the server took an ingestion push; lzsync's own refs are not updated",
  "assets:mid-snapshot": "a snapshot's asset chunks are acknowledged; its completion marker is not written",
  "host:before-commit":
    "a processor's outputs and changelog records are acknowledged; its input offsets are not committed",
} as const;

/** A crash point name. */
export type CrashPointName = keyof typeof CRASH_POINTS;

let armed: CrashPointName | null = null;
let remaining = 0;

/** Arms the point `spec` names (`<point>` or `<point>@<n>`); undefined or empty disarms. */
export function armCrashPoint(spec: string | undefined): void {
  armed = null;
  if (!spec) return;
  const m = /^([a-z-]+:[a-z-]+)(?:@([1-9][0-9]*))?$/.exec(spec.trim());
  if (!m || !(m[1] in CRASH_POINTS)) {
    throw new LzError(
      "CONFIG",
      `LZSYNC_CRASH_AT=${JSON.stringify(spec)} is not a crash point; use <point> or <point>@<n> with one of ${
        Object.keys(CRASH_POINTS).join(", ")
      }`,
    );
  }
  armed = m[1] as CrashPointName;
  remaining = Number(m[2] ?? 1);
}

/** True when `name` is armed and its next hit is the one that kills (for points that prepare the crash). */
export function crashArmed(name: CrashPointName): boolean {
  return armed === name && remaining <= 1;
}

/** Kills this process with SIGKILL when `name` is armed and this is its n-th hit; otherwise does nothing. */
export function crashPoint(name: CrashPointName): void {
  if (armed !== name) return;
  if (--remaining > 0) return;
  const line = JSON.stringify({
    level: "error",
    ns: "lzsync.crash",
    msg: "crash point reached; SIGKILL",
    point: name,
    at: new Date().toISOString(),
  });
  Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
  Deno.kill(Deno.pid, "SIGKILL");
}
