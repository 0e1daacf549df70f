/**
 * The git command-line runner: a git child is not cut mid-write when lzsync's whole process group is
 * SIGKILLed (a service manager's stop, a terminal's Ctrl-\, `kill -9 -<pgid>`): git runs in a session of its
 * own, so an update of a user's checked-out worktree finishes and releases its `index.lock`.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { runGit } from "./cli.ts";
import { waitFor } from "../../pipeline/testing/wait.ts";

const CHILD = fileURLToPath(new URL("./testdata/git_script_child.ts", import.meta.url));

Deno.test("git cli: a git script finishes when lzsync's whole process group is SIGKILLed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lzsync-cli-pgkill-" });
  const marker = join(dir, "done");
  // setsid: the child leads a process group of its own, which the test kills as a whole
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "run", "-A", "--no-check", CHILD, marker],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("started")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    assert.ok(out.includes("started"), "the child started its git script");
    await new Promise((r) => setTimeout(r, 200)); // the script is in its sleep
    Deno.kill(-child.pid, "SIGKILL");
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await waitFor(
      async () => {
        try {
          return /git version/.test(await Deno.readTextFile(marker));
        } catch {
          return false;
        }
      },
      "the git script to finish after its parent's group was killed",
      5_000,
    );
  } finally {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch { /* gone */ }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("git cli: runGit still reports git's exit code and output", async () => {
  const ok = await runGit(["--version"]);
  assert.ok(ok.ok && /git version/.test(ok.stdout));
  const bad = await runGit(["no-such-command-xyz"]);
  assert.equal(bad.ok, false);
  assert.match(bad.stderr, /not a git command/);
});
