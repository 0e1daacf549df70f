import assert from "node:assert/strict";
import { armCrashPoint, crashArmed, crashPoint } from "./crash_point.ts";

const MOD = new URL("./crash_point.ts", import.meta.url).href;

async function child(spec: string): Promise<{ out: string; err: string; status: Deno.CommandStatus }> {
  const script = `import { armCrashPoint, crashPoint } from ${JSON.stringify(MOD)};
armCrashPoint(${JSON.stringify(spec)});
for (let i = 1; i <= 3; i++) { crashPoint("fgd:after-push"); crashPoint("host:before-commit"); console.log("hit", i); }`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { out: d.decode(r.stdout), err: d.decode(r.stderr), status: r };
}

Deno.test("LZSYNC_CRASH_AT=<point>@<n>: the process SIGKILLs itself at the n-th hit of that point, not before", async () => {
  const r = await child("host:before-commit@2");
  assert.equal(r.status.signal, "SIGKILL");
  assert.equal(r.out, "hit 1\n");
  const line = JSON.parse(r.err.trim().split("\n").at(-1)!);
  assert.deepEqual([line.ns, line.point], ["lzsync.crash", "host:before-commit"]);
});

Deno.test("an unset crash point does nothing; an unknown one is refused with the list of points", async () => {
  const r = await child("");
  assert.equal(r.status.code, 0);
  assert.equal(r.out, "hit 1\nhit 2\nhit 3\n");
  assert.throws(() => armCrashPoint("fgd:sometime"), /not a crash point.*fgd:mid-push/);
  assert.throws(() => armCrashPoint("fgd:mid-push@0"), /not a crash point/);
  armCrashPoint(undefined);
  assert.equal(crashArmed("fgd:mid-push"), false);
  crashPoint("fgd:mid-push"); // disarmed: returns
});
